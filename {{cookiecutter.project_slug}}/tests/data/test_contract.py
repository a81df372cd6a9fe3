"""The data contract: it fits the configured data, mistakes are caught, it round-trips."""

from pathlib import Path

import pytest
import yaml

from {{ cookiecutter.package_name }}.config import load_config
from {{ cookiecutter.package_name }}.data.contract import (
    TASK,
    Column,
    DataContract,
    check_task,
    dump_contract,
    load_contract,
)
from {{ cookiecutter.package_name }}.data.datasets import read_source
from {{ cookiecutter.package_name }}.data.validation import validate
{%- if cookiecutter.data_source == "sql" %}
from {{ cookiecutter.package_name }}.errors import ConfigError, DataSourceError
from {{ cookiecutter.package_name }}.settings import load_settings
{%- else %}
from {{ cookiecutter.package_name }}.errors import ConfigError
{%- endif %}

PROJECT_ROOT = Path(__file__).resolve().parents[2]


def contract_dict(contract: DataContract) -> dict[str, object]:
    loaded: dict[str, object] = yaml.safe_load(dump_contract(contract))
    return loaded


def write(tmp_path: Path, values: object) -> Path:
    path = tmp_path / "contract.yaml"
    path.write_text(yaml.safe_dump(values), encoding="utf-8")
    return path


