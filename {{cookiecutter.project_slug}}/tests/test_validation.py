"""Validation: the shipped data passes, and each way data can be wrong gives one clear line.

The tests find the columns to break through the contract, so they keep working when the
contract describes another data set.
"""

from collections.abc import Callable

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.contract import Column, DataContract
from {{ cookiecutter.package_name }}.errors import DataValidationError
from {{ cookiecutter.package_name }}.validation import validate


def feature(contract: DataContract, matches: Callable[[Column], bool], what: str) -> Column:
    found = next((f for f in contract.features if matches(f)), None)
    if found is None:
        pytest.skip(f"the contract has no {what}")
    return found


def problems(frame: pd.DataFrame, contract: DataContract) -> list[str]:
    with pytest.raises(DataValidationError) as caught:
        validate(frame, contract)
    assert all("\n" not in problem for problem in caught.value.problems)
    return caught.value.problems


def test_shipped_data_is_valid_and_typed(raw_data: pd.DataFrame, contract: DataContract) -> None:
    valid = validate(raw_data, contract)

    assert len(valid) == len(raw_data)
    assert list(valid.columns) == [contract.id_column, *(c.name for c in contract.columns)]
    for name in contract.features_of_type("numeric"):
        assert valid[name].dtype == "float64"
    for name in contract.features_of_type("datetime"):
        assert pd.api.types.is_datetime64_any_dtype(valid[name])


def test_missing_column_is_named(sample: pd.DataFrame, contract: DataContract) -> None:
    dropped = contract.features[0].name

    assert f"column {dropped!r}: missing (the contract expects it)" in problems(
        sample.drop(columns=dropped), contract
    )


def test_extra_column_is_named(sample: pd.DataFrame, contract: DataContract) -> None:
    found = problems(sample.assign(surprise=1), contract)

    assert found == [
        "column 'surprise': not in the contract (add it to the contract or drop it from the data)"
    ]


def test_text_in_a_numeric_column_is_counted(sample: pd.DataFrame, contract: DataContract) -> None:
    column = feature(contract, lambda f: f.type == "numeric", "numeric feature").name
    sample[column] = sample[column].astype("object")
    sample.loc[sample.index[:3], column] = "lots"

    assert problems(sample, contract) == [
        f"column {column!r}: 3 rows that are not numbers (e.g. 'lots')"
    ]


def test_value_above_the_maximum_is_counted(sample: pd.DataFrame, contract: DataContract) -> None:
    column = feature(
        contract,
        lambda f: f.type == "numeric" and f.max is not None,
        "numeric feature with a maximum",
    )
    sample.loc[sample.index[:2], column.name] = (column.max or 0) + 1

    assert problems(sample, contract) == [
        f"column {column.name!r}: 2 rows above the maximum {column.max:g} (e.g. {(column.max or 0) + 1.0!r})"
    ]


def test_value_below_the_minimum_is_counted(sample: pd.DataFrame, contract: DataContract) -> None:
    column = feature(
        contract,
        lambda f: f.type == "numeric" and f.min is not None,
        "numeric feature with a minimum",
    )
    sample.loc[sample.index[:1], column.name] = (column.min or 0) - 1

    assert problems(sample, contract)[0].startswith(
        f"column {column.name!r}: 1 row below the minimum"
    )


def test_unknown_category_is_counted_with_the_allowed_ones(
    sample: pd.DataFrame, contract: DataContract
) -> None:
    column = feature(
        contract,
        lambda f: f.categories is not None and f.unknown_categories == "reject",
        "categorical feature that rejects unknown categories",
    )
    sample.loc[sample.index[:4], column.name] = "platinum"

    [problem] = problems(sample, contract)
    assert problem.startswith(
        f"column {column.name!r}: 4 rows with unknown categories (e.g. 'platinum'); allowed: "
    )


def test_unknown_category_passes_where_the_contract_accepts_it(
    sample: pd.DataFrame, contract: DataContract
) -> None:
    column = feature(
        contract,
        lambda f: f.unknown_categories == "accept",
        "categorical feature that accepts unknown categories",
    )
    sample.loc[sample.index[:4], column.name] = "platinum"

    validated = validate(sample, contract)
    assert (validated[column.name] == "platinum").sum() == 4


def test_null_in_a_non_nullable_column_is_counted(
    sample: pd.DataFrame, contract: DataContract
) -> None:
    column = feature(contract, lambda f: not f.nullable, "non-nullable feature")
    sample.loc[sample.index[:5], column.name] = None

    assert problems(sample, contract) == [
        f"column {column.name!r}: 5 rows with no value, but the contract says nullable: false"
    ]


def test_duplicate_ids_are_counted(sample: pd.DataFrame, contract: DataContract) -> None:
    sample.loc[sample.index[1], contract.id_column] = sample.loc[
        sample.index[0], contract.id_column
    ]

    [problem] = problems(sample, contract)
    assert problem.startswith(
        f"column {contract.id_column!r}: 2 rows that share their ID with another row"
    )


def test_all_null_target_is_refused(sample: pd.DataFrame, contract: DataContract) -> None:
    sample[contract.target.name] = None

    found = problems(sample, contract)
    assert (
        f"column {contract.target.name!r}: 300 rows with no value, but the contract says nullable: false"
        in found
    )
    assert any("nothing to learn" in problem for problem in found)


def test_constant_target_is_refused(sample: pd.DataFrame, contract: DataContract) -> None:
    sample[contract.target.name] = sample[contract.target.name].iloc[0]

    assert problems(sample, contract) == [
        f"column {contract.target.name!r}: all 300 rows hold the same value or none: nothing to learn"
    ]


def test_empty_data_is_refused(sample: pd.DataFrame, contract: DataContract) -> None:
    assert problems(sample.head(0), contract) == ["the data has no rows"]


def test_data_to_score_may_lack_the_target(sample: pd.DataFrame, contract: DataContract) -> None:
    valid = validate(sample.drop(columns=contract.target.name), contract, require_target=False)

    assert contract.target.name not in valid.columns


def test_every_problem_is_reported_at_once(sample: pd.DataFrame, contract: DataContract) -> None:
    broken = sample.drop(columns=contract.features[0].name).assign(surprise=1)

    assert len(problems(broken, contract)) == 2
