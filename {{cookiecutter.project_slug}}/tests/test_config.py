"""The project config: the shipped file validates, and mistakes are caught with one line."""

from pathlib import Path

import pytest
from pydantic import ValidationError

from {{ cookiecutter.package_name }}.config import load_config
from {{ cookiecutter.package_name }}.data.contract import load_contract
from {{ cookiecutter.package_name }}.errors import ConfigError


def test_shipped_config_is_valid_and_reads_the_chosen_source(shipped_config: Path) -> None:
    config = load_config(shipped_config)

{%- if cookiecutter.data_source == "sql" %}
    assert config.data.query or config.data.table
{%- else %}
    assert config.data.path
{%- endif %}


def test_unknown_key_is_an_error_naming_the_key(valid_config, write_config) -> None:
    valid_config["sead"] = 7

    with pytest.raises(ConfigError, match=r"sead: Extra inputs are not permitted"):
        load_config(write_config(valid_config))


def test_unknown_model_is_an_error_naming_the_field(valid_config, write_config) -> None:
    valid_config["train"] = {"model": "forest"}
    expected = r"train.model: Input should be 'baseline', 'linear'"

    with pytest.raises(ConfigError, match=expected):
        load_config(write_config(valid_config))


def test_every_problem_is_reported_on_one_line(valid_config, write_config) -> None:
    valid_config["seed"] = -1
    del valid_config["data"]

    with pytest.raises(ConfigError) as caught:
        load_config(write_config(valid_config))

    message = str(caught.value)
    assert "\n" not in message
    assert "seed:" in message
    assert "data: Field required" in message


def test_missing_file_says_how_to_point_at_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="{{ cookiecutter.package_name | upper }}_CONFIG_FILE"):
        load_config(tmp_path / "absent.yaml")


def test_broken_yaml_is_reported_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "project.yaml"
    path.write_text("seed: [unclosed\n", encoding="utf-8")

    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(path)


def test_config_is_frozen(shipped_config: Path) -> None:
    config = load_config(shipped_config)

    with pytest.raises(ValidationError, match="frozen"):
        config.seed = 1  # type: ignore[misc]


def test_a_config_that_is_not_utf8_is_one_line(valid_config, write_config) -> None:
    path = write_config(valid_config)
    path.write_bytes(path.read_bytes() + "# café\n".encode("latin-1"))

    with pytest.raises(ConfigError, match=r"not UTF-8 \(at byte \d+\): save it as UTF-8") as caught:
        load_config(path)
    assert str(caught.value).startswith(f"{path}: ")


def test_a_contract_that_is_not_utf8_is_one_line(shipped_config: Path, tmp_path: Path) -> None:
    shipped = shipped_config.parents[1] / load_config(shipped_config).data.contract
    latin = tmp_path / "contract.yaml"
    latin.write_bytes(shipped.read_bytes() + "# café\n".encode("latin-1"))

    with pytest.raises(ConfigError, match="not UTF-8"):
        load_contract(latin)


def test_a_folder_given_as_the_config_is_one_line(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=f"{tmp_path}: cannot be read"):
        load_config(tmp_path)
