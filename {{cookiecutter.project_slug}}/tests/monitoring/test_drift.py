"""Drift statistics on rows generated from the contract, with real numbers: no drift planted, none found.

Then the reports: JSON that round-trips, and one self-contained HTML page.
"""

import html
import json
import math
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.config import MonitoringConfig
from {{ cookiecutter.package_name }}.data.contract import Column, DataContract
from {{ cookiecutter.package_name }}.monitoring.drift import (
    DriftReport,
    Kind,
    as_dict,
    column_drift,
    compare,
    population_stability_index,
    write_html,
    write_json,
)

THRESHOLDS = MonitoringConfig()


def split(rows: pd.DataFrame, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A reference half and a current half of the rows, shuffled: two samples of the same data."""
    shuffled = rows.sample(frac=1.0, random_state=seed, ignore_index=True)
    half = len(shuffled) // 2
    reference = shuffled.iloc[:half].reset_index(drop=True)
    current = shuffled.iloc[half:].reset_index(drop=True)
    assert len(current) >= THRESHOLDS.min_rows, "too few generated rows for a drift check"
    return reference, current


def add_feature(
    contract: DataContract, rows: pd.DataFrame, column: Column
) -> tuple[DataContract, pd.DataFrame]:
    """A copy of the contract with one more feature, and of the rows with its values (seeded)."""
    rng = np.random.default_rng(len(contract.features))
    values: object
    if column.type == "numeric":
        values = rng.uniform(column.min or 0.0, column.max or 100.0, len(rows))
    elif column.type == "boolean":
        values = rng.random(len(rows)) < 0.5
    elif column.type == "datetime":
        days = pd.to_timedelta(rng.integers(0, 1000, len(rows)), unit="D")
        values = (pd.Timestamp("2020-01-01") + days).strftime("%Y-%m-%d").to_numpy()
    else:
        values = rng.choice(np.array(column.categories or ("p", "q", "r"), dtype=object), len(rows))
    extended = DataContract(
        name=contract.name,
        id_column=contract.id_column,
        target=contract.target,
        features=(*contract.features, column),
    )
    return extended, rows.assign(**{column.name: values})


def unused_name(contract: DataContract, stem: str) -> str:
    """A column name the contract does not use yet."""
    taken = {contract.target.name, contract.id_column, *contract.feature_names}
    return next(f"{stem} {n}" for n in range(len(taken) + 1) if f"{stem} {n}" not in taken)


def feature_of(
    contract: DataContract, rows: pd.DataFrame, kind: Literal["numeric", "categorical"]
) -> tuple[DataContract, pd.DataFrame, str]:
    """The contract's first feature of a kind that is not sensitive, with the contract and rows.

    A contract without one gets a copy with such a feature added (and the rows its values), so
    that the behaviour is tested whatever columns the project's data has.
    """
    names = [f.name for f in contract.features if f.type == kind and not f.sensitive]
    if names:
        return contract, rows, names[0]
    name = unused_name(contract, f"added {kind}")
    column = (
        Column(name=name, type="numeric", min=0, max=100)
        if kind == "numeric"
        else Column(name=name, type="categorical", categories=("p", "q", "r"))
    )
    return (*add_feature(contract, rows, column), name)


def checked_names(contract: DataContract) -> list[str]:
    """The features compare tests when every column is present: all but datetimes and
    sensitive ones."""
    return [f.name for f in contract.features if f.type != "datetime" and not f.sensitive]


def with_prediction(frame: pd.DataFrame, contract: DataContract) -> pd.DataFrame:
    """The frame with the target copied into the prediction column: a perfect model's output."""
    return frame.assign(prediction=frame[contract.target.name])


def one_deviation(values: pd.Series) -> float:
    """A standard deviation of the values, rounded up to a whole number for whole numbers.

    Counts shift by whole numbers; shifting whole numbers by 0.8 would only move values within
    the reference's quantile bins, which the PSI, by design, does not see.
    """
    deviation = float(values.std())
    return math.ceil(deviation) if pd.api.types.is_integer_dtype(values) else deviation


def prediction_kind(contract: DataContract) -> Kind:
    """The kind of prediction: a number for regression, a class for classification."""
    return "numeric" if contract.target.type == "numeric" else "categorical"


# --- population stability index ----------------------------------------------


def test_psi_of_identical_distributions_is_zero() -> None:
    numbers = pd.Series(np.random.default_rng(0).normal(size=2000))
    assert population_stability_index(numbers, numbers, categorical=False) == pytest.approx(0)
    labels = pd.Series(["a", "b", "c"] * 100)
    assert population_stability_index(labels, labels, categorical=True) == pytest.approx(0)


def test_psi_of_a_known_categorical_shift() -> None:
    reference = pd.Series(["a"] * 50 + ["b"] * 50)
    current = pd.Series(["a"] * 80 + ["b"] * 20)
    expected = (0.8 - 0.5) * math.log(0.8 / 0.5) + (0.2 - 0.5) * math.log(0.2 / 0.5)
    assert population_stability_index(reference, current, categorical=True) == pytest.approx(
        expected
    )


def test_psi_of_a_one_standard_deviation_shift_is_large() -> None:
    rng = np.random.default_rng(0)
    reference = pd.Series(rng.normal(size=5000))
    current = pd.Series(rng.normal(loc=1.0, size=5000))
    assert population_stability_index(reference, current, categorical=False) > 0.5


def test_psi_stays_finite_when_bins_are_empty() -> None:
    numeric = population_stability_index(
        pd.Series(np.arange(100.0)), pd.Series([500.0] * 50), categorical=False
    )
    categorical = population_stability_index(
        pd.Series(["a"] * 10), pd.Series(["b"] * 10), categorical=True
    )
    assert math.isfinite(numeric)
    assert numeric > 1
    assert math.isfinite(categorical)
    assert categorical > 1


def test_psi_ignores_missing_values_and_repeated_quantiles() -> None:
    reference = pd.Series([0, 0, 0, 0, 1, 1, 2, None] * 50, dtype="float")
    assert population_stability_index(reference, reference, categorical=False) == pytest.approx(0)


# --- single features ---------------------------------------------------------


def test_a_significant_but_tiny_change_is_not_drift() -> None:
    rng = np.random.default_rng(0)
    reference = pd.Series(rng.normal(size=50_000))
    current = pd.Series(rng.normal(loc=0.1, size=50_000))
    result = column_drift("x", "numeric", reference, current, THRESHOLDS)
    assert result.p_value < THRESHOLDS.p_value
    assert result.psi < THRESHOLDS.psi_threshold
    assert not result.drifted


def test_categorical_drift_counts_a_new_category_and_drops_nulls() -> None:
    reference = pd.Series(["a", "b"] * 200 + [None] * 10)
    current = pd.Series(["a", "b"] * 50 + ["c"] * 300)
    result = column_drift("x", "categorical", reference, current, THRESHOLDS)
    assert result.test == "chi2"
    assert result.drifted
    assert result.reference_rows == 400
    assert result.current_summary == "top c (75%)"
    assert "null" in result.reference_summary


def test_a_lower_psi_threshold_in_the_config_makes_a_small_change_drift() -> None:
    rng = np.random.default_rng(0)
    reference = pd.Series(rng.normal(size=50_000))
    current = pd.Series(rng.normal(loc=0.1, size=50_000))
    sensitive = MonitoringConfig(psi_threshold=0.001)
    assert column_drift("x", "numeric", reference, current, sensitive).drifted


# --- whole data sets ---------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_no_planted_drift_does_not_alarm(
    raw_data: pd.DataFrame, contract: DataContract, seed: int
) -> None:
    reference, current = split(raw_data, seed)
    report = compare(reference, current, contract, THRESHOLDS)
    assert not report.drifted, report.drifted_features
    assert [f.name for f in report.features] == checked_names(contract)


