"""Detect drift: compare recent data (such as logged requests) with the data a model learned from.

Each feature of the data contract is tested on its own, after dropping missing values:

- numeric features with the two-sample Kolmogorov-Smirnov test;
- categorical and boolean features with a chi-squared test on the table of counts per
  category, reference against current, over the categories of both (so a new category counts).

A p-value says how surprising a difference is, not how big: on a large window a test flags
changes too small to matter. So each feature also gets its population stability index (PSI),
the size of the change, and the decision rule needs both:

    drifted = p_value < thresholds.p_value AND psi >= thresholds.psi

Datetime features are not tested (their values move forward by design), nor are features
missing from the current data, such as sensitive columns the prediction log never records.
scipy rather than a drift library (Evidently): the rule stays a few lines, with no heavy
dependency.
"""

import base64
import html
import io
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal, Self

import numpy as np
import pandas as pd
from scipy import stats  # type: ignore[import-untyped]

from {{ cookiecutter.package_name }}.config import MonitoringConfig
from {{ cookiecutter.package_name }}.data.contract import Column, DataContract

Kind = Literal["numeric", "categorical"]
Test = Literal["ks", "chi2"]

# The column of predictions in both frames, when the prediction itself is checked.
PREDICTION_COLUMN = "prediction"
# Proportions are floored at this in the PSI, so an empty bin gives a large, finite value.
EPSILON = 1e-4
# Numeric PSI bins: quantiles of the reference (deciles).
PSI_BINS = 10
# Plots: histogram bins, the most common categories drawn, and the figure size in inches.
HISTOGRAM_BINS = 30
MAX_BARS = 15
FIGURE_SIZE = (6.0, 3.5)


@dataclass(frozen=True)
class Thresholds:
    """When a feature counts as drifted, and how many rows a check needs."""

    p_value: float = 0.01
    psi: float = 0.2
    min_rows: int = 100

    @classmethod
    def from_config(cls, monitoring: MonitoringConfig) -> Self:
        """The thresholds of the project config's `monitoring` section."""
        return cls(
            p_value=monitoring.p_value, psi=monitoring.psi_threshold, min_rows=monitoring.min_rows
        )


@dataclass(frozen=True)
class FeatureDrift:
    """The test of one feature (or of the prediction), and its verdict.

    Attributes:
        name: the column tested.
        kind: numeric, or categorical (booleans are tested as categories).
        test: ks (Kolmogorov-Smirnov) or chi2 (chi-squared on the counts per category).
        statistic: the test's statistic.
        p_value: the test's p-value.
        psi: the population stability index of current against reference.
        drifted: whether p_value < the p-value threshold and psi >= the PSI threshold.
        reference_rows: non-null values tested in the reference data.
        current_rows: non-null values tested in the current data.
        reference_summary: a few words on the reference values, such as "mean 42.1".
        current_summary: the same for the current values.
    """

    name: str
    kind: Kind
    test: Test
    statistic: float
    p_value: float
    psi: float
    drifted: bool
    reference_rows: int
    current_rows: int
    reference_summary: str
    current_summary: str


@dataclass(frozen=True)
class DriftReport:
    """Every feature tested, the prediction if it was, and the features not tested with why."""

    features: tuple[FeatureDrift, ...]
    prediction: FeatureDrift | None
    skipped: dict[str, str]
    reference_rows: int
    current_rows: int

    @property
    def drifted_features(self) -> list[str]:
        """The names of the drifted features (the prediction is not a feature)."""
        return [feature.name for feature in self.features if feature.drifted]

    @property
    def drifted(self) -> bool:
        """Whether any feature, or the prediction, drifted."""
        return bool(self.drifted_features) or bool(self.prediction and self.prediction.drifted)

    @property
    def tested(self) -> list[FeatureDrift]:
        """The features tested, then the prediction if it was."""
        return [*self.features, *([self.prediction] if self.prediction else [])]

    def to_dict(self) -> dict[str, Any]:
        """The report as plain JSON values; a number that is not finite becomes None."""
        return {
            "drifted": self.drifted,
            "drifted_features": self.drifted_features,
            "reference_rows": self.reference_rows,
            "current_rows": self.current_rows,
            "features": [_plain(feature) for feature in self.features],
            "prediction": _plain(self.prediction) if self.prediction else None,
            "skipped": dict(self.skipped),
        }


