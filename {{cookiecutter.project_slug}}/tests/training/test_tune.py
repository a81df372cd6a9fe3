"""The tune stage: a bounded, seeded search whose trials are nested runs."""

from pathlib import Path

import mlflow
import pytest
{%- if cookiecutter.data_source == "sql" or cookiecutter.include_monitoring %}
from pydantic import SecretStr
{%- endif %}
from typer.testing import CliRunner

from {{ cookiecutter.package_name }}.cli import app
from {{ cookiecutter.package_name }}.config import ProjectConfig, TrainConfig
from {{ cookiecutter.package_name }}.errors import ConfigError
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.training.tune import join, tune

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


def test_workers_share_one_search_and_nest_every_trial(
    trained_config: ProjectConfig, settings: Settings
) -> None:
    result = tune(trained_config, settings, workers=2, study="shared")

    children = mlflow.search_runs(
        experiment_names=[settings.model_name],
        filter_string=f"tags.mlflow.parentRunId = '{result.run_id}'",
        output_format="list",
    )
    wanted = trained_config.tune.n_trials
    # Each worker stops once the search has its trials; both may start the last one together.
    assert wanted <= result.trials <= wanted + 1
    assert len(children) == result.trials
    assert len({run.data.tags["pid"] for run in children}) == 2
    assert result.study == "shared"
    assert (Path.cwd() / "optuna.db").is_file()


def test_joining_a_search_that_does_not_exist_is_one_line(
    trained_config: ProjectConfig, settings: Settings
) -> None:
    with pytest.raises(ConfigError, match=r"no study 'nowhere' .* `tune --study nowhere` first"):
        join(trained_config, settings, "nowhere")


def test_cli_join_without_a_search_fails_in_one_line(
    runner: CliRunner, project_env: dict[str, str]
) -> None:
    result = runner.invoke(app, ["tune", "--join", "nowhere"], env=project_env)

    assert result.exit_code == 1
    assert "no study 'nowhere' in the tune storage" in result.output
    assert "Traceback" not in result.output
{%- if cookiecutter.data_source == "sql" or cookiecutter.include_monitoring %}


def test_workers_on_many_machines_share_a_search_in_postgresql(
    trained_config: ProjectConfig, settings: Settings, postgres_url: str
) -> None:
    shared = settings.model_copy(update={"tune_storage": SecretStr(postgres_url)})

    result = tune(trained_config, shared, workers=2, study=f"search-{settings.model_name}")

    assert result.trials >= trained_config.tune.n_trials
    assert not (Path.cwd() / "optuna.db").exists()
    # One more worker joining the finished search has nothing left to run.
    assert join(trained_config, shared, result.study) == 0
{%- endif %}
