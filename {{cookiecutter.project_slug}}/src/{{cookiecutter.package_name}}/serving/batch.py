"""Batch scoring: predict a CSV or Parquet file of any size, one chunk at a time.

Each chunk is validated against the contract, scored and appended to the output, so memory
holds one chunk, never the whole file. A run that fails part-way leaves no output behind.
Asked to, it also writes each row's largest SHAP contributions (see `governance/explain.py`).
"""

import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from {{ cookiecutter.package_name }}.config import ProjectConfig
from {{ cookiecutter.package_name }}.data.contract import DataContract, load_contract
from {{ cookiecutter.package_name }}.data.datasets import write_whole
from {{ cookiecutter.package_name }}.data.validation import id_columns, validate
from {{ cookiecutter.package_name }}.errors import (
    ConfigError,
    DataSourceError,
    DataValidationError,
)
from {{ cookiecutter.package_name }}.governance import explain
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.training.predictions import predict_rows

FILE_KINDS = {".csv": "csv", ".txt": "csv", ".parquet": "parquet"}
#: The output column that numbers rows when the contract has no id column.
ROW_COLUMN = "row"


@dataclass(frozen=True)
class PredictionSummary:
    """What was scored: where the predictions went, how many rows and chunks, and how long."""

    output: Path
    rows: int
    chunks: int
    seconds: float


def predict_file(
    model: Any,
    contract: DataContract,
    source: Path,
    output: Path,
    *,
    model_version: str,
    chunk_rows: int = 100_000,
{%- if cookiecutter.task == "classification" %}
    threshold: float = 0.5,
{%- endif %}
    explain_top: int = 0,
    background: pd.DataFrame | None = None,
) -> PredictionSummary:
    """Score every row of a CSV or Parquet file and write the predictions, chunk by chunk.

    The output holds the ID column, `prediction`{% if cookiecutter.task == "classification" %}, one
    `probability_<class>` column per class{% endif %} and `model_version`. It is written whole
    (`datasets.write_whole`): renamed into place only once every chunk has been scored.

    With `explain_top`, each row also gets its largest SHAP contributions, largest (either way)
    first: `contribution_<i>_column` and `contribution_<i>_value` for i up to `explain_top` (or
    the number of columns), then `base_value` (the output before the row is seen; it plus every
    column's contribution is the model's output) and `explanation_space` (their unit).{% if cookiecutter.task == "classification" %} Two
    classes are explained for the positive class; more, for each row's predicted class.{% endif %}

    Args:
        model: a fitted pipeline that takes the contract's raw feature columns.
        contract: what a valid row is; the target column may be present and is ignored.
        source: the rows to score, `.csv` or `.parquet`.
        output: where to write the predictions, `.csv` or `.parquet`.
        model_version: recorded on every row, to trace each prediction to its model.
        chunk_rows: how many rows to read, validate and score at a time.
{%- if cookiecutter.task == "classification" %}
        threshold: the positive-class probability from which a two-class model predicts it.
{%- endif %}
        explain_top: how many contributions to write per row; 0 explains nothing.
        background: training rows to compare with; needed to explain.

    Raises:
        ConfigError: explaining, and SHAP is not installed or there is no `background`.
        DataSourceError: the source is missing, empty or unreadable, or a suffix is unknown.
        DataValidationError: a chunk breaks the contract; each problem names its rows
            (counted from 1, header excluded). Nothing is written.
        ValueError: `chunk_rows` is less than 1.
    """
    if chunk_rows < 1:
        raise ValueError(f"chunk_rows must be at least 1, not {chunk_rows}")
    started = time.perf_counter()
    source_kind, output_kind = _kind(source, "input"), _kind(output, "output")
    try:
        if source.stat().st_size == 0:
            raise DataSourceError(f"{source}: the file is empty")
    except FileNotFoundError:
        raise DataSourceError(f"{source}: file not found") from None
    explaining = explain.explainer(model, background, contract) if explain_top > 0 else None
    rows = count = 0

    def write(temporary: Path) -> None:
        nonlocal rows, count
        parquet: pq.ParquetWriter | None = None
        try:
            for chunk in _chunks(source, source_kind, contract, chunk_rows):
                if chunk.empty:
                    continue
                first, last = rows + 1, rows + len(chunk)
                typed = _validated(contract, chunk, f"rows {first:,}-{last:,}")
{%- if cookiecutter.task == "classification" %}
                scored = score(model, contract, typed, threshold)
{%- else %}
                scored = score(model, contract, typed)
{%- endif %}
                if explaining is not None:
                    features, predicted = typed[contract.feature_names], scored["prediction"]
                    scored = scored.join(_explained(explaining, features, predicted, explain_top))
                scored["model_version"] = model_version
                if output_kind == "csv":
                    scored.to_csv(
                        temporary, mode="a" if count else "w", header=not count, index=False
                    )
                else:  # every chunk in the first chunk's schema
                    schema = parquet.schema if parquet else None
                    table = pa.Table.from_pandas(scored, schema=schema, preserve_index=False)
                    parquet = parquet or pq.ParquetWriter(temporary, table.schema)
                    parquet.write_table(table)
                rows, count = last, count + 1
        finally:
            if parquet is not None:
                parquet.close()  # writes the footer
        if rows == 0:
            raise DataSourceError(f"{source}: the file has no rows to score")

    write_whole(output, write)
    return PredictionSummary(output, rows, count, time.perf_counter() - started)


