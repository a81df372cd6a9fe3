"""Feature engineering, built from the data contract and fitted as part of the model pipeline.

The fitted preprocessing travels inside the model: training, batch scoring and the API all
call the same pipeline, so features can never be computed two different ways.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Self

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from {{ cookiecutter.package_name }}.data.contract import (
    ColumnType,
    DataContract,
    booleans,
)
from {{ cookiecutter.package_name }}.errors import ConfigError

FeatureFunction = Callable[[pd.DataFrame], pd.Series]


@dataclass(frozen=True)
class CustomFeature:
    """A feature computed from other columns: its name, its type, what it reads, and how."""

    name: str
    type: ColumnType
    inputs: tuple[str, ...]
    function: FeatureFunction


# ============================================================================================
# YOUR FEATURES: add a function that takes the data (with the contract's columns, already
# typed) and returns one new column, list it in CUSTOM_FEATURES with the columns it reads,
# and name it in `features.custom` in configs/project.yaml to use it. It is computed inside
# the model pipeline, for training and serving alike. `data adopt` empties that list, since
# these examples read the sample's columns; a listed feature whose inputs are not in the
# contract stops the pipeline with a message that names it.
# ============================================================================================
{%- if cookiecutter.task == "classification" %}


def average_monthly_spend(frame: pd.DataFrame) -> pd.Series:
    """What a customer has paid per month so far (total charges spread over their tenure)."""
    return frame["total_charges"] / frame["tenure_months"].clip(lower=1)


CUSTOM_FEATURES: list[CustomFeature] = [
    CustomFeature(
        name="average_monthly_spend",
        type="numeric",
        inputs=("total_charges", "tenure_months"),
        function=average_monthly_spend,
    ),
]
{%- else %}


def age_at_sale(frame: pd.DataFrame) -> pd.Series:
    """How old the house was, in years, when it sold."""
    return pd.Series(frame["sold_date"].dt.year - frame["year_built"], index=frame.index)


CUSTOM_FEATURES: list[CustomFeature] = [
    CustomFeature(
        name="age_at_sale",
        type="numeric",
        inputs=("sold_date", "year_built"),
        function=age_at_sale,
    ),
]
{%- endif %}
# ============================================================================================


class StatelessTransformer(BaseEstimator, TransformerMixin):  # type: ignore[misc]
    """A transformer with nothing to learn: `fit` is a no-op and it is always fitted."""

    def fit(self, frame: pd.DataFrame, target: Any = None) -> Self:
        """Nothing to learn."""
        return self

    def __sklearn_is_fitted__(self) -> bool:
        """Always ready, so `check_is_fitted` passes."""
        return True


class ModelInput(StatelessTransformer):
    """Turn whatever arrives (a validated frame, API records, a CSV) into the trained dtypes.

    Numbers and booleans become floats, categories become text with NaN for missing, dates
    become datetimes; unknown columns are dropped.
    """

    def __init__(self, types: dict[str, ColumnType]) -> None:
        """Remember each input column's contract type."""
        self.types = types

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Convert every contract column to its model dtype."""
        converted: dict[str, pd.Series] = {}
        for name, column_type in self.types.items():
            values = frame[name]
            if column_type == "numeric":
                converted[name] = pd.to_numeric(values, errors="coerce").astype("float64")
            elif column_type == "boolean":
                converted[name] = booleans(values).astype("float64")
            elif column_type == "datetime":
                converted[name] = pd.to_datetime(values, errors="coerce", format="ISO8601")
            else:
                text = values.astype("string")
                converted[name] = text.astype("object").where(text.notna(), np.nan)
        return pd.DataFrame(converted, index=frame.index)


class DerivedFeatures(StatelessTransformer):
    """Add the custom features named in `features.custom`, from CUSTOM_FEATURES."""

    def __init__(self, names: tuple[str, ...] = ()) -> None:
        """Remember which custom features to add."""
        self.names = names

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        """Return the data with each named custom feature added."""
        derived = frame.copy()
        for feature in CUSTOM_FEATURES:
            if feature.name in self.names:
                derived[feature.name] = feature.function(frame)
        return derived


class DateParts(BaseEstimator, TransformerMixin):  # type: ignore[misc]
    """Split each date into numbers a model can use: year, month and day of the week."""

    PARTS = ("year", "month", "day_of_week")

    def fit(self, frame: pd.DataFrame, target: Any = None) -> Self:
        """Remember the input columns, to name the outputs."""
        self.columns_ = list(frame.columns)
        return self

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        """One float column per date and part; missing dates stay missing."""
        parts = {
            f"{name}_{part}": getattr(pd.to_datetime(frame[name]).dt, part).astype("float64")
            for name in frame.columns
            for part in self.PARTS
        }
        return pd.DataFrame(parts, index=frame.index)

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """The output column names, for the fitted preprocessor's feature list."""
        return np.array(
            [f"{name}_{part}" for name in self.columns_ for part in self.PARTS], dtype=object
        )


