"""The train stage: fit the configured model and the baseline, track everything, register the model.

Each run records what an interviewer would ask about: every config value and hyperparameter, the
exact data (a SHA-256 of the processed file and MLflow's dataset lineage for each split), the git
commit, the seed, the training time, validation scores, and the whole preprocessing + model
pipeline with its signature and an input example.
"""

import hashlib
{%- if cookiecutter.include_spark and cookiecutter.data_source == "csv" %}
import json
{%- endif %}
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
{%- if cookiecutter.include_monitoring %}
from typing import Any
{%- endif %}

import mlflow
import numpy as np
import pandas as pd
from mlflow.data.pandas_dataset import from_pandas
from mlflow.data.sources import LocalArtifactDatasetSource  # type: ignore[attr-defined]

from {{ cookiecutter.package_name }}.config import ParamValue, ProjectConfig
{%- if cookiecutter.include_monitoring %}
from {{ cookiecutter.package_name }}.data.contract import DataContract
{%- endif %}
from {{ cookiecutter.package_name }}.data.features import build_pipeline
{%- if cookiecutter.include_spark and cookiecutter.data_source == "csv" %}
from {{ cookiecutter.package_name }}.data.ingest import SAMPLING_FILE
{%- endif %}
from {{ cookiecutter.package_name }}.data.splits import SEEN_ROWS, row_keys
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.training import tracking
from {{ cookiecutter.package_name }}.training.inputs import fit_baseline, load_splits
from {{ cookiecutter.package_name }}.training.metrics import {% if cookiecutter.task == "classification" %}choose_threshold, {% endif %}score
from {{ cookiecutter.package_name }}.training.models import (
    EXAMPLE_ROWS,
    PRIMARY_METRIC,
    make_estimator,
)
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

    `params` (the best ones `tune` found) replace the config's `train.params`.

    Raises:
        ConfigError: no processed data yet, or parameters that do not fit the model.
    """
    contract, parts, path = load_splits(config)
    params = dict(config.train.params if params is None else params)
    features, target = parts.train[contract.feature_names], parts.train[contract.target.name]
    tracking.configure(settings, experiment=settings.model_name)
{%- if cookiecutter.include_spark %}
    digest = _digest(path)
{%- if cookiecutter.data_source == "csv" %}
    sampled = path / SAMPLING_FILE if path.is_dir() else None
    sampling = json.loads(sampled.read_text("utf-8")) if sampled and sampled.exists() else None
{%- endif %}
{%- else %}
    with path.open("rb") as data:
        digest = hashlib.file_digest(data, "sha256").hexdigest()
{%- endif %}

    tags = {"stage": "train", "git_commit": _git_commit(), "data_sha256": digest}
    with mlflow.start_run(run_name=config.train.model, tags=tags | tracking.process_tags()) as run:
        mlflow.log_params(
            {"model": config.train.model, "seed": config.seed}
            | {f"model.{name}": value for name, value in params.items()}
            | {f"split.{name}": value for name, value in config.split.model_dump().items()}
            | {"data.rows": len(parts.train) + len(parts.validation) + len(parts.test)}
{%- if cookiecutter.include_spark and cookiecutter.data_source == "csv" %}
            | ({tracking.SAMPLE_PARAM: _sampled(sampling)} if sampling else {})
{%- endif %}
        )
        mlflow.log_dict(config.model_dump(mode="json"), "config.json")
        # Each split as an MLflow dataset input: its source file, digest and schema.
        source = LocalArtifactDatasetSource(str(path.resolve()))
        for context in ("train", "validation", "test"):
            dataset = from_pandas(
                getattr(parts, context),
                source=source,
                name=f"{contract.name}-{context}",
                targets=contract.target.name,
            )
            mlflow.log_input(dataset, context=context)

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
        # Two classes: a threshold fixed in the config, or the one with the best validation f1.
        threshold = DEFAULT_THRESHOLD  # more classes: the most probable one wins
        if len(contract.classes) == 2 and config.evaluate.threshold == "max_f1":
            threshold = choose_threshold(model, parts.validation, contract)
        elif len(contract.classes) == 2:
            threshold = float(config.evaluate.threshold)
{%- endif %}
        validation_score = score(model, parts.validation, contract)[PRIMARY_METRIC]
        baseline_score = score(baseline, parts.validation, contract)[PRIMARY_METRIC]
        mlflow.log_metrics(
            {
                "training_seconds": seconds,
                f"validation_{PRIMARY_METRIC}": validation_score,
                f"baseline_validation_{PRIMARY_METRIC}": baseline_score,
            }
{%- if cookiecutter.task == "classification" %}
            | ({THRESHOLD_METRIC: threshold} if len(contract.classes) == 2 else {})
{%- endif %}
        )
        with tempfile.TemporaryDirectory() as folder:
            # Which rows this model has seen, so that a later gate compares it only on others.
            seen = pd.concat([parts.train, parts.validation])
            np.save(Path(folder) / SEEN_ROWS, row_keys(seen, contract))
{%- if cookiecutter.include_monitoring %}
            # What "no drift" looks like for this model: `drift` compares new data with it.
            rows = min(config.monitoring.reference_rows, len(parts.train))
            sample = parts.train.sample(n=rows, random_state=config.seed)[contract.feature_names]
            reference = sample.assign(prediction=predictions(model, sample, contract{% if cookiecutter.task == "classification" %}, threshold{% endif %}))
            reference = reference.drop(columns=[c.name for c in contract.features if c.sensitive])
            (Path(folder) / REFERENCE).parent.mkdir()
            reference.to_parquet(Path(folder) / REFERENCE, index=False)
{%- endif %}
            mlflow.log_artifacts(folder)
        # Rows of the training set: the served model's explanations compare with them.
        example = features.sample(n=min(len(features), EXAMPLE_ROWS), random_state=config.seed)
{%- if cookiecutter.include_monitoring %}
        example = example.assign(**stand_ins(features, contract))
{%- endif %}
        version = tracking.log_model(
            model,
            example,
            name="model",
            registered_name=settings.model_name,
        )
    return TrainResult(run.info.run_id, version, validation_score, baseline_score, seconds)


def _git_commit() -> str:
    """The commit the code was trained from (`-dirty` for uncommitted changes), or `unknown`."""
    git = shutil.which("git")
    if git is None:
        return "unknown"
    try:
        commit = subprocess.run(  # noqa: S603 - a fixed git command
            [git, "describe", "--always", "--dirty", "--abbrev=40"],
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        ).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return commit or "unknown"
{%- if cookiecutter.include_monitoring %}


{% if cookiecutter.task == "classification" -%}
def predictions(
    model: Any, features: pd.DataFrame, contract: DataContract, threshold: float
) -> pd.Series:
{%- else -%}
def predictions(model: Any, features: pd.DataFrame, contract: DataContract) -> pd.Series:
{%- endif %}
    """What the service would answer for each row, as the prediction log records it."""
    rows = features[contract.feature_names]
    outputs = predict_rows(model, rows, contract{% if cookiecutter.task == "classification" %}, threshold=threshold{% endif %})
    return pd.Series(outputs.predictions, index=features.index, name="prediction")


def stand_ins(rows: pd.DataFrame, contract: DataContract) -> dict[str, Any]:
    """A stand-in for each sensitive feature's values in what is stored with a model.

    The median of a number or a date, else the most frequent value (None when the rows have
    none): the model's example rows then hold no person's own value, as the prediction log and
    the drift reference hold none.
    """
    values: dict[str, Any] = {}
    for column in contract.features:
        if column.sensitive:
            present = rows[column.name].dropna()
            if present.empty:
                values[column.name] = None
            elif column.type in ("numeric", "datetime"):
                values[column.name] = present.median()
            else:
                values[column.name] = present.mode().iloc[0]
    return values
{%- endif %}
{%- if cookiecutter.include_spark %}


def _digest(path: Path) -> str:
    """The SHA-256 of a processed file, or of a folder of part files (Spark's) in name order."""
    if path.is_file():
        with path.open("rb") as data:
            return hashlib.file_digest(data, "sha256").hexdigest()
    digest = hashlib.sha256()
    for part in sorted(p for p in path.rglob("*") if p.is_file()):
        with part.open("rb") as data:
            digest.update(part.name.encode() + hashlib.file_digest(data, "sha256").digest())
    return digest.hexdigest()
{%- endif %}
{%- if cookiecutter.include_spark and cookiecutter.data_source == "csv" %}


def _sampled(sampling: dict[str, int]) -> str:
    """How the training data was sampled, in words, from its `SAMPLING_FILE`."""
    rule = "{% if cookiecutter.task == "classification" %}each class at the same rate{% else %}at random{% endif %}"
    return (
        f"{sampling['rows']:,} of {sampling['of']:,} rows, sampled in Spark {rule} "
        f"(data.sample_rows {sampling['sample_rows']:,}, seed {sampling['seed']})"
    )
{%- endif %}
