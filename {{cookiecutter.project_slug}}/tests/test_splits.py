"""Splitting: disjoint, reproducible, {% if cookiecutter.task == "classification" %}stratified, {% endif %}and by time when asked."""

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.config import SplitConfig
from {{ cookiecutter.package_name }}.contract import DataContract
from {{ cookiecutter.package_name }}.errors import ConfigError
from {{ cookiecutter.package_name }}.splits import split
from {{ cookiecutter.package_name }}.validation import validate


@pytest.fixture
def valid(raw_data: pd.DataFrame, contract: DataContract) -> pd.DataFrame:
    return validate(raw_data, contract)


def ids(frame: pd.DataFrame, contract: DataContract) -> set[str]:
    return set(frame[contract.id_column])


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


def test_time_split_tests_on_the_most_recent_rows(
    valid: pd.DataFrame, contract: DataContract
) -> None:
    dates = contract.features_of_type("datetime")
    if not dates:
        pytest.skip("the contract has no datetime feature")

    parts = split(valid, contract, SplitConfig(time_column=dates[0]), seed=0)

    assert parts.train[dates[0]].max() <= parts.validation[dates[0]].min()
    assert parts.validation[dates[0]].max() <= parts.test[dates[0]].min()


def test_time_split_on_a_column_that_is_not_a_date_is_refused(
    valid: pd.DataFrame, contract: DataContract
) -> None:
    with pytest.raises(ConfigError, match="is not a datetime feature of the contract"):
        split(valid, contract, SplitConfig(time_column=contract.id_column), seed=0)
