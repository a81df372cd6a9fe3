"""The request schema generated from the data contract."""

from collections.abc import Callable
from typing import Any

import pandas as pd
import pytest
from pydantic import ValidationError

from {{ cookiecutter.package_name }}.data.contract import Column, DataContract
from {{ cookiecutter.package_name }}.data.validation import validate
from {{ cookiecutter.package_name }}.serving.schemas import (
    batch_model,
    example_record,
    record_model,
)


def make_contract(*features: Column, id_column: str | None = "id") -> DataContract:
    return DataContract(
        name="things",
        id_column=id_column,
        target=Column(name="target", type="numeric"),
        features=features,
    )


def test_the_example_record_is_itself_valid(contract: DataContract) -> None:
    record = record_model(contract)
    assert record.model_validate(example_record(contract))


def test_any_column_name_becomes_a_field() -> None:
    contract = make_contract(
        Column(name="monthly spend (€)", type="numeric"),
        Column(name="model_config", type="boolean"),
        Column(name="class", type="categorical", categories=("a", "b")),
    )
    record = record_model(contract)
    parsed = record.model_validate({"monthly spend (€)": 3, "model_config": True, "class": "a"})
    assert parsed.model_dump(by_alias=True) == {
        "monthly spend (€)": 3.0,
        "model_config": True,
        "class": "a",
    }


@pytest.mark.parametrize(
    ("column", "good", "bad"),
    [
        (Column(name="x", type="numeric", min=0, max=10), 10, 10.5),
        (Column(name="x", type="numeric"), 1e300, float("inf")),
        (Column(name="x", type="boolean"), False, 0),
        (Column(name="x", type="categorical", categories=(1, 2)), 2, 3),
        (
            Column(name="x", type="categorical", categories=(1, 2), unknown_categories="accept"),
            3,
            None,
        ),
        (Column(name="x", type="categorical"), "anything", 5),
        (Column(name="x", type="datetime"), "2024-02-29T12:00:00+01:00", "2024-02-30"),
        (Column(name="x", type="datetime"), "2024-02-29", 1_700_000_000),
        (Column(name="x", type="datetime"), "2024-02-29T12:00:00Z", "1700000000"),
        (Column(name="x", type="datetime"), "20240229", "1700000000.5"),
    ],
)
def test_each_type_accepts_and_refuses_what_the_contract_says(
    column: Column, good: Any, bad: Any
) -> None:
    record = record_model(make_contract(column))
    record.model_validate({"x": good})
    with pytest.raises(ValidationError):
        record.model_validate({"x": bad})


def test_aware_datetimes_arrive_as_utc_and_unreadable_years_as_unknown() -> None:
    record = record_model(make_contract(Column(name="x", type="datetime")))
    parsed = record.model_validate({"x": "2024-02-29T12:00:00+01:00"}).model_dump(by_alias=True)
    assert parsed["x"].isoformat() == "2024-02-29T11:00:00"
    assert record.model_validate({"x": "0335-10-22T01:59:20"}).model_dump()["f0"] is None


def test_a_date_is_iso_8601_text_never_seconds_since_1970() -> None:
    record = record_model(make_contract(Column(name="x", type="datetime")))
    parsed = record.model_validate({"x": "20240229"}).model_dump(by_alias=True)
    assert parsed["x"].isoformat() == "2024-02-29T00:00:00"  # ISO 8601 basic, as pandas reads it
    with pytest.raises(ValidationError, match="ISO 8601") as caught:
        record.model_validate({"x": "1700000000"})
    assert "1700000000" not in caught.value.errors()[0]["msg"]


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_a_moment_that_overflows_in_utc_counts_as_unknown(moment: str) -> None:
    """Years pandas cannot hold are unknown (None), checked before the move to UTC overflows."""
    record = record_model(make_contract(Column(name="x", type="datetime")))
    assert record.model_validate({"x": moment}).model_dump()["f0"] is None


@pytest.mark.parametrize(
    "column",
    [
        Column(name="x", type="categorical"),
        Column(name="x", type="categorical", categories=("a",), unknown_categories="accept"),
        Column(name="x", type="categorical", categories=(1, 2), unknown_categories="accept"),
    ],
)
def test_text_is_at_most_the_contracts_max_length(column: Column) -> None:
    contract = make_contract(column).model_copy(update={"max_string_length": 5})
    record = record_model(contract)
    record.model_validate({"x": "x" * 5})
    with pytest.raises(ValidationError, match="at most 5 characters"):
        record.model_validate({"x": "x" * 6})


def test_a_columns_max_length_overrides_the_contracts() -> None:
    contract = make_contract(Column(name="x", type="categorical", max_length=2))
    with pytest.raises(ValidationError, match="at most 2 characters"):
        record_model(contract).model_validate({"x": "xyz"})


def test_a_batch_holds_one_to_max_records(contract: DataContract) -> None:
    batch = batch_model(record_model(contract), contract, max_size=2)
    one = example_record(contract)
    batch.model_validate({"records": [one, one]})
    for size in (0, 3):
        with pytest.raises(ValidationError):
            batch.model_validate({"records": [one] * size})


@pytest.mark.parametrize("id_column", ["id", None])
def test_validated_rows_become_records_the_schema_accepts(
    id_column: str | None, to_records: Callable[..., list[dict[str, Any]]]
) -> None:
    contract = make_contract(
        Column(name="n", type="numeric", nullable=True),
        Column(name="flag", type="boolean"),
        Column(name="when", type="datetime"),
        Column(name="word", type="categorical", categories=("a", "b")),
        Column(name="code", type="categorical", categories=(1, 2, 3)),
        Column(
            name="open code",
            type="categorical",
            categories=(1, 2),
            unknown_categories="accept",
            nullable=True,
        ),
        id_column=id_column,
    )
    rows = pd.DataFrame(
        {
            "n": [1.5, None],
            "flag": ["true", "false"],
            "when": ["2024-02-29", "2024-03-01T12:00:00"],
            "word": ["a", "b"],
            "code": [3, 1],
            "open code": [2, 7],
            "target": [1.0, 2.0],
        }
    )
    if id_column is not None:
        rows.insert(0, id_column, ["x-1", "x-2"])

    records = to_records(validate(rows, contract), contract)

    assert records == [
        {
            "n": 1.5,
            "flag": True,
            "when": "2024-02-29T00:00:00",
            "word": "a",
            "code": 3,
            "open code": 2,
        },
        {
            "n": None,
            "flag": False,
            "when": "2024-03-01T12:00:00",
            "word": "b",
            "code": 1,
            "open code": "7",
        },
    ]
    record = record_model(contract)
    for one in records:
        record.model_validate(one)
