"""The `drift` command: recent rows (the prediction log, or a file) against the champion's reference.

`train` saves a sample of its training rows with the model's predictions: what "no drift" looks
like. The verdict is written as JSON and HTML reports and recorded as an MLflow run in the
monitoring experiment.
"""

import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import mlflow
import pandas as pd
from mlflow.exceptions import MlflowException

from {{ cookiecutter.package_name }}.config import ProjectConfig
from {{ cookiecutter.package_name }}.data.contract import DataContract, load_contract
from {{ cookiecutter.package_name }}.data.datasets import read_table
from {{ cookiecutter.package_name }}.data.validation import validate
from {{ cookiecutter.package_name }}.errors import ConfigError, mask
from {{ cookiecutter.package_name }}.monitoring import drift, monitoring_experiment
from {{ cookiecutter.package_name }}.monitoring.prediction_log import open_log
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.training import tracking
from {{ cookiecutter.package_name }}.training.train import REFERENCE, predictions

#: The prediction's kind for the drift test: a class label, or a number.
PREDICTION_KIND: drift.Kind = "{{ 'categorical' if cookiecutter.task == 'classification' else 'numeric' }}"


@dataclass(frozen=True)
class DriftResult:
    """One drift check: the verdict, where it was written, and its MLflow run."""

    report: drift.DriftReport
    source: str
    model_version: str
    json_path: Path
    html_path: Path
    run_id: str


def check_drift(
    config: ProjectConfig,
    settings: Settings,
    path: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> DriftResult:
    """Compare the rows to check with the champion's reference; record the report in MLflow.

    Raises:
        ConfigError: no champion or reference, the log is off, or too few rows to tell.
        DataSourceError, DataValidationError: the file cannot be read or breaks the contract.
    """
    contract = load_contract(config.data.contract)
    tracking.configure(settings, experiment=settings.model_name)
    reference, version = champion_reference(settings)
    current, source = current_rows(config, settings, contract, path, since, until)
    try:
        found = drift.compare(
            reference, current, contract, config.monitoring, prediction=PREDICTION_KIND
        )
    except ValueError as error:
        raise ConfigError(f"{source}: {error}") from None
    folder = config.evaluate.reports_dir / "drift"
    json_path = drift.write_json(found, folder / "drift.json")
    html_path = drift.write_html(found, reference, current, folder / "drift.html")
    mlflow.set_experiment(monitoring_experiment(settings))
    tags = {
        "stage": "drift",
        "model_version": version,
        "source": mask(source),
        "drifted": str(found.drifted).lower(),
        "drifted_features": ",".join(found.drifted_features),
    }
    metrics: dict[str, float] = {
        "rows": found.current_rows,
        "drifted_features": len(found.drifted_features),
    }
    for feature in found.tested:
        metrics[tracking.metric_name("psi", feature.name)] = feature.psi
        metrics[tracking.metric_name("p_value", feature.name)] = feature.p_value
    with mlflow.start_run(run_name="drift", tags=tags) as run:
        mlflow.log_metrics(metrics)
        mlflow.log_artifact(str(json_path))
        mlflow.log_artifact(str(html_path))
    return DriftResult(found, source, version, json_path, html_path, run.info.run_id)


def champion_reference(settings: Settings) -> tuple[pd.DataFrame, str]:
    """The champion's reference sample and its version.

    Raises:
        ConfigError: there is no champion, or it was trained without a reference.
    """
    version = tracking.champion_version(settings.model_name)
    if version is None:
        raise ConfigError(f"{settings.model_name} has no champion yet: run `run` first")
    run_id = tracking.run_of_version(settings.model_name, version).info.run_id
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = mlflow.artifacts.download_artifacts(
                run_id=run_id, artifact_path=REFERENCE, dst_path=folder
            )
            return pd.read_parquet(path), version
    except (MlflowException, OSError) as error:
        raise ConfigError(
            f"{settings.model_name} version {version} has no drift reference: retrain it"
        ) from error


def current_rows(
    config: ProjectConfig,
    settings: Settings,
    contract: DataContract,
    path: str | None,
    since: datetime | None,
    until: datetime | None,
) -> tuple[pd.DataFrame, str]:
    """The rows to check, and where they came from: a file scored by the champion, or the log.

    Raises:
        ConfigError: no file given and the prediction log is off.
    """
    if path is not None:
        frame = validate(read_table(path), contract, require_target=False)
        version = tracking.champion_version(settings.model_name) or tracking.CHAMPION
        model = tracking.load_model(f"models:/{settings.model_name}/{version}")
{%- if cookiecutter.task == "classification" %}
        threshold = tracking.decision_threshold(settings.model_name, version)
        return frame.assign(prediction=predictions(model, frame, contract, threshold)), path
{%- else %}
        return frame.assign(prediction=predictions(model, frame, contract)), path
{%- endif %}
    log = open_log(settings)
    if log is None:
        raise ConfigError("the prediction log is off: pass a data file to check instead")
    until = until or datetime.now(UTC)
    since = since or until - timedelta(days=config.monitoring.window_days)
    try:
        frame = log.read(since=since, until=until)
    finally:
        log.close()
    frame = frame[frame["variant"] != "shadow"]  # what was answered: shadow rows repeat it
    return frame, f"prediction log, {since:%Y-%m-%d %H:%M} to {until:%Y-%m-%d %H:%M} UTC"
