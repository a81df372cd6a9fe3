"""The CLI: `--help` and `--version` work, and bad config ends in one line, not a traceback."""

import json
import runpy
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import mlflow
import pandas as pd
import pytest
import typer
import yaml
from typer.testing import CliRunner

from {{ cookiecutter.package_name }} import __version__
from {{ cookiecutter.package_name }}.cli import app
from {{ cookiecutter.package_name }}.cli.ui import MAX_PROBLEMS, PROG, user_errors
from {{ cookiecutter.package_name }}.config import {% if cookiecutter.data_source == "sql" %}ProjectConfig, {% endif %}load_config
from {{ cookiecutter.package_name }}.data.contract import DataContract, load_contract
from {{ cookiecutter.package_name }}.data.validation import validate
from {{ cookiecutter.package_name }}.errors import DataValidationError
{%- if cookiecutter.include_monitoring %}
from {{ cookiecutter.package_name }}.monitoring.prediction_log import PredictionLog
{%- endif %}
from {{ cookiecutter.package_name }}.serving.schemas import record_model
from {{ cookiecutter.package_name }}.settings import ENV_PREFIX, Settings


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
    shown = yaml.safe_load(result.stdout)
    assert shown["config"] == load_config(shipped_config).model_dump(mode="json")
    assert set(shown["settings"]) == set(Settings.model_fields)
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


def test_export_force_never_replaces_the_project_or_a_directory_that_is_not_an_export(
    runner: CliRunner, project_env: dict[str, str], isolated: Path
) -> None:
    kept = isolated / "notes"
    kept.mkdir()
    (kept / "keep.txt").write_text("mine", encoding="utf-8")

    for target, reason in (
        (".", "holds the current directory"),
        ("..", "holds the current directory"),
        (str(kept), "is not an exported model"),
    ):
        result = runner.invoke(app, ["export", target, "--force"], env=project_env)
        assert result.exit_code == 1, result.output
        assert result.stderr.strip().splitlines() == [
            f"error: {target} {reason}; choose an empty or new directory"
        ]

    assert (kept / "keep.txt").read_text(encoding="utf-8") == "mine"


# --- errors a user can cause: one line each, bounded, never a password --------------------

#: A password in a URL that no output may show.
NEVER_SHOWN = "s3cret-in-a-url"


@pytest.fixture
def closed_port(free_port: Callable[[], int]) -> int:
    """A port on 127.0.0.1 that nothing listens on: a server that is down."""
    return free_port()


