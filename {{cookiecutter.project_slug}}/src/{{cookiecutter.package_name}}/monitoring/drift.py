"""Drift: is the distribution of recent rows still that of the reference rows? And its reports.

Each feature is tested on its own, nulls dropped: numbers with the two-sample Kolmogorov-Smirnov
test, categories and flags with a chi-squared test on the counts per category of either side. A
p-value says how surprising a change is, not how big, so each feature also gets its population
stability index (PSI), and drifted = p_value < p threshold AND psi >= PSI threshold. scipy rather
than a drift library (Evidently): the rule stays a few lines. Reports: JSON and one HTML page.
"""

import base64
import io
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Literal

import jinja2
import numpy as np
import pandas as pd
from scipy import stats  # type: ignore[import-untyped]

from {{ cookiecutter.package_name }}.config import MonitoringConfig
from {{ cookiecutter.package_name }}.data.contract import Column, DataContract, plain

Kind = Literal["numeric", "categorical"]
# Proportions are floored at this in the PSI, so an empty bin gives a large, finite value.
EPSILON = 1e-4
# Numeric PSI bins: quantiles of the reference (deciles).
PSI_BINS = 10
# Plots: histogram bins, the most common categories drawn, and the figure size in inches.
HISTOGRAM_BINS = 30
MAX_BARS = 15
FIGURE_SIZE = (6.0, 3.5)
#: The HTML report's page: a Jinja2 template beside this module.
PAGE = "drift_report.html.j2"


@dataclass(frozen=True)
class FeatureDrift:
    """One column's test (ks: Kolmogorov-Smirnov, chi2: chi-squared), PSI, verdict and summaries."""

    name: str
    kind: Kind
    test: Literal["ks", "chi2"]
    statistic: float
    p_value: float
    psi: float
    drifted: bool
    reference_rows: int  # non-null values tested
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
        return any(feature.drifted for feature in self.tested)

    @property
    def tested(self) -> list[FeatureDrift]:
        """The features tested, then the prediction if it was."""
        return [*self.features, *([self.prediction] if self.prediction else [])]


def population_stability_index(
    reference: pd.Series, current: pd.Series, *, categorical: bool
) -> float:
    """How far the current distribution moved from the reference: sum of (c - r) * ln(c / r).

    r and c are the shares of values per category, or per quantile bin of the reference (the
    end bins open-ended; fewer bins when quantiles repeat), floored at EPSILON. Rule of thumb:
    below 0.1 is stable, above 0.2 a large change. Missing values are ignored.

    Raises:
        ValueError: either series has no values.
    """
    reference, current = reference.dropna(), current.dropna()
    if reference.empty or current.empty:
        raise ValueError("the population stability index needs values on both sides")
    if not categorical:  # a number's category is its bin
        inner = np.linspace(0, 1, PSI_BINS + 1)[1:-1]  # the quantiles between the ends
        edges = np.unique(np.quantile(reference.astype(float), inner))
        reference, current = (
            pd.Series(np.searchsorted(edges, side.astype(float), side="right"))
            for side in (reference, current)
        )
    counts = _category_counts(reference, current).to_numpy()
    expected, actual = np.maximum(counts / counts.sum(axis=0), EPSILON).T
    return float(np.sum((actual - expected) * np.log(actual / expected)))


def _category_counts(reference: pd.Series, current: pd.Series) -> pd.DataFrame:
    """Rows per category (as text) in each series: columns reference and current, 0 if absent."""
    counts = [side.dropna().astype(str).value_counts() for side in (reference, current)]
    return pd.concat(counts, axis=1, keys=["reference", "current"]).fillna(0).astype(int)


def column_drift(
    name: str, kind: Kind, reference: pd.Series, current: pd.Series, monitoring: MonitoringConfig
) -> FeatureDrift:
    """Test one column, nulls dropped: Kolmogorov-Smirnov for numbers, else chi-squared."""
    if kind == "numeric":
        result = stats.ks_2samp(reference.dropna().astype(float), current.dropna().astype(float))
    else:  # a row per side, a column per category seen on either
        result = stats.chi2_contingency(_category_counts(reference, current).to_numpy().T)
    p_value = float(result.pvalue)
    psi = population_stability_index(reference, current, categorical=kind == "categorical")
    return FeatureDrift(
        name=name,
        kind=kind,
        test="ks" if kind == "numeric" else "chi2",
        statistic=float(result.statistic),
        p_value=p_value,
        psi=psi,
        drifted=p_value < monitoring.p_value and psi >= monitoring.psi_threshold,
        reference_rows=int(reference.notna().sum()),
        current_rows=int(current.notna().sum()),
        reference_summary=_summary(reference, kind),
        current_summary=_summary(current, kind),
    )


