"""Judge a model: its metrics (one `score` for every stage), slices, importances and figures."""

import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
{%- if cookiecutter.task == "regression" %}
import numpy.typing as npt
{%- endif %}
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from sklearn import metrics
{%- if cookiecutter.task == "classification" %}
from sklearn.calibration import CalibrationDisplay
{%- endif %}
from sklearn.inspection import permutation_importance

from {{ cookiecutter.package_name }}.data.contract import DataContract
from {{ cookiecutter.package_name }}.governance import explain, fairness
from {{ cookiecutter.package_name }}.training.models import (
    GREATER_IS_BETTER,
    PRIMARY_METRIC,
)
{%- if cookiecutter.task == "classification" %}
from {{ cookiecutter.package_name }}.training.predictions import (
    DEFAULT_THRESHOLD,
    Array,
    positive_class,
    predicted_classes,
)
{%- endif %}

logger = logging.getLogger(__name__)

# A slice (one category of one feature) needs this many test rows to be evaluated at all.
MIN_SLICE_ROWS = 30
# Permutation importance predicts n_repeats times per feature: it runs on at most this many rows.
MAX_IMPORTANCE_ROWS = 2_000
IMPORTANCE_REPEATS = 5
{%- if cookiecutter.task == "classification" %}

SLICE_METRICS: tuple[str, ...] = ("roc_auc", "accuracy")
# roc_auc one-vs-rest: plain ROC AUC for two classes, its macro average for more.
IMPORTANCE_SCORING = "roc_auc_ovr"
{%- else %}

SLICE_METRICS: tuple[str, ...] = ("rmse", "mae")
IMPORTANCE_SCORING = "neg_root_mean_squared_error"
# The predicted-vs-actual and residual plots show at most this many points.
MAX_PLOTTED_ROWS = 2_000
{%- endif %}


@dataclass(frozen=True)
class Evaluation:
    """How good a model is on the test set, where it is weaker, and what it relies on.

    Attributes:
        slices: feature, value, rows and SLICE_METRICS for each category with enough rows.
        warnings: one line per slice whose PRIMARY_METRIC is much worse than the whole's.
        importances: feature, importance_mean, importance_std; most important first.
        per_class: class, rows, precision, recall and f1 of each class (classification only).
        threshold: two classes only: the positive-class probability the model decides at.
        explanation: SHAP values of test rows (see governance.explain); None when skipped.
        audit: the fairness audit over the protected columns; None when none is protected.
    """

    metrics: dict[str, float]
    baseline_metrics: dict[str, float]
    slices: pd.DataFrame
    warnings: list[str]
    importances: pd.DataFrame
    figures: dict[str, Figure]
    per_class: pd.DataFrame
    threshold: float | None = None
    explanation: explain.Explanation | None = None
    audit: fairness.FairnessAudit | None = None


def evaluate(
    model: Any,
    baseline: Any,
    test: pd.DataFrame,
    contract: DataContract,
    *,
    threshold: float = 0.5,
    seed: int = 42,
    slice_tolerance: float = 0.1,
    background: pd.DataFrame | None = None,
) -> Evaluation:
    """Evaluate a fitted pipeline, and a baseline (the dummy model) beside it, on the test rows.

    `slice_tolerance` is how much worse than the whole a slice may score (0.1: 10%, relatively).
    Given `background` rows (the training set), the test rows' SHAP values are computed too.
    """
    overall = score(model, test, contract, threshold=threshold)
    slices = slice_scores(model, test, contract, threshold=threshold)
    importances = feature_importances(model, test, contract, seed=seed)
    figures, per_class, predicted = _task_details(model, test, contract, threshold=threshold)
    explanation = None
    if background is not None:
        try:
            explanation = explain.explain(model, test, background, contract, seed=seed)
        except Exception as error:  # SHAP on any custom model: a failure costs this section only
            logger.warning("no SHAP explanations: %s: %s", type(error).__name__, error)
        else:
            figures["shap_summary"] = explain.summary_figure(explanation)
    audited = fairness.audit(test[contract.target.name], predicted, test, contract)
    if audited is not None:
        figures["fairness"] = fairness.fairness_figure(audited)
    return Evaluation(
        metrics=overall,
        baseline_metrics=score(baseline, test, contract, threshold=threshold),
        slices=slices,
        warnings=slice_warnings(slices, overall[PRIMARY_METRIC], tolerance=slice_tolerance),
        importances=importances,
        figures=figures | {"permutation_importance": _importance_figure(importances)},
{%- if cookiecutter.task == "classification" %}
        per_class=per_class,
        threshold=threshold if len(contract.classes) == 2 else None,
{%- else %}
        per_class=per_class,
{%- endif %}
        explanation=explanation,
        audit=audited,
    )


