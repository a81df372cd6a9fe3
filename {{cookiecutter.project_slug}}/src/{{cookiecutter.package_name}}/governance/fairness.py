"""A fairness audit: the model's test metrics for each group of each protected column.

A column is protected when the contract marks it `protected: true` (age, sex, a disability...).
Fairlearn's `MetricFrame` scores every group; the gap of a metric is its largest minus its smallest
value over the groups with enough test rows to mean something. `promote` can refuse a model whose
gap is too large (`promote.max_fairness_gap`).
"""

from dataclasses import dataclass
{%- if cookiecutter.task == "classification" %}
from functools import partial
{%- endif %}
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
{%- if cookiecutter.task == "classification" %}
from sklearn.metrics import accuracy_score, f1_score
{%- else %}
from sklearn.metrics import mean_absolute_error
{%- endif %}

from {{ cookiecutter.package_name }}.data.contract import DataContract

# A group needs this many test rows for its metrics to count in a gap (it is listed either way).
MIN_GROUP_ROWS = 30
# A numeric protected column (an age) is cut into this many groups of equal size.
NUMERIC_GROUPS = 4
{%- if cookiecutter.task == "classification" %}
#: The metrics audited for a two-class model, and for a model of more classes.
BINARY_METRICS = ("selection_rate", "true_positive_rate", "false_positive_rate", "accuracy")
MULTICLASS_METRICS = ("accuracy", "f1_macro")
{%- else %}
#: The metrics audited: absolute error, signed error (predicted minus true), and the prediction.
REGRESSION_METRICS = ("mae", "mean_error", "mean_prediction")
{%- endif %}


@dataclass(frozen=True)
class FairnessAudit:
    """Each protected column's groups, scored, and each metric's largest gap between groups.

    Attributes:
        by_group: column, group, rows, then one column per metric.
        gaps: column, metric, gap: over the groups with at least MIN_GROUP_ROWS rows (NaN with
            fewer than two such groups).
    """

    by_group: pd.DataFrame
    gaps: pd.DataFrame

    def largest_gap(self, metric: str) -> tuple[float, str]:
        """The largest gap of one metric over the protected columns, and its column."""
        gaps = self.gaps[self.gaps["metric"] == metric].dropna(subset=["gap"])
        if gaps.empty:
            return float("nan"), ""
        worst = gaps.sort_values("gap").iloc[-1]
        return float(worst["gap"]), str(worst["column"])


def audit(
    truth: Any, predicted: Any, rows: pd.DataFrame, contract: DataContract
) -> FairnessAudit | None:
    """Score the model's predictions for each group of each protected column (None: none is)."""
    from fairlearn.metrics import MetricFrame, count  # training only: the service never does

    protected = [column for column in contract.features if column.protected]
    if not protected:
        return None
    scores, gaps = [], []
    for column in protected:
        frame = MetricFrame(
            metrics=_metrics(contract) | {"rows": count},
{%- if cookiecutter.task == "classification" %}
            y_true=np.asarray(truth).astype(str),  # labels compare as text, as the contract's do
            y_pred=np.asarray(predicted).astype(str),
{%- else %}
            y_true=np.asarray(truth, dtype="float64"),
            y_pred=np.asarray(predicted, dtype="float64"),
{%- endif %}
            sensitive_features=_groups(rows[column.name], column.type).to_numpy(),
        )
        table = frame.by_group.reset_index(names="group").assign(column=column.name)
        scores.append(table)
        enough = table[table["rows"] >= MIN_GROUP_ROWS]
        for metric in _metrics(contract):
            values = enough[metric].astype("float64").dropna()
            gap = values.max() - values.min() if len(values) >= 2 else float("nan")
            gaps.append({"column": column.name, "metric": metric, "gap": gap})
    by_group = pd.concat(scores, ignore_index=True)
    by_group = by_group[["column", "group", "rows", *_metrics(contract)]]
    by_group["rows"] = by_group["rows"].astype(int)
    return FairnessAudit(by_group, pd.DataFrame(gaps, columns=["column", "metric", "gap"]))


def _metrics(contract: DataContract) -> dict[str, Any]:
    """The audited metrics of this task, as functions of (true, predicted)."""
{%- if cookiecutter.task == "classification" %}
    from fairlearn.metrics import false_positive_rate, selection_rate, true_positive_rate

    if contract.positive_class is None:
        macro = partial(f1_score, average="macro", zero_division=0)
        return {"accuracy": accuracy_score, "f1_macro": macro}
    positive = str(contract.positive_class)
    return {
        "selection_rate": partial(selection_rate, pos_label=positive),
        "true_positive_rate": partial(true_positive_rate, pos_label=positive),
        "false_positive_rate": partial(false_positive_rate, pos_label=positive),
        "accuracy": accuracy_score,
    }
{%- else %}
    del contract
    return {
        "mae": mean_absolute_error,
        "mean_error": lambda truth, predicted: float(np.mean(predicted - truth)),
        "mean_prediction": lambda _, predicted: float(np.mean(predicted)),
    }
{%- endif %}


def _groups(values: pd.Series, column_type: str) -> pd.Series:
    """Each row's group as text: its value, or its quantile range for a numeric column."""
    if column_type == "numeric":
        values = pd.qcut(values.astype("float64"), NUMERIC_GROUPS, duplicates="drop")
    return values.astype("string").fillna("(missing)")


def fairness_figure(audit: FairnessAudit) -> Figure:
    """A bar per group and metric: the groups of each protected column side by side."""
    figure = Figure(figsize=(6.0, 4.5), layout="constrained")
    axes = figure.add_subplot()
    table = audit.by_group.assign(group=audit.by_group["column"] + " = " + audit.by_group["group"])
    table.drop(columns=["column", "rows"]).set_index("group").iloc[::-1].plot.barh(ax=axes)
    axes.set_title("Fairness audit: metrics by group of each protected column")
    axes.set_xlabel("metric value on the test rows of the group")
    axes.set_ylabel("")
    return figure
