"""The CLI: `--help` and `--version` work, and bad config ends in one line, not a traceback."""

import json
import runpy
import sys
from pathlib import Path

import pandas as pd
import pytest
{%- if cookiecutter.data_source == "csv" %}
import yaml
{%- endif %}
from typer.testing import CliRunner

from {{ cookiecutter.package_name }} import __version__
from {{ cookiecutter.package_name }}.cli import PROG, app
{%- if cookiecutter.data_source == "sql" %}
from {{ cookiecutter.package_name }}.config import ProjectConfig
{%- endif %}
from {{ cookiecutter.package_name }}.contract import DataContract, load_contract
from {{ cookiecutter.package_name }}.serving.schemas import record_model
from {{ cookiecutter.package_name }}.settings import ENV_PREFIX
from {{ cookiecutter.package_name }}.validation import validate


def test_version_prints_name_and_version(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--version"])

    assert result.exit_code == 0
    assert result.stdout.strip() == f"{PROG} {__version__}"


def test_help_lists_the_commands(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--help"])

    assert result.exit_code == 0
    assert "info" in result.stdout


def test_no_arguments_shows_help(runner: CliRunner) -> None:
    result = runner.invoke(app, [])

    assert "Usage" in result.output


def test_info_shows_config_and_settings(runner: CliRunner, shipped_config: Path) -> None:
    result = runner.invoke(app, ["info"], env={f"{ENV_PREFIX}CONFIG_FILE": str(shipped_config)})

    assert result.exit_code == 0, result.output
    assert "config.task" in result.stdout
    assert "{{ cookiecutter.task }}" in result.stdout
    assert "settings.log_level" in result.stdout
{%- if cookiecutter.data_source == "sql" %}


def test_info_never_prints_the_database_password(runner: CliRunner, shipped_config: Path) -> None:
    env = {
        f"{ENV_PREFIX}CONFIG_FILE": str(shipped_config),
        f"{ENV_PREFIX}DATABASE_URL": "postgresql://ml:hunter2@db/ml",
    }

    result = runner.invoke(app, ["info"], env=env)

    assert result.exit_code == 0, result.output
    assert "hunter2" not in result.output
{%- endif %}


def test_info_with_missing_config_fails_with_one_line(runner: CliRunner, isolated: Path) -> None:
    result = runner.invoke(app, ["info"])

    assert result.exit_code == 1
    assert result.stderr.strip().count("\n") == 0
    assert "config file not found" in result.stderr
    assert "Traceback" not in result.output


def test_info_with_bad_setting_names_the_variable(runner: CliRunner) -> None:
    result = runner.invoke(app, ["info"], env={f"{ENV_PREFIX}LOG_LEVEL": "LOUD"})

    assert result.exit_code == 1
    assert f"{ENV_PREFIX}LOG_LEVEL" in result.stderr


def test_python_dash_m_runs_the_same_cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["{{ cookiecutter.package_name }}", "--version"])

    with pytest.raises(SystemExit) as exited:
        runpy.run_module("{{ cookiecutter.package_name }}", run_name="__main__")

    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"{PROG} {__version__}"


# --- data commands -------------------------------------------------------------


def test_ingest_prints_a_summary_and_writes_parquet(
    runner: CliRunner, project_env: dict[str, str], isolated: Path
) -> None:
    result = runner.invoke(app, ["ingest"], env=project_env)

    assert result.exit_code == 0, result.output
    assert "rows" in result.stdout
    assert "missing values" in result.stdout
    assert list((isolated / "data" / "processed").glob("*.parquet"))


def test_ingest_of_broken_data_gives_one_line_per_problem(
    runner: CliRunner,
    project_env: dict[str, str],
{%- if cookiecutter.data_source == "sql" %}
    project_config: ProjectConfig,
{%- endif %}
    raw_data: pd.DataFrame,
    contract: DataContract,
    isolated: Path,
) -> None:
    broken = raw_data.drop(columns=contract.features[0].name).assign(surprise=1)
{%- if cookiecutter.data_source == "sql" %}
    url = f"sqlite:///{isolated / 'broken.db'}"
    broken.to_sql(str(project_config.data.table), url, index=False)
    env = project_env | {f"{ENV_PREFIX}DATABASE_URL": url}
{%- else %}
    broken.to_csv(isolated / "broken.csv", index=False)
    env = project_env | {
        f"{ENV_PREFIX}CONFIG_FILE": rewrite_data_path(project_env, isolated / "broken.csv")
    }
{%- endif %}

    result = runner.invoke(app, ["ingest"], env=env)

    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert lines == [
        f"error: column {contract.features[0].name!r}: missing (the contract expects it)",
        "error: column 'surprise': not in the contract (add it to the contract or drop it from the data)",
        "error: 2 problem(s) with the data; nothing was written",
    ]
    assert not (isolated / "data" / "processed").exists()
{%- if cookiecutter.data_source == "csv" %}


def rewrite_data_path(project_env: dict[str, str], path: Path) -> str:
    """A copy of the test config whose data.path points at another file."""
    config_file = Path(project_env[f"{ENV_PREFIX}CONFIG_FILE"])
    values = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    values["data"]["path"] = str(path)
    rewritten = config_file.with_name("rewritten.yaml")
    rewritten.write_text(yaml.safe_dump(values), encoding="utf-8")
    return str(rewritten)
{%- endif %}


def identified_by(contract: DataContract) -> list[str]:
    """The `--id` option for the contract's id column, if it has one."""
    return ["--id", contract.id_column] if contract.id_column else []


def test_schema_infer_writes_a_contract_that_validates_its_file(
    runner: CliRunner,
    project_env: dict[str, str],
    raw_data: pd.DataFrame,
    contract: DataContract,
    isolated: Path,
) -> None:
    raw_data.to_parquet(isolated / "new-data.parquet", index=False)
    args = ["schema", "infer", "new-data.parquet", "--target", contract.target.name]

    result = runner.invoke(app, [*args, *identified_by(contract)], env=project_env)

    assert result.exit_code == 0, result.output
    inferred = load_contract(isolated / "configs" / "contract.yaml")
    assert inferred.name == "new_data"
    assert (inferred.id_column, inferred.feature_names) == (
        contract.id_column,
        contract.feature_names,
    )
    assert inferred.classes == contract.classes
    assert len(validate(raw_data, inferred)) == len(raw_data)


def test_schema_infer_needs_the_project_config_for_its_task(
    runner: CliRunner, raw_data: pd.DataFrame, contract: DataContract, isolated: Path
) -> None:
    raw_data.to_csv(isolated / "data.csv", index=False)

    result = runner.invoke(app, ["schema", "infer", "data.csv", "--target", contract.target.name])

    assert result.exit_code == 1
    assert "config file not found" in result.stderr
    assert not (isolated / "configs" / "contract.yaml").exists()


def test_schema_infer_never_overwrites_without_force(
    runner: CliRunner,
    project_env: dict[str, str],
    raw_data: pd.DataFrame,
    contract: DataContract,
    isolated: Path,
) -> None:
    raw_data.to_csv(isolated / "data.csv", index=False)
    existing = isolated / "configs" / "contract.yaml"
    existing.parent.mkdir()
    existing.write_text("mine", encoding="utf-8")
    args = ["schema", "infer", "data.csv", "--target", contract.target.name]
    args += identified_by(contract)

    refused = runner.invoke(app, args, env=project_env)
    forced = runner.invoke(app, [*args, "--force"], env=project_env)

    assert refused.exit_code == 1
    assert "pass --force" in refused.stderr
    assert forced.exit_code == 0
    assert existing.read_text(encoding="utf-8") != "mine"


def test_schema_show_lists_every_column(
    runner: CliRunner, project_env: dict[str, str], contract: DataContract
) -> None:
    result = runner.invoke(app, ["schema", "show"], env=project_env | {"COLUMNS": "200"})

    assert result.exit_code == 0, result.output
    for column in contract.columns:
        assert column.name in result.stdout


def test_schema_example_prints_a_request_the_api_accepts(
    runner: CliRunner, project_env: dict[str, str], contract: DataContract
) -> None:
    result = runner.invoke(app, ["schema", "example"], env=project_env)

    assert result.exit_code == 0, result.output
    example = json.loads(result.stdout)
    assert set(example) == {column.name for column in contract.features}
    record_model(contract).model_validate(example)  # raises if the API would answer 422
