"""Spark's jobs: the pandas path's output from the same rows, and nothing replaced on failure."""

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
{%- if cookiecutter.task == "classification" %}
from sklearn.linear_model import LogisticRegression
{%- else %}
from sklearn.linear_model import Ridge
{%- endif %}
from typer.testing import CliRunner

from {{ cookiecutter.package_name }}.cli import app
{%- if cookiecutter.data_source == "csv" %}
from {{ cookiecutter.package_name }}.config import ProjectConfig
{%- endif %}
from {{ cookiecutter.package_name }}.data.contract import Column, DataContract
from {{ cookiecutter.package_name }}.data.features import build_pipeline
{%- if cookiecutter.data_source == "csv" %}
from {{ cookiecutter.package_name }}.data.ingest import ingest as ingest_in_pandas
{%- endif %}
from {{ cookiecutter.package_name }}.data.validation import validate
from {{ cookiecutter.package_name }}.errors import DataSourceError, DataValidationError
from {{ cookiecutter.package_name }}.serving.batch import (
    predict_file as predict_in_pandas,
)
{%- if cookiecutter.data_source == "csv" %}
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.spark.jobs import ingest, predict_file
from {{ cookiecutter.package_name }}.training import tracking
from {{ cookiecutter.package_name }}.training.evaluate import evaluate_run
from {{ cookiecutter.package_name }}.training.train import train
{%- else %}
from {{ cookiecutter.package_name }}.spark.jobs import predict_file
{%- endif %}

# Each test runs a Spark job or two: `make test-all` and CI run them, the quick loop does not.
pytestmark = pytest.mark.slow

MASTER = "local[2]"


def fitted(contract: DataContract, rows: pd.DataFrame) -> Any:
    """A quick pipeline fitted on validated rows."""
    train = validate(rows, contract)
{%- if cookiecutter.task == "classification" %}
    estimator = LogisticRegression(max_iter=500)
{%- else %}
    estimator = Ridge()
{%- endif %}
    return build_pipeline(contract, estimator).fit(
        train[contract.feature_names], train[contract.target.name]
    )


def by_identity(frame: pd.DataFrame) -> pd.DataFrame:
    """Rows in the order of their ID (or row number), the index renumbered."""
    return frame.sort_values(frame.columns[0]).reset_index(drop=True)


@pytest.mark.usefixtures("spark")
def test_predictions_equal_the_pandas_paths_with_and_without_an_id(
    every_kind: Callable[..., DataContract],
    generate: Callable[..., pd.DataFrame],
    tmp_path: Path,
) -> None:
{%- if cookiecutter.task == "classification" %}
    target = Column(name="target", type="categorical", categories=("no", "yes"))
{%- else %}
    target = Column(name="target", type="numeric")
{%- endif %}
    for id_column in ("key", None):
        contract = every_kind(target, id_column=id_column)
        model = fitted(contract, generate(contract, 400, seed=1))
        source = tmp_path / f"score-{id_column}.csv"
        generate(contract, 700, seed=2).to_csv(source, index=False)
        options: dict[str, Any] = {"model_version": "3"{% if cookiecutter.task == "classification" %}, "threshold": 0.4{% endif %}}

        predict_in_pandas(
            model, contract, source, tmp_path / "pandas.parquet", chunk_rows=250, **options
        )
        summary = predict_file(
            model, contract, source, tmp_path / "spark.parquet", master=MASTER, **options
        )

        expected = by_identity(pd.read_parquet(tmp_path / "pandas.parquet"))
        actual = by_identity(pd.read_parquet(summary.output))
        assert summary.rows == len(actual) == 700
        pd.testing.assert_frame_equal(actual, expected, check_dtype=False)


@pytest.mark.usefixtures("spark")
def test_a_bad_file_to_score_writes_nothing(
    contract: DataContract, fitted_model: Any, raw_data: pd.DataFrame, tmp_path: Path
) -> None:
    source, output = tmp_path / "bad.csv", tmp_path / "out.parquet"
    raw_data.head(50).drop(columns=[contract.features[0].name]).to_csv(source, index=False)
    output.write_bytes(b"earlier predictions")

    with pytest.raises(DataValidationError, match="missing"):
        predict_file(fitted_model, contract, source, output, model_version="1", master=MASTER)
    with pytest.raises(DataSourceError, match=r"name it \.parquet"):
        predict_file(
            fitted_model, contract, source, tmp_path / "out.csv", model_version="1", master=MASTER
        )

    assert output.read_bytes() == b"earlier predictions"
    assert sorted(path.name for path in tmp_path.iterdir()) == ["bad.csv", "out.parquet"]
{%- if cookiecutter.data_source == "csv" %}


