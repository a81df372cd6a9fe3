"""Batch scoring: chunk by chunk, validated, the same predictions as the model, all or nothing."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.contract import DataContract
from {{ cookiecutter.package_name }}.datasets import read_table
from {{ cookiecutter.package_name }}.errors import (
    DataSourceError,
    DataValidationError,
)
from {{ cookiecutter.package_name }}.predict import predict_file
from {{ cookiecutter.package_name }}.validation import validate

VERSION = "7"


@pytest.fixture
def model(fitted_model):  # type: ignore[no-untyped-def]
    return fitted_model


@pytest.fixture
def rows(raw_data: pd.DataFrame, contract: DataContract) -> pd.DataFrame:
    """350 rows to score, without the target, as a scoring file would hold them."""
    return raw_data.head(350).drop(columns=[contract.target.name])


def write(frame: pd.DataFrame, path: Path) -> Path:
    if path.suffix == ".parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)
    return path


def read_back(path: Path) -> pd.DataFrame:
    return pd.read_parquet(path) if path.suffix == ".parquet" else pd.read_csv(path)


def expected_columns(model, contract: DataContract) -> list[str]:  # type: ignore[no-untyped-def]
    probabilities = [f"probability_{label}" for label in getattr(model, "classes_", [])]
    return [contract.id_column, "prediction", *probabilities, "model_version"]


@pytest.mark.parametrize(
    ("source_name", "output_name"),
    [
        ("rows.csv", "predictions.parquet"),
        ("rows.parquet", "predictions.parquet"),
        ("rows.csv", "predictions.csv"),
        ("rows.parquet", "predictions.csv"),
    ],
)
def test_a_file_gets_one_prediction_per_row_that_matches_the_model(
    model,  # type: ignore[no-untyped-def]
    contract: DataContract,
    rows: pd.DataFrame,
    tmp_path: Path,
    source_name: str,
    output_name: str,
) -> None:
    source = write(rows, tmp_path / source_name)

    summary = predict_file(model, contract, source, tmp_path / output_name, model_version=VERSION)

    scored = read_back(summary.output)
    assert list(scored.columns) == expected_columns(model, contract)
    assert summary.rows == len(scored) == len(rows)
    assert (
        scored[contract.id_column].astype(str).tolist()
        == rows[contract.id_column].astype(str).tolist()
    )
    assert (scored["model_version"].astype(str) == VERSION).all()
    features = validate(read_table(str(source)), contract, require_target=False)[
        contract.feature_names
    ]
{%- if cookiecutter.task == "classification" %}
    assert scored["prediction"].astype(str).tolist() == list(model.predict(features))
    np.testing.assert_allclose(
        scored.filter(like="probability_").to_numpy(), model.predict_proba(features)
    )
{%- else %}
    np.testing.assert_allclose(scored["prediction"], model.predict(features))
{%- endif %}


@pytest.mark.parametrize("source_name", ["rows.csv", "rows.parquet"])
def test_several_chunks_give_the_same_predictions_as_one(
    model,  # type: ignore[no-untyped-def]
    contract: DataContract,
    rows: pd.DataFrame,
    tmp_path: Path,
    source_name: str,
) -> None:
    source = write(rows, tmp_path / source_name)

    chunked = predict_file(
        model, contract, source, tmp_path / "chunked.parquet", model_version=VERSION, chunk_rows=100
    )
    whole = predict_file(
        model, contract, source, tmp_path / "whole.parquet", model_version=VERSION, chunk_rows=1000
    )

    assert (chunked.rows, chunked.chunks) == (350, 4)
    assert (whole.rows, whole.chunks) == (350, 1)
    assert chunked.seconds >= 0
    pd.testing.assert_frame_equal(read_back(chunked.output), read_back(whole.output))


def test_a_bad_row_names_its_rows_and_column_and_writes_nothing(
    model,  # type: ignore[no-untyped-def]
    contract: DataContract,
    rows: pd.DataFrame,
    tmp_path: Path,
) -> None:
    column = contract.features_of_type("numeric")[0]
    rows[column] = rows[column].astype(object)
    rows.loc[rows.index[249], column] = "not a number"
    source = write(rows, tmp_path / "rows.csv")
    output = tmp_path / "predictions.parquet"

    with pytest.raises(DataValidationError) as raised:
        predict_file(model, contract, source, output, model_version=VERSION, chunk_rows=100)

    assert raised.value.problems == [
        f"rows 201-300: column {column!r}: 1 row that are not numbers (e.g. 'not a number')"
    ]
    assert list(tmp_path.iterdir()) == [source]


def test_a_failed_run_leaves_an_earlier_output_untouched(
    model,  # type: ignore[no-untyped-def]
    contract: DataContract,
    rows: pd.DataFrame,
    tmp_path: Path,
) -> None:
    source = write(rows.drop(columns=[contract.feature_names[0]]), tmp_path / "rows.csv")
    output = tmp_path / "predictions.csv"
    output.write_text("earlier predictions\n", encoding="utf-8")

    with pytest.raises(DataValidationError, match=r"rows 1-350: column .*: missing"):
        predict_file(model, contract, source, output, model_version=VERSION)

    assert output.read_text(encoding="utf-8") == "earlier predictions\n"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["predictions.csv", "rows.csv"]


def test_the_target_column_in_the_input_is_ignored(
    model,  # type: ignore[no-untyped-def]
    contract: DataContract,
    raw_data: pd.DataFrame,
    rows: pd.DataFrame,
    tmp_path: Path,
) -> None:
    labelled = raw_data.head(350).copy()
    labelled[contract.target.name] = labelled[contract.target.name].astype(object)
    labelled.loc[labelled.index[:10], contract.target.name] = None  # not known yet
    with_target = write(labelled, tmp_path / "labelled.csv")
    without_target = write(rows, tmp_path / "unlabelled.csv")

    scored = predict_file(
        model, contract, with_target, tmp_path / "a.parquet", model_version=VERSION, chunk_rows=100
    )
    reference = predict_file(
        model, contract, without_target, tmp_path / "b.parquet", model_version=VERSION
    )

    pd.testing.assert_frame_equal(read_back(scored.output), read_back(reference.output))


@pytest.mark.parametrize(
    ("source_name", "output_name", "message"),
    [
        ("rows.json", "predictions.csv", "unknown input file type '.json'"),
        ("rows.csv", "predictions.xlsx", "unknown output file type '.xlsx'"),
    ],
)
def test_an_unknown_file_type_is_one_line(
    model,  # type: ignore[no-untyped-def]
    contract: DataContract,
    rows: pd.DataFrame,
    tmp_path: Path,
    source_name: str,
    output_name: str,
    message: str,
) -> None:
    source = tmp_path / source_name
    rows.to_csv(source, index=False)

    with pytest.raises(DataSourceError, match=message) as raised:
        predict_file(model, contract, source, tmp_path / output_name, model_version=VERSION)

    assert "\n" not in str(raised.value)
    assert not (tmp_path / output_name).exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", "", "the file is empty"),
        ("blank.csv", "\n\n", "the file is empty"),
        ("empty.parquet", "", "the file is empty"),
        ("header.csv", "id,value\n", "the file has no rows to score"),
    ],
)
def test_an_empty_file_is_one_line(
    model,  # type: ignore[no-untyped-def]
    contract: DataContract,
    tmp_path: Path,
    name: str,
    content: str,
    message: str,
) -> None:
    source = tmp_path / name
    source.write_text(content, encoding="utf-8")

    with pytest.raises(DataSourceError, match=message) as raised:
        predict_file(model, contract, source, tmp_path / "out.csv", model_version=VERSION)

    assert "\n" not in str(raised.value)
    assert sorted(path.name for path in tmp_path.iterdir()) == [name]


def test_a_missing_file_is_one_line(
    model,  # type: ignore[no-untyped-def]
    contract: DataContract,
    tmp_path: Path,
) -> None:
    with pytest.raises(DataSourceError, match="file not found"):
        predict_file(
            model, contract, tmp_path / "nowhere.csv", tmp_path / "out.csv", model_version=VERSION
        )


def test_chunks_must_hold_at_least_one_row(
    model,  # type: ignore[no-untyped-def]
    contract: DataContract,
    rows: pd.DataFrame,
    tmp_path: Path,
) -> None:
    source = write(rows, tmp_path / "rows.csv")

    with pytest.raises(ValueError, match="chunk_rows must be at least 1"):
        predict_file(
            model, contract, source, tmp_path / "out.csv", model_version=VERSION, chunk_rows=0
        )
