"""The train stage: fit the configured model and the baseline, track everything, register the model.

Each run records what an interviewer would ask about: every config value and hyperparameter, the
exact data (a SHA-256 of the processed file and MLflow's dataset lineage for each split), the git
commit, the seed, the training time, validation scores, and the whole preprocessing + model
pipeline with its signature and an input example.
"""

import tempfile
import time
from dataclasses import dataclass, replace
from pathlib import Path
{%- if cookiecutter.include_monitoring %}
from typing import Any
{%- endif %}

import mlflow
import numpy as np
import pandas as pd
from mlflow.data.pandas_dataset import from_pandas
from mlflow.data.sources import LocalArtifactDatasetSource  # type: ignore[attr-defined]
{%- if cookiecutter.task == "classification" %}
from sklearn.pipeline import Pipeline
{%- endif %}

from {{ cookiecutter.package_name }}.config import ParamValue, ProjectConfig
from {{ cookiecutter.package_name }}.data.contract import DataContract
from {{ cookiecutter.package_name }}.data.features import build_pipeline
from {{ cookiecutter.package_name }}.data.splits import SEEN_ROWS, Splits, row_keys
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.training import tracking
from {{ cookiecutter.package_name }}.training.inputs import fit_baseline, load_splits
from {{ cookiecutter.package_name }}.training.metrics import {% if cookiecutter.task == "classification" %}choose_threshold, {% endif %}score
from {{ cookiecutter.package_name }}.training.models import PRIMARY_METRIC, make_estimator
{%- if cookiecutter.task == "classification" and cookiecutter.include_monitoring %}
from {{ cookiecutter.package_name }}.training.predictions import (
    DEFAULT_THRESHOLD,
    THRESHOLD_METRIC,
    predict_rows,
)
{%- elif cookiecutter.task == "classification" %}
from {{ cookiecutter.package_name }}.training.predictions import DEFAULT_THRESHOLD, THRESHOLD_METRIC
{%- elif cookiecutter.include_monitoring %}
from {{ cookiecutter.package_name }}.training.predictions import predict_rows
{%- endif %}
{%- if cookiecutter.include_monitoring %}

#: Where a training run keeps what "no drift" looks like for its model: `drift` compares with it.
REFERENCE = "reference/reference.parquet"
{%- endif %}


@dataclass(frozen=True)
class TrainResult:
    """What one training run produced."""

    run_id: str
    model_version: str | None
    validation_score: float
    baseline_validation_score: float
    seconds: float


def train(
    config: ProjectConfig,
    settings: Settings,
    params: dict[str, ParamValue] | None = None,
) -> TrainResult:
    """Train, track and register the configured model, beside the baseline it must beat.

    Args:
        config: the project config; `train.model` and `train.params` choose the model.
        settings: where MLflow tracks, and the registered model's name.
        params: hyperparameters to use instead of `train.params` (from `tune`).

    Raises:
        ConfigError: no processed data yet, or parameters that do not fit the model.
    """
    contract, parts, path = load_splits(config)
    params = dict(config.train.params if params is None else params)
    features, target = parts.train[contract.feature_names], parts.train[contract.target.name]
    tracking.configure(settings, experiment=settings.model_name)

    tags = {
        "stage": "train",
        "git_commit": tracking.git_commit(),
        "data_sha256": tracking.file_sha256(path),
    } | tracking.process_tags()
    with mlflow.start_run(run_name=config.train.model, tags=tags) as run:
        mlflow.log_params(
            {"model": config.train.model, "seed": config.seed}
            | {f"model.{name}": value for name, value in params.items()}
            | {f"split.{name}": value for name, value in config.split.model_dump().items()}
            | {"data.rows": len(parts.train) + len(parts.validation) + len(parts.test)}
        )
        mlflow.log_dict(config.model_dump(mode="json"), "config.json")
        log_datasets(parts, contract, path)

        started = time.perf_counter()
        model = build_pipeline(
            contract,
            make_estimator(config.train.model, params, seed=config.seed),
            config.features.custom,
        )
        model.fit(features, target)
        seconds = time.perf_counter() - started
        baseline = fit_baseline(contract, parts, seed=config.seed)
{%- if cookiecutter.task == "classification" %}
        threshold = decision_threshold(model, parts.validation, contract, config)
{%- endif %}

        result = TrainResult(
            run_id=run.info.run_id,
            model_version=None,
            validation_score=score(model, parts.validation, contract)[PRIMARY_METRIC],
            baseline_validation_score=score(baseline, parts.validation, contract)[PRIMARY_METRIC],
            seconds=seconds,
        )
        mlflow.log_metrics(
            {
                "training_seconds": seconds,
                f"validation_{PRIMARY_METRIC}": result.validation_score,
                f"baseline_validation_{PRIMARY_METRIC}": result.baseline_validation_score,
            }
{%- if cookiecutter.task == "classification" %}
            | ({THRESHOLD_METRIC: threshold} if len(contract.classes) == 2 else {})
{%- endif %}
        )
        # Which rows this model has seen, so that a later gate compares it only on others.
        log_seen_rows(pd.concat([parts.train, parts.validation]), contract)
{%- if cookiecutter.include_monitoring %}
        # What "no drift" looks like for this model: `drift` compares new data with it.
        log_reference(model, parts.train, contract, config{% if cookiecutter.task == "classification" %}, threshold{% endif %})
{%- endif %}
        version = tracking.log_model(
            model, features.head(5), name="model", registered_name=settings.model_name
        )
    return replace(result, model_version=version)