def _plain(feature: FeatureDrift) -> dict[str, Any]:
    """One feature's result as a dict, with NaN and infinity as None (JSON has neither)."""
    return {
        key: None if isinstance(value, float) and not math.isfinite(value) else value
        for key, value in asdict(feature).items()
    }


def population_stability_index(
    reference: pd.Series, current: pd.Series, *, categorical: bool, bins: int = PSI_BINS
) -> float:
    """How far the current distribution moved from the reference: sum of (c - r) * ln(c / r).

    r and c are the shares of reference and current values per bin: per category for
    categorical values (including categories found in only one of them), per quantile bin of
    the reference for numeric ones, the first and last bins open-ended. Shares are floored at
    EPSILON, so an empty bin gives a large, finite value. Rule of thumb: below 0.1 is stable,
    0.1 to 0.2 a moderate change, above 0.2 a large one. Missing values are ignored.

    Args:
        reference: the values the model learned from.
        current: the values to compare with them.
        categorical: whether to count per category rather than per numeric bin.
        bins: numeric only: how many quantile bins (fewer when quantiles repeat).

    Raises:
        ValueError: either series has no values.
    """
    reference, current = reference.dropna(), current.dropna()
    if reference.empty or current.empty:
        raise ValueError("the population stability index needs values on both sides")
    if categorical:
        counts = category_counts(reference, current)
        expected, actual = counts["reference"].to_numpy(), counts["current"].to_numpy()
    else:
        ref, cur = reference.to_numpy(dtype=float), current.to_numpy(dtype=float)
        # Inner edges only: values below the first or above the last fall in the end bins.
        edges = np.unique(np.quantile(ref, np.linspace(0, 1, bins + 1)[1:-1]))
        slots = len(edges) + 1
        expected = np.bincount(np.searchsorted(edges, ref, side="right"), minlength=slots)
        actual = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=slots)
    expected_share = np.maximum(expected / expected.sum(), EPSILON)
    actual_share = np.maximum(actual / actual.sum(), EPSILON)
    return float(np.sum((actual_share - expected_share) * np.log(actual_share / expected_share)))


def category_counts(reference: pd.Series, current: pd.Series) -> pd.DataFrame:
    """Rows per category (as text) in each series: columns reference and current, 0 if absent."""
    counts = pd.DataFrame(
        {
            "reference": reference.dropna().astype(str).value_counts(),
            "current": current.dropna().astype(str).value_counts(),
        }
    )
    return counts.fillna(0).astype(int)


def numeric_drift(
    name: str, reference: pd.Series, current: pd.Series, thresholds: Thresholds
) -> FeatureDrift:
    """Test a numeric column: two-sample Kolmogorov-Smirnov test and PSI, nulls dropped."""
    result = stats.ks_2samp(
        reference.dropna().to_numpy(dtype=float), current.dropna().to_numpy(dtype=float)
    )
    return _verdict(name, "ks", result, reference, current, thresholds)


def categorical_drift(
    name: str, reference: pd.Series, current: pd.Series, thresholds: Thresholds
) -> FeatureDrift:
    """Test a categorical or boolean column: chi-squared test of the counts per category and PSI.

    The contingency table has a row per side and a column per category seen on either side, so a
    category new in the current data is part of the test. Nulls are dropped.
    """
    counts = category_counts(reference, current)
    result = stats.chi2_contingency(counts.to_numpy().T)
    return _verdict(name, "chi2", result, reference, current, thresholds)


def _verdict(
    name: str,
    test: Test,
    result: Any,
    reference: pd.Series,
    current: pd.Series,
    thresholds: Thresholds,
) -> FeatureDrift:
    """A scipy test result (statistic, pvalue) with the PSI, the decision rule, and summaries."""
    kind: Kind = "numeric" if test == "ks" else "categorical"
    p_value = float(result.pvalue)
    psi = population_stability_index(reference, current, categorical=kind == "categorical")
    return FeatureDrift(
        name=name,
        kind=kind,
        test=test,
        statistic=float(result.statistic),
        p_value=p_value,
        psi=psi,
        drifted=p_value < thresholds.p_value and psi >= thresholds.psi,
        reference_rows=int(reference.notna().sum()),
        current_rows=int(current.notna().sum()),
        reference_summary=summarise(reference, kind),
        current_summary=summarise(current, kind),
    )


