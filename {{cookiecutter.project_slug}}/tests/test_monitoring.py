"""Monitoring: the reference saved with each model, drift checks, performance over time."""

import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import mlflow
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from {{ cookiecutter.package_name }}.cli import DRIFT_FOUND, app
from {{ cookiecutter.package_name }}.config import ProjectConfig
from {{ cookiecutter.package_name }}.contract import DataContract
from {{ cookiecutter.package_name }}.errors import ConfigError
from {{ cookiecutter.package_name }}.evaluate import evaluate_run
from {{ cookiecutter.package_name }}.monitoring import (
    champion_reference,
    check_drift,
    monitoring_experiment,
    performance_history,
    predictions,
    record_performance,
)
from {{ cookiecutter.package_name }}.prediction_log import (
    PredictionLogger,
    open_log,
)
from {{ cookiecutter.package_name }}.promote import promote
from {{ cookiecutter.package_name }}.settings import ENV_PREFIX, Settings
from {{ cookiecutter.package_name }}.tracking import CHAMPION, load_model
from {{ cookiecutter.package_name }}.train import train
from {{ cookiecutter.package_name }}.validation import validate


@pytest.fixture
def champion(trained_config: ProjectConfig, settings: Settings) -> ProjectConfig:
    """The config of a champion trained, evaluated and promoted on 1,000 sample rows."""
    run_id = train(trained_config, settings).run_id
    evaluate_run(trained_config, settings, run_id)
    promote(trained_config, settings, run_id)
    return trained_config


def unseen(raw_data: pd.DataFrame, rows: int = 600) -> pd.DataFrame:
    """Sample rows the champion was not trained on (it saw the first 1,000)."""
    return raw_data.iloc[1000 : 1000 + rows].reset_index(drop=True)


def first_feature(contract: DataContract, kind: str) -> str:
    """The first feature of a type, so that the tests hold for either sample data set."""
    return next(column.name for column in contract.features if column.type == kind)


def write(rows: pd.DataFrame, path: Path) -> str:
    rows.to_csv(path, index=False)
    return str(path)


def test_training_saves_a_reference_with_the_models_predictions(
    champion: ProjectConfig, settings: Settings, contract: DataContract
) -> None:
    reference, version = champion_reference(settings)

    assert version == "1"
    assert list(reference.columns) == [*contract.feature_names, "prediction"]
    assert 0 < len(reference) <= champion.monitoring.reference_rows
    assert reference["prediction"].notna().all()


def test_a_champion_without_a_reference_says_what_to_do(
    champion: ProjectConfig, settings: Settings
) -> None:
    run = mlflow.get_run(mlflow.MlflowClient().get_model_version(settings.model_name, "1").run_id)
    reference = Path(run.info.artifact_uri.removeprefix("file://")) / "reference"
    shutil.rmtree(reference)  # as for a model trained before monitoring was added

    with pytest.raises(ConfigError, match="version 1 has no drift reference: retrain it"):
        champion_reference(settings)


def test_unseen_rows_of_the_same_data_show_no_drift(
    champion: ProjectConfig, settings: Settings, raw_data: pd.DataFrame, tmp_path: Path
) -> None:
    result = check_drift(champion, settings, write(unseen(raw_data), tmp_path / "new.csv"))

    assert not result.report.drifted, result.report.to_dict()
    assert result.json_path.is_file()
    assert result.html_path.is_file()
    run = mlflow.get_run(result.run_id)
    assert run.data.tags["drifted"] == "false"
    assert run.data.tags["model_version"] == "1"
    experiment = mlflow.get_experiment(run.info.experiment_id)
    assert experiment.name == monitoring_experiment(settings)


def test_a_shifted_feature_is_reported_and_only_that_one(
    champion: ProjectConfig,
    settings: Settings,
    raw_data: pd.DataFrame,
    contract: DataContract,
    moved_up: Callable[[pd.DataFrame, str], pd.DataFrame],
    tmp_path: Path,
) -> None:
    name = first_feature(contract, "numeric")
    path = write(moved_up(unseen(raw_data), name), tmp_path / "shifted.csv")

    result = check_drift(champion, settings, path)

    assert result.report.drifted_features == [name]
    assert mlflow.get_run(result.run_id).data.tags["drifted_features"] == name
    assert f"psi.{name}" in mlflow.get_run(result.run_id).data.metrics


def test_a_new_dominant_category_is_reported(
    champion: ProjectConfig,
    settings: Settings,
    raw_data: pd.DataFrame,
    contract: DataContract,
    tmp_path: Path,
) -> None:
    column = next(c for c in contract.features if c.type == "categorical" and c.categories)
    rows = unseen(raw_data)
    rarest = rows[column.name].value_counts().index[-1]
    rows.loc[rows.index[: int(0.9 * len(rows))], column.name] = rarest

    result = check_drift(champion, settings, write(rows, tmp_path / "category.csv"))

    assert result.report.drifted_features == [column.name]