def predict_with_champion(
    config: ProjectConfig,
    settings: Settings,
    source: Path,
    output: Path,
    chunk_rows: int,
    explain_top: int = 0,
) -> PredictionSummary:
    """Score a file with the registry's champion, as `predict_file` does (the `predict` command).

    Explanations compare each row with the training rows the champion was logged with.

    Raises:
        ConfigError: there is no champion yet, or no contract; or, explaining, no SHAP or a
            champion logged without training rows.
    """
    model, example, version = load_champion(settings)
{%- if cookiecutter.task == "classification" %}
    # MLflow, imported only here: the API never needs it.
    from {{ cookiecutter.package_name }}.training import tracking

    threshold = tracking.decision_threshold(settings.model_name, version)
{%- endif %}
    return predict_file(
        model,
        load_contract(config.data.contract),
        source,
        output,
        model_version=version,
        chunk_rows=chunk_rows,
{%- if cookiecutter.task == "classification" %}
        threshold=threshold,
{%- endif %}
        explain_top=explain_top,
        background=example,
    )


def load_champion(settings: Settings) -> tuple[Any, pd.DataFrame | None, str]:
    """The registry's champion: its pipeline, the rows it was logged with, and its version.

    Raises:
        ConfigError: there is no champion yet.
    """
    # MLflow, imported only here: the API never needs it.
    from {{ cookiecutter.package_name }}.training import tracking

    tracking.configure(settings, experiment=settings.model_name)
    version = tracking.champion_version(settings.model_name)
    if version is None:
        raise ConfigError(f"{settings.model_name} has no champion yet: run `run` or `promote`")
    # The version, not the alias: a promotion meanwhile cannot mix two models' answers.
    model, example = tracking.load_with_example(f"models:/{settings.model_name}/{version}")
    return model, example, version


def _kind(path: Path, role: str) -> str:
    """`csv` or `parquet`, from the file's suffix."""
    suffix = path.suffix.lower()
    if suffix not in FILE_KINDS:
        raise DataSourceError(f"{path}: unknown {role} file type {suffix!r}: use .csv or .parquet")
    return FILE_KINDS[suffix]


