"""The data contract: the shipped one is valid, mistakes are caught, and inference round-trips."""

from pathlib import Path

import pandas as pd
import pytest
import yaml

from {{ cookiecutter.package_name }}.contract import (
    DataContract,
    dump_contract,
    infer_column,
    infer_contract,
    load_contract,
    name_for,
)
from {{ cookiecutter.package_name }}.errors import ConfigError
from {{ cookiecutter.package_name }}.validation import validate


def contract_dict(contract: DataContract) -> dict[str, object]:
    loaded: dict[str, object] = yaml.safe_load(dump_contract(contract))
    return loaded


def write(tmp_path: Path, values: object) -> Path:
    path = tmp_path / "contract.yaml"
    path.write_text(yaml.safe_dump(values), encoding="utf-8")
    return path


def test_shipped_contract_describes_the_shipped_data(
    contract: DataContract, raw_data: pd.DataFrame
) -> None:
    assert contract.id_column in raw_data.columns
    assert sorted(raw_data.columns) == sorted(
        [contract.id_column, *(c.name for c in contract.columns)]
    )
    assert all(feature.description for feature in contract.features)


def test_dump_and_load_round_trip(contract: DataContract, tmp_path: Path) -> None:
    path = tmp_path / "contract.yaml"
    path.write_text(dump_contract(contract), encoding="utf-8")

    assert load_contract(path) == contract


def test_unknown_key_is_refused_by_name(contract: DataContract, tmp_path: Path) -> None:
    values = contract_dict(contract) | {"targte": "oops"}

    with pytest.raises(ConfigError, match="targte: Extra inputs are not permitted"):
        load_contract(write(tmp_path, values))


def test_range_on_a_categorical_column_is_refused(contract: DataContract, tmp_path: Path) -> None:
    values = contract_dict(contract)
    values["features"] = [{"name": "colour", "type": "categorical", "min": 0}]

    with pytest.raises(ConfigError, match="colour: min and max apply to numeric columns only"):
        load_contract(write(tmp_path, values))


def test_min_above_max_is_refused(contract: DataContract, tmp_path: Path) -> None:
    values = contract_dict(contract)
    values["features"] = [{"name": "age", "type": "numeric", "min": 10, "max": 1}]

    with pytest.raises(ConfigError, match=r"age: min 10\.0 is greater than max 1\.0"):
        load_contract(write(tmp_path, values))


def test_a_column_named_twice_is_refused(contract: DataContract, tmp_path: Path) -> None:
    values = contract_dict(contract)
    values["features"] = [{"name": contract.id_column, "type": "numeric"}]

    with pytest.raises(ConfigError, match=f"appear more than once: {contract.id_column}"):
        load_contract(write(tmp_path, values))


def test_missing_contract_says_how_to_write_one(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="schema infer"):
        load_contract(tmp_path / "absent.yaml")


def test_inferred_contract_validates_the_data_it_came_from(
    raw_data: pd.DataFrame, contract: DataContract
) -> None:
    inferred = infer_contract(
        raw_data, name="sample", target=contract.target.name, id_column=contract.id_column
    )

    validated = validate(raw_data, inferred)

    assert len(validated) == len(raw_data)
    assert [f.name for f in inferred.features] == contract.feature_names
    assert [f.type for f in inferred.features] == [f.type for f in contract.features]


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
        infer_contract(raw_data, name="sample", target="nope", id_column=contract.id_column)


@pytest.mark.parametrize(
    ("location", "name"),
    [
        ("data/raw/My Sales-2024.csv", "my_sales_2024"),
        ("https://x.org/2024.parquet?a=1", "data_2024"),
    ],
)
def test_name_for_makes_an_identifier(location: str, name: str) -> None:
    assert name_for(location) == name
