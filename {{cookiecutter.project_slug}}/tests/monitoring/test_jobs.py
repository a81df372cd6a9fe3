"""Monitoring: the reference saved with each model, drift checks, performance over time."""

import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from {{ cookiecutter.package_name }}.cli import DRIFT_FOUND, app
from {{ cookiecutter.package_name }}.config import ProjectConfig
from {{ cookiecutter.package_name }}.data.contract import Column, DataContract, dump_contract
from {{ cookiecutter.package_name }}.data.datasets import write_parquet
from {{ cookiecutter.package_name }}.data.ingest import processed_path
from {{ cookiecutter.package_name }}.data.validation import validate
from {{ cookiecutter.package_name }}.errors import ConfigError
from {{ cookiecutter.package_name }}.monitoring.jobs import (
    champion_reference,
    check_drift,
    current_rows,
    monitoring_experiment,
    performance_history,
    record_performance,
)
from {{ cookiecutter.package_name }}.monitoring.prediction_log import (
    PredictionLogger,
    open_log,
)
from {{ cookiecutter.package_name }}.settings import ENV_PREFIX, Settings
from {{ cookiecutter.package_name }}.training.evaluate import evaluate_run
from {{ cookiecutter.package_name }}.training.promote import promote
from {{ cookiecutter.package_name }}.training.train import train

#: The share of the generated rows a champion learns from; the others it never saw.
TRAINED = 0.6

Champion = Callable[[DataContract, pd.DataFrame], ProjectConfig]


@pytest.fixture
def champion_of(
    trained_config: ProjectConfig, settings: Settings, contract: DataContract, tmp_path: Path
) -> Champion:
    """Train, evaluate and promote a champion on the first rows, under a contract; its config.

    The configured contract, or one of the test's own (written beside the test's files).
    """

    def make(own: DataContract, rows: pd.DataFrame) -> ProjectConfig:
        config = trained_config
        if own != contract:
            path = tmp_path / "own-contract.yaml"
            path.write_text(dump_contract(own), encoding="utf-8")
            data = config.data.model_copy(update={"contract": path})
            config = config.model_copy(update={"data": data})
        seen = rows.iloc[: int(TRAINED * len(rows))]
        write_parquet(validate(seen, own), processed_path(config, own))
        run_id = train(config, settings).run_id
        evaluate_run(config, settings, run_id)
        promote(config, settings, run_id)
        return config

    return make


@pytest.fixture
def champion(
    champion_of: Champion, contract: DataContract, raw_data: pd.DataFrame
) -> ProjectConfig:
    """The config of a champion trained, evaluated and promoted on the first generated rows."""
    return champion_of(contract, raw_data)


def unseen(rows: pd.DataFrame, count: int | None = None) -> pd.DataFrame:
    """Rows the champion was not trained on (it saw the first TRAINED share): all, or `count`."""
    rest = rows.iloc[int(TRAINED * len(rows)) :].reset_index(drop=True)
    assert count is None or count <= len(rest), "too few generated rows"
    return rest if count is None else rest.head(count)


def move(
    rows: pd.DataFrame,
    contract: DataContract,
    name: str,
    moved_up: Callable[[pd.DataFrame, str], pd.DataFrame],
) -> pd.DataFrame:
    """Valid rows with one feature drifted.

    Numbers are redrawn from their top 30%; categories or flags, a rare value fills 90% of rows.
    """
    if name in contract.features_of_type("numeric"):
        return moved_up(rows, name)
    moved = rows.copy()
    rarest = moved[name].value_counts().index[-1]
    moved.loc[moved.index[: int(0.9 * len(moved))], name] = rarest
    return moved


def with_categorical(
    contract: DataContract, rows: pd.DataFrame
) -> tuple[DataContract, pd.DataFrame]:
    """The contract and rows if a feature lists categories, else copies with one such added."""
    if any(c.type == "categorical" and c.categories for c in contract.features):
        return contract, rows
    taken = {contract.target.name, contract.id_column, *contract.feature_names}
    name = next(
        f"added category {n}" for n in range(len(taken) + 1) if f"added category {n}" not in taken
    )
    categories = ("p", "q", "r", "s")
    column = Column(name=name, type="categorical", categories=categories)
    own = DataContract(
        name=contract.name,
        id_column=contract.id_column,
        target=contract.target,
        features=(*contract.features, column),
    )
    values = np.random.default_rng(0).choice(np.array(categories, dtype=object), len(rows))
    return own, rows.assign(**{name: values})


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
    moved_feature: str,
    moved_up: Callable[[pd.DataFrame, str], pd.DataFrame],
    tmp_path: Path,
) -> None:
    name = moved_feature
    path = write(move(unseen(raw_data), contract, name, moved_up), tmp_path / "shifted.csv")

    result = check_drift(champion, settings, path)

    assert result.report.drifted_features == [name]
    assert mlflow.get_run(result.run_id).data.tags["drifted_features"] == name
    assert f"psi.{name}" in mlflow.get_run(result.run_id).data.metrics


def test_a_new_dominant_category_is_reported(
    champion_of: Champion,
    settings: Settings,
    raw_data: pd.DataFrame,
    contract: DataContract,
    tmp_path: Path,
) -> None:
    own, rows = with_categorical(contract, raw_data)
    name = next(c.name for c in own.features if c.type == "categorical" and c.categories)
    config = champion_of(own, rows)
    rows = unseen(rows)
    rarest = rows[name].value_counts().index[-1]
    rows.loc[rows.index[: int(0.9 * len(rows))], name] = rarest

    result = check_drift(config, settings, write(rows, tmp_path / "category.csv"))

    assert result.report.drifted_features == [name]


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
    path = write(unseen(raw_data), tmp_path / "requests.csv")
    # Typed as the service types a request, with what the champion answers for each row.
    rows, _ = current_rows(champion, settings, contract, path, None, None)
    records = rows[contract.feature_names].to_dict(orient="records")
    outputs = [{"prediction": value} for value in rows["prediction"]]
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
    rows = unseen(raw_data)
    size = len(rows) // 3
    for week in range(3):
        batch = rows.iloc[size * week : size * (week + 1)]
        path = write(batch, tmp_path / f"week-{week}.csv")
        record = record_performance(champion, settings, path, start + timedelta(weeks=week))
        assert record.rows == size

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
    moved_feature: str,
    moved_up: Callable[[pd.DataFrame, str], pd.DataFrame],
    tmp_path: Path,
) -> None:
    name = moved_feature
    calm = write(unseen(raw_data), tmp_path / "calm.csv")
    moved = write(move(unseen(raw_data), contract, name, moved_up), tmp_path / "moved.csv")

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
    rows = unseen(raw_data)
    path = write(rows, tmp_path / "labelled.csv")

    result = runner.invoke(app, ["evaluate", "--data", path, "--as-of", "2025-03-01"], env=cli_env)

    assert result.exit_code == 0, result.output
    recorded = f"version 1 on {len(rows):,} labelled rows, recorded as of 2025-03-01 00:00"
    assert recorded in result.stdout
    assert "performance.png" in result.stdout


def test_retrain_without_drift_keeps_the_champion(
    runner: CliRunner, cli_env: dict[str, str], raw_data: pd.DataFrame, tmp_path: Path
) -> None:
    path = write(unseen(raw_data), tmp_path / "labelled.csv")

    result = runner.invoke(app, ["retrain", path], env=cli_env)

    assert result.exit_code == 0, result.output
    assert "no drift found: the champion stays" in result.stdout
