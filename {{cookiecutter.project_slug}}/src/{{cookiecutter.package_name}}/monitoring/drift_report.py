"""The drift check's reports: JSON for machines, one self-contained HTML page for people."""

import base64
import html
import io
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from {{ cookiecutter.package_name }}.data.contract import plain
from {{ cookiecutter.package_name }}.monitoring.drift import DriftReport, FeatureDrift

# Plots: histogram bins, the most common categories drawn, and the figure size in inches.
HISTOGRAM_BINS = 30
MAX_BARS = 15
FIGURE_SIZE = (6.0, 3.5)
STYLE = (
    "body { font-family: sans-serif; margin: 2em; } table { border-collapse: collapse; } "
    "th, td { border: 1px solid #ccc; padding: 4px 8px; text-align: left; }"
)


def as_dict(report: DriftReport) -> dict[str, Any]:
    """The report as plain JSON values; a number that is not finite becomes None."""
    return {
        "drifted": report.drifted,
        "drifted_features": report.drifted_features,
        "reference_rows": report.reference_rows,
        "current_rows": report.current_rows,
        "features": [feature_dict(feature) for feature in report.features],
        "prediction": feature_dict(report.prediction) if report.prediction else None,
        "skipped": dict(report.skipped),
    }


def feature_dict(feature: FeatureDrift) -> dict[str, Any]:
    """One column's result, as JSON holds it."""
    return {key: plain(value) for key, value in asdict(feature).items()}


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
    table = pd.DataFrame([feature_dict(feature) for feature in report.tested])
    skipped = pd.DataFrame({"feature": list(report.skipped), "why": list(report.skipped.values())})
    plots = "\n".join(
        f"<h3>{html.escape(feature.name)}</h3><img alt='{html.escape(feature.name)}' "
        f"src='data:image/png;base64,{plot(feature, reference, current)}'>"
        for feature in report.tested
        if feature.drifted
    )
    headline = (
        f"{len(report.drifted_features)} of {len(report.features)} features drifted"
        f"{'; the prediction drifted' if report.prediction and report.prediction.drifted else ''}"
        f": {report.current_rows:,} current rows against {report.reference_rows:,} reference "
        "rows. A column has drifted when its test's p-value is below the p-value threshold and "
        "its PSI reaches the PSI threshold."
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'><title>Drift report"
        f"</title><style>{STYLE}</style></head><body>\n<h1>Drift report</h1>\n<p>{headline}</p>\n"
        f"{table.to_html(index=False)}\n<h2>Not tested</h2>\n{skipped.to_html(index=False)}\n"
        f"<h2>Drifted columns</h2>\n{plots or '<p>none</p>'}\n</body></html>\n",
        "utf-8",
    )
    return path


def plot(feature: FeatureDrift, reference: pd.DataFrame, current: pd.DataFrame) -> str:
    """A PNG, base64-encoded: overlaid density histograms, or bars of the share per category."""
    # A bare Figure (no pyplot) draws with Agg and keeps no global state.
    from matplotlib.figure import Figure

    sides = {"reference": reference[feature.name], "current": current[feature.name]}
    figure = Figure(figsize=FIGURE_SIZE)
    axes = figure.add_subplot()
    if feature.kind == "numeric":
        values = [side.dropna().to_numpy(dtype=float) for side in sides.values()]
        edges = np.histogram_bin_edges(np.concatenate(values), bins=HISTOGRAM_BINS)
        axes.hist(values, bins=edges.tolist(), density=True, histtype="step", label=list(sides))
        axes.set_ylabel("density")
        axes.legend()
    else:
        shares = pd.DataFrame(
            {
                name: side.dropna().astype(str).value_counts(normalize=True)
                for name, side in sides.items()
            }
        ).fillna(0)
        shares.loc[shares.sum(axis=1).nlargest(MAX_BARS).index].plot.bar(ax=axes, rot=30)
        axes.set_ylabel("share of rows")
    axes.set_title(feature.name)
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=90, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")
