"""Validation: data that fits the contract passes, and each way data can be wrong gives one line.

The tests find the columns to break through the contract, so they keep working when the
contract describes another data set. Where the configured contract has no column of the kind a
test needs, the test uses a contract of its own that does, so no behaviour goes unproven.
"""

from collections.abc import Callable
from dataclasses import dataclass

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.data.contract import Column, DataContract
from {{ cookiecutter.package_name }}.data.validation import id_columns, validate
from {{ cookiecutter.package_name }}.errors import DataValidationError


@dataclass(frozen=True)
class Case:
    """A contract, a copy of rows that fit it (to break), and the feature a test is about."""

    contract: DataContract
    rows: pd.DataFrame
    column: Column


@pytest.fixture
def case_of(
    contract: DataContract,
    sample: pd.DataFrame,
    generate: Callable[..., pd.DataFrame],
    every_kind: Callable[..., DataContract],
) -> Callable[[Callable[[Column], bool]], Case]:
    """The configured contract and rows if it has a feature that matches; else ones that do."""

    def pick(matches: Callable[[Column], bool]) -> Case:
        found = next((f for f in contract.features if matches(f)), None)
        if found is not None:
            return Case(contract, sample, found)
        own = every_kind(contract.target, id_column=contract.id_column)
        column = next(f for f in own.features if matches(f))
        return Case(own, generate(own, len(sample), seed=1), column)

    return pick


@pytest.fixture
def with_id(
    contract: DataContract,
    sample: pd.DataFrame,
    generate: Callable[..., pd.DataFrame],
    every_kind: Callable[..., DataContract],
) -> tuple[DataContract, pd.DataFrame, str]:
    """The configured contract and rows if it has an ID column; else ones with an ID column."""
    if contract.id_column is None:
        contract = every_kind(contract.target, id_column="record id")
        sample = generate(contract, len(sample), seed=1)
    assert contract.id_column is not None
    return contract, sample, contract.id_column


def columns_in_order(contract: DataContract) -> list[str]:
    """The id column (if any), then the target and the features."""
    return [*id_columns(contract), *(c.name for c in contract.columns)]


def problems(frame: pd.DataFrame, contract: DataContract) -> list[str]:
    with pytest.raises(DataValidationError) as caught:
        validate(frame, contract)
    assert all("\n" not in problem for problem in caught.value.problems)
    return caught.value.problems


def assert_typed(valid: pd.DataFrame, contract: DataContract) -> None:
    for name in contract.features_of_type("numeric"):
        assert valid[name].dtype == "float64"
    for name in contract.features_of_type("datetime"):
        assert pd.api.types.is_datetime64_any_dtype(valid[name])
    for name in contract.features_of_type("boolean"):
        assert valid[name].dtype == "boolean"
    for name in [*contract.features_of_type("categorical"), *id_columns(contract)]:
        assert valid[name].dtype == "string"


def test_data_that_fits_is_valid_and_typed(raw_data: pd.DataFrame, contract: DataContract) -> None:
    valid = validate(raw_data, contract)

    assert len(valid) == len(raw_data)
    assert list(valid.columns) == columns_in_order(contract)
    assert_typed(valid, contract)


@pytest.mark.parametrize("id_column", [None, "record id"])
def test_data_with_or_without_an_id_column_is_valid_and_typed(
    contract: DataContract,
    generate: Callable[..., pd.DataFrame],
    every_kind: Callable[..., DataContract],
    id_column: str | None,
) -> None:
    own = every_kind(contract.target, id_column=id_column)
    rows = generate(own, 200, seed=2)

    valid = validate(rows, own)

    assert list(valid.columns) == columns_in_order(own)
    assert_typed(valid, own)
    assert valid["open number (€)"].isna().any(), "nullable columns hold missing values"


