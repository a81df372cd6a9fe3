"""Retraining: drift (or --force) leads to a new model, and only the quality gate promotes it."""

from collections.abc import Callable
from pathlib import Path

import mlflow
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.config import (
    ProjectConfig,
    PromoteConfig,
    TrainConfig,
)
from {{ cookiecutter.package_name }}.contract import DataContract
from {{ cookiecutter.package_name }}.errors import PromotionRefusedError
from {{ cookiecutter.package_name }}.evaluate import evaluate_run
from {{ cookiecutter.package_name }}.ingest import processed_path
from {{ cookiecutter.package_name }}.models import PRIMARY_METRIC
from {{ cookiecutter.package_name }}.promote import promote
from {{ cookiecutter.package_name }}.retrain import retrain
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.tracking import champion_version
from {{ cookiecutter.package_name }}.train import train


def make_champion(config: ProjectConfig, settings: Settings) -> None:
    run_id = train(config, settings).run_id
    evaluate_run(config, settings, run_id)
    promote(config, settings, run_id)


def first_numeric(contract: DataContract) -> str:
    return next(column.name for column in contract.features if column.type == "numeric")


@pytest.fixture
def new_rows(
    raw_data: pd.DataFrame,
    contract: DataContract,
    moved_up: Callable[[pd.DataFrame, str], pd.DataFrame],
    tmp_path: Path,
) -> Callable[[bool], str]:
    """A file of 1,500 labelled rows the champion never saw; with drift, one feature moved up."""

    def write(drift: bool) -> str:
        rows = raw_data.iloc[1000:2500].reset_index(drop=True)
        if drift:
            rows = moved_up(rows, first_numeric(contract))
        path = tmp_path / ("drifted.csv" if drift else "new.csv")
        rows.to_csv(path, index=False)
        return str(path)

    return write


def weak(config: ProjectConfig) -> ProjectConfig:
    """A model barely trained, let through the gate: a champion waiting to be beaten."""
    return config.model_copy(
        update={
            "train": TrainConfig(
                model="gradient_boosting", params={"max_iter": 2, "learning_rate": 0.01}
            ),
            "promote": PromoteConfig(min_improvement_over_baseline=0.0),
        }
    )


def test_without_drift_nothing_is_retrained(
    trained_config: ProjectConfig,
    settings: Settings,
    new_rows: Callable[[bool], str],
    contract: DataContract,
) -> None:
    make_champion(trained_config, settings)
    data = processed_path(trained_config, contract)
    before = data.read_bytes()

    result = retrain(trained_config, settings, new_rows(False))

    assert not result.retrained
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
    make_champion(weak(trained_config), settings)
    path = new_rows(True)

    result = retrain(trained_config, settings, path)

    assert result.drift is not None
    assert result.drift.report.drifted
    assert result.retrained
    assert result.decision is not None
    assert result.decision.model_version == "2"
    assert champion_version(settings.model_name) == "2"
    # The new rows replaced the configured rows with the same IDs; no other row was lost.
    combined = pd.read_parquet(processed_path(trained_config, contract))
    assert len(combined) == len(raw_data)
    new = pd.read_csv(path)
    mine = combined.set_index(contract.id_column).loc[new[contract.id_column].astype(str)]
    name = first_numeric(contract)
    assert mine[name].to_numpy() == pytest.approx(new[name].to_numpy())
    tags = mlflow.get_run(result.run_id).data.tags
    assert tags["drift_run_id"] == result.drift.run_id
    assert "beats baseline" in tags["decision"]
    training = mlflow.get_run(tags["training_run_id"])
    assert f"champion_test_{PRIMARY_METRIC}" in training.data.metrics


def test_a_worse_model_is_refused_and_the_champion_stays(
    trained_config: ProjectConfig,
    settings: Settings,
    new_rows: Callable[[bool], str],
) -> None:
    make_champion(trained_config, settings)
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
