"""The drift reports: JSON that round-trips, and one self-contained HTML page."""

import html
import json
from pathlib import Path

import numpy as np
import pandas as pd

from {{ cookiecutter.package_name }}.monitoring.drift import (
    DriftReport,
    Thresholds,
    column_drift,
)
from {{ cookiecutter.package_name }}.monitoring.drift_report import (
    as_dict,
    write_html,
    write_json,
)


def test_reports_are_json_and_self_contained_html(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    reference = pd.DataFrame({"amount": rng.normal(size=500), "plan <b>": ["a", "b"] * 250})
    current = pd.DataFrame({"amount": rng.normal(loc=2, size=500), "plan <b>": ["c"] * 500})
    features = tuple(
        column_drift(name, kind, reference[name], current[name], Thresholds())
        for name, kind in (("amount", "numeric"), ("plan <b>", "categorical"))
    )
    report = DriftReport(features, None, {"signed_up": "datetime"}, 500, 500)
    assert report.drifted_features == ["amount", "plan <b>"]

    data = json.loads(json.dumps(as_dict(report), allow_nan=False))
    assert data["drifted"] is True
    assert data["drifted_features"] == report.drifted_features
    assert data["skipped"] == {"signed_up": "datetime"}
    json_path = write_json(report, tmp_path / "drift" / "report.json")
    assert json.loads(json_path.read_text(encoding="utf-8")) == data

    html_path = write_html(report, reference, current, tmp_path / "drift" / "report.html")
    page = html_path.read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 2
    assert "plan <b>" not in page
    assert html.escape("plan <b>") in page
    assert "signed_up" in page
    assert "http" not in page