def test_the_configured_data_fits_the_configured_contract(
    contract: DataContract, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Whatever data the project is configured with (the sample, or a table `data adopt`
    brought in), the contract describes it and the task can learn its target."""
    monkeypatch.chdir(PROJECT_ROOT)
    config = load_config(Path("configs/project.yaml"))
{%- if cookiecutter.data_source == "sql" %}
    url = load_settings().database_url.get_secret_value()
    try:
        rows = read_source(config.data, url)
    except DataSourceError as error:
        if url.startswith("sqlite"):
            raise
        pytest.skip(f"the configured database is not reachable here: {error}")
{%- else %}
    if "://" in config.data.path:
        pytest.skip(f"the configured data is a URL: {config.data.path}")
    rows = read_source(config.data)
{%- endif %}

    validated = validate(rows, contract)

    assert len(validated) == len(rows) > 0
    expected = [contract.id_column, *(c.name for c in contract.columns)]
    assert sorted(rows.columns) == sorted(name for name in expected if name)
    check_task(contract, TASK)


def test_dump_and_load_round_trip(contract: DataContract, tmp_path: Path) -> None:
    path = tmp_path / "contract.yaml"
    path.write_text(dump_contract(contract), encoding="utf-8")

    assert load_contract(path) == contract


def test_unknown_key_is_refused_by_name(contract: DataContract, tmp_path: Path) -> None:
    values = contract_dict(contract) | {"targte": "oops"}

    with pytest.raises(ConfigError, match="targte: Extra inputs are not permitted"):
        load_contract(write(tmp_path, values))


def test_range_on_a_categorical_column_is_refused(contract: DataContract, tmp_path: Path) -> None:
    values = contract_dict(contract)
    values["features"] = [{"name": "colour", "type": "categorical", "min": 0}]

    with pytest.raises(ConfigError, match="colour: min and max apply to numeric columns only"):
        load_contract(write(tmp_path, values))


def test_max_length_on_a_column_that_is_not_text_is_refused(
    contract: DataContract, tmp_path: Path
) -> None:
    values = contract_dict(contract)
    values["features"] = [{"name": "count", "type": "numeric", "max_length": 10}]

    with pytest.raises(ConfigError, match="count: max_length applies to categorical columns only"):
        load_contract(write(tmp_path, values))


def test_a_columns_max_length_overrides_the_contracts(
    contract: DataContract, tmp_path: Path
) -> None:
    values = contract_dict(contract) | {"max_string_length": 30}
    values["features"] = [
        {"name": "code", "type": "categorical", "max_length": 3},
        {"name": "note", "type": "categorical"},
    ]

    loaded = load_contract(write(tmp_path, values))

    code, note = loaded.features
    assert (loaded.max_length_of(code), loaded.max_length_of(note)) == (3, 30)
    assert DataContract.model_validate(contract_dict(contract)).max_string_length == 1000


def test_a_protected_date_or_target_is_refused(contract: DataContract, tmp_path: Path) -> None:
    values = contract_dict(contract)
    values["features"] = [{"name": "born", "type": "datetime", "protected": True}]
    with pytest.raises(ConfigError, match="born: protected applies to numeric, categorical or"):
        load_contract(write(tmp_path, values))

    values = contract_dict(contract)
    values["target"] = values["target"] | {"protected": True}
    with pytest.raises(ConfigError, match="the target cannot be protected, only a feature"):
        load_contract(write(tmp_path, values))


def test_min_above_max_is_refused(contract: DataContract, tmp_path: Path) -> None:
    values = contract_dict(contract)
    values["features"] = [{"name": "age", "type": "numeric", "min": 10, "max": 1}]

    with pytest.raises(ConfigError, match=r"age: min 10\.0 is greater than max 1\.0"):
        load_contract(write(tmp_path, values))


def test_a_column_named_twice_is_refused(contract: DataContract, tmp_path: Path) -> None:
    values = contract_dict(contract)
    values["features"] = [{"name": contract.target.name, "type": "numeric"}]

    with pytest.raises(ConfigError, match=f"appear more than once: {contract.target.name}"):
        load_contract(write(tmp_path, values))


def test_an_id_that_is_also_a_feature_is_refused(contract: DataContract, tmp_path: Path) -> None:
    values = contract_dict(contract) | {"id_column": contract.feature_names[0]}

    with pytest.raises(ConfigError, match="appear more than once"):
        load_contract(write(tmp_path, values))


def test_a_positive_class_that_is_not_listed_is_refused(
    contract: DataContract, tmp_path: Path
) -> None:
    values = contract_dict(contract)
    values["target"] = {
        "name": "t",
        "type": "categorical",
        "categories": ["a", "b"],
        "positive": "c",
    }

    with pytest.raises(ConfigError, match="positive must be one of the listed categories"):
        load_contract(write(tmp_path, values))


def small_contract(target: Column) -> DataContract:
    return DataContract(name="small", target=target, features=(Column(name="x", type="numeric"),))


def test_the_positive_class_is_the_named_one_else_the_last_listed() -> None:
    named = Column(name="t", type="categorical", categories=(0, 1), positive=0)
    unnamed = Column(name="t", type="categorical", categories=("no", "yes"))
    three = Column(name="t", type="categorical", categories=(1, 2, 3))

    assert small_contract(named).positive_class == 0
    assert small_contract(unnamed).positive_class == "yes"
    assert small_contract(three).positive_class is None
    assert small_contract(three).classes == [1, 2, 3]


@pytest.mark.parametrize(
    ("target", "task", "problem"),
    [
        (Column(name="t", type="numeric"), "classification", "must be categorical"),
        (Column(name="t", type="categorical"), "classification", "must be categorical"),
        (Column(name="t", type="categorical", categories=("a",)), "classification", "two or more"),
        (
            Column(name="t", type="categorical", categories=("a", "b")),
            "regression",
            "must be numeric",
        ),
        (Column(name="t", type="boolean"), "regression", "must be numeric"),
    ],
)
def test_a_target_the_task_cannot_learn_is_one_line(
    target: Column, task: str, problem: str
) -> None:
    with pytest.raises(ConfigError, match=problem) as refused:
        check_task(small_contract(target), task)

    assert "\n" not in str(refused.value)


@pytest.mark.parametrize(
    ("target", "task"),
    [
        (Column(name="t", type="categorical", categories=(1, 2, 3)), "classification"),
        (Column(name="t", type="numeric"), "regression"),
    ],
)
def test_a_target_that_fits_the_task_passes(target: Column, task: str) -> None:
    check_task(small_contract(target), task)


def test_missing_contract_says_how_to_write_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="schema infer"):
        load_contract(tmp_path / "absent.yaml")
