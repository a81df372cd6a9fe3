"""A first data contract, inferred from a table for a person to review (`data adopt`, `schema infer`)."""

import re
from pathlib import Path

import pandas as pd
from pydantic import ValidationError

from {{ cookiecutter.package_name }}.data.contract import (
    TASK,
    Category,
    Column,
    DataContract,
)
from {{ cookiecutter.package_name }}.errors import ConfigError, describe

# A text column with at most this many distinct values is inferred as categorical with its
# categories listed; above it, categories are left open.
MAX_INFERRED_CATEGORIES = 50
# A text column counts as dates when this share of its values parse as dates (a few typos
# do not make it free text).
DATE_SHARE = 0.95


def infer_contract(
    frame: pd.DataFrame,
    name: str,
    target: str,
    *,
    task: str = TASK,
    id_column: str | None = None,
    positive: str | None = None,
) -> DataContract:
    """Write a first contract from a data set, for a person to review and tighten.

    No bounds but `min: 0` where nothing is negative: the data seen so far is not the range of
    all data to come. A classification target lists its labels (integers stay integers) and,
    with two, names its positive class: `positive`, else a "yes"-like label, else the rarer.

    Raises:
        ConfigError: a column is missing, the id is not unique, or the target misfits the task.
    """
    for role, column in (("target", target), ("id column", id_column)):
        if column is not None and column not in frame.columns:
            raise ConfigError(
                f"{role} {column!r} is not a column: choose one of {', '.join(map(str, frame.columns))}"
            )
    if id_column is not None:
        ids = frame[id_column]
        repeated = ids[ids.duplicated(keep=False) & ids.notna()]
        if len(repeated) or ids.isna().any():
            example = f" (e.g. {_label(repeated.iloc[0])!r})" if len(repeated) else ""
            raise ConfigError(
                f"id column {id_column!r} does not identify each row: {len(repeated):,} repeated "
                f"and {ids.isna().sum():,} empty values{example}; choose another column, or "
                "leave the id out"
            )
    target_column = _infer_target(frame[target], task, positive)
    features = tuple(
        infer_column(str(name), frame[name])
        for name in frame.columns
        if name not in (target, id_column)
    )
    if not features:
        raise ConfigError(f"the data has no column besides {target!r} to learn from")
    try:
        return DataContract(name=name, id_column=id_column, target=target_column, features=features)
    except ValidationError as error:
        raise ConfigError(describe(error, source="inferred contract")) from None


def _infer_target(values: pd.Series, task: str, positive: str | None) -> Column:
    """The target's contract: its labels for classification, a number for regression."""
    name = str(values.name)
    if values.isna().any():
        raise ConfigError(
            f"target {name!r} is empty in {int(values.isna().sum()):,} rows: drop those rows "
            "(nothing can be learned from them) and try again"
        )
    if task == "regression":
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            raise ConfigError(
                f"target {name!r} is not numeric (e.g. {values.iloc[0]!r}): a regression "
                "target is a number; bake a classification project to predict labels"
            )
        return Column(name=name, type="numeric", min=0.0 if values.min() >= 0 else None)
    labels = sorted({_label(value) for value in values}, key=str)
    if len(labels) > MAX_INFERRED_CATEGORIES or len(labels) < 2:
        raise ConfigError(
            f"target {name!r} has {len(labels):,} distinct values: a classification target "
            f"needs 2 to {MAX_INFERRED_CATEGORIES} labels; for a number, bake a regression project"
        )
    chosen = None
    if len(labels) == 2:
        chosen = _positive_label(values.map(_label), labels, positive)
    elif positive is not None:
        raise ConfigError("--positive applies to a target with two classes only")
    return Column(name=name, type="categorical", categories=tuple(labels), positive=chosen)


#: Labels that name the "yes" side of a two-class target.
POSITIVE_WORDS = frozenset({"1", "true", "yes", "y", "positive", "pos"})


def _positive_label(values: pd.Series, labels: list[Category], wanted: str | None) -> Category:
    """A two-class target's positive class: the one asked for, a "yes"-like label, or the rarer."""
    if wanted is not None:
        match = [label for label in labels if str(label) == wanted]
        if not match:
            raise ConfigError(f"--positive {wanted!r} is not a label: choose one of {labels}")
        return match[0]
    yes_like = [label for label in labels if str(label).strip().lower() in POSITIVE_WORDS]
    if len(yes_like) == 1:
        return yes_like[0]
    counts = values.value_counts()
    return min(labels, key=lambda label: (counts.get(label, 0), -labels.index(label)))


def _label(value: object) -> Category:
    """A label as the contract lists it: whole numbers as integers, text as text."""
    item = getattr(value, "item", None)
    value = item() if callable(item) else value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value if isinstance(value, str | int | float | bool) else str(value)


def name_for(location: str) -> str:
    """A data set name from a file name or URL: `data/raw/My Sales-2024.csv` gives `my_sales_2024`."""
    stem = Path(location.split("?")[0]).stem.lower()
    name = re.sub(r"[^a-z0-9_]+", "_", stem).strip("_") or "data"
    return name if name[0].isalpha() else f"data_{name}"


def infer_column(name: str, values: pd.Series) -> Column:
    """Infer one column's contract from its values."""
    present = values.dropna()
    nullable = bool(values.isna().any())
    as_text = set(present.astype(str).str.lower())
    # true/false text, or whole numbers that are exactly 0 and 1 (SQLite stores flags so).
    if pd.api.types.is_bool_dtype(present) or as_text in ({"true", "false"}, {"0", "1"}):
        return Column(name=name, type="boolean", nullable=nullable)
    if pd.api.types.is_numeric_dtype(present):
        minimum = 0.0 if len(present) and float(present.min()) >= 0 else None
        return Column(name=name, type="numeric", min=minimum, nullable=nullable)
    dates = pd.to_datetime(present.astype(str), errors="coerce", format="ISO8601")
    if pd.api.types.is_datetime64_any_dtype(present) or dates.notna().mean() >= DATE_SHARE:
        return Column(name=name, type="datetime", nullable=nullable)
    distinct = sorted(present.astype(str).unique())
    categories = tuple(distinct) if len(distinct) <= MAX_INFERRED_CATEGORIES else None
    return Column(name=name, type="categorical", categories=categories, nullable=nullable)
