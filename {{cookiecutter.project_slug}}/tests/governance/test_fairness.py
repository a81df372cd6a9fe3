"""The fairness audit: each protected column's groups scored, and each metric's gap between them."""

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.data.contract import Column, DataContract
from {{ cookiecutter.package_name }}.governance.fairness import (
    MIN_GROUP_ROWS,
    audit,
    fairness_figure,
)

{%- if cookiecutter.task == "classification" %}

TARGET = Column(name="label", type="categorical", categories=("stay", "leave"), positive="leave")
{%- else %}

TARGET = Column(name="label", type="numeric")
{%- endif %}


def contract(*, protected: bool = True) -> DataContract:
    return DataContract(
        name="people",
        target=TARGET,
        features=(
            Column(name="group", type="categorical", categories=("a", "b"), protected=protected),
            Column(name="age", type="numeric", min=18, max=90, protected=protected),
            Column(name="score", type="numeric"),
        ),
    )


def people(rows: int = 400) -> pd.DataFrame:
    """Half in each group, ages spread evenly."""
    return pd.DataFrame(
        {
            "group": np.repeat(["a", "b"], rows // 2),
            "age": np.tile(np.linspace(18, 90, rows // 2), 2),
            "score": np.zeros(rows),
        }
    )


def outcomes(rows: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """True values, and predictions that treat group b worse than group a."""
    in_b = (rows["group"] == "b").to_numpy()
{%- if cookiecutter.task == "classification" %}
    truth = np.where(np.arange(len(rows)) % 2 == 0, "leave", "stay")
    # a: every row predicted "leave"; b: none, so b's selection rate is 0 and a's is 1.
    predicted = np.where(in_b, "stay", "leave")
{%- else %}
    truth = np.full(len(rows), 100.0)
    predicted = np.where(in_b, 130.0, 100.0)  # b's predictions are 30 too high
{%- endif %}
    return truth, predicted


def test_each_group_of_each_protected_column_is_scored_with_its_rows() -> None:
    rows = people()
    truth, predicted = outcomes(rows)

    result = audit(truth, predicted, rows, contract())

    assert result is not None
    table = result.by_group.set_index(["column", "group"])
    assert table.loc[("group", "a"), "rows"] == table.loc[("group", "b"), "rows"] == 200
    ages = result.by_group[result.by_group["column"] == "age"]
    assert len(ages) == 4  # quartiles
    assert ages["rows"].sum() == len(rows)
    assert "score" not in set(result.by_group["column"])
{%- if cookiecutter.task == "classification" %}
    assert table.loc[("group", "a"), "selection_rate"] == 1.0
    assert table.loc[("group", "b"), "selection_rate"] == 0.0
    assert result.largest_gap("selection_rate") == (1.0, "group")
    assert result.largest_gap("accuracy")[0] == pytest.approx(0.0)
{%- else %}
    assert table.loc[("group", "b"), "mean_error"] == pytest.approx(30.0)
    assert result.largest_gap("mae") == (pytest.approx(30.0), "group")
    assert result.largest_gap("mean_prediction") == (pytest.approx(30.0), "group")
{%- endif %}


def test_groups_too_small_to_mean_anything_are_listed_but_not_in_the_gap() -> None:
    rows = people()
    rows["group"] = ["a"] * (MIN_GROUP_ROWS - 1) + ["b"] * (len(rows) - MIN_GROUP_ROWS + 1)
    truth, predicted = outcomes(rows)

    result = audit(truth, predicted, rows, contract())

    assert result is not None
    groups = result.by_group[result.by_group["column"] == "group"]
    assert groups.set_index("group").loc["a", "rows"] == MIN_GROUP_ROWS - 1
    gaps = result.gaps[result.gaps["column"] == "group"]
    assert gaps["gap"].isna().all()  # one group with enough rows: no gap to measure


def test_missing_values_are_a_group_of_their_own() -> None:
    rows = people()
    rows.loc[:99, "group"] = None

    result = audit(*outcomes(rows), rows, contract())

    assert result is not None
    assert "(missing)" in set(result.by_group["group"])


def test_no_protected_column_means_no_audit() -> None:
    rows = people()

    assert audit(*outcomes(rows), rows, contract(protected=False)) is None


def test_the_figure_has_a_bar_per_group_and_metric() -> None:
    rows = people()
    result = audit(*outcomes(rows), rows, contract())
    assert result is not None

    figure = fairness_figure(result)

    metrics = len(result.gaps["metric"].unique())
    assert len(figure.axes[0].patches) == len(result.by_group) * metrics