def format_metric(value: float) -> str:
    """A metric as text, the same way everywhere: `0.861`, `1,234.568`."""
    return f"{value:,.3f}"
{%- if cookiecutter.task == "classification" %}


def score(
    estimator: Any,
    frame: pd.DataFrame,
    contract: DataContract,
    *,
    threshold: float = DEFAULT_THRESHOLD,
) -> dict[str, float]:
    """Every metric of one classifier on some rows: train, tune, evaluate and the gate use it.

    Two classes: precision, recall and f1 are for the positive class at `threshold`. More
    classes: the most probable class is predicted, and every metric is a macro average.
    roc_auc and pr_auc are NaN when the rows lack a class.
    """
    return _scores(*_predict(estimator, frame, contract), threshold=threshold)


def _scores(
    truth: Array, probabilities: Array, classes: list[Any], positive: Any, *, threshold: float
) -> dict[str, float]:
    """`score` of predictions already made (`_predict`)."""
    predicted = predicted_classes(probabilities, classes, positive, threshold)
    binary = len(classes) == 2
    averaging = {"average": "binary", "pos_label": positive} if binary else {"average": "macro"}
    scores = {
        "accuracy": metrics.accuracy_score(truth, predicted),
        "precision": metrics.precision_score(truth, predicted, zero_division=0, **averaging),
        "recall": metrics.recall_score(truth, predicted, zero_division=0, **averaging),
        "f1": metrics.f1_score(truth, predicted, zero_division=0, **averaging),
        "roc_auc": np.nan,
        "pr_auc": np.nan,
        "log_loss": metrics.log_loss(truth, probabilities, labels=classes),
    }
    curves = _one_vs_rest(truth, probabilities, classes, positive)
    if all(0 < is_class.sum() < len(is_class) for _, is_class, _ in curves):
        scores["roc_auc"] = np.mean([metrics.roc_auc_score(t, p) for _, t, p in curves])
        scores["pr_auc"] = np.mean([metrics.average_precision_score(t, p) for _, t, p in curves])
    return {name: float(value) for name, value in scores.items()}


def choose_threshold(estimator: Any, frame: pd.DataFrame, contract: DataContract) -> float:
    """The positive-class probability with the best f1 on some rows (the validation set).

    An imbalanced target needs it: at 0.5 a model may predict the rare class almost never.
    Falls back to DEFAULT_THRESHOLD when the rows hold only one class.
    """
    truth, probabilities, classes, positive = _predict(estimator, frame, contract)
    is_positive = truth == positive
    if is_positive.all() or not is_positive.any():
        return DEFAULT_THRESHOLD
    precision, recall, thresholds = metrics.precision_recall_curve(
        is_positive, probabilities[:, classes.index(positive)]
    )
    f1 = 2 * precision * recall / np.maximum(precision + recall, 1e-12)
    # The last precision/recall pair has no threshold: it is the "predict nothing" end.
    return float(np.clip(thresholds[int(np.argmax(f1[:-1]))], 1e-6, 1 - 1e-6))


def _predict(
    estimator: Any, frame: pd.DataFrame, contract: DataContract
) -> tuple[Array, Array, list[Any], Any]:
    """The true labels, the class probabilities, the model's classes and the positive class."""
    truth = frame[contract.target.name].to_numpy(dtype=object)
    probabilities = estimator.predict_proba(frame[contract.feature_names])
    classes = list(estimator.classes_)
    return truth, probabilities, classes, positive_class(classes, contract)