def summarise(values: pd.Series, kind: Kind) -> str:
    """A few words on a column: "mean 42.1" or "top month-to-month (55%)", and its null share."""
    present = values.dropna()
    if present.empty:
        text = "no values"
    elif kind == "numeric":
        text = f"mean {present.astype(float).mean():.4g}"
    else:
        shares = present.astype(str).value_counts(normalize=True)
        text = f"top {shares.index[0]} ({100 * shares.iloc[0]:.0f}%)"
    nulls = float(values.isna().mean())
    return f"{text}, {100 * nulls:.1f}% null" if nulls else text


def compare(
    reference: pd.DataFrame,
    current: pd.DataFrame,
    contract: DataContract,
    thresholds: Thresholds,
    *,
    prediction: Kind | None = None,
) -> DriftReport:
    """Test every feature of the contract (and the prediction) for drift, current against reference.

    Args:
        reference: data the model learned from, such as a sample of its training set.
        current: recent data, such as the prediction log of the last days.
        contract: names the features and their types.
        thresholds: the decision rule's thresholds and the rows a check needs.
        prediction: the kind of the `prediction` column in both frames, to test it too;
            None to leave predictions out.

    Raises:
        ValueError: the reference is empty, current has fewer than `thresholds.min_rows` rows, or
            `prediction` is given but a frame has no prediction column.
    """
    if reference.empty:
        raise ValueError("the reference data is empty: there is nothing to compare with")
    if len(current) < thresholds.min_rows:
        raise ValueError(
            f"{len(current)} rows to check: at least {thresholds.min_rows} are needed "
            "(monitoring.min_rows)"
        )
    features: list[FeatureDrift] = []
    skipped: dict[str, str] = {}
    for column in contract.features:
        reason = skip_reason(column, reference, current, thresholds)
        if reason is not None:
            skipped[column.name] = reason
            continue
        test = numeric_drift if column.type == "numeric" else categorical_drift
        features.append(test(column.name, reference[column.name], current[column.name], thresholds))
    tested_prediction = None
    if prediction is not None:
        for role, frame in (("reference", reference), ("current", current)):
            if PREDICTION_COLUMN not in frame.columns:
                raise ValueError(f"the {role} data has no {PREDICTION_COLUMN!r} column to test")
        test = numeric_drift if prediction == "numeric" else categorical_drift
        tested_prediction = test(
            PREDICTION_COLUMN, reference[PREDICTION_COLUMN], current[PREDICTION_COLUMN], thresholds
        )
    return DriftReport(
        features=tuple(features),
        prediction=tested_prediction,
        skipped=skipped,
        reference_rows=len(reference),
        current_rows=len(current),
    )


def skip_reason(
    column: Column, reference: pd.DataFrame, current: pd.DataFrame, thresholds: Thresholds
) -> str | None:
    """Why a feature cannot be tested, or None when it can."""
    if column.type == "datetime":
        return "datetime: its values move forward by design"
    if column.name not in current.columns:
        if column.sensitive:
            return "sensitive: not in the current data, the prediction log never records it"
        return "not in the current data"
    if column.name not in reference.columns:
        return "not in the reference data"
    present = int(current[column.name].notna().sum())
    if present < thresholds.min_rows:
        return f"{present} non-null values in the current data: at least {thresholds.min_rows} are needed"
    if reference[column.name].isna().all():
        return "no values in the reference data"
    return None


