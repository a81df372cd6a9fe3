"""The Spark engine's jobs: `ingest --engine spark` and `predict --engine spark`.

The `predict` command's pandas path is `serving/batch.py`; the CLI picks between them.
"""
{% if cookiecutter.data_source == "csv" %}
import json
{%- endif %}
import time
from pathlib import Path
from typing import Any

import pandas as pd
{%- if cookiecutter.data_source == "csv" %}
from pyspark.sql import functions as F  # noqa: N812 - Spark's own convention
{%- endif %}

from {{ cookiecutter.package_name }}.config import ProjectConfig
{%- if cookiecutter.data_source == "csv" %}
from {{ cookiecutter.package_name }}.data.contract import (
    TASK,
    DataContract,
    check_task,
    load_contract,
)
from {{ cookiecutter.package_name }}.data.ingest import (
    SAMPLING_FILE,
    Summary,
    processed_path,
    summarize,
)
from {{ cookiecutter.package_name }}.data.splits import check_sizes
{%- else %}
from {{ cookiecutter.package_name }}.data.contract import DataContract, load_contract
{%- endif %}
from {{ cookiecutter.package_name }}.errors import ConfigError, DataSourceError
from {{ cookiecutter.package_name }}.serving.batch import (
    ROW_COLUMN,
    PredictionSummary,
    load_champion,
    score,
)
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.spark.session import (
    failures,
    read,
    session,
    write_parquet,
)
from {{ cookiecutter.package_name }}.spark.validation import validate
{%- if cookiecutter.task == "classification" %}
from {{ cookiecutter.package_name }}.training import tracking
{%- endif %}
{%- if cookiecutter.data_source == "csv" %}


@failures()
def ingest(config: ProjectConfig, settings: Settings) -> Summary:
    """`data/ingest.py`'s stage in Spark: read, validate and write the data set (a Parquet folder).

    With `data.sample_rows`, a larger data set is sampled to about that many rows, seeded{% if cookiecutter.task == "classification" %} (each
    class at the same rate){% endif %}.
    The rule and the counts are written beside the data (`SAMPLING_FILE`), for the training run
    and the model card.

    Raises:
        ConfigError: the contract is missing or invalid, the data too small to split, or
            Spark failed (most often for memory).
        DataSourceError: the raw data cannot be read.
        DataValidationError: the raw data breaks the contract (nothing is written).
    """
    contract = load_contract(config.data.contract)
    check_task(contract, TASK)
    valid = validate(read(session(settings.spark_master), config.data.path), contract)
    target, notes = F.col(f"`{contract.target.name}`"), {}
    if (wanted := config.data.sample_rows) is not None and (found := valid.count()) > wanted:
{%- if cookiecutter.task == "classification" %}
        shares = {str(label): wanted / found for label in contract.classes}
        valid = valid.sampleBy(contract.target.name, shares, seed=config.seed)
{%- else %}
        valid = valid.sample(fraction=wanted / found, seed=config.seed)
{%- endif %}
        notes = {"of": found, "sample_rows": wanted, "seed": config.seed}
    empty = (F.count_if(F.col(f"`{name}`").isNull()) for name in valid.columns)
    counted = valid.agg(F.count(F.lit(1)), *empty).first()
    assert counted is not None  # noqa: S101 - an aggregate always has one row
    rows, nulls = int(counted[0]), dict(zip(valid.columns, counted[1:], strict=True))
{%- if cookiecutter.task == "classification" %}
    counts = valid.where(target.isNotNull()).groupBy(target).count().collect()
    classes = pd.Series(dict(map(tuple, counts)), dtype="int64").sort_index()
    check_sizes(rows, classes, config.split)
    described = classes / rows
{%- else %}
    spread = valid.agg(F.min(target), F.median(target), F.max(target)).first()
    assert spread is not None  # noqa: S101 - an aggregate always has one row
    check_sizes(rows, None, config.split)
    described = pd.Series(list(spread), index=["min", "median", "max"])
{%- endif %}
    path = processed_path(config, contract)
    sidecar = {SAMPLING_FILE: json.dumps(notes | {"rows": rows})} if notes else {}
    write_parquet(valid, path, sidecar=sidecar)
    summary = summarize(path, rows, nulls, described)
    if notes:
        summary.facts["sampled"] = f"{rows:,} of {notes['of']:,} rows (data.sample_rows)"
    return summary
{%- endif %}


@failures()
def predict_file(
    model: Any,
    contract: DataContract,
    source: Path,
    output: Path,
    *,
    model_version: str,
    master: str,
{%- if cookiecutter.task == "classification" %}
    threshold: float = 0.5,
{%- endif %}
) -> PredictionSummary:
    """`serving/batch.py`'s `predict_file` in Spark: the same columns, rule and answers.

    Each partition is scored by the same function as a pandas chunk; the output is a Parquet
    folder, written whole. Without an ID column, rows are numbered by their place in the source.

    Raises:
        ConfigError: Spark failed (most often for memory).
        DataSourceError: the source cannot be read, or the output is not `.parquet`.
        DataValidationError: the source breaks the contract; nothing is written.
    """
    started = time.perf_counter()
    if output.suffix.lower() != ".parquet":
        raise DataSourceError(f"{output}: the Spark engine writes Parquet: name it .parquet")
    if not source.exists():
        raise DataSourceError(f"{source}: file not found")
    spark = session(master)
    frame = read(spark, str(source))
    frame = frame.drop(contract.target.name) if contract.target.name in frame.columns else frame
    typed = validate(frame, contract, require_target=False)
    if contract.id_column is None:  # each row's place in the source, counted from 0
        numbered = typed.rdd.zipWithIndex().map(lambda pair: (*pair[0], pair[1]))
        typed = numbered.toDF([*typed.columns, ROW_COLUMN])

    def scored(rows: pd.DataFrame) -> pd.DataFrame:
        if contract.id_column is None:
            rows = rows.set_index(ROW_COLUMN, drop=True)
        answers = score(model, contract, rows{% if cookiecutter.task == "classification" %}, threshold{% endif %})
        return answers.assign(model_version=model_version)

    # The output's Spark schema is what the pandas path writes for the first row.
    schema = spark.createDataFrame(scored(typed.limit(1).toPandas())).schema
    predictions = typed.mapInPandas(lambda batches: map(scored, batches), schema)
    write_parquet(predictions, output)
    rows = spark.read.parquet(str(output.absolute())).count()
    parts = predictions.rdd.getNumPartitions()
    return PredictionSummary(output, rows, parts, time.perf_counter() - started)


def predict_with_champion(
    config: ProjectConfig, settings: Settings, source: Path, output: Path, explain: bool
) -> PredictionSummary:
    """`predict --engine spark`: score a file with the registry's champion, on Spark.

    Raises:
        ConfigError: asked to explain, no champion yet, no contract, or Spark failed.
    """
    if explain:
        raise ConfigError("--explain works with the pandas engine only: drop --engine spark")
    model, _, version = load_champion(settings)
    return predict_file(
        model,
        load_contract(config.data.contract),
        source,
        output,
        model_version=version,
        master=settings.spark_master,
{%- if cookiecutter.task == "classification" %}
        threshold=tracking.decision_threshold(settings.model_name, version),
{%- endif %}
    )
