"""Split processed data into train, validation and test sets, the same way every time."""

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.model_selection import train_test_split

from {{ cookiecutter.package_name }}.config import SplitConfig
from {{ cookiecutter.package_name }}.data.contract import DataContract
from {{ cookiecutter.package_name }}.errors import ConfigError

#: The artifact of a training run that lists the fingerprints of the rows it trained on.
SEEN_ROWS = "seen_rows.npy"


@dataclass(frozen=True)
class Splits:
    """Three disjoint parts of one data set."""

    train: pd.DataFrame
    validation: pd.DataFrame
    test: pd.DataFrame


def split(frame: pd.DataFrame, contract: DataContract, config: SplitConfig, *, seed: int) -> Splits:
    """Split by time when the config names a time column; otherwise at random, seeded.
{%- if cookiecutter.task == "classification" %}

    A random split is stratified by the target, so that each part keeps the class balance.
{%- endif %}

    Raises:
        ConfigError: the time column is not a datetime column of the contract, or there are
            too few rows{% if cookiecutter.task == "classification" %} of a class{% endif %} to fill every part.
    """
    check_splittable(frame, contract, config)
    if (column := config.time_column) is not None:  # the oldest rows train, the newest test
        dates = contract.features_of_type("datetime")
        if column not in dates:
            raise ConfigError(
                f"split.time_column {column!r} is not a datetime feature of the contract: "
                f"choose one of {dates or 'none (add one to the contract)'}"
            )
        ordered = frame.sort_values(column, kind="stable")
        test_start = round(len(ordered) * (1 - config.test_size))
        validation_start = round(len(ordered) * (1 - config.test_size - config.validation_size))
        return Splits(
            train=ordered.iloc[:validation_start],
            validation=ordered.iloc[validation_start:test_start],
            test=ordered.iloc[test_start:],
        )
    holdout = config.validation_size + config.test_size
{%- if cookiecutter.task == "classification" %}
    target = contract.target.name
    train, rest = train_test_split(
        frame, test_size=holdout, random_state=seed, stratify=frame[target]
    )
    validation, test = train_test_split(
        rest, test_size=config.test_size / holdout, random_state=seed, stratify=rest[target]
    )
{%- else %}
    train, rest = train_test_split(frame, test_size=holdout, random_state=seed)
    validation, test = train_test_split(
        rest, test_size=config.test_size / holdout, random_state=seed
    )
{%- endif %}
    return Splits(train=train, validation=validation, test=test)


def check_splittable(frame: pd.DataFrame, contract: DataContract, config: SplitConfig) -> None:
    """Refuse data too small to give each part a few rows{% if cookiecutter.task == "classification" %} of every class{% endif %}, in one line.

    Raises:
        ConfigError: too few rows{% if cookiecutter.task == "classification" %}, or a class with too few rows{% endif %}.
    """
{%- if cookiecutter.task == "classification" %}
    check_sizes(len(frame), frame[contract.target.name].value_counts(), config)
{%- else %}
    check_sizes(len(frame), None, config)
{%- endif %}


def check_sizes(rows: int, classes: "pd.Series[int] | None", config: SplitConfig) -> None:
    """`check_splittable` on counts alone: the rows, and the rows of each class (classification).

    Raises:
        ConfigError: too few rows{% if cookiecutter.task == "classification" %}, or a class with too few rows{% endif %}.
    """
    # Enough rows that the smallest part should get at least two of each.
    needed = math.ceil(2 / min(config.validation_size, config.test_size))
{%- if cookiecutter.task == "classification" %}
    if classes is not None and len(rare := classes[classes < needed]):
        listed = ", ".join(f"{label!r} ({count})" for label, count in rare.items())
        raise ConfigError(
            f"too few rows of some classes to split into train, validation and test sets: "
            f"{listed}; each class needs at least {needed} rows: add rows or drop those classes"
        )
{%- else %}
    if rows < 5 * needed:
        raise ConfigError(
            f"{rows:,} rows are too few to split into train, validation and test sets: "
            f"add rows (at least {5 * needed})"
        )
{%- endif %}


def row_keys(frame: pd.DataFrame, contract: DataContract) -> npt.NDArray[np.uint64]:
    """One 64-bit fingerprint per row, from its features and target: equal rows, equal keys.

    They tell which of today's test rows a model trained on, whatever split or data set it
    came from, without keeping a copy of the data.
    """
    columns = [*contract.feature_names, contract.target.name]
    hashed = pd.util.hash_pandas_object(frame[columns], index=False)
    return np.asarray(hashed, dtype=np.uint64)