def test_a_shifted_mean_alarms_for_that_feature_only(
    raw_data: pd.DataFrame, contract: DataContract
) -> None:
    contract, rows, _ = feature_of(contract, raw_data, "numeric")
    reference, current = split(rows)
    numeric = contract.features_of_type("numeric")
    assert numeric
    for name in numeric:
        shifted = current.assign(**{name: current[name] + one_deviation(reference[name])})
        report = compare(reference, shifted, contract, THRESHOLDS)
        assert report.drifted_features == [name]


def test_a_new_dominant_category_alarms_for_that_feature_only(
    raw_data: pd.DataFrame, contract: DataContract
) -> None:
    contract, rows, _ = feature_of(contract, raw_data, "categorical")
    reference, current = split(rows)
    categorical = contract.features_of_type("categorical")
    assert categorical
    for name in categorical:
        changed = current.copy()
        changed.loc[: int(0.8 * len(changed)), name] = "never-seen-before"
        report = compare(reference, changed, contract, THRESHOLDS)
        assert report.drifted_features == [name]


def test_prediction_drift_is_detected_only_when_predictions_shift(
    raw_data: pd.DataFrame, contract: DataContract
) -> None:
    reference, current = (with_prediction(frame, contract) for frame in split(raw_data))
    kind = prediction_kind(contract)
    steady = compare(reference, current, contract, THRESHOLDS, prediction=kind)
    assert steady.prediction is not None
    assert not steady.prediction.drifted
    assert not steady.drifted

    predictions = current["prediction"]
    if kind == "numeric":
        shifted = predictions + predictions.std()
    else:
        shifted = pd.Series(predictions.value_counts().index[-1], index=predictions.index)
    report = compare(
        reference,
        current.assign(prediction=shifted),
        contract,
        THRESHOLDS,
        prediction=kind,
    )
    assert report.prediction is not None
    assert report.prediction.drifted
    assert report.drifted
    assert report.drifted_features == []


