"""Feature engineering, built from the data contract and fitted as part of the model pipeline.

The fitted preprocessing travels inside the model: training, batch scoring and the API all
call the same pipeline, so features can never be computed two different ways.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Self

import numpy as np
import pandas as pd
from pandas.api.types import is_datetime64_any_dtype
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import FunctionTransformer, OneHotEncoder, StandardScaler

from {{ cookiecutter.package_name }}.data.contract import ColumnType, DataContract, to_type
from {{ cookiecutter.package_name }}.errors import ConfigError

#: What a model reads of a date: these parts, as numbers.
DATE_PARTS = ("year", "month", "day_of_week")
#: One-hot columns per category feature, at most: its most frequent values, then one for the rest
#: (and for values seen fewer than 5 times). A column of 100,000 ids would otherwise add 100,000
#: dense columns to every row.
MAX_CATEGORIES = 50


@dataclass(frozen=True)
class CustomFeature:
    """A feature computed from other columns: its name, its type, what it reads, and how."""

    name: str
    type: ColumnType
    inputs: tuple[str, ...]
    function: Callable[[pd.DataFrame], pd.Series]


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


class ModelInput(BaseEstimator, TransformerMixin):  # type: ignore[misc]
    """Turn whatever arrives (a validated frame, API records, a CSV) into the model's input.

    Each column is read as validation reads it (`to_type`); then booleans become floats and
    categories objects with NaN for missing, as scikit-learn expects. The custom
    features named in `features.custom` are added, then each date becomes its DATE_PARTS
    (`signup_date_year`, ...); columns the contract lacks are dropped.
    """

    def __init__(self, types: dict[str, ColumnType], custom: tuple[str, ...] = ()) -> None:
        """Remember each input column's contract type, and which custom features to add."""
        self.types = types
        self.custom = custom

    def fit(self, frame: pd.DataFrame, target: Any = None) -> Self:
        """Nothing to learn."""
        return self

    def __sklearn_is_fitted__(self) -> bool:
        """Always ready, so `check_is_fitted` passes."""
        return True

    def transform(self, frame: pd.DataFrame) -> pd.DataFrame:
        """The contract's columns in their model dtypes, then the custom features, then dates.

        Each column is converted once, straight to a NumPy array, and the frame is built once:
        pandas' cost per operation, not the rows, is what one record pays for.
        """
        converted: dict[str, Any] = {}
        for name, column_type in self.types.items():
            values = to_type(frame[name], column_type)
            if column_type == "boolean":
                converted[name] = values.to_numpy(dtype="float64", na_value=np.nan)
            elif column_type == "categorical":  # objects: pandas would make bare strings str
                objects = values.to_numpy(dtype="object", na_value=np.nan)
                converted[name] = pd.Series(objects, index=frame.index, dtype="object")
            else:
                converted[name] = values
        chosen = [feature for feature in CUSTOM_FEATURES if feature.name in self.custom]
        if chosen:  # they read a frame of the typed columns
            typed = pd.DataFrame(converted, index=frame.index, copy=False)
            converted |= {feature.name: feature.function(typed) for feature in chosen}
        # Every date, a custom feature's too, becomes its parts.
        dates = [name for name, values in converted.items() if is_datetime64_any_dtype(values)]
        for name in dates:
            parts = converted.pop(name).dt
            for part in DATE_PARTS:
                values = getattr(parts, part)
                converted[f"{name}_{part}"] = values.to_numpy("float64", na_value=np.nan)
        return pd.DataFrame(converted, index=frame.index, copy=False)


def custom_features(contract: DataContract, names: Sequence[str]) -> list[CustomFeature]:
    """The custom features named in the config, checked against CUSTOM_FEATURES and the contract.

    Raises:
        ConfigError: a name is unknown, or a feature reads a column the contract lacks.
    """
    known = {feature.name: feature for feature in CUSTOM_FEATURES}
    unknown = [name for name in names if name not in known]
    if unknown:
        raise ConfigError(
            f"features.custom names {', '.join(unknown)}, which CUSTOM_FEATURES in features.py "
            f"does not define: choose from {', '.join(known) or 'none (add one first)'}"
        )
    for name in names:
        missing = [column for column in known[name].inputs if column not in contract.feature_names]
        if missing:
            raise ConfigError(
                f"custom feature {name!r} reads {', '.join(missing)}, which the contract does not "
                "have: remove it from features.custom in configs/project.yaml, or edit it in "
                "features.py"
            )
    return [known[name] for name in names]


def build_pipeline(contract: DataContract, estimator: Any, custom: Sequence[str] = ()) -> Pipeline:
    """The whole model: input types, custom features (`features.custom`), preprocessing, estimator.

    Numbers (booleans as 0 and 1, the parts of dates) are imputed with their median and
    scaled; categories are one-hot encoded (MAX_CATEGORIES columns at most), a missing one as a
    category of its own.

    Raises:
        ConfigError: a custom feature is unknown or reads a column the contract lacks.
    """
    types = {feature.name: feature.type for feature in contract.features}
    types |= {feature.name: feature.type for feature in custom_features(contract, custom)}
    numbers = [name for name, kind in types.items() if kind in ("numeric", "boolean")]
    dates = [name for name, kind in types.items() if kind == "datetime"]
    numbers += [f"{name}_{part}" for name in dates for part in DATE_PARTS]
    categories = [name for name, kind in types.items() if kind == "categorical"]
    # Two parts, not one per type, each taking its columns as an array first: what scoring one
    # record costs is scikit-learn's checks of each step's input, a frame's the dearest.
    array = FunctionTransformer(np.asarray, feature_names_out="one-to-one")  # cloned per part
    impute, scale = SimpleImputer(strategy="median"), StandardScaler()
    encode = OneHotEncoder(
        handle_unknown="ignore", min_frequency=5, max_categories=MAX_CATEGORIES, sparse_output=False
    )
    parts = [
        ("numeric", Pipeline([("array", array), ("impute", impute), ("scale", scale)]), numbers),
        ("categorical", Pipeline([("array", array), ("encode", encode)]), categories),
    ]
    preprocess = ColumnTransformer([part for part in parts if part[2]], remainder="drop")
    return Pipeline(
        [
            ("input", ModelInput({f.name: f.type for f in contract.features}, tuple(custom))),
            ("preprocess", preprocess),
            ("model", estimator),
        ]
    )