def custom_features(contract: DataContract, names: Sequence[str]) -> list[CustomFeature]:
    """The custom features named in the config, checked against CUSTOM_FEATURES and the contract.

    Raises:
        ConfigError: a name is not in CUSTOM_FEATURES, or a feature reads a column the
            contract lacks.
    """
    known = {feature.name: feature for feature in CUSTOM_FEATURES}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ConfigError(
            f"features.custom names {', '.join(unknown)}, which CUSTOM_FEATURES in features.py "
            f"does not define: choose from {', '.join(known) or 'none (add one first)'}"
        )
    available = set(contract.feature_names)
    for name in names:
        missing = [column for column in known[name].inputs if column not in available]
        if missing:
            raise ConfigError(
                f"custom feature {name!r} reads {', '.join(missing)}, which the contract does not "
                "have: remove it from features.custom in configs/project.yaml, or edit it in "
                "features.py"
            )
    return [known[name] for name in names]


def build_preprocessor(
    contract: DataContract, custom_names: Sequence[str] = ()
) -> ColumnTransformer:
    """Impute and scale numbers, impute and one-hot encode categories, split dates into scaled parts."""
    custom = {feature.name: feature.type for feature in custom_features(contract, custom_names)}

    def columns_of(column_type: ColumnType) -> list[str]:
        return contract.features_of_type(column_type) + [
            n for n, t in custom.items() if t == column_type
        ]

    numeric = Pipeline([("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())])
    boolean = SimpleImputer(strategy="most_frequent")
    categorical = Pipeline(
        [
            ("impute", SimpleImputer(strategy="constant", fill_value="(missing)")),
            ("encode", OneHotEncoder(handle_unknown="ignore", min_frequency=5)),
        ]
    )
    dates = Pipeline(
        [
            ("parts", DateParts()),
            ("impute", SimpleImputer(strategy="median")),
            ("scale", StandardScaler()),
        ]
    )
    parts = [
        ("numeric", numeric, columns_of("numeric")),
        ("boolean", boolean, columns_of("boolean")),
        ("categorical", categorical, columns_of("categorical")),
        ("datetime", dates, columns_of("datetime")),
    ]
    return ColumnTransformer([part for part in parts if part[2]], remainder="drop")


def build_pipeline(contract: DataContract, estimator: Any, custom: Sequence[str] = ()) -> Pipeline:
    """The whole model: input types, custom features, preprocessing, then the estimator.

    Args:
        contract: the columns the model reads, and their types.
        estimator: the untrained model.
        custom: the custom features to add (`features.custom` in the config).

    Raises:
        ConfigError: a custom feature is unknown or reads a column the contract lacks.
    """
    types = {feature.name: feature.type for feature in contract.features}
    return Pipeline(
        [
            ("input", ModelInput(types)),
            ("derive", DerivedFeatures(tuple(custom))),
            ("preprocess", build_preprocessor(contract, custom)),
            ("model", estimator),
        ]
    )