@pytest.mark.usefixtures("spark")
def test_ingest_writes_what_the_pandas_ingest_writes(
    project_config: ProjectConfig, settings: Settings
) -> None:
    from_pandas = ingest_in_pandas(project_config)
    expected = pd.read_parquet(from_pandas.path)

    summary = ingest(project_config, settings)

    assert summary.path == from_pandas.path
    assert summary.path.is_dir()
    assert summary.facts == from_pandas.facts
    pd.testing.assert_frame_equal(pd.read_parquet(summary.path), expected, check_dtype=False)


@pytest.mark.usefixtures("spark")
def test_a_failed_ingest_leaves_the_processed_data_as_it_was(
    project_config: ProjectConfig, settings: Settings, contract: DataContract, tmp_path: Path
) -> None:
    before = ingest(project_config, settings)
    written = sorted(path.name for path in before.path.iterdir())
    broken = pd.read_csv(project_config.data.path).drop(columns=[contract.target.name])
    broken.to_csv(tmp_path / "broken.csv", index=False)
    data = project_config.data.model_copy(update={"path": str(tmp_path / "broken.csv")})

    with pytest.raises(DataValidationError, match="missing"):
        ingest(project_config.model_copy(update={"data": data}), settings)

    assert sorted(path.name for path in before.path.iterdir()) == written
    assert [path.name for path in before.path.parent.iterdir()] == [before.path.name]


@pytest.mark.usefixtures("spark")
def test_a_sample_is_what_trains_and_the_model_card_says_so(
    trained_config: ProjectConfig,
    settings: Settings,
    contract: DataContract,
    raw_data: pd.DataFrame,
) -> None:
    wanted = len(raw_data) // 2
    data = trained_config.data.model_copy(update={"sample_rows": wanted})
    config = trained_config.model_copy(update={"data": data})

    summary = ingest(config, settings)
    result = train(config, settings)
    card = evaluate_run(config, settings, result.run_id).model_card.read_text(encoding="utf-8")

    kept = pd.read_parquet(summary.path)
    assert 0.8 * wanted < len(kept) < 1.2 * wanted
    assert summary.facts["sampled"] == f"{len(kept):,} of {len(raw_data):,} rows (data.sample_rows)"
{%- if cookiecutter.task == "classification" %}
    # Each class at the same rate: the sample keeps the data's balance.
    shares = kept[contract.target.name].value_counts(normalize=True)
    expected = raw_data[contract.target.name].astype(str).value_counts(normalize=True)
    assert (shares - expected).abs().max() < 0.05
{%- endif %}
    sampled = tracking.training_run(settings.model_name, result.run_id).data.params
    assert sampled[tracking.SAMPLE_PARAM].startswith(f"{len(kept):,} of {len(raw_data):,} rows")
    assert f"The training data is a sample: {sampled[tracking.SAMPLE_PARAM]}" in card


@pytest.mark.usefixtures("spark")
def test_cli_ingests_with_spark(runner: CliRunner, project_env: dict[str, str]) -> None:
    result = runner.invoke(app, ["ingest", "--engine", "spark"], env=project_env)

    assert result.exit_code == 0, result.output
    assert "Ingested" in result.output
{%- endif %}


def test_cli_refuses_to_explain_with_spark(
    runner: CliRunner, project_env: dict[str, str], tmp_path: Path
) -> None:
    source, output = tmp_path / "rows.csv", tmp_path / "out.parquet"
    source.write_text("a\n1\n", encoding="utf-8")
    command = ["predict", str(source), str(output), "--engine", "spark", "--explain"]

    result = runner.invoke(app, command, env=project_env)

    assert result.exit_code == 1
    assert "--explain works with the pandas engine only" in result.output
    assert not output.exists()


@pytest.mark.usefixtures("spark")
def test_the_scale_benchmark_measures_both_engines() -> None:
    root = Path(__file__).resolve().parents[2]
    engines = ["--engines", "pandas", "spark"]
    command = [sys.executable, "benchmarks/scale.py", "--sizes", "2000", *engines]

    shown = subprocess.run(
        command, cwd=root, capture_output=True, text=True, check=True, timeout=600
    )

    header, _, row = (line for line in shown.stdout.splitlines() if line.startswith("|"))
    assert "Spark validate s" in header
    cells = [cell.strip().replace(",", "") for cell in row.strip("|").split("|")]
    assert cells[0] == "2000"
    assert all(float(cell) > 0 for cell in cells[1:]), row