def test_a_missing_prediction_column_is_an_error(
    raw_data: pd.DataFrame, contract: DataContract
) -> None:
    reference, current = split(raw_data)
    with pytest.raises(ValueError, match="no 'prediction' column"):
        compare(reference, current, contract, THRESHOLDS, prediction="numeric")


def test_too_few_rows_is_an_error(raw_data: pd.DataFrame, contract: DataContract) -> None:
    with pytest.raises(
        ValueError, match=r"^50 rows to check: at least 100 are needed \(monitoring.min_rows\)$"
    ):
        compare(raw_data, raw_data.head(50), contract, THRESHOLDS)
    with pytest.raises(ValueError, match="reference data is empty"):
        compare(raw_data.head(0), raw_data, contract, THRESHOLDS)


def test_datetime_and_missing_features_are_skipped_with_reasons(
    raw_data: pd.DataFrame, contract: DataContract
) -> None:
    rows = raw_data
    if not contract.features_of_type("datetime"):
        date = Column(name=unused_name(contract, "added date"), type="datetime")
        contract, rows = add_feature(contract, rows, date)
    if not any(f.sensitive for f in contract.features):
        private = Column(
            name=unused_name(contract, "added private"), type="boolean", sensitive=True
        )
        contract, rows = add_feature(contract, rows, private)
    contract, rows, absent = feature_of(contract, rows, "numeric")
    reference, current = split(rows)
    sensitive = [f.name for f in contract.features if f.sensitive]
    report = compare(reference, current.drop(columns=[absent]), contract, THRESHOLDS)

    dates = contract.features_of_type("datetime")
    assert dates
    for name in dates:
        assert report.skipped[name] == "datetime: its values move forward by design"
    assert sensitive
    for name in sensitive:
        assert report.skipped[name].startswith("sensitive: neither the prediction log nor")
    assert report.skipped[absent] == "not in the current data"
    tested = {f.name for f in report.features}
    assert tested.isdisjoint(report.skipped)
    assert tested | set(report.skipped) == set(contract.feature_names)


def test_a_mostly_empty_feature_is_skipped(raw_data: pd.DataFrame, contract: DataContract) -> None:
    contract, rows, name = feature_of(contract, raw_data, "numeric")
    reference, current = split(rows)
    present = current[name].dropna()
    current[name] = pd.Series(present.iloc[:20].to_numpy(), index=present.index[:20])
    assert current[name].notna().sum() == 20
    report = compare(reference, current, contract, THRESHOLDS)
    assert report.skipped[name] == "20 non-null values in the current data: at least 100 are needed"


# --- the reports ---------------------------------------------------------------


def test_reports_are_json_and_self_contained_html(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    reference = pd.DataFrame({"amount": rng.normal(size=500), "plan <b>": ["a", "b"] * 250})
    current = pd.DataFrame({"amount": rng.normal(loc=2, size=500), "plan <b>": ["c"] * 500})
    features = tuple(
        column_drift(name, kind, reference[name], current[name], THRESHOLDS)
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
