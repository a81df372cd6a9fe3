"""The champion's performance over time: its metrics on each batch of newly labelled rows.

Each record is an MLflow run in the monitoring experiment, and `reports/monitoring/
performance.png` plots the primary metric of every record so far, a line per model version.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import matplotlib.pyplot as plt
import mlflow
import pandas as pd

from {{ cookiecutter.package_name }}.config import ProjectConfig
from {{ cookiecutter.package_name }}.data.contract import load_contract
from {{ cookiecutter.package_name }}.data.datasets import read_table
from {{ cookiecutter.package_name }}.data.validation import validate
from {{ cookiecutter.package_name }}.errors import ConfigError
from {{ cookiecutter.package_name }}.monitoring import monitoring_experiment
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.training import tracking
from {{ cookiecutter.package_name }}.training.metrics import score
from {{ cookiecutter.package_name }}.training.models import PRIMARY_METRIC


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
{%- if cookiecutter.task == "classification" %}
    threshold = tracking.decision_threshold(settings.model_name, version)
    metrics = score(model, labelled, contract, threshold=threshold)
{%- else %}
    metrics = score(model, labelled, contract)
{%- endif %}
    tags = {"stage": "performance", "model_version": version, "as_of": as_of.isoformat()}
    with mlflow.start_run(run_name="performance", tags=tags) as run:
        mlflow.log_metrics(metrics | {"rows": len(labelled)})
        mlflow.log_param("data", path)
        # The history includes this run: its tags and metrics are stored already.
        figure = _plot(performance_history(settings), config.evaluate.reports_dir / "monitoring")
        mlflow.log_artifact(str(figure))
    return PerformanceRecord(version, as_of, len(labelled), metrics, figure, run.info.run_id)


def performance_history(settings: Settings) -> pd.DataFrame:
    """Every performance record: as_of, model_version and the primary metric, oldest first."""
    runs = mlflow.search_runs(
        experiment_names=[monitoring_experiment(settings)],
        filter_string="tags.stage = 'performance'",
    )
    history = pd.DataFrame(
        {
            "as_of": pd.to_datetime(runs["tags.as_of"], format="ISO8601"),
            "model_version": runs["tags.model_version"],
            PRIMARY_METRIC: runs[f"metrics.{PRIMARY_METRIC}"],
        }
    )
    return history.sort_values("as_of", ignore_index=True)


def _plot(history: pd.DataFrame, folder: Path) -> Path:
    """The primary metric against time, one line per model version, as a PNG in `folder`."""
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
