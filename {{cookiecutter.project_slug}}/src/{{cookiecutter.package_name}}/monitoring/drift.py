"""Drift statistics: is the distribution of recent rows still that of the reference rows?

Each feature is tested on its own, nulls dropped: numbers with the two-sample
Kolmogorov-Smirnov test, categories and flags with a chi-squared test on the counts per category
of either side. A p-value says how surprising a change is, not how big, so each feature also gets
its population stability index (PSI), and drifted = p_value < p threshold AND psi >= PSI
threshold. Datetime features, and features the current rows lack (such as sensitive ones), are
not tested. scipy rather than a drift library (Evidently): the rule stays a few lines.
"""

from dataclasses import dataclass
from typing import Literal, Self

import numpy as np
import pandas as pd
from scipy import stats  # type: ignore[import-untyped]

from {{ cookiecutter.package_name }}.config import MonitoringConfig
from {{ cookiecutter.package_name }}.data.contract import Column, DataContract

Kind = Literal["numeric", "categorical"]
# Proportions are floored at this in the PSI, so an empty bin gives a large, finite value.
EPSILON = 1e-4
# Numeric PSI bins: quantiles of the reference (deciles).
PSI_BINS = 10


@dataclass(frozen=True)
class Thresholds:
    """When a feature counts as drifted, and how many rows a check needs."""

    p_value: float = 0.01
    psi: float = 0.2
    min_rows: int = 100

    @classmethod
    def from_config(cls, monitoring: MonitoringConfig) -> Self:
        """The thresholds of the project config's `monitoring` section."""
        return cls(monitoring.p_value, monitoring.psi_threshold, monitoring.min_rows)


@dataclass(frozen=True)
class FeatureDrift:
    """One column's test (ks: Kolmogorov-Smirnov, chi2: chi-squared), its PSI and its verdict.

    The summaries are a few words on each side's values, such as "mean 42.1".
    """

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
        return bool(self.drifted_features) or bool(self.prediction and self.prediction.drifted)

    @property
    def tested(self) -> list[FeatureDrift]:
        """The features tested, then the prediction if it was."""
        return [*self.features, *([self.prediction] if self.prediction else [])]


def population_stability_index(
    reference: pd.Series, current: pd.Series, *, categorical: bool, bins: int = PSI_BINS
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
    if categorical:
        counts = category_counts(reference, current)
        expected, actual = counts["reference"].to_numpy(), counts["current"].to_numpy()
    else:
        ref, cur = reference.to_numpy(dtype=float), current.to_numpy(dtype=float)
        edges = np.unique(np.quantile(ref, np.linspace(0, 1, bins + 1)[1:-1]))  # inner edges
        expected = np.bincount(np.searchsorted(edges, ref, side="right"), minlength=len(edges) + 1)
        actual = np.bincount(np.searchsorted(edges, cur, side="right"), minlength=len(edges) + 1)
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


def column_drift(
    name: str, kind: Kind, reference: pd.Series, current: pd.Series, thresholds: Thresholds
) -> FeatureDrift:
    """Test one column, nulls dropped: Kolmogorov-Smirnov for numbers, else chi-squared."""
    if kind == "numeric":
        values = [side.dropna().to_numpy(dtype=float) for side in (reference, current)]
        result = stats.ks_2samp(*values)
    else:  # a row per side, a column per category seen on either
        result = stats.chi2_contingency(category_counts(reference, current).to_numpy().T)
    p_value = float(result.pvalue)
    psi = population_stability_index(reference, current, categorical=kind == "categorical")
    return FeatureDrift(
        name=name,
        kind=kind,
        test="ks" if kind == "numeric" else "chi2",
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
    """Test each feature of the contract, and the `prediction` column if its kind is given.

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
    features, skipped = [], {}
    for column in contract.features:
        reason = skip_reason(column, reference, current, thresholds)
        if reason is not None:
            skipped[column.name] = reason
            continue
        kind: Kind = "numeric" if column.type == "numeric" else "categorical"
        sides = reference[column.name], current[column.name]
        features.append(column_drift(column.name, kind, *sides, thresholds))
    tested = None
    if prediction is not None:
        if "prediction" not in reference.columns or "prediction" not in current.columns:
            raise ValueError("a frame has no 'prediction' column to test")
        sides = reference["prediction"], current["prediction"]
        tested = column_drift("prediction", prediction, *sides, thresholds)
    return DriftReport(tuple(features), tested, skipped, len(reference), len(current))


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