def _summary(values: pd.Series, kind: Kind) -> str:
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
    monitoring: MonitoringConfig,
    *,
    prediction: Kind | None = None,
) -> DriftReport:
    """Test each feature of the contract, and the `prediction` column if its kind is given.

    Raises:
        ValueError: the reference is empty, current has fewer than `monitoring.min_rows` rows, or
            `prediction` is given but a frame has no prediction column.
    """
    if reference.empty:
        raise ValueError("the reference data is empty: there is nothing to compare with")
    if len(current) < monitoring.min_rows:
        raise ValueError(
            f"{len(current)} rows to check: at least {monitoring.min_rows} are needed "
            "(monitoring.min_rows)"
        )
    features, skipped = [], {}
    for column in contract.features:
        if reason := _skip_reason(column, reference, current, monitoring.min_rows):
            skipped[column.name] = reason
        else:
            kind: Kind = "numeric" if column.type == "numeric" else "categorical"
            sides = reference[column.name], current[column.name]
            features.append(column_drift(column.name, kind, *sides, monitoring))
    tested = None
    if prediction is not None:
        if "prediction" not in reference.columns or "prediction" not in current.columns:
            raise ValueError("a frame has no 'prediction' column to test")
        sides = reference["prediction"], current["prediction"]
        tested = column_drift("prediction", prediction, *sides, monitoring)
    return DriftReport(tuple(features), tested, skipped, len(reference), len(current))


def _skip_reason(
    column: Column, reference: pd.DataFrame, current: pd.DataFrame, min_rows: int
) -> str | None:
    """Why a feature cannot be tested, or None when it can."""
    if column.type == "datetime":
        return "datetime: its values move forward by design"
    if column.sensitive:
        return "sensitive: neither the prediction log nor the drift reference keeps it"
    if column.name not in current.columns:
        return "not in the current data"
    if column.name not in reference.columns:
        return "not in the reference data"
    present = int(current[column.name].notna().sum())
    if present < min_rows:
        return f"{present} non-null values in the current data: at least {min_rows} are needed"
    if reference[column.name].isna().all():
        return "no values in the reference data"
    return None


def as_dict(report: DriftReport) -> dict[str, Any]:
    """The report as plain JSON values; a number that is not finite becomes None."""
    values = asdict(report, dict_factory=lambda pairs: {key: plain(value) for key, value in pairs})
    return {"drifted": report.drifted, "drifted_features": report.drifted_features} | values


def write_json(report: DriftReport, path: Path) -> Path:
    """Write the report as JSON, creating the parent folders; returns the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(as_dict(report), indent=2, allow_nan=False) + "\n", "utf-8")
    return path


def write_html(
    report: DriftReport, reference: pd.DataFrame, current: pd.DataFrame, path: Path
) -> Path:
    """Write the report as one HTML page; returns the path.

    The page has a table of every tested column, the skipped features with why, and a plot of
    each drifted column embedded as a PNG, from the reference and current frames compared.
    """
    table = pd.DataFrame([asdict(feature) for feature in report.tested])
    skipped = pd.DataFrame(list(report.skipped.items()), columns=["feature", "why"])
    loader = jinja2.FileSystemLoader(Path(__file__).parent)
    page = jinja2.Environment(loader=loader, autoescape=True).get_template(PAGE)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        page.render(
            report=report,
            table=table.to_html(index=False),
            skipped=skipped.to_html(index=False),
            plots={f.name: _plot(f, reference, current) for f in report.tested if f.drifted},
        ),
        "utf-8",
    )
    return path


def _plot(feature: FeatureDrift, reference: pd.DataFrame, current: pd.DataFrame) -> str:
    """A PNG, base64-encoded: overlaid density histograms, or bars of the share per category."""
    # A bare Figure (no pyplot) draws with Agg and keeps no global state.
    from matplotlib.figure import Figure

    sides = reference[feature.name], current[feature.name]
    figure = Figure(figsize=FIGURE_SIZE)
    axes = figure.add_subplot(title=feature.name)
    if feature.kind == "numeric":  # several samples: matplotlib bins them on the same edges
        values = [side.dropna().to_numpy(dtype=float) for side in sides]
        axes.hist(
            values, HISTOGRAM_BINS, density=True, histtype="step", label=["reference", "current"]
        )
        axes.legend()
        axes.set_ylabel("density")
    else:
        counts = _category_counts(*sides)
        shares = counts / counts.sum()
        shares.loc[shares.sum(axis=1).nlargest(MAX_BARS).index].plot.bar(ax=axes, rot=30)
        axes.set_ylabel("share of rows")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")
