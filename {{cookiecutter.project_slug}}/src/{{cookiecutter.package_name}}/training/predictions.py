"""What a model answers for some rows: one rule for the API, batch scoring and evaluation."""
{% if cookiecutter.task == "classification" %}
from collections.abc import Mapping
{%- endif %}
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from {{ cookiecutter.package_name }}.data.contract import DataContract

Array = npt.NDArray[Any]
{%- if cookiecutter.task == "classification" %}

#: The metric under which a two-class model's training run records its decision threshold.
THRESHOLD_METRIC = "decision_threshold"
#: The threshold of a model that recorded none (trained by an older version of the project).
DEFAULT_THRESHOLD = 0.5


def threshold_of(run_metrics: Mapping[str, float]) -> float:
    """The decision threshold a model was trained with, from its training run's metrics."""
    return float(run_metrics.get(THRESHOLD_METRIC, DEFAULT_THRESHOLD))
{%- endif %}


@dataclass(frozen=True)
class Outputs:
{%- if cookiecutter.task == "classification" %}
    """Each row's predicted class, and its probability of each class (columns in `classes` order)."""

    predictions: Array
    probabilities: Array
    classes: list[Any]


def positive_class(classes: list[Any], contract: DataContract) -> Any:
    """The model's class that a two-class threshold is about: the contract's positive class.

    Compared as text (the model learns labels as text); with none listed, the model's last class.
    """
    wanted = str(contract.positive_class if contract.positive_class is not None else classes[-1])
    return next((c for c in classes if str(c) == wanted), classes[-1])


def predicted_classes(
    probabilities: Array, classes: list[Any], positive: Any, threshold: float
) -> Array:
    """One class per row: by the threshold for two classes, the most probable one otherwise."""
    chosen: npt.NDArray[np.intp]
    if len(classes) == 2:
        index = classes.index(positive)
        chosen = np.where(probabilities[:, index] >= threshold, index, 1 - index)
    else:
        chosen = probabilities.argmax(axis=1)
    return np.asarray(classes, dtype=object)[chosen]


def predict_rows(
    model: Any, features: pd.DataFrame, contract: DataContract, *, threshold: float
) -> Outputs:
    """Score rows of raw features with a fitted pipeline: probabilities once, and their classes.

    `threshold` is the positive-class probability from which a two-class model predicts it.
    """
    probabilities = model.predict_proba(features)
    classes = list(model.classes_)
    positive = positive_class(classes, contract)
    predicted = predicted_classes(probabilities, classes, positive, threshold)
    labels = {str(label): label for label in contract.classes}  # integer labels stay integers
    as_listed = [labels.get(str(value), value) for value in predicted]
    return Outputs(np.asarray(as_listed, dtype=object), probabilities, classes)
{%- else %}
    """Each row's predicted value."""

    predictions: Array


def predict_rows(model: Any, features: pd.DataFrame, contract: DataContract) -> Outputs:
    """Score rows of raw features (`contract` is unused: one call shape for both tasks)."""
    del contract
    return Outputs(np.asarray(model.predict(features), dtype="float64"))
{%- endif %}
