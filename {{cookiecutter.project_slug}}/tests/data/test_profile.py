"""Contract inference: a first contract that fits its table, each type recognised, mistakes refused."""

from pathlib import Path

import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.data.contract import TASK, DataContract
from {{ cookiecutter.package_name }}.data.datasets import read_table
from {{ cookiecutter.package_name }}.data.profile import (
    infer_column,
    infer_contract,
    name_for,
)
from {{ cookiecutter.package_name }}.data.validation import validate
from {{ cookiecutter.package_name }}.errors import ConfigError


def test_inferred_contract_validates_the_data_it_came_from(
    raw_data: pd.DataFrame, contract: DataContract, tmp_path: Path
) -> None:
    raw_data.to_csv(tmp_path / "rows.csv", index=False)
    rows = read_table(str(tmp_path / "rows.csv"))  # as a file brings them: types from text
    inferred = infer_contract(
        rows,
        name="rows",
        target=contract.target.name,
        task=TASK,
        id_column=contract.id_column,
    )

    validated = validate(rows, inferred)

    assert len(validated) == len(rows)
    assert inferred.id_column == contract.id_column
    assert inferred.target.type == contract.target.type
    assert sorted(map(str, inferred.classes)) == sorted(map(str, contract.classes))
    assert [f.name for f in inferred.features] == contract.feature_names
    # Types can differ where the data allows both readings (a 0/1 category reads as boolean).


def test_infer_recognises_each_type() -> None:
    frame = pd.DataFrame(
        {
            "amount": [1.5, None, 3.0],
            "delta": [-1, 0, 2],
            "flag": ["true", "false", "true"],
            "day": ["2024-01-01", "2024-02-01", "2024-03-01"],
            "colour": ["red", "blue", "red"],
        }
    )

    columns = {name: infer_column(name, frame[name]) for name in frame.columns}

    assert (columns["amount"].type, columns["amount"].min, columns["amount"].nullable) == (
        "numeric",
        0.0,
        True,
    )
    assert columns["delta"].min is None
    assert columns["flag"].type == "boolean"
    assert columns["day"].type == "datetime"
    assert columns["colour"].categories == ("blue", "red")


def test_infer_with_an_unknown_target_names_the_columns(
    raw_data: pd.DataFrame, contract: DataContract
) -> None:
    with pytest.raises(ConfigError, match="target 'nope' is not a column: choose one of"):
        infer_contract(
            raw_data,
            name="sample",
            target="nope",
            task=TASK,
            id_column=contract.id_column,
        )


def test_infer_with_an_unknown_id_names_it(raw_data: pd.DataFrame, contract: DataContract) -> None:
    with pytest.raises(ConfigError, match="id column 'nope' is not a column"):
        infer_contract(
            raw_data,
            name="sample",
            target=contract.target.name,
            task=TASK,
            id_column="nope",
        )


def test_a_table_with_nothing_but_its_target_is_refused() -> None:
    frame = pd.DataFrame({"t": [1.0, 2.0, 3.0]})

    with pytest.raises(ConfigError, match="no column besides 't' to learn from"):
        infer_contract(frame, name="t", target="t", task="regression")


def test_an_empty_id_is_refused() -> None:
    frame = pd.DataFrame({"key": ["a", None, "c"], "x": [1, 2, 3], "t": [1.0, 2.0, 3.0]})

    with pytest.raises(ConfigError, match="0 repeated and 1 empty values"):
        infer_contract(frame, name="t", target="t", task="regression", id_column="key")


@pytest.mark.parametrize(
    ("location", "name"),
    [
        ("data/raw/My Sales-2024.csv", "my_sales_2024"),
        ("https://x.org/2024.parquet?a=1", "data_2024"),
    ],
)
def test_name_for_makes_an_identifier(location: str, name: str) -> None:
    assert name_for(location) == name