def write_json(report: DriftReport, path: Path) -> Path:
    """Write the report as JSON, creating the parent directories; returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        json.dumps(report.to_dict(), indent=2, allow_nan=False) + "\n", encoding="utf-8"
    )
    return path


STYLE = (
    "body { font-family: sans-serif; margin: 2em; } "
    "table { border-collapse: collapse; } "
    "th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; } "
    ".drifted { background: #fde2e2; }"
)


def write_html(
    report: DriftReport, reference: pd.DataFrame, current: pd.DataFrame, path: Path
) -> Path:
    """Write the report as one self-contained HTML page; returns the path.

    The page has a table of every tested feature, the skipped features with why, and a plot
    of each drifted feature (and of the prediction, if it drifted), embedded as a PNG. The
    reference and current frames are those compared, for the plots.
    """
    tested = report.tested
    prediction = "the prediction drifted" if report.prediction and report.prediction.drifted else ""
    headline = f"{len(report.drifted_features)} of {len(report.features)} features drifted"
    header = ["column", "test", "statistic", "p-value", "PSI", "drifted", "reference", "current"]
    rows = "\n".join(_html_row(feature) for feature in tested)
    skipped = "".join(
        f"<li>{html.escape(name)}: {html.escape(reason)}</li>"
        for name, reason in report.skipped.items()
    )
    plots = "\n".join(
        f'<h3>{html.escape(feature.name)}</h3><img alt="{html.escape(feature.name)}" '
        f'src="data:image/png;base64,{plot(feature, reference[feature.name], current[feature.name])}">'
        for feature in tested
        if feature.drifted
    )
    page = (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Drift report</title>'
        f"<style>{STYLE}</style></head><body>\n<h1>Drift report</h1>\n"
        f"<p>{headline}{'; ' + prediction if prediction else ''}: {report.current_rows:,} current "
        f"rows against {report.reference_rows:,} reference rows. A column has drifted when its "
        "test's p-value is below the p-value threshold and its PSI reaches the PSI threshold.</p>\n"
        "<table><tr>" + "".join(f"<th>{cell}</th>" for cell in header) + f"</tr>\n{rows}</table>\n"
        f"<h2>Not tested</h2><ul>{skipped or '<li>none</li>'}</ul>\n"
        f"<h2>Drifted columns</h2>\n{plots or '<p>none</p>'}\n</body></html>\n"
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(page, encoding="utf-8")
    return path


def _html_row(feature: FeatureDrift) -> str:
    """One table row: the feature's test, numbers, verdict and summaries."""
    cells = [
        feature.name,
        feature.test,
        f"{feature.statistic:.3f}",
        f"{feature.p_value:.2g}",
        f"{feature.psi:.3f}",
        "yes" if feature.drifted else "no",
        feature.reference_summary,
        feature.current_summary,
    ]
    css = ' class="drifted"' if feature.drifted else ""
    return f"<tr{css}>" + "".join(f"<td>{html.escape(cell)}</td>" for cell in cells) + "</tr>"


def plot(feature: FeatureDrift, reference: pd.Series, current: pd.Series) -> str:
    """A PNG, base64-encoded: overlaid density histograms, or bars of the share per category."""
    # matplotlib is in the train extra: imported here, so a service without it can still compare.
    # A bare Figure (no pyplot) draws with Agg and keeps no global state.
    from matplotlib.figure import Figure

    figure = Figure(figsize=FIGURE_SIZE)
    axes = figure.add_subplot()
    if feature.kind == "numeric":
        ref, cur = reference.dropna().to_numpy(dtype=float), current.dropna().to_numpy(dtype=float)
        edges = np.histogram_bin_edges(np.concatenate([ref, cur]), bins=HISTOGRAM_BINS)
        axes.hist(ref, bins=edges.tolist(), density=True, alpha=0.5, label="reference")
        axes.hist(cur, bins=edges.tolist(), density=True, alpha=0.5, label="current")
        axes.set_ylabel("density")
    else:
        counts = category_counts(reference, current)
        shares = counts / counts.sum()
        shares = shares.loc[shares.sum(axis=1).nlargest(MAX_BARS).index]
        positions = np.arange(len(shares))
        axes.bar(positions - 0.2, shares["reference"], width=0.4, label="reference")
        axes.bar(positions + 0.2, shares["current"], width=0.4, label="current")
        axes.set_xticks(positions, [str(label) for label in shares.index], rotation=30, ha="right")
        axes.set_ylabel("share of rows")
    axes.set_title(feature.name)
    axes.legend()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")
