"""Check a Spark DataFrame against the contract, with the pandas path's rules and lines.

Each partition is typed by the same `to_type` as the pandas path (through Arrow), so text
spells a date, a boolean or a category the same way in both. Then one pass over the data counts
every rule's failures, and the lines are those of `data/validation.py`, word for word.

pandera's PySpark backend would be the natural tool, but it imports `pyspark.pandas`, which does
not import with pandas 3; and it reports which checks failed, not how many rows.
"""

from collections.abc import Iterator

import pandas as pd
from pyspark import StorageLevel
from pyspark.sql import Column as SparkColumn
from pyspark.sql import DataFrame
from pyspark.sql import functions as F  # noqa: N812 - Spark's own convention

from {{ cookiecutter.package_name }}.data.contract import Column, DataContract, to_type
from {{ cookiecutter.package_name }}.data.validation import (
    NO_ROWS,
    NOT_UNIQUE,
    Rule,
    column_problems,
    failure,
    id_columns,
    no_value,
    not_of_type,
    required,
    rules,
)
from {{ cookiecutter.package_name }}.errors import DataValidationError

#: The Spark type of each contract type, once typed (datetimes carry no time zone, as in pandas).
SPARK_TYPES = {
    "numeric": "double",
    "categorical": "string",
    "boolean": "boolean",
    "datetime": "timestamp_ntz",
}


def validate(frame: DataFrame, contract: DataContract, *, require_target: bool = True) -> DataFrame:
    """Return the data typed as the contract says, or raise with every problem (as pandas does).

    Raises:
        DataValidationError: one or more problems, each one line.
    """
    problems = column_problems(frame.columns, contract, require_target=require_target)
    ids = [name for name in id_columns(contract) if name in frame.columns]
    present = [column for column in contract.columns if column.name in frame.columns]
    names = [*ids, *(column.name for column in present)]
    # Typed once and kept on local disk (the JVM's heap is small): every count below and the
    # caller's writing read it, rather than the source again.
    typed = _typed(frame, ids, present).persist(StorageLevel.DISK_ONLY)
    counts = typed.agg(*_counts(contract, ids, present)).first()
    assert counts is not None  # noqa: S101 - an aggregate always has one row
    if counts["rows"] == 0:
        raise DataValidationError([NO_ROWS])
    for index, column in enumerate(present):
        if failed := counts[f"failed_{index}"]:
            problems.append(not_of_type(column, failed, counts[f"example_{index}"]))
    for name in required(contract, names):
        if empty := counts[f"empty_{names.index(name)}"]:
            problems.append(no_value(name, empty))
    for name, checks in rules(contract).items():
        if name not in names:
            continue
        at = names.index(name)
        for index, rule in enumerate(checks):
            count, example = counts[f"rule_{at}_{index}"], counts[f"example_{at}_{index}"]
            if rule.kind == "varies":  # 2 where values differ, else 1: no count to show
                count, example = (counts["rows"] if count <= 1 else 0), None
            if count:
                problems.append(failure(name, rule.message, count, counts["rows"], example))
        if name in ids:
            problems += _unique(typed, name)
    if problems:
        raise DataValidationError(problems)
    return typed.select(*(F.col(f"`{name}`") for name in names))


def _typed(frame: DataFrame, ids: list[str], present: list[Column]) -> DataFrame:
    """Each column typed by `to_type`, a partition at a time, beside what failed to convert.

    `raw_<i>` holds, as text, each value of the i-th column that could not be read as its
    type, and null elsewhere. The ID stays text.
    """
    names = [*ids, *(column.name for column in present)]
    schema = ", ".join(
        [f"`{name}` string" for name in ids]
        + [f"`{column.name}` {SPARK_TYPES[column.type]}" for column in present]
        + [f"raw_{index} string" for index in range(len(present))]
    )

    def convert(batches: Iterator[pd.DataFrame]) -> Iterator[pd.DataFrame]:
        for batch in batches:
            typed = pd.DataFrame({name: batch[name].astype("string") for name in ids})
            failed = {}
            for index, column in enumerate(present):
                raw = batch[column.name]
                typed[column.name] = to_type(raw, column.type)
                failed[f"raw_{index}"] = raw.where(typed[column.name].isna()).astype("string")
            yield pd.concat([typed, pd.DataFrame(failed, index=batch.index)], axis=1)

    return frame.select(*(F.col(f"`{name}`") for name in names)).mapInPandas(convert, schema)


def _counts(contract: DataContract, ids: list[str], present: list[Column]) -> list[SparkColumn]:
    """The aggregates the lines need: failed conversions, empty values, each rule's failures."""
    names = [*ids, *(column.name for column in present)]
    counts = [F.count(F.lit(1)).alias("rows")]
    for index in range(len(present)):
        counts.append(F.count(f"raw_{index}").alias(f"failed_{index}"))
        counts.append(F.first(f"raw_{index}", ignorenulls=True).alias(f"example_{index}"))
    for name in required(contract, names):
        # Empty in the source: null once typed, and not because it failed to convert.
        at = names.index(name)
        empty = F.col(f"`{name}`").isNull()
        if at >= len(ids):
            empty &= F.col(f"raw_{at - len(ids)}").isNull()
        counts.append(F.count(F.when(empty, 1)).alias(f"empty_{at}"))
    for name, checks in rules(contract).items():
        if name not in names:
            continue
        at, values = names.index(name), F.col(f"`{name}`")
        for index, rule in enumerate(checks):
            failing = F.when(_failing(rule, values), values)
            # Every rule counts the rows that fail it, but `varies`: it compares the smallest
            # and largest values (no set of distinct values, which a numeric target would fill).
            varies = F.when(F.min(values) < F.max(values), 2).otherwise(1)
            count = varies if rule.kind == "varies" else F.count(failing)
            counts.append(count.alias(f"rule_{at}_{index}"))
            counts.append(F.first(failing, ignorenulls=True).alias(f"example_{at}_{index}"))
    return counts


def _failing(rule: Rule, values: SparkColumn) -> SparkColumn:
    """Where a rule fails on a row, as a Spark condition (an empty value passes)."""
    failing: SparkColumn = F.lit(False)  # `varies` is counted on the whole column
    if rule.kind == "ge":
        failing = values < rule.value
    elif rule.kind == "le":
        failing = values > rule.value
    elif rule.kind == "isin":
        failing = ~values.isin(rule.value)
    elif rule.kind == "length":
        failing = F.length(values) > rule.value
    return failing


def _unique(typed: DataFrame, name: str) -> list[str]:
    """The line for IDs that more than one row shares, or none."""
    shared = typed.groupBy(F.col(f"`{name}`")).count().where("count > 1")
    found = shared.agg(F.sum("count").alias("rows"), F.first(f"`{name}`").alias("example")).first()
    if found is None or not found["rows"]:
        return []
    return [failure(name, NOT_UNIQUE, found["rows"], 0, found["example"])]