@pytest.fixture
def dead_tracking_server(closed_port: int, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """MLFLOW_TRACKING_URI names a server that is down, with a password; MLflow is put back after.

    MLflow gives up at once: how long its retries take is a test of its own.
    """
    before = mlflow.get_tracking_uri()
    uri = f"http://user:{NEVER_SHOWN}@127.0.0.1:{closed_port}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.setenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "0")
    yield uri
    mlflow.set_tracking_uri(before)


def test_info_masks_the_password_in_every_url(
    runner: CliRunner, project_env: dict[str, str], dead_tracking_server: str
) -> None:
    result = runner.invoke(app, ["info"], env=project_env | {"COLUMNS": "200"})

    assert result.exit_code == 0, result.output
    assert NEVER_SHOWN not in result.output
    assert "user:***@127.0.0.1" in result.stdout


@pytest.mark.parametrize(
    "command",
    [
        ["promote"],
        ["evaluate"],
        ["export", "exported"],
{%- if cookiecutter.include_monitoring %}
        ["drift"],
{%- endif %}
    ],
    ids=" ".join,
)
def test_an_unreachable_tracking_server_is_one_line_without_its_password(
    runner: CliRunner, project_env: dict[str, str], dead_tracking_server: str, command: list[str]
) -> None:
    result = runner.invoke(app, command, env=project_env)

    assert result.exit_code == 1, result.output
    assert result.stderr.count("\n") == 1, result.output
    assert NEVER_SHOWN not in result.output
    assert "user:***@127.0.0.1" in result.stderr
    assert "cannot reach the MLflow tracking server" in result.stderr  # not "no such model"
    assert "Traceback" not in result.output


@pytest.mark.slow
def test_retries_of_an_unreachable_tracking_server_end_in_seconds(
    runner: CliRunner,
    project_env: dict[str, str],
    dead_tracking_server: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("MLFLOW_HTTP_REQUEST_MAX_RETRIES")  # the project's own default
    started = time.monotonic()
    result = runner.invoke(app, ["promote"], env=project_env)

    assert result.exit_code == 1, result.output
    assert "cannot reach the MLflow tracking server" in result.stderr
    assert time.monotonic() - started < 60  # MLflow's own retries would take minutes


@pytest.mark.parametrize("command", ["evaluate", "promote"])
def test_a_run_id_that_is_not_in_the_store_is_one_line(
    runner: CliRunner, project_env: dict[str, str], command: str
) -> None:
    result = runner.invoke(app, [command, "--run-id", "no-such-run"], env=project_env)

    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert result.stderr.splitlines()[-1] == (
        "error: no run 'no-such-run' in the tracking store: leave out --run-id for the latest "
        "training run, or copy an id from `mlflow ui`"
    )
{%- if cookiecutter.include_monitoring %}


def test_an_unreachable_prediction_log_is_one_line_without_its_password(
    closed_port: int, capsys: pytest.CaptureFixture[str]
) -> None:
    log = PredictionLog(f"postgresql://user:{NEVER_SHOWN}@127.0.0.1:{closed_port}/log")

    with pytest.raises(typer.Exit) as exited, user_errors():
        log.read()

    assert exited.value.exit_code == 1
    lines = capsys.readouterr().err.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("error: cannot reach the prediction log's database: ")
    assert f"{ENV_PREFIX}PREDICTION_LOG_URL" in lines[0]
{%- endif %}


def test_an_error_that_is_not_the_users_keeps_its_traceback() -> None:
    with pytest.raises(ZeroDivisionError), user_errors():
        1 / 0  # noqa: B018 - a bug, not a mistake in the input


def test_data_problems_print_at_most_twenty_lines_and_count_the_rest(
    capsys: pytest.CaptureFixture[str],
) -> None:
    problems = [f"column 'c{number}': not in the contract" for number in range(200_000)]

    with pytest.raises(typer.Exit), user_errors():
        raise DataValidationError(problems)

    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        *(f"error: {problem}" for problem in problems[:MAX_PROBLEMS]),
        f"error: ... and {len(problems) - MAX_PROBLEMS} more problem(s)",
        f"error: {len(problems)} problem(s) with the data; nothing was written",
    ]
    assert MAX_PROBLEMS == 20
{%- if cookiecutter.data_source == "csv" %}


@pytest.mark.slow
def test_a_header_of_200_000_columns_prints_at_most_22_lines(
    runner: CliRunner, project_env: dict[str, str], isolated: Path
) -> None:
    wide = isolated / "wide.csv"
    columns = range(200_000)
    wide.write_text(
        ",".join(f"c{n}" for n in columns) + "\n" + ",".join("1" for _ in columns) + "\n",
        encoding="utf-8",
    )
    env = project_env | {f"{ENV_PREFIX}CONFIG_FILE": rewrite_data_path(project_env, wide)}

    result = runner.invoke(app, ["ingest"], env=env)

    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert len(lines) <= MAX_PROBLEMS + 2
    assert lines[-2].startswith("error: ... and ")
    assert not (isolated / "data" / "processed").exists()


@pytest.mark.parametrize(
    "command",
    [
        ["ingest"],
        ["schema", "infer", "FOLDER", "--target", "y"],
        ["data", "adopt", "FOLDER", "--target", "y"],
    ],
    ids=" ".join,
)
def test_a_folder_given_as_data_is_one_line(
    runner: CliRunner, project_env: dict[str, str], isolated: Path, command: list[str]
) -> None:
    folder = isolated / "folder"
    folder.mkdir()
    env = project_env | {f"{ENV_PREFIX}CONFIG_FILE": rewrite_data_path(project_env, folder)}

    args = [str(folder) if arg == "FOLDER" else arg for arg in command]
    result = runner.invoke(app, args, env=env)

    assert result.exit_code == 1, result.output
    assert result.stderr.splitlines() == [
        f"error: {folder}: is a folder: give a CSV or Parquet file, or a glob such as {folder}/*.csv"
    ]
{%- endif %}