def _one_vs_rest(
    truth: Array, probabilities: Array, classes: list[Any], positive: Any
) -> list[tuple[str, Array, Array]]:
    """(class, whether each row is of it, its probability): the positive class, or each class."""
    shown = [positive] if len(classes) == 2 else classes
    return [(str(c), truth == c, probabilities[:, classes.index(c)]) for c in shown]


def _task_details(
    model: Any, test: pd.DataFrame, contract: DataContract, *, threshold: float
) -> tuple[dict[str, Figure], pd.DataFrame, Array]:
    """Confusion matrix, ROC, precision-recall and calibration curves; per-class scores; classes."""
    truth, probabilities, classes, positive = _predict(model, test, contract)
    predicted = predicted_classes(probabilities, classes, positive, threshold)
    precision, recall, f1, rows = metrics.precision_recall_fscore_support(
        truth, predicted, labels=classes, zero_division=0
    )
    per_class = {"class": classes, "rows": rows, "precision": precision, "recall": recall, "f1": f1}
    confusion, confusion_axes = _new_figure("Confusion matrix")
    metrics.ConfusionMatrixDisplay.from_predictions(
        truth, predicted, labels=classes, ax=confusion_axes, colorbar=False
    )
    roc, roc_axes = _new_figure("ROC curve")
    precision_recall, precision_recall_axes = _new_figure("Precision-recall curve")
    calibration, calibration_axes = _new_figure("Calibration (reliability) curve")
    for name, is_class, probability in _one_vs_rest(truth, probabilities, classes, positive):
        metrics.RocCurveDisplay.from_predictions(is_class, probability, name=name, ax=roc_axes)
        metrics.PrecisionRecallDisplay.from_predictions(
            is_class, probability, name=name, ax=precision_recall_axes
        )
        CalibrationDisplay.from_predictions(
            is_class, probability, n_bins=10, name=name, ax=calibration_axes
        )
    # sklearn's own axis labels would call the class "1": the legend names it instead.
    roc_axes.set(xlabel="False positive rate", ylabel="True positive rate")
    precision_recall_axes.set(xlabel="Recall", ylabel="Precision")
    calibration_axes.set(xlabel="Mean predicted probability", ylabel="Observed share of the class")
    figures = {
        "confusion_matrix": confusion,
        "roc_curve": roc,
        "precision_recall_curve": precision_recall,
        "calibration_curve": calibration,
    }
    return figures, pd.DataFrame(per_class), predicted
{%- else %}


def score(
    estimator: Any, frame: pd.DataFrame, contract: DataContract, *, threshold: float = 0.5
) -> dict[str, float]:
    """Every metric of one regressor on some rows: train, tune, evaluate and the gate use it.

    `threshold` is for classifiers only. mape is left out when a true value is 0: a percentage of zero is undefined.
    """
    return _scores(*_predict(estimator, frame, contract))


def _scores(truth: npt.NDArray[np.float64], predicted: npt.NDArray[np.float64]) -> dict[str, float]:
    """`score` of predictions already made (`_predict`)."""
    scores = {
        "rmse": metrics.root_mean_squared_error(truth, predicted),
        "mae": metrics.mean_absolute_error(truth, predicted),
        "r2": metrics.r2_score(truth, predicted),
    }
    if (truth != 0).all():
        scores["mape"] = metrics.mean_absolute_percentage_error(truth, predicted)
    return {name: float(value) for name, value in scores.items()}


