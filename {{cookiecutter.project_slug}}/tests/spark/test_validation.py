"""Spark validation: the pandas path's types, and its lines word for word on a bad file."""

from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from pyspark.sql import SparkSession

from {{ cookiecutter.package_name }}.data.contract import Column, DataContract
from {{ cookiecutter.package_name }}.data.validation import validate as validate_in_pandas
from {{ cookiecutter.package_name }}.errors import DataSourceError, DataValidationError
from {{ cookiecutter.package_name }}.spark.session import read
from {{ cookiecutter.package_name }}.spark.validation import validate

Write = Callable[[pd.DataFrame], Path]


def both(
    spark: SparkSession, path: Path, contract: DataContract
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The file validated by pandas and by Spark, each as a pandas frame in the same order."""
    in_pandas = validate_in_pandas(pd.read_csv(path), contract).reset_index(drop=True)
    in_spark = validate(read(spark, str(path)), contract).toPandas()
    return in_pandas, in_spark


def problems_of(check: Callable[[], object]) -> list[str]:
    with pytest.raises(DataValidationError) as raised:
        check()
    return raised.value.problems


def assert_same_values(expected: pd.DataFrame, actual: pd.DataFrame) -> None:
    """Equal column by column, empty where the other is empty, whatever the dtypes' spelling."""
    assert list(actual.columns) == list(expected.columns)
    for name in expected.columns:
        left, right = expected[name].astype(object), actual[name].astype(object)
        assert (left.isna() == right.isna()).all(), name
        filled = left.notna()
        assert left[filled].tolist() == right[filled].tolist(), name


def test_the_projects_rows_are_typed_as_pandas_types_them(
    spark: SparkSession,
    contract: DataContract,
    generate: Callable[..., pd.DataFrame],
    in_both: Write,
) -> None:
    in_pandas, in_spark = both(spark, in_both(generate(contract, 400, seed=3)), contract)

    assert len(in_spark) == 400
    assert_same_values(in_pandas, in_spark)


def test_every_kind_of_column_with_and_without_an_id_is_typed_the_same(
    spark: SparkSession,
    every_kind: Callable[..., DataContract],
    generate: Callable[..., pd.DataFrame],
    in_both: Write,
) -> None:
    target = Column(name="target", type="numeric")
    for id_column in (None, "key"):
        contract = every_kind(target, id_column=id_column)
        rows = generate(contract, 300, seed=5)
        rows["yes or no"] = rows["yes or no"].map({True: "Yes", False: "no"})  # text spellings

        in_pandas, in_spark = both(spark, in_both(rows), contract)

        assert_same_values(in_pandas, in_spark)


def test_a_bad_file_fails_with_the_pandas_lines(
    spark: SparkSession,
    every_kind: Callable[..., DataContract],
    generate: Callable[..., pd.DataFrame],
    in_both: Write,
) -> None:
    contract = every_kind(
        Column(name="target", type="categorical", categories=("n", "y")), id_column="key"
    )
    rows = generate(contract, 200, seed=7).astype(object)
    rows.loc[[3, 5], "key"] = rows.loc[4, "key"]  # three rows share an ID
    rows.loc[7, "bounded number"] = "seven"  # not a number
    rows.loc[8, "bounded number"] = -2  # below the minimum
    rows.loc[9, "bounded number"] = None  # empty, not nullable
    rows.loc[[13, 14], "bounded number"] = [0, 50]  # on the bounds: valid
    rows.loc[10, "closed category"] = "z"  # not listed
    rows.loc[11, "yes or no"] = "maybe"  # not true/false
    rows.loc[12, "a date"] = "the 5th"  # not a date
    rows["unexpected"] = 1
    path = in_both(rows.drop(columns=["coded category"]))

    expected = problems_of(lambda: validate_in_pandas(pd.read_csv(path), contract))
    actual = problems_of(lambda: validate(read(spark, str(path)), contract))

    assert actual == expected
    assert len(actual) == 9


def test_a_target_with_one_value_and_no_rows_fail_as_in_pandas(
    spark: SparkSession,
    contract: DataContract,
    generate: Callable[..., pd.DataFrame],
    in_both: Write,
) -> None:
    rows = generate(contract, 50, seed=9)
    rows[contract.target.name] = rows[contract.target.name].iloc[0]
    for frame in (rows, rows.head(0)):
        path = in_both(frame)

        expected = problems_of(lambda: validate_in_pandas(pd.read_csv(path), contract))  # noqa: B023

        assert problems_of(lambda: validate(read(spark, str(path)), contract)) == expected  # noqa: B023


def test_an_unreadable_source_is_one_line(spark: SparkSession, tmp_path: Path) -> None:
    with pytest.raises(DataSourceError, match="cannot be read"):
        read(spark, str(tmp_path / "missing.csv"))
    with pytest.raises(DataSourceError, match=r"unknown file type '\.xlsx'"):
        read(spark, str(tmp_path / "rows.xlsx"))
