"""Batch scoring: chunk by chunk, validated, the same predictions as the model, all or nothing."""

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
{%- if cookiecutter.task == "classification" %}
from sklearn.linear_model import LogisticRegression
{%- else %}
from sklearn.linear_model import Ridge
{%- endif %}
from typer.testing import CliRunner

from {{ cookiecutter.package_name }}.cli import app
from {{ cookiecutter.package_name }}.data.contract import Column, DataContract
from {{ cookiecutter.package_name }}.data.datasets import read_table
from {{ cookiecutter.package_name }}.data.features import build_pipeline
from {{ cookiecutter.package_name }}.data.validation import validate
from {{ cookiecutter.package_name }}.errors import (
    ConfigError,
    DataSourceError,
    DataValidationError,
)
from {{ cookiecutter.package_name }}.governance import explain as explaining
from {{ cookiecutter.package_name }}.serving.batch import ROW_COLUMN, predict_file
from {{ cookiecutter.package_name }}.settings import ENV_PREFIX, Settings
from {{ cookiecutter.package_name }}.training import tracking
{%- if cookiecutter.task == "classification" %}
from {{ cookiecutter.package_name }}.training.predictions import positive_class
{%- endif %}
from {{ cookiecutter.package_name }}.training.train import TrainResult

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
    return [contract.id_column or ROW_COLUMN, "prediction", *probabilities, "model_version"]


def fitted_on(contract: DataContract, rows: pd.DataFrame) -> Any:
    """A quick model of `contract`, fitted on `rows`."""
    valid = validate(rows, contract)
{%- if cookiecutter.task == "classification" %}
    pipeline = build_pipeline(contract, LogisticRegression(max_iter=1000))
{%- else %}
    pipeline = build_pipeline(contract, Ridge())
{%- endif %}
    return pipeline.fit(valid[contract.feature_names], valid[contract.target.name])


def with_id(contract: DataContract, id_column: str | None) -> DataContract:
    """The contract with another id column (or none): the same features and target."""
    return contract.model_copy(update={"id_column": id_column})


def new_name(contract: DataContract, stem: str) -> str:
    """A column name the contract does not use yet."""
    taken = {contract.id_column, *(c.name for c in contract.columns)}
    return next(
        f"{stem}{'_' * n}" for n in range(len(taken) + 1) if f"{stem}{'_' * n}" not in taken
    )


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
    if contract.id_column is not None:
        assert (
            scored[contract.id_column].astype(str).tolist()
            == rows[contract.id_column].astype(str).tolist()
        )
    else:
        assert scored[ROW_COLUMN].tolist() == list(range(len(rows)))
    assert (scored["model_version"].astype(str) == VERSION).all()
    features = validate(read_table(str(source)), contract, require_target=False)[
        contract.feature_names
    ]
{%- if cookiecutter.task == "classification" %}
    assert scored["prediction"].astype(str).tolist() == list(model.predict(features).astype(str))
    if summary.output.suffix == ".parquet":  # CSV keeps no types; Parquet keeps the labels'
        assert {type(label) for label in scored["prediction"].tolist()} <= {
            type(label) for label in contract.classes
        }
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


@pytest.mark.parametrize("source_name", ["rows.csv", "rows.parquet"])
@pytest.mark.parametrize("output_name", ["predictions.csv", "predictions.parquet"])
def test_without_an_id_column_rows_are_numbered_from_0_across_chunks(
    model,  # type: ignore[no-untyped-def]
    contract: DataContract,
    rows: pd.DataFrame,
    tmp_path: Path,
    source_name: str,
    output_name: str,
) -> None:
    no_id = with_id(contract, None)
    source = write(rows.drop(columns=id_columns_of(contract)), tmp_path / source_name)

    summary = predict_file(
        model, no_id, source, tmp_path / output_name, model_version=VERSION, chunk_rows=100
    )

    scored = read_back(summary.output)
    assert summary.chunks == 4
    assert list(scored.columns) == expected_columns(model, no_id)
    assert scored[ROW_COLUMN].tolist() == list(range(len(rows)))
    whole = predict_file(
        model, no_id, source, tmp_path / f"whole-{output_name}", model_version=VERSION
    )
    pd.testing.assert_frame_equal(scored, read_back(whole.output))


