"""The retrain stage: on drift, learn from newly labelled rows, and let the quality gate decide.

Drift found (or `--force`): the new rows are validated and ingested beside the configured data
(a new row replaces an old one with the same ID), then train, evaluate and promote run as in
`run`. The candidate becomes the champion only if it passes the same gate, judged on the same
test rows as the champion; otherwise the champion stays. The retrain run in the monitoring
experiment links the drift check, the training run and the decision.
"""

from dataclasses import dataclass

import mlflow
import pandas as pd
from rich.console import Console

from {{ cookiecutter.package_name }}.config import ProjectConfig
from {{ cookiecutter.package_name }}.data.contract import load_contract
from {{ cookiecutter.package_name }}.data.datasets import (
    read_source,
    read_table,
    write_parquet,
)
from {{ cookiecutter.package_name }}.data.ingest import processed_path
from {{ cookiecutter.package_name }}.data.validation import validate
from {{ cookiecutter.package_name }}.errors import PromotionRefusedError
from {{ cookiecutter.package_name }}.monitoring import monitoring_experiment
from {{ cookiecutter.package_name }}.monitoring.drift_check import DriftResult, check_drift
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.training import tracking
from {{ cookiecutter.package_name }}.training.evaluate import evaluate_run
from {{ cookiecutter.package_name }}.training.promote import Decision, promote
from {{ cookiecutter.package_name }}.training.reports import README
from {{ cookiecutter.package_name }}.training.train import train


@dataclass(frozen=True)
class RetrainResult:
    """What one retraining did: the drift check, and the gate's decision (None: not retrained)."""

    drift: DriftResult
    decision: Decision | None
    reason: str
    run_id: str


def retrain(
    config: ProjectConfig,
    settings: Settings,
    path: str,
    *,
    force: bool = False,
    console: Console | None = None,
) -> RetrainResult:
    """Check `path` for drift; if found (or forced), retrain on it and decide through the gate.

    Raises:
        ConfigError, DataSourceError, DataValidationError: a step could not run.
        PromotionRefusedError: the candidate failed the gate (after the run was recorded).
    """
    console = console or Console(quiet=True)
    checked = check_drift(config, settings, path)
    tracking.configure(settings, experiment=monitoring_experiment(settings))
    tags = {"stage": "retrain", "drift_run_id": checked.run_id, "data": path}
    with mlflow.start_run(run_name="retrain", tags=tags) as run:
        if not (checked.report.drifted or force):
            reason = "no drift found: the champion stays (pass --force to retrain anyway)"
            mlflow.set_tag("decision", reason)
            return RetrainResult(checked, None, reason, run.info.run_id)
        rows = _ingest_with(config, settings, path)
        console.print(f"[green]✓[/] ingested {rows:,} rows, the new ones included")
    # Training opens runs of its own: the retrain run is tagged from outside from here on.
    trained = train(config, settings)
    console.print(f"[green]✓[/] trained run {trained.run_id}")
    evaluate_run(config, settings, trained.run_id)
    client = mlflow.MlflowClient()
    client.set_tag(run.info.run_id, "training_run_id", trained.run_id)
    try:
        decision = promote(config, settings, trained.run_id, readme=README)
    except PromotionRefusedError as error:
        client.set_tag(run.info.run_id, "decision", str(error))
        raise
    client.set_tag(run.info.run_id, "decision", decision.reason)
    reason = f"version {decision.model_version} promoted: {decision.reason}"
    return RetrainResult(checked, decision, reason, run.info.run_id)


def _ingest_with(config: ProjectConfig, settings: Settings, path: str) -> int:
    """Write the configured rows and the new ones as one data set: nothing if either is invalid."""
    contract = load_contract(config.data.contract)
{%- if cookiecutter.data_source == "sql" %}
    old = validate(read_source(config.data, settings.database_url.get_secret_value()), contract)
{%- else %}
    old = validate(read_source(config.data), contract)
{%- endif %}
    combined = pd.concat([old, validate(read_table(path), contract)], ignore_index=True)
    if contract.id_column:  # a row seen again, relabelled: keep its newest label
        combined = combined.drop_duplicates(subset=contract.id_column, keep="last")
    write_parquet(combined.reset_index(drop=True), processed_path(config, contract))
    return len(combined)