def _predict(
    estimator: Any, frame: pd.DataFrame, contract: DataContract
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """The true values and the predicted ones."""
    truth = frame[contract.target.name].to_numpy(dtype="float64")
    predicted = np.asarray(estimator.predict(frame[contract.feature_names]), dtype="float64")
    return truth, predicted


def _task_details(
    model: Any, test: pd.DataFrame, contract: DataContract, *, threshold: float
) -> tuple[dict[str, Figure], pd.DataFrame, npt.NDArray[np.float64]]:
    """Predicted-vs-actual and residual plots, no per-class scores, and each row's prediction."""
    truth, predicted = _predict(model, test, contract)
    figures: dict[str, Figure] = {}
    for stem, kind, title in (
        ("predicted_vs_actual", "actual_vs_predicted", "Predicted vs actual"),
        ("residuals", "residual_vs_predicted", "Residuals (actual minus predicted)"),
    ):
        figure, axes = _new_figure(title)
        metrics.PredictionErrorDisplay.from_predictions(
            truth, predicted, kind=kind, subsample=MAX_PLOTTED_ROWS, random_state=0, ax=axes
        )
        figures[stem] = figure
    return figures, pd.DataFrame(), predicted
{%- endif %}


def slice_scores(
    model: Any, test: pd.DataFrame, contract: DataContract, *, threshold: float
) -> pd.DataFrame:
    """SLICE_METRICS for every category of every categorical or boolean feature with enough rows.

    The model predicts the test rows once; each slice is scored on its share of the predictions.
    """
{%- if cookiecutter.task == "classification" %}
    truth, predicted, classes, positive = _predict(model, test, contract)
{%- else %}
    truth, predicted = _predict(model, test, contract)
{%- endif %}
    rows = []
    for feature in contract.features:
        if feature.type not in ("categorical", "boolean"):
            continue
        counts = test[feature.name].value_counts()
        for value, count in counts[counts >= MIN_SLICE_ROWS].items():
            part = test[feature.name].isin([value]).to_numpy()
{%- if cookiecutter.task == "classification" %}
            scores = _scores(truth[part], predicted[part], classes, positive, threshold=threshold)
{%- else %}
            scores = _scores(truth[part], predicted[part])
{%- endif %}
            row = {"feature": feature.name, "value": value, "rows": count}
            rows.append(row | {name: scores[name] for name in SLICE_METRICS})
    return pd.DataFrame(rows, columns=["feature", "value", "rows", *SLICE_METRICS])


def slice_warnings(slices: pd.DataFrame, overall: float, *, tolerance: float) -> list[str]:
    """One line per slice whose PRIMARY_METRIC is worse than `overall` by more than `tolerance`.

    The tolerance is relative (0.1: 10% worse); a slice scored NaN is never flagged.
    """
    value = slices[PRIMARY_METRIC].astype(float)
    if GREATER_IS_BETTER:
        worse = value < overall * (1 - tolerance)
    else:
        worse = value > overall * (1 + tolerance)
    return [
        f"slice {row['feature']}={row['value']} ({row['rows']:,} rows): "
        f"{PRIMARY_METRIC} {format_metric(row[PRIMARY_METRIC])} vs {format_metric(overall)} overall"
        for row in slices[worse].to_dict(orient="records")
    ]


def feature_importances(
    model: Any, test: pd.DataFrame, contract: DataContract, *, seed: int
) -> pd.DataFrame:
    """How much the primary metric worsens when each raw feature is shuffled, largest first."""
    rows = test.sample(n=min(len(test), MAX_IMPORTANCE_ROWS), random_state=seed)
    result = permutation_importance(
        model,
        rows[contract.feature_names],
        rows[contract.target.name],
        scoring=IMPORTANCE_SCORING,
        n_repeats=IMPORTANCE_REPEATS,
        random_state=seed,
    )
    spread = {"importance_mean": result.importances_mean, "importance_std": result.importances_std}
    importances = pd.DataFrame({"feature": contract.feature_names} | spread)
    return importances.sort_values("importance_mean", ascending=False, ignore_index=True)


def _importance_figure(importances: pd.DataFrame) -> Figure:
    """A bar per feature, the most important on top, with one standard deviation."""
    figure, axes = _new_figure("Permutation importance")
    shown = importances.iloc[::-1]
    axes.barh(shown["feature"].astype(str), shown["importance_mean"], xerr=shown["importance_std"])
    axes.set_xlabel(f"how much {PRIMARY_METRIC} worsens when the feature is shuffled")
    return figure


def _new_figure(title: str) -> tuple[Figure, Axes]:
    """One titled plot in a plain `Figure`: it needs no display, and is never left in pyplot."""
    figure = Figure(figsize=(6.0, 4.5), layout="constrained")
    axes = figure.add_subplot()
    axes.set_title(title)
    return figure, axes