def log_datasets(parts: Splits, contract: DataContract, path: Path) -> None:
    """Record each split as an MLflow dataset input: its source file, digest and schema."""
    source = LocalArtifactDatasetSource(str(path.resolve()))
    for context, frame in (
        ("train", parts.train),
        ("validation", parts.validation),
        ("test", parts.test),
    ):
        dataset = from_pandas(
            frame, source=source, name=f"{contract.name}-{context}", targets=contract.target.name
        )
        mlflow.log_input(dataset, context=context)

{%- if cookiecutter.task == "classification" %}


def decision_threshold(
    model: Pipeline, validation: pd.DataFrame, contract: DataContract, config: ProjectConfig
) -> float:
    """A two-class model's threshold: fixed in the config, or chosen on the validation set."""
    if len(contract.classes) != 2:
        return DEFAULT_THRESHOLD  # the most probable class wins: there is no threshold
    if config.evaluate.threshold == "max_f1":
        return choose_threshold(model, validation, contract)
    return float(config.evaluate.threshold)
{%- endif %}


def log_seen_rows(frame: pd.DataFrame, contract: DataContract) -> None:
    """Log the fingerprints of the rows a model trained or was tuned on (`seen_rows.npy`)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / SEEN_ROWS
        np.save(path, row_keys(frame, contract))
        mlflow.log_artifact(str(path))
{%- if cookiecutter.include_monitoring %}


{% if cookiecutter.task == "classification" -%}
def predictions(
    model: Any, features: pd.DataFrame, contract: DataContract, threshold: float
) -> pd.Series:
{%- else -%}
def predictions(model: Any, features: pd.DataFrame, contract: DataContract) -> pd.Series:
{%- endif %}
    """What the service would answer for each row, as the prediction log records it."""
    outputs = predict_rows(
        model,
        features[contract.feature_names],
        contract,
{%- if cookiecutter.task == "classification" %}
        threshold=threshold,
{%- endif %}
    )
    return pd.Series(outputs.predictions, index=features.index, name="prediction")


def log_reference(
    model: Any,
    frame: pd.DataFrame,
    contract: DataContract,
    config: ProjectConfig,
{%- if cookiecutter.task == "classification" %}
    threshold: float,
{%- endif %}
) -> None:
    """Save a seeded sample of the training rows and the model's predictions in the active run."""
    rows = min(config.monitoring.reference_rows, len(frame))
    sample = frame.sample(n=rows, random_state=config.seed)[contract.feature_names]
    reference = sample.assign(prediction=predictions(model, sample, contract{% if cookiecutter.task == "classification" %}, threshold{% endif %}))
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / Path(REFERENCE).name
        reference.to_parquet(path, index=False)
        mlflow.log_artifact(str(path), artifact_path=str(Path(REFERENCE).parent))
{%- endif %}
