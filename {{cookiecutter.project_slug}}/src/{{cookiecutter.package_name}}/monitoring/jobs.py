"""Monitoring: the reference kept with each model, drift checks, and performance over time.

`train` saves a sample of its training rows, with the model's predictions on them, as what "no
drift" looks like. `drift` compares a window of the service's prediction log (or any file) with
the champion's reference (the tests are in `drift.py`). When labels arrive, `evaluate --data`
scores the champion on them and plots its metric over time. Each check is an MLflow run in the
`<model name>-monitoring` experiment; `retrain.py` closes the loop.
"""

import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Literal

import matplotlib.pyplot as plt
import mlflow
import pandas as pd
from mlflow.exceptions import MlflowException

from {{ cookiecutter.package_name }}.config import ProjectConfig
from {{ cookiecutter.package_name }}.data.contract import DataContract, load_contract
from {{ cookiecutter.package_name }}.data.datasets import read_table
from {{ cookiecutter.package_name }}.data.validation import validate
from {{ cookiecutter.package_name }}.errors import ConfigError, mask
from {{ cookiecutter.package_name }}.monitoring import drift
from {{ cookiecutter.package_name }}.monitoring.prediction_log import open_log
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.training import tracking
from {{ cookiecutter.package_name }}.training.metrics import score
from {{ cookiecutter.package_name }}.training.models import PRIMARY_METRIC
from {{ cookiecutter.package_name }}.training.train import REFERENCE, predictions

#: The prediction's kind for the drift test: a class label, or a number.
PREDICTION_KIND: Literal["categorical", "numeric"] = "{{ 'categorical' if cookiecutter.task == 'classification' else 'numeric' }}"


def monitoring_experiment(settings: Settings) -> str:
    """The experiment that holds drift checks, performance records and retraining runs."""
    return f"{settings.model_name}-monitoring"


def champion_reference(settings: Settings) -> tuple[pd.DataFrame, str]:
    """The champion's reference sample and its version.

    Raises:
        ConfigError: there is no champion, or it was trained without a reference.
    """
    version = tracking.champion_version(settings.model_name)
    if version is None:
        raise ConfigError(f"{settings.model_name} has no champion yet: run `run` first")
    run = tracking.run_of_version(settings.model_name, version)
    try:
        with tempfile.TemporaryDirectory() as folder:
            path = mlflow.artifacts.download_artifacts(
                run_id=run.info.run_id, artifact_path=REFERENCE, dst_path=folder
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
        DataSourceError, DataValidationError: the file cannot be read or breaks the contract.
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
    return frame, f"prediction log, {since:%Y-%m-%d %H:%M} to {until:%Y-%m-%d %H:%M} UTC"


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
    """
    contract = load_contract(config.data.contract)
    tracking.configure(settings, experiment=settings.model_name)
    reference, version = champion_reference(settings)
    current, source = current_rows(config, settings, contract, path, since, until)
    thresholds = drift.Thresholds.from_config(config.monitoring)
    try:
        report = drift.compare(reference, current, contract, thresholds, prediction=PREDICTION_KIND)
    except ValueError as error:
        raise ConfigError(f"{source}: {error}") from None
    folder = config.evaluate.reports_dir / "drift"
    json_path = drift.write_json(report, folder / "drift.json")
    html_path = drift.write_html(report, reference, current, folder / "drift.html")

    mlflow.set_experiment(monitoring_experiment(settings))
    tags = {
        "stage": "drift",
        "model_version": version,
        "source": mask(source),
        "drifted": str(report.drifted).lower(),
        "drifted_features": ",".join(report.drifted_features),
    }
    with mlflow.start_run(run_name="drift", tags=tags) as run:
        mlflow.log_metrics(
            {"rows": report.current_rows, "drifted_features": len(report.drifted_features)}
            | {f"psi.{feature.name}": feature.psi for feature in report.tested}
            | {f"p_value.{feature.name}": feature.p_value for feature in report.tested}
        )
        mlflow.log_artifact(str(json_path))
        mlflow.log_artifact(str(html_path))
    return DriftResult(report, source, version, json_path, html_path, run.info.run_id)


@dataclass(frozen=True)
class PerformanceRecord:
    """The champion's metrics on one batch of labelled rows, and the history plot."""

    model_version: str
    as_of: datetime
    rows: int
    metrics: dict[str, float]
    figure: Path
    run_id: str


def record_performance(
    config: ProjectConfig, settings: Settings, path: str, as_of: datetime | None = None
) -> PerformanceRecord:
    """Score the champion on newly labelled rows; plot every record so far against time.

    Raises:
        ConfigError: no champion yet.
        DataSourceError, DataValidationError: the file cannot be read or breaks the contract.
    """
    contract = load_contract(config.data.contract)
    as_of = as_of or datetime.now(UTC)
    labelled = validate(read_table(path), contract)
    tracking.configure(settings, experiment=monitoring_experiment(settings))
    version = tracking.champion_version(settings.model_name)
    if version is None:
        raise ConfigError(f"{settings.model_name} has no champion yet: run `run` first")
    model = tracking.load_model(f"models:/{settings.model_name}/{version}")
    metrics = score(
        model,
        labelled,
        contract,
{%- if cookiecutter.task == "classification" %}
        threshold=tracking.decision_threshold(settings.model_name, version),
{%- endif %}
    )
    tags = {"stage": "performance", "model_version": version, "as_of": as_of.isoformat()}
    with mlflow.start_run(run_name="performance", tags=tags) as run:
        mlflow.log_metrics(metrics | {"rows": len(labelled)})
        mlflow.log_param("data", path)
        # The history includes this run: its tags and metrics are stored already.
        history = performance_history(settings)
        figure = performance_figure(history, config.evaluate.reports_dir / "monitoring")
        mlflow.log_artifact(str(figure))
    return PerformanceRecord(version, as_of, len(labelled), metrics, figure, run.info.run_id)


def performance_history(settings: Settings) -> pd.DataFrame:
    """Every performance record: as_of, model_version and the primary metric, oldest first."""
    runs = mlflow.search_runs(
        experiment_names=[monitoring_experiment(settings)],
        filter_string="tags.stage = 'performance'",
        output_format="list",
    )
    history = pd.DataFrame(
        {
            "as_of": [pd.Timestamp(run.data.tags["as_of"]) for run in runs],
            "model_version": [run.data.tags["model_version"] for run in runs],
            PRIMARY_METRIC: [run.data.metrics.get(PRIMARY_METRIC) for run in runs],
        }
    )
    return history.sort_values("as_of", ignore_index=True)


def performance_figure(history: pd.DataFrame, folder: Path) -> Path:
    """The primary metric against time, one line per model version, as a PNG."""
    folder.mkdir(parents=True, exist_ok=True)
    figure, axes = plt.subplots(figsize=(7, 3.5))
    for version, rows in history.groupby("model_version", sort=False):
        axes.plot(rows["as_of"], rows[PRIMARY_METRIC], marker="o", label=f"version {version}")
    axes.set(title=f"Champion {PRIMARY_METRIC} on labelled data", ylabel=PRIMARY_METRIC)
    axes.legend()
    figure.autofmt_xdate()
    path = folder / "performance.png"
    figure.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(figure)
    return path