def test_an_id_column_the_contract_does_not_name_is_refused(
    contract: DataContract,
    generate: Callable[..., pd.DataFrame],
    every_kind: Callable[..., DataContract],
) -> None:
    own = every_kind(contract.target)
    rows = generate(own, 50, seed=3).assign(**{"record id": [f"r{n}" for n in range(50)]})

    assert problems(rows, own) == [
        "column 'record id': not in the contract (add it to the contract or drop it from the data)"
    ]


def test_missing_column_is_named(sample: pd.DataFrame, contract: DataContract) -> None:
    dropped = contract.features[0].name

    assert f"column {dropped!r}: missing (the contract expects it)" in problems(
        sample.drop(columns=dropped), contract
    )


def test_extra_column_is_named(sample: pd.DataFrame, contract: DataContract) -> None:
    extra = "surprise" + "!" * max(len(name) for name in sample.columns)  # no column's name
    found = problems(sample.assign(**{extra: 1}), contract)

    assert found == [
        f"column {extra!r}: not in the contract (add it to the contract or drop it from the data)"
    ]


def test_text_in_a_numeric_column_is_counted(case_of: Callable[..., Case]) -> None:
    case = case_of(lambda f: f.type == "numeric")
    name, rows = case.column.name, case.rows
    rows[name] = rows[name].astype("object")
    rows.loc[rows.index[:3], name] = "lots"

    assert problems(rows, case.contract) == [
        f"column {name!r}: 3 rows that are not numbers (e.g. 'lots')"
    ]


def test_value_above_the_maximum_is_counted(case_of: Callable[..., Case]) -> None:
    case = case_of(lambda f: f.type == "numeric" and f.max is not None)
    column, rows = case.column, case.rows
    assert column.max is not None
    rows.loc[rows.index[:2], column.name] = column.max + 1

    assert problems(rows, case.contract) == [
        f"column {column.name!r}: 2 rows above the maximum {column.max:g} (e.g. {column.max + 1.0!r})"
    ]


def test_value_below_the_minimum_is_counted(case_of: Callable[..., Case]) -> None:
    case = case_of(lambda f: f.type == "numeric" and f.min is not None)
    column, rows = case.column, case.rows
    assert column.min is not None
    rows.loc[rows.index[:1], column.name] = column.min - 1

    assert problems(rows, case.contract) == [
        f"column {column.name!r}: 1 row below the minimum {column.min:g} (e.g. {column.min - 1.0!r})"
    ]


def test_unknown_category_is_counted_with_the_allowed_ones(case_of: Callable[..., Case]) -> None:
    case = case_of(lambda f: f.categories is not None and f.unknown_categories == "reject")
    column, rows = case.column, case.rows
    unseen = "never-seen-" + "".join(map(str, column.categories or ()))
    rows[column.name] = rows[column.name].astype("object")
    rows.loc[rows.index[:4], column.name] = unseen

    assert problems(rows, case.contract) == [
        f"column {column.name!r}: 4 rows with unknown categories (e.g. {unseen!r}); allowed: "
        + ", ".join(map(str, column.categories or ()))
    ]


def test_unknown_category_passes_where_the_contract_accepts_it(
    case_of: Callable[..., Case],
) -> None:
    case = case_of(lambda f: f.unknown_categories == "accept")
    column, rows = case.column, case.rows
    unseen = "never-seen-" + "".join(map(str, column.categories or ()))
    rows[column.name] = rows[column.name].astype("object")
    rows.loc[rows.index[:4], column.name] = unseen

    validated = validate(rows, case.contract)
    assert (validated[column.name] == unseen).sum() == 4


def open_text(column: Column) -> bool:
    """A text column that takes values beyond a listed set: only their length is bounded."""
    return column.type == "categorical" and (
        column.categories is None or column.unknown_categories == "accept"
    )


def test_text_longer_than_the_limit_is_counted(case_of: Callable[..., Case]) -> None:
    case = case_of(open_text)
    column, rows = case.column, case.rows
    limit = case.contract.max_length_of(column)
    rows[column.name] = rows[column.name].astype("object")
    rows.loc[rows.index[:3], column.name] = "x" * (limit + 1)
    rows.loc[rows.index[3], column.name] = "x" * limit

    assert problems(rows, case.contract) == [
        f"column {column.name!r}: 3 rows longer than {limit:,} characters"
    ]


