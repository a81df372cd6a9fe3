"""The tune stage: a bounded, seeded search whose trials are nested runs."""

import mlflow
import pytest

from {{ cookiecutter.package_name }}.config import ProjectConfig, TrainConfig
from {{ cookiecutter.package_name }}.errors import ConfigError
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.training.tune import tune

#: Slow (`make test-all` and CI only): each test runs a search.
pytestmark = pytest.mark.slow


def test_search_logs_each_trial_under_its_parent(
    trained_config: ProjectConfig, settings: Settings
) -> None:
    result = tune(trained_config, settings)

    children = mlflow.search_runs(
        experiment_names=[settings.model_name],
        filter_string=f"tags.mlflow.parentRunId = '{result.run_id}'",
        output_format="list",
    )
    assert result.trials == 3
    assert len(children) == 3
    assert result.best_params
    assert mlflow.get_run(result.run_id).data.tags["stage"] == "tune"


def test_a_seeded_search_repeats(trained_config: ProjectConfig, settings: Settings) -> None:
    config = trained_config.model_copy(update={"train": TrainConfig(model="linear")})

    assert tune(config, settings).best_params == tune(config, settings).best_params


def test_the_baseline_cannot_be_tuned(trained_config: ProjectConfig, settings: Settings) -> None:
    config = trained_config.model_copy(update={"train": TrainConfig(model="baseline")})

    with pytest.raises(ConfigError, match="no search space"):
        tune(config, settings)