def test_the_prediction_log_is_checked_by_default_without_its_sensitive_columns(
    champion: ProjectConfig,
    settings: Settings,
    raw_data: pd.DataFrame,
    contract: DataContract,
    tmp_path: Path,
) -> None:
    logging = settings.model_copy(update={"prediction_log_dir": tmp_path / "log"})
    log = open_log(logging)
    assert log is not None
    writer = PredictionLogger(log, contract)
    rows = validate(unseen(raw_data, 300), contract)  # typed as the service types a request
    model = load_model(f"models:/{settings.model_name}@{CHAMPION}")
    records = rows[contract.feature_names].to_dict(orient="records")
    outputs = [{"prediction": value} for value in predictions(model, rows, contract, champion)]
    for index, (record, output) in enumerate(zip(records, outputs, strict=True)):
        writer.submit(f"request-{index}", "model", "1", [record], [output])
    writer.close()

    result = check_drift(champion, logging)

    assert result.source.startswith("prediction log")
    assert result.report.current_rows == len(rows)
    assert not result.report.drifted, result.report.to_dict()
    for column in contract.features:
        if column.sensitive:
            assert column.name in result.report.skipped


def test_a_window_with_too_few_rows_is_an_error_not_a_verdict(
    champion: ProjectConfig, settings: Settings, raw_data: pd.DataFrame, tmp_path: Path
) -> None:
    path = write(unseen(raw_data, 20), tmp_path / "few.csv")

    with pytest.raises(ConfigError, match="at least 100 are needed"):
        check_drift(champion, settings, path)


def test_drift_needs_a_champion(trained_config: ProjectConfig, settings: Settings) -> None:
    with pytest.raises(ConfigError, match="no champion yet: run `run` first"):
        check_drift(trained_config, settings, "anything.csv")


def test_performance_on_labelled_data_is_recorded_over_time(
    champion: ProjectConfig, settings: Settings, raw_data: pd.DataFrame, tmp_path: Path
) -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    for week in range(3):
        batch = raw_data.iloc[1000 + 300 * week : 1300 + 300 * week]
        path = write(batch, tmp_path / f"week-{week}.csv")
        record = record_performance(champion, settings, path, start + timedelta(weeks=week))
        assert record.rows == 300

    history = performance_history(settings)

    assert list(history["as_of"]) == [
        pd.Timestamp(start + timedelta(weeks=week)) for week in range(3)
    ]
    assert set(history["model_version"]) == {"1"}
    assert history.iloc[:, -1].notna().all()
    assert record.figure.is_file()
    assert record.figure.stat().st_size > 0


# --- the commands ------------------------------------------------------------


@pytest.fixture
def cli_env(
    champion: ProjectConfig, settings: Settings, project_env: dict[str, str], tmp_path: Path
) -> dict[str, str]:
    """The environment that points the CLI at the champion's config and tracking store."""
    path = tmp_path / "monitored.yaml"
    path.write_text(yaml.safe_dump(champion.model_dump(mode="json")), encoding="utf-8")
    return project_env | {
        f"{ENV_PREFIX}CONFIG_FILE": str(path),
        f"{ENV_PREFIX}MODEL_NAME": settings.model_name,
        "MLFLOW_TRACKING_URI": settings.tracking_uri,
    }


def test_drift_exits_0_without_drift_and_3_with_it(
    runner: CliRunner,
    cli_env: dict[str, str],
    raw_data: pd.DataFrame,
    contract: DataContract,
    moved_up: Callable[[pd.DataFrame, str], pd.DataFrame],
    tmp_path: Path,
) -> None:
    name = first_feature(contract, "numeric")
    calm = write(unseen(raw_data), tmp_path / "calm.csv")
    moved = write(moved_up(unseen(raw_data), name), tmp_path / "moved.csv")

    without = runner.invoke(app, ["drift", calm], env=cli_env)
    found = runner.invoke(app, ["drift", moved], env=cli_env)

    assert without.exit_code == 0, without.output
    assert "No drift found" in without.stdout
    assert found.exit_code == DRIFT_FOUND, found.output
    assert f"drift found: {name}" in found.stderr
    assert "reports/drift/drift.html" in found.stdout


def test_drift_that_cannot_run_says_why_in_one_line(
    runner: CliRunner, cli_env: dict[str, str], raw_data: pd.DataFrame, tmp_path: Path
) -> None:
    result = runner.invoke(
        app, ["drift", write(unseen(raw_data, 20), tmp_path / "few.csv")], env=cli_env
    )

    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert "at least 100 are needed" in result.stderr


def test_evaluate_on_labelled_data_records_the_champions_performance(
    runner: CliRunner, cli_env: dict[str, str], raw_data: pd.DataFrame, tmp_path: Path
) -> None:
    path = write(unseen(raw_data, 300), tmp_path / "labelled.csv")

    result = runner.invoke(app, ["evaluate", "--data", path, "--as-of", "2025-03-01"], env=cli_env)

    assert result.exit_code == 0, result.output
    assert "version 1 on 300 labelled rows, recorded as of 2025-03-01 00:00" in result.stdout
    assert "performance.png" in result.stdout


def test_retrain_without_drift_keeps_the_champion(
    runner: CliRunner, cli_env: dict[str, str], raw_data: pd.DataFrame, tmp_path: Path
) -> None:
    path = write(unseen(raw_data), tmp_path / "labelled.csv")

    result = runner.invoke(app, ["retrain", path], env=cli_env)

    assert result.exit_code == 0, result.output
    assert "no drift found: the champion stays" in result.stdout