def test_a_columns_own_max_length_applies(case_of: Callable[..., Case]) -> None:
    case = case_of(open_text)
    column, rows = case.column, case.rows
    limit = 2 + max(len(str(value)) for value in rows[column.name].dropna())
    features = tuple(
        f.model_copy(update={"max_length": limit}) if f is column else f
        for f in case.contract.features
    )
    contract = case.contract.model_copy(update={"features": features})
    rows[column.name] = rows[column.name].astype("object")
    rows.loc[rows.index[:2], column.name] = "x" * (limit + 1)

    assert problems(rows, contract) == [
        f"column {column.name!r}: 2 rows longer than {limit:,} characters"
    ]


def test_an_id_longer_than_the_limit_is_counted(
    with_id: tuple[DataContract, pd.DataFrame, str],
) -> None:
    contract, sample, id_column = with_id
    sample.loc[sample.index[0], id_column] = "x" * (contract.max_string_length + 1)

    assert problems(sample, contract) == [
        f"column {id_column!r}: 1 row longer than {contract.max_string_length:,} characters"
    ]


def test_a_value_in_a_message_is_cut_to_80_characters(case_of: Callable[..., Case]) -> None:
    case = case_of(lambda f: f.type == "numeric")
    name, rows = case.column.name, case.rows
    rows[name] = rows[name].astype("object")
    rows.loc[rows.index[0], name] = "start-" + "x" * 1_000_000 + "-end"

    [problem] = problems(rows, case.contract)

    example = problem.split("(e.g. ", 1)[1].removesuffix(")")
    assert len(example) <= 80
    assert example.startswith("'start-x")
    assert example.endswith("x-end'")
    assert "..." in example


def test_null_in_a_non_nullable_column_is_counted(case_of: Callable[..., Case]) -> None:
    case = case_of(lambda f: not f.nullable)
    column, rows = case.column, case.rows
    rows[column.name] = rows[column.name].astype("object")
    rows.loc[rows.index[:5], column.name] = None

    assert problems(rows, case.contract) == [
        f"column {column.name!r}: 5 rows with no value, but the contract says nullable: false"
    ]


def test_duplicate_ids_are_counted(with_id: tuple[DataContract, pd.DataFrame, str]) -> None:
    contract, sample, id_column = with_id
    sample.loc[sample.index[1], id_column] = sample.loc[sample.index[0], id_column]

    [problem] = problems(sample, contract)
    assert problem.startswith(f"column {id_column!r}: 2 rows that share their ID with another row")


def test_all_null_target_is_refused(sample: pd.DataFrame, contract: DataContract) -> None:
    sample[contract.target.name] = None

    found = problems(sample, contract)
    assert (
        f"column {contract.target.name!r}: {len(sample):,} rows with no value, but the contract says nullable: false"
        in found
    )
    assert any("nothing to learn" in problem for problem in found)


def test_constant_target_is_refused(sample: pd.DataFrame, contract: DataContract) -> None:
    sample[contract.target.name] = sample[contract.target.name].iloc[0]

    assert problems(sample, contract) == [
        f"column {contract.target.name!r}: all {len(sample):,} rows hold the same value or none: nothing to learn"
    ]


def test_empty_data_is_refused(sample: pd.DataFrame, contract: DataContract) -> None:
    assert problems(sample.head(0), contract) == ["the data has no rows"]


def test_data_to_score_may_lack_the_target(sample: pd.DataFrame, contract: DataContract) -> None:
    valid = validate(sample.drop(columns=contract.target.name), contract, require_target=False)

    assert contract.target.name not in valid.columns


def test_every_problem_is_reported_at_once(sample: pd.DataFrame, contract: DataContract) -> None:
    broken = sample.drop(columns=contract.features[0].name).assign(surprise=1)

    assert len(problems(broken, contract)) == 2