@pytest.mark.parametrize("source_name", ["rows.csv", "rows.parquet"])
def test_ids_are_kept_as_the_text_they_are(
    model,  # type: ignore[no-untyped-def]
    contract: DataContract,
    rows: pd.DataFrame,
    tmp_path: Path,
    source_name: str,
) -> None:
    identified = with_id(contract, contract.id_column or new_name(contract, "record id"))
    assert identified.id_column is not None
    ids = [f"{number:06d}" for number in range(len(rows))]  # leading zeros, like numbers
    with_ids = rows.drop(columns=id_columns_of(contract)).assign(**{identified.id_column: ids})
    source = write(with_ids, tmp_path / source_name)

    summary = predict_file(
        model, identified, source, tmp_path / "out.csv", model_version=VERSION, chunk_rows=100
    )

    scored = pd.read_csv(summary.output, dtype={identified.id_column: str})
    assert list(scored.columns) == expected_columns(model, identified)
    assert scored[identified.id_column].tolist() == ids


def id_columns_of(contract: DataContract) -> list[str]:
    return [contract.id_column] if contract.id_column else []
{%- if cookiecutter.task == "classification" %}


@pytest.mark.parametrize("source_name", ["rows.csv", "rows.parquet"])
@pytest.mark.parametrize("output_name", ["predictions.csv", "predictions.parquet"])
def test_integer_classes_are_written_as_integers(
    contract: DataContract,
    generate: Callable[..., pd.DataFrame],
    tmp_path: Path,
    source_name: str,
    output_name: str,
) -> None:
    graded = contract.model_copy(
        update={
            "id_column": None,
            "target": Column(name=contract.target.name, type="categorical", categories=(1, 2, 3)),
        }
    )
    labelled = generate(graded, 600, seed=4)
    model = fitted_on(graded, labelled)
    source = write(labelled.drop(columns=[contract.target.name]).head(250), tmp_path / source_name)

    summary = predict_file(
        model, graded, source, tmp_path / output_name, model_version=VERSION, chunk_rows=100
    )

    scored = read_back(summary.output)
    assert pd.api.types.is_integer_dtype(scored["prediction"])
    assert set(scored["prediction"]) <= {1, 2, 3}
    assert [c for c in scored.columns if c.startswith("probability_")] == [
        "probability_1",
        "probability_2",
        "probability_3",
    ]
    assert scored[ROW_COLUMN].tolist() == list(range(250))
{%- endif %}


def test_a_bad_row_names_its_rows_and_column_and_writes_nothing(
    model,  # type: ignore[no-untyped-def]
    contract: DataContract,
    rows: pd.DataFrame,
    tmp_path: Path,
    generate: Callable[..., pd.DataFrame],
) -> None:
    if not contract.features_of_type("numeric"):  # a contract of its own, with a number
        contract = contract.model_copy(
            update={
                "features": (
                    *contract.features,
                    Column(name=new_name(contract, "n"), type="numeric"),
                )
            }
        )
        labelled = generate(contract, 400, seed=5)
        model = fitted_on(contract, labelled)
        rows = labelled.drop(columns=[contract.target.name]).head(350)
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


# --- explanations ---------------------------------------------------------------


@pytest.fixture
def background(rows: pd.DataFrame, contract: DataContract) -> pd.DataFrame:
    """Rows to explain against, as a model is logged with them: validated features."""
    return validate(rows.head(100), contract, require_target=False)[contract.feature_names]


