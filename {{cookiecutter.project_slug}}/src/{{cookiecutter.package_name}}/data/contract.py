"""The data contract: one YAML file that says what a valid row is.

It drives validation, feature engineering{% if cookiecutter.include_monitoring %}, the API's request schema and drift checks{% else %} and the API's request schema{% endif %}, so
nothing else restates column names, types, ranges or categories by hand.
"""

import math
from datetime import date
from pathlib import Path
from typing import Any, Literal, Self

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from {{ cookiecutter.package_name }}.config import read_yaml
from {{ cookiecutter.package_name }}.errors import ConfigError, describe

ColumnType = Literal["numeric", "categorical", "boolean", "datetime"]
Category = str | int | float | bool

#: What the project learns: chosen when it was baked, and what its models and metrics are for.
TASK = "{{ cookiecutter.task }}"
#: How text spells true and false, wherever a boolean column is read.
BOOLEAN_WORDS = {"true": True, "false": False, "1": True, "0": False, "yes": True, "no": False}


def plain(value: object) -> Any:
    """`value` as JSON holds it, for answers, logs and messages: missing is None, dates ISO text."""
    if isinstance(value, np.generic):
        value = value.item()
    if value is pd.NA or value is pd.NaT or (isinstance(value, float) and not math.isfinite(value)):
        return None
    return value.isoformat() if isinstance(value, date) else value


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
    # Categorical only: the longest value accepted, in characters; the contract's
    # max_string_length when unset.
    max_length: int | None = Field(default=None, ge=1)
    # A two-class target only: the class that precision, recall and the threshold are about.
    positive: Category | None = None
    # A protected characteristic (age, sex, a disability...): the model is used as it is, and
    # `evaluate` audits how its metrics differ between the column's groups.
    protected: bool = False
{%- if cookiecutter.include_monitoring %}
    # Personal or protected data: used by the model, never logged nor stored with a model.
    sensitive: bool = False
{%- endif %}

    @model_validator(mode="after")
    def _fits_its_type(self) -> Self:
        if (self.min is not None or self.max is not None) and self.type != "numeric":
            raise ValueError(f"{self.name}: min and max apply to numeric columns only")
        if self.categories is not None and self.type != "categorical":
            raise ValueError(f"{self.name}: categories apply to categorical columns only")
        if self.max_length is not None and self.type != "categorical":
            raise ValueError(f"{self.name}: max_length applies to categorical columns only")
        if self.unknown_categories == "accept" and self.categories is None:
            raise ValueError(f"{self.name}: unknown_categories applies to listed categories only")
        if self.positive is not None and str(self.positive) not in map(str, self.categories or ()):
            raise ValueError(f"{self.name}: positive must be one of the listed categories")
        if self.protected and self.type == "datetime":
            raise ValueError(
                f"{self.name}: protected applies to numeric, categorical or boolean columns"
            )
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"{self.name}: min {self.min} is greater than max {self.max}")
        return self


class DataContract(BaseModel):
    """The ID column (if the data has one), the target, and every feature a model may use."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1, pattern=r"^[A-Za-z_][A-Za-z0-9_]*$")
    id_column: str | None = Field(default=None, min_length=1)
    target: Column
    features: tuple[Column, ...] = Field(min_length=1)
    # The longest text value (a category, an ID) accepted, in characters, unless a column sets
    # its own max_length: a longer one is refused by validation and by the API.
    max_string_length: int = Field(default=1000, ge=1)

    @model_validator(mode="after")
    def _names_are_unique(self) -> Self:
        names = [c.name for c in self.columns] + ([self.id_column] if self.id_column else [])
        duplicates = sorted({name for name in names if names.count(name) > 1})
        if duplicates:
            raise ValueError(f"column names appear more than once: {', '.join(duplicates)}")
        if self.target.protected:
            raise ValueError(f"{self.target.name}: the target cannot be protected, only a feature")
        return self

    @property
    def columns(self) -> tuple[Column, ...]:
        """The target and the features, in contract order."""
        return (self.target, *self.features)

    @property
    def feature_names(self) -> list[str]:
        """The names of the features, in contract order."""
        return [feature.name for feature in self.features]

    def max_length_of(self, column: Column) -> int:
        """The longest text value `column` accepts: its own max_length, else the contract's."""
        return column.max_length or self.max_string_length

    def features_of_type(self, column_type: ColumnType) -> list[str]:
        """The names of the features of one type."""
        return [f.name for f in self.features if f.type == column_type]

    @property
    def classes(self) -> list[Category]:
        """The target's classes as the contract lists them (none for a numeric target)."""
        return list(self.target.categories or ())

    @property
    def positive_class(self) -> Category | None:
        """A two-class target's positive class: as the contract says, else the last one listed."""
        if len(self.classes) != 2:
            return None
        return self.target.positive if self.target.positive is not None else self.classes[-1]


def to_type(values: pd.Series, column_type: ColumnType) -> pd.Series:
    """`values` as the contract's type: what cannot be converted becomes missing.

    Validation and the model's input step both read raw values through here, so training data
    and a request spell true, a date or a category the same way.
    """
    if column_type == "numeric":
        return pd.to_numeric(values, errors="coerce").astype("float64")
    if column_type == "datetime":
        return pd.to_datetime(values, errors="coerce", format="ISO8601")
    if column_type == "boolean":
        if pd.api.types.is_bool_dtype(values):
            return values.astype("boolean")
        words = values.astype("string").str.strip().str.lower()
        return words.map(BOOLEAN_WORDS, na_action="ignore").astype("boolean")
    # Categories compare as text; whole numbers read as floats (1.0) compare as 1.
    if pd.api.types.is_float_dtype(values) and (values.dropna() % 1 == 0).all():
        values = values.astype("Int64")
    return values.astype("string")


def check_task(contract: DataContract, task: str) -> None:
    """Refuse a target the task cannot learn, in one line that says what to change.

    Raises:
        ConfigError: the target does not fit the task.
    """
    target = contract.target
    if task == "classification" and (target.type != "categorical" or len(contract.classes) < 2):
        raise ConfigError(
            f"target {target.name!r} must be categorical with two or more categories listed for "
            f"classification: set its type and categories in the contract, or adopt the data again"
        )
    if task == "regression" and target.type != "numeric":
        raise ConfigError(
            f"target {target.name!r} must be numeric for regression: set its type in the contract, "
            "or bake a classification project for labels"
        )


def load_contract(path: Path) -> DataContract:
    """Read and validate a data contract, usually `configs/contract.yaml`.

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
    comment = "".join(f"# {line}\n" for line in header.splitlines())
    return comment + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)
