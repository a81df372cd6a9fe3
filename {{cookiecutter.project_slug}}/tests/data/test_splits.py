"""Splitting: disjoint, reproducible, {% if cookiecutter.task == "classification" %}stratified, {% endif %}and by time when asked."""

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.config import SplitConfig
from {{ cookiecutter.package_name }}.data.contract import Column, DataContract
from {{ cookiecutter.package_name }}.data.splits import check_splittable, row_keys, split
from {{ cookiecutter.package_name }}.data.validation import validate
from {{ cookiecutter.package_name }}.errors import ConfigError


@pytest.fixture
def valid(raw_data: pd.DataFrame, contract: DataContract) -> pd.DataFrame:
    return validate(raw_data, contract)


def ids(frame: pd.DataFrame, contract: DataContract) -> set[object]:
    """Which rows a part holds: their positions in the data (an id column is optional)."""
    return set(frame.index)


def test_parts_are_disjoint_and_cover_everything(
    valid: pd.DataFrame, contract: DataContract
) -> None:
    parts = split(valid, contract, SplitConfig(validation_size=0.2, test_size=0.1), seed=1)

    assert len(parts.train) + len(parts.validation) + len(parts.test) == len(valid)
    assert len(parts.test) == pytest.approx(0.1 * len(valid), abs=2)
    assert len(parts.validation) == pytest.approx(0.2 * len(valid), abs=2)
    assert not ids(parts.train, contract) & ids(parts.test, contract)
    assert not ids(parts.validation, contract) & ids(parts.test, contract)


def test_same_seed_same_split_other_seed_other_split(
    valid: pd.DataFrame, contract: DataContract
) -> None:
    config = SplitConfig()

    first, again, other = (split(valid, contract, config, seed=seed) for seed in (7, 7, 8))

    assert ids(first.test, contract) == ids(again.test, contract)
    assert ids(first.test, contract) != ids(other.test, contract)
{%- if cookiecutter.task == "classification" %}


def test_random_split_keeps_the_class_balance(valid: pd.DataFrame, contract: DataContract) -> None:
    parts = split(valid, contract, SplitConfig(), seed=3)
    target = contract.target.name
    overall = valid[target].value_counts(normalize=True)

    for part in (parts.train, parts.validation, parts.test):
        shares = part[target].value_counts(normalize=True)
        assert (shares - overall).abs().max() < 0.01
{%- endif %}


#: A target the project's task can learn, for tables of the tests' own.
{%- if cookiecutter.task == "classification" %}
TARGET = Column(name="label", type="categorical", categories=("a", "b"))
VALUES: list[object] = ["a", "b"]
{%- else %}
TARGET = Column(name="label", type="numeric")
VALUES: list[object] = [1.5, 2.5]
{%- endif %}


def dated(rows: int) -> tuple[pd.DataFrame, DataContract]:
    """A table with a date column, its rows shuffled, and its contract."""
    contract = DataContract(
        name="dated",
        target=TARGET,
        features=(Column(name="sold on", type="datetime"), Column(name="x", type="numeric")),
    )
    order = np.random.default_rng(0).permutation(rows)
    frame = pd.DataFrame(
        {
            "sold on": pd.Timestamp("2024-01-01") + pd.to_timedelta(order, unit="D"),
            "x": np.arange(rows, dtype=float),
            "label": [VALUES[number % len(VALUES)] for number in range(rows)],
        }
    )
    return frame, contract


def test_time_split_tests_on_the_most_recent_rows() -> None:
    frame, contract = dated(200)

    parts = split(frame, contract, SplitConfig(time_column="sold on"), seed=0)

    assert len(parts.train) + len(parts.validation) + len(parts.test) == len(frame)
    assert parts.train["sold on"].max() < parts.validation["sold on"].min()
    assert parts.validation["sold on"].max() < parts.test["sold on"].min()
    assert len(parts.test) == pytest.approx(0.15 * len(frame), abs=1)


def test_time_split_on_the_configured_data_when_it_has_a_date(
    valid: pd.DataFrame, contract: DataContract
) -> None:
    dates = contract.features_of_type("datetime")
    if not dates:
        pytest.skip("the configured contract has no datetime feature (the test above covers it)")

    parts = split(valid, contract, SplitConfig(time_column=dates[0]), seed=0)

    assert parts.train[dates[0]].max() <= parts.validation[dates[0]].min()
    assert parts.validation[dates[0]].max() <= parts.test[dates[0]].min()


def test_row_keys_are_equal_for_equal_rows_and_differ_otherwise(
    valid: pd.DataFrame, contract: DataContract
) -> None:
    rows = valid.head(50)
    moved = rows.iloc[::-1].reset_index(drop=True)  # other positions, other index
    changed = rows.copy()
    changed[contract.target.name] = rows[contract.target.name].iloc[::-1].to_numpy()

    keys = row_keys(rows, contract)

    assert len(keys) == len(rows)
    assert list(row_keys(moved, contract)) == list(keys[::-1])
    differs = rows[contract.target.name].to_numpy() != changed[contract.target.name].to_numpy()
    assert differs.any()
    assert ((row_keys(changed, contract) != keys) == differs).all()


def test_time_split_on_a_column_that_is_not_a_date_is_refused(
    valid: pd.DataFrame, contract: DataContract
) -> None:
    with pytest.raises(ConfigError, match="is not a datetime feature of the contract"):
        split(valid, contract, SplitConfig(time_column=contract.target.name), seed=0)
{%- if cookiecutter.task == "classification" %}


def test_a_class_too_rare_to_split_is_refused_by_name() -> None:
    frame, contract = dated(200)
    frame.loc[frame.index[:5], "label"] = "a"
    frame.loc[frame.index[5:], "label"] = "b"

    with pytest.raises(ConfigError, match=r"too few rows of some classes.*'a' \(5\).*at least 14"):
        check_splittable(frame, contract, SplitConfig())


def test_enough_rows_of_every_class_can_be_split() -> None:
    frame, contract = dated(28)

    check_splittable(frame, contract, SplitConfig())
    parts = split(frame, contract, SplitConfig(), seed=0)

    for part in (parts.train, parts.validation, parts.test):
        assert set(part["label"]) == {"a", "b"}
{%- else %}


def test_too_few_rows_to_split_are_refused() -> None:
    frame, contract = dated(69)

    with pytest.raises(ConfigError, match=r"69 rows are too few to split.*at least 70"):
        check_splittable(frame, contract, SplitConfig())


def test_enough_rows_can_be_split() -> None:
    frame, contract = dated(70)

    parts = split(frame, contract, SplitConfig(), seed=0)

    assert min(len(parts.train), len(parts.validation), len(parts.test)) >= 2
{%- endif %}
