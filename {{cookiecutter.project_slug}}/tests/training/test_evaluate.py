"""The evaluate stage: test metrics, plots, slices and the model card, in MLflow and on disk."""

import os
from pathlib import Path

import mlflow
import pytest

from {{ cookiecutter.package_name }}.config import ProjectConfig
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.training.evaluate import evaluate_run
from {{ cookiecutter.package_name }}.training.models import PRIMARY_METRIC
from {{ cookiecutter.package_name }}.training.promote import promote
from {{ cookiecutter.package_name }}.training.reports import RESULTS_END, RESULTS_START
from {{ cookiecutter.package_name }}.training.train import train

#: Slow (`make test-all` and CI only): each test trains and evaluates a model.
pytestmark = pytest.mark.slow


def test_evaluation_is_logged_to_the_training_run_and_written_to_reports(
    trained_config: ProjectConfig, settings: Settings, isolated: Path
) -> None:
    run_id = train(trained_config, settings).run_id
    readme = isolated / "README.md"
    readme.write_text(
        f"# Project\n\n{RESULTS_START}\nnothing yet\n{RESULTS_END}\n", encoding="utf-8"
    )

    result = evaluate_run(trained_config, settings, readme=readme)

    assert result.run_id == run_id  # the latest training run by default
    run = mlflow.get_run(run_id)
    assert f"test_{PRIMARY_METRIC}" in run.data.metrics
    assert f"baseline_test_{PRIMARY_METRIC}" in run.data.metrics
    logged = {artifact.path for artifact in mlflow.MlflowClient().list_artifacts(run_id, "figures")}
    written = {
        path.name for path in (trained_config.evaluate.reports_dir / "figures").glob("*.png")
    }
    assert written
    assert logged == {f"figures/{name}" for name in written}
    assert {"permutation_importance.png", "shap_summary.png"} <= written
    artifacts = {artifact.path for artifact in mlflow.MlflowClient().list_artifacts(run_id)}
    assert "shap_importance.csv" in artifacts
    card = result.model_card.read_text(encoding="utf-8")
    assert run_id in card
    assert "![SHAP summary plot](figures/shap_summary.png)" in card
    # The README's results describe the champion: a candidate's evaluation leaves them alone.
    assert "nothing yet" in readme.read_text(encoding="utf-8")


def test_evaluation_tags_the_reopened_run_with_its_own_process(
    trained_config: ProjectConfig, settings: Settings
) -> None:
    run_id = train(trained_config, settings).run_id
    # As if trained by a process that has gone: a kill during evaluation must be told from it.
    mlflow.MlflowClient().set_tag(run_id, "pid", "0")

    evaluate_run(trained_config, settings, run_id)

    assert mlflow.get_run(run_id).data.tags["pid"] == str(os.getpid())


def test_evaluating_the_champion_again_rewrites_the_readme_results(
    trained_config: ProjectConfig, settings: Settings, isolated: Path
) -> None:
    run_id = train(trained_config, settings).run_id
    evaluate_run(trained_config, settings, run_id)
    promote(trained_config, settings, run_id)
    readme = isolated / "README.md"
    readme.write_text(f"{RESULTS_START}\nstale\n{RESULTS_END}\n", encoding="utf-8")

    evaluate_run(trained_config, settings, run_id, readme=readme)

    text = readme.read_text(encoding="utf-8")
    assert "the champion, model version 1" in text
    assert f"**{PRIMARY_METRIC}**" in text


def test_explanations_can_be_turned_off(trained_config: ProjectConfig, settings: Settings) -> None:
    quiet = trained_config.evaluate.model_copy(update={"explanations": False})
    config = trained_config.model_copy(update={"evaluate": quiet})
    run_id = train(config, settings).run_id

    result = evaluate_run(config, settings, run_id)

    assert result.evaluation.explanation is None
    assert not (config.evaluate.reports_dir / "figures" / "shap_summary.png").exists()
    assert "No SHAP explanations: they were turned off" in result.model_card.read_text("utf-8")