def _chunks(
    source: Path, kind: str, contract: DataContract, chunk_rows: int
) -> Iterator[pd.DataFrame]:
    """The source's rows, chunk by chunk, each row numbered by its place in the file."""
    try:
        if kind == "csv":
            # IDs stay the text they are in the file (leading zeros and all).
            dtype = dict.fromkeys(id_columns(contract), "string")
            with pd.read_csv(source, chunksize=chunk_rows, dtype=dtype) as reader:
                yield from reader
            return
        with pq.ParquetFile(source) as parquet:
            start = 0
            for batch in parquet.iter_batches(batch_size=chunk_rows):
                yield batch.to_pandas().set_axis(range(start, start + batch.num_rows))
                start += batch.num_rows
    except pd.errors.EmptyDataError:
        raise DataSourceError(f"{source}: the file is empty") from None
    except (ValueError, OSError, pa.ArrowException) as error:
        raise DataSourceError(f"{source}: cannot be read ({str(error).splitlines()[0]})") from None


def _validated(contract: DataContract, chunk: pd.DataFrame, where: str) -> pd.DataFrame:
    """One chunk, validated without its target; problems are prefixed with `where`."""
    unlabelled = chunk.drop(columns=[contract.target.name], errors="ignore")
    try:
        return validate(unlabelled, contract, require_target=False)
    except DataValidationError as error:
        raise DataValidationError([f"{where}: {problem}" for problem in error.problems]) from None


def score(
    model: Any,
    contract: DataContract,
    typed: pd.DataFrame,
{%- if cookiecutter.task == "classification" %}
    threshold: float,
{%- endif %}
) -> pd.DataFrame:
    """One validated chunk's predictions{% if cookiecutter.task == "classification" %}, with each class's probability{% endif %}."""
{%- if cookiecutter.task == "classification" %}
    outputs = predict_rows(model, typed[contract.feature_names], contract, threshold=threshold)
{%- else %}
    outputs = predict_rows(model, typed[contract.feature_names], contract)
{%- endif %}
    # Without an id column, a row is known by its place in the file, counted from 0.
    identity = typed[contract.id_column] if contract.id_column else typed.index.to_series()
    scored = pd.DataFrame(
        {contract.id_column or ROW_COLUMN: identity, "prediction": outputs.predictions},
        index=typed.index,
    )
{%- if cookiecutter.task == "classification" %}
    for position, label in enumerate(outputs.classes):
        scored[f"probability_{label}"] = outputs.probabilities[:, position]
{%- endif %}
    return scored


def _explained(
    explaining: explain.Explainer, features: pd.DataFrame, predicted: pd.Series, top: int
) -> pd.DataFrame:
    """Each row's `top` largest contributions, its base value and their space, in its order.

    The explainer takes at most `max_rows` rows a call. A model with more than one output (one
    per class) is explained for each row's predicted class.
    """
    parts = []
    for start in range(0, len(features), explaining.max_rows):
        rows = features.iloc[start : start + explaining.max_rows]
        explanation = explaining(rows)
        chosen: np.ndarray[Any, Any] = np.zeros(len(rows), dtype=np.intp)
        if len(explanation.outputs) > 1:  # one output per class: the predicted class's
            index = {output: position for position, output in enumerate(explanation.outputs)}
            labels = predicted.iloc[start : start + len(rows)].astype(str)
            chosen = labels.map(index).to_numpy(dtype=np.intp)
        each = np.arange(len(rows))
        values = explanation.values[each, :, chosen]  # rows x columns
        order = np.argsort(-np.abs(values), axis=1, kind="stable")[:, :top]
        names = np.asarray(explanation.columns)[order]
        largest = np.take_along_axis(values, order, axis=1)
        part = pd.DataFrame(index=rows.index)
        for rank in range(order.shape[1]):
            part[f"contribution_{rank + 1}_column"] = names[:, rank]
            part[f"contribution_{rank + 1}_value"] = largest[:, rank]
        part["base_value"] = explanation.base[each, chosen]
        part["explanation_space"] = explanation.space
        parts.append(part)
    return pd.concat(parts)
