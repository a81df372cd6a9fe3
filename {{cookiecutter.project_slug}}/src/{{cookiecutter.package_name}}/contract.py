"""The data contract: one YAML file that says what a valid row is.

It drives validation, feature engineering{% if cookiecutter.include_monitoring %}, the API's request schema and drift checks{% else %} and the API's request schema{% endif %}, so
nothing else restates column names, types, ranges or categories by hand.
"""

import re
from pathlib import Path
from typing import Literal, Self

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from {{ cookiecutter.package_name }}.config import read_yaml
from {{ cookiecutter.package_name }}.errors import ConfigError, describe

ColumnType = Literal["numeric", "categorical", "boolean", "datetime"]
Category = str | int | float | bool

# A text column with at most this many distinct values is inferred as categorical with its
# categories listed; above it, categories are left open.
MAX_INFERRED_CATEGORIES = 50
# A text column counts as dates when this share of its values parse as dates (a few typos
# do not make it free text).
DATE_SHARE = 0.95


class Column(BaseModel):
    """One column: its type, what values it may hold, and whether it may be empty."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    type: ColumnType
    description: str = ""
    min: float | None = None
    max: float | None = None
    categories: tuple[Category, ...] | None = None
    # A category that is not listed: `reject` it (validation fails, the API answers 422), or
    # `accept` it, and the model encodes it as unknown.
    unknown_categories: Literal["reject", "accept"] = "reject"
    nullable: bool = False
{%- if cookiecutter.include_monitoring %}
    # Personal or protected data: used by the model, but never written to the prediction log.
    sensitive: bool = False
{%- endif %}

    @model_validator(mode="after")
    def _fits_its_type(self) -> Self:
        if (self.min is not None or self.max is not None) and self.type != "numeric":
            raise ValueError(f"{self.name}: min and max apply to numeric columns only")
        if self.categories is not None and self.type != "categorical":
            raise ValueError(f"{self.name}: categories apply to categorical columns only")
        if self.unknown_categories == "accept" and self.categories is None:
            raise ValueError(f"{self.name}: unknown_categories applies to listed categories only")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"{self.name}: min {self.min} is greater than max {self.max}")
        return self


class DataContract(BaseModel):
    """The ID column, the target, and every feature a model may use."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    id_column: str = Field(min_length=1)
    target: Column
    features: tuple[Column, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _names_are_unique(self) -> Self:
        names = [self.id_column, self.target.name, *(f.name for f in self.features)]
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"column names appear more than once: {', '.join(duplicates)}")
        return self

    @property
    def columns(self) -> tuple[Column, ...]:
        """The target and the features, in contract order."""
        return (self.target, *self.features)

    @property
    def feature_names(self) -> list[str]:
        """The names of the features, in contract order."""
        return [feature.name for feature in self.features]

    def features_of_type(self, column_type: ColumnType) -> list[str]:
        """The names of the features of one type."""
        return [f.name for f in self.features if f.type == column_type]


def load_contract(path: Path) -> DataContract:
    """Read and validate a data contract.

    Args:
        path: the YAML file, usually `configs/contract.yaml`.

    Raises:
        ConfigError: the file is missing, is not YAML, or breaks the contract's schema.
    """
    raw = read_yaml(path, missing="data contract not found: write one with `schema infer`")
    try:
        return DataContract.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(describe(error, source=str(path))) from None


def dump_contract(contract: DataContract, header: str = "") -> str:
    """The contract as YAML, in the same shape `load_contract` reads, under a comment header."""
    data = contract.model_dump(mode="json", exclude_defaults=True)
    data["target"] = contract.target.model_dump(mode="json", exclude_defaults=True)
    comment = "".join(f"# {line}\n" for line in header.splitlines())
    return comment + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)


def infer_contract(frame: pd.DataFrame, *, name: str, target: str, id_column: str) -> DataContract:
    """Write a first contract from a data set, for a person to review and tighten.

    Numeric columns get `min: 0` where no value is negative (no other bounds: the data seen so
    far is not the range of all data to come); low-cardinality text columns list their
    categories; text that parses as dates becomes a datetime column.

    Args:
        frame: the data set, as read from its file.
        name: what to call the data set.
        target: the column to predict.
        id_column: the column that identifies a row.

    Raises:
        ConfigError: `target` or `id_column` is not a column of `frame`.
    """
    for role, column in (("target", target), ("id column", id_column)):
        if column not in frame.columns:
            raise ConfigError(
                f"{role} {column!r} is not a column: choose one of {', '.join(map(str, frame.columns))}"
            )
    columns = [
        infer_column(str(column), frame[column]) for column in frame.columns if column != id_column
    ]
    target_column = next(c for c in columns if c.name == target)
    features = tuple(c for c in columns if c.name != target)
    try:
        return DataContract(name=name, id_column=id_column, target=target_column, features=features)
    except ValidationError as error:
        raise ConfigError(describe(error, source="inferred contract")) from None


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
    if pd.api.types.is_datetime64_any_dtype(present) or _looks_like_dates(present):
        return Column(name=name, type="datetime", nullable=nullable)
    distinct = sorted(present.astype(str).unique())
    categories = tuple(distinct) if len(distinct) <= MAX_INFERRED_CATEGORIES else None
    return Column(name=name, type="categorical", categories=categories, nullable=nullable)


def _looks_like_dates(values: pd.Series) -> bool:
    """Whether nearly every value of a text column parses as an ISO-like date."""
    if not len(values):
        return False
    parsed = pd.to_datetime(values.astype(str), errors="coerce", format="ISO8601")
    return bool(parsed.notna().mean() >= DATE_SHARE)