def contributions(scored: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Each row's explained columns and their contributions, by rank: rows x ranks, twice."""
    return (
        scored.filter(regex=r"^contribution_\d+_column$"),
        scored.filter(regex=r"^contribution_\d+_value$"),
    )


def model_output(  # type: ignore[no-untyped-def]
    model, contract: DataContract, features: pd.DataFrame, predicted: pd.Series
) -> np.ndarray:
{%- if cookiecutter.task == "classification" %}
    """What a row's explanation adds up to: the positive class's log-odds (two classes), or
    the predicted class's score (more)."""
    classes = [str(label) for label in model.classes_]
    raw = model.decision_function(features)
    if raw.ndim == 1:  # two classes: the log-odds of the model's last class
        positive = str(positive_class(list(model.classes_), contract))
        return np.asarray(raw if classes.index(positive) == 1 else -raw)
    chosen = [classes.index(str(label)) for label in predicted]
    return np.asarray(raw[np.arange(len(raw)), chosen])
{%- else %}
    """What a row's explanation adds up to: the prediction."""
    return np.asarray(model.predict(features))
{%- endif %}


def test_explaining_adds_contributions_that_add_up_to_the_models_output(
    model,  # type: ignore[no-untyped-def]
    contract: DataContract,
    rows: pd.DataFrame,
    background: pd.DataFrame,
    tmp_path: Path,
) -> None:
    source = write(rows, tmp_path / "rows.csv")
    plain = predict_file(model, contract, source, tmp_path / "plain.parquet", model_version=VERSION)

    summary = predict_file(  # more than there are columns: every column's contribution
        model,
        contract,
        source,
        tmp_path / "explained.parquet",
        model_version=VERSION,
        explain_top=1000,
        background=background,
    )

    scored = read_back(summary.output)
    names, values = contributions(scored)
    ranks = len(names.columns)
    pairs = [
        f"contribution_{i}_{part}" for i in range(1, ranks + 1) for part in ("column", "value")
    ]
    columns = expected_columns(model, contract)
    assert list(scored.columns) == [
        *columns[:-1],
        *pairs,
        "base_value",
        "explanation_space",
        "model_version",
    ]
    pd.testing.assert_frame_equal(scored[columns], read_back(plain.output))  # rows, order, answers
    assert ranks >= len(contract.feature_names)  # the contract's columns and any custom feature
    for row in names.itertuples(index=False):
        assert len(set(row)) == ranks
        assert set(contract.feature_names) <= set(row)
    assert (np.diff(values.abs().to_numpy(), axis=1) <= 0).all()  # largest first
    assert set(scored["explanation_space"]) == {"{{ "log-odds" if cookiecutter.task == "classification" else "units" }}"}
    features = validate(rows, contract, require_target=False)[contract.feature_names]
    np.testing.assert_allclose(
        scored["base_value"] + values.sum(axis=1),
        model_output(model, contract, features, scored["prediction"]),
        atol=1e-6,
    )

{%- if cookiecutter.task == "classification" %}


def test_more_than_two_classes_are_explained_for_each_rows_predicted_class(
    every_kind: Callable[..., DataContract],
    generate: Callable[..., pd.DataFrame],
    tmp_path: Path,
) -> None:
    graded = every_kind(Column(name="grade", type="categorical", categories=(1, 2, 3)))
    labelled = generate(graded, 600, seed=6)
    model = fitted_on(graded, labelled)
    features = validate(labelled, graded)[graded.feature_names]
    source = write(labelled.drop(columns=[graded.target.name]).head(200), tmp_path / "rows.csv")

    summary = predict_file(
        model,
        graded,
        source,
        tmp_path / "out.parquet",
        model_version=VERSION,
        explain_top=1000,
        background=features.head(100),
    )

    scored = read_back(summary.output)
    assert scored["prediction"].nunique() > 1
    np.testing.assert_allclose(
        scored["base_value"] + contributions(scored)[1].sum(axis=1),
        model_output(model, graded, features.head(200), scored["prediction"]),
        atol=1e-6,
    )
{%- endif %}


def test_explanations_in_chunks_and_slices_are_the_same_as_in_one_go(
    model,  # type: ignore[no-untyped-def]
    contract: DataContract,
    rows: pd.DataFrame,
    background: pd.DataFrame,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    source = write(rows, tmp_path / "rows.csv")
    whole = predict_file(
        model,
        contract,
        source,
        tmp_path / "whole.parquet",
        model_version=VERSION,
        explain_top=2,
        background=background,
    )
    built: list[object] = []
    explained: list[int] = []
    build, call = explaining.explainer, explaining.Explainer.__call__

    def counted_build(*args: Any, **options: Any) -> Any:
        built.append(args)
        return build(*args, **options)

    def counted_call(self: Any, rows: pd.DataFrame) -> Any:
        explained.append(len(rows))
        return call(self, rows)

    monkeypatch.setattr(explaining, "explainer", counted_build)
    monkeypatch.setattr(explaining.Explainer, "__call__", counted_call)
    monkeypatch.setattr(explaining, "MAX_ROWS", 40)  # the explainer takes 40 rows a call

    chunked = predict_file(
        model,
        contract,
        source,
        tmp_path / "chunked.parquet",
        model_version=VERSION,
        chunk_rows=100,
        explain_top=2,
        background=background,
    )

    assert len(built) == 1  # once per file
    assert explained == [40, 40, 20] * 3 + [40, 10]  # 350 rows in chunks of 100, 40 at a time
    scored = read_back(chunked.output)
    assert [len(part.columns) for part in contributions(scored)] == [2, 2]
    pd.testing.assert_frame_equal(scored, read_back(whole.output))


def test_explaining_without_shap_is_one_line_and_writes_nothing(
    model,  # type: ignore[no-untyped-def]
    contract: DataContract,
    rows: pd.DataFrame,
    background: pd.DataFrame,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(  # installed without the explain extra, as the serving image is
        importlib.util,
        "find_spec",
        lambda name, *args: None if name == "shap" else find_spec(name, *args),
    )
    source = write(rows, tmp_path / "rows.csv")

    with pytest.raises(ConfigError) as raised:
        predict_file(
            model,
            contract,
            source,
            tmp_path / "out.csv",
            model_version=VERSION,
            explain_top=3,
            background=background,
        )

    assert str(raised.value) == explaining.NO_SHAP
    assert list(tmp_path.iterdir()) == [source]
    plain = predict_file(model, contract, source, tmp_path / "out.csv", model_version=VERSION)
    assert plain.rows == len(rows)  # scoring alone needs no SHAP


@pytest.mark.slow
def test_predict_explain_writes_the_champions_top_contributions(
    runner: CliRunner,
    project_env: dict[str, str],
    trained: TrainResult,
    trained_settings: Settings,
    rows: pd.DataFrame,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = project_env | {
        f"{ENV_PREFIX}TRACKING_URI": trained_settings.tracking_uri,
        f"{ENV_PREFIX}MODEL_NAME": trained_settings.model_name,
    }
    write(rows.head(30), tmp_path / "rows.csv")
    command = ["predict", "rows.csv", "out.csv", "--explain", "--top", "2", "--chunk-rows", "20"]

    result = runner.invoke(app, command, env=env)

    assert result.exit_code == 0, result.output
    scored = pd.read_csv(tmp_path / "out.csv")
    assert len(scored) == 30
    assert [column for column in scored.columns if column.startswith("contribution_")] == [
        "contribution_1_column",
        "contribution_1_value",
        "contribution_2_column",
        "contribution_2_value",
    ]
    assert scored["base_value"].notna().all()
    load = tracking.load_with_example
    monkeypatch.setattr(tracking, "load_with_example", lambda uri: (load(uri)[0], None))
    unexplained = runner.invoke(app, command, env=env)  # a model logged without training rows
    assert unexplained.exit_code == 1
    assert unexplained.stderr.count("\n") == 1, unexplained.output
    assert "train it again with `train`" in unexplained.stderr
