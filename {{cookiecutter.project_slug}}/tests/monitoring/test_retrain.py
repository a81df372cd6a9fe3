"""Retraining: drift (or --force) leads to a new model, and only the quality gate promotes it."""

from collections.abc import Callable
from pathlib import Path

import mlflow
import pandas as pd
import pytest
from typer.testing import CliRunner

from {{ cookiecutter.package_name }}.cli import app
from {{ cookiecutter.package_name }}.config import (
    ProjectConfig,
    PromoteConfig,
    TrainConfig,
)
from {{ cookiecutter.package_name }}.data.contract import DataContract, load_contract
from {{ cookiecutter.package_name }}.data.datasets import read_table, write_parquet
from {{ cookiecutter.package_name }}.data.ingest import processed_path
from {{ cookiecutter.package_name }}.data.validation import validate
from {{ cookiecutter.package_name }}.errors import PromotionRefusedError
from {{ cookiecutter.package_name }}.monitoring.retrain import retrain
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.training.evaluate import evaluate_run
from {{ cookiecutter.package_name }}.training.promote import promote
from {{ cookiecutter.package_name }}.training.tracking import champion_version
from {{ cookiecutter.package_name }}.training.train import train

#: Slow (`make test-all` and CI only): each test trains a champion and retrains.
pytestmark = pytest.mark.slow

#: The share of the generated rows the champion learns from; the others are new to it.
TRAINED = 0.6


def make_champion(config: ProjectConfig, settings: Settings, rows: pd.DataFrame) -> None:
    """Train, evaluate and promote a champion on the first TRAINED share of the rows."""
    contract = load_contract(config.data.contract)
    seen = rows.iloc[: int(TRAINED * len(rows))]
    write_parquet(validate(seen, contract), processed_path(config, contract))
    run_id = train(config, settings).run_id
    evaluate_run(config, settings, run_id)
    promote(config, settings, run_id)


@pytest.fixture
def new_rows(
    raw_data: pd.DataFrame,
    contract: DataContract,
    moved_feature: str,
    moved_up: Callable[[pd.DataFrame, str], pd.DataFrame],
    tmp_path: Path,
) -> Callable[[bool], str]:
    """A file of the labelled rows the champion never saw; with drift, one feature moved.

    Numbers are redrawn from their top 30%; categories or flags, a rare value fills 90% of rows.
    """

    def write(drift: bool) -> str:
        rows = raw_data.iloc[int(TRAINED * len(raw_data)) :].reset_index(drop=True)
        if drift:
            name = moved_feature
            if name in contract.features_of_type("numeric"):
                rows = moved_up(rows, name)
            else:
                rarest = rows[name].value_counts().index[-1]
                rows.loc[rows.index[: int(0.9 * len(rows))], name] = rarest
        path = tmp_path / ("drifted.csv" if drift else "new.csv")
        rows.to_csv(path, index=False)
        return str(path)

    return write


def weak(config: ProjectConfig) -> ProjectConfig:
    """The baseline (the prior or the mean), let through the gate: a champion waiting to be beaten.

    Not a briefly trained model: on some data a few boosting steps already rank rows as well as
    a model trained on rows with a feature drifted.
    """
    return config.model_copy(
        update={
            "train": TrainConfig(model="baseline"),
            "promote": PromoteConfig(min_improvement_over_baseline=0.0),
        }
    )


def test_without_drift_nothing_is_retrained(
    trained_config: ProjectConfig,
    settings: Settings,
    new_rows: Callable[[bool], str],
    raw_data: pd.DataFrame,
    contract: DataContract,
) -> None:
    make_champion(trained_config, settings, raw_data)
    data = processed_path(trained_config, contract)
    before = data.read_bytes()

    result = retrain(trained_config, settings, new_rows(False))

    assert result.decision is None
    assert "no drift" in result.reason
    assert data.read_bytes() == before  # the training data is untouched
    assert champion_version(settings.model_name) == "1"
    assert mlflow.get_run(result.run_id).data.tags["stage"] == "retrain"


def test_drift_retrains_and_a_better_model_is_promoted(
    trained_config: ProjectConfig,
    settings: Settings,
    new_rows: Callable[[bool], str],
    raw_data: pd.DataFrame,
    contract: DataContract,
) -> None:
    make_champion(weak(trained_config), settings, raw_data)
    path = new_rows(True)

    result = retrain(trained_config, settings, path)

    assert result.drift.report.drifted
    assert result.decision is not None
    assert result.decision.model_version == "2"
    assert champion_version(settings.model_name) == "2"
    # The new rows joined the configured rows (all of the generated rows); no row was lost.
    combined = pd.read_parquet(processed_path(trained_config, contract))
    configured = validate(raw_data, contract)
    new = validate(read_table(path), contract)
    if contract.id_column is None:  # nothing tells a row seen again: the new rows are added
        assert len(combined) == len(configured) + len(new)
        mine, kept, others = combined.tail(len(new)), combined.head(len(configured)), configured
    else:  # a new row replaces the configured row with the same ID
        ids = contract.id_column
        assert len(combined) == len(configured)
        assert set(combined[ids]) == set(configured[ids])
        mine = combined.set_index(ids).loc[new[ids]].reset_index()
        kept = combined[~combined[ids].isin(new[ids])]
        others = configured[~configured[ids].isin(new[ids])]
    for found, expected in ((mine, new), (kept, others)):
        pd.testing.assert_frame_equal(
            found.reset_index(drop=True), expected.reset_index(drop=True), check_dtype=False
        )
    tags = mlflow.get_run(result.run_id).data.tags
    assert tags["drift_run_id"] == result.drift.run_id
    assert "beats baseline" in tags["decision"]
    training = mlflow.get_run(tags["training_run_id"])
    # Compared with the old champion on the rows it never trained on (or skipped, and why).
    assert training.data.tags["champion_compared"] == "1"
    assert "comparison_rows" in training.data.metrics


def test_a_worse_model_is_refused_and_the_champion_stays(
    trained_config: ProjectConfig,
    settings: Settings,
    new_rows: Callable[[bool], str],
    raw_data: pd.DataFrame,
) -> None:
    make_champion(trained_config, settings, raw_data)
    worse = trained_config.model_copy(update={"train": TrainConfig(model="baseline")})
    path = new_rows(False)

    with pytest.raises(PromotionRefusedError, match="version 2 was not promoted"):
        retrain(worse, settings, path, force=True)

    assert champion_version(settings.model_name) == "1"
    runs = mlflow.search_runs(
        experiment_names=[f"{settings.model_name}-monitoring"],
        filter_string="tags.stage = 'retrain'",
        output_format="list",
    )
    assert "was not promoted" in runs[0].data.tags["decision"]


def test_retrain_without_drift_keeps_the_champion(
    runner: CliRunner,
    cli_env: dict[str, str],
    raw_data: pd.DataFrame,
    tmp_path: Path,
    unseen: Callable[..., pd.DataFrame],
    write: Callable[..., str],
) -> None:
    path = write(unseen(raw_data), tmp_path / "labelled.csv")

    result = runner.invoke(app, ["retrain", path], env=cli_env)

    assert result.exit_code == 0, result.output
    assert "no drift found: the champion stays" in result.stdout
