"""`run` end to end, from the shipped raw data to a champion, in a temporary directory."""

from pathlib import Path

import mlflow
import pytest
from rich.console import Console
from typer.testing import CliRunner

from {{ cookiecutter.package_name }}.cli import app
from {{ cookiecutter.package_name }}.config import ProjectConfig, TrainConfig
from {{ cookiecutter.package_name }}.errors import PromotionRefusedError
from {{ cookiecutter.package_name }}.settings import ENV_PREFIX, Settings
from {{ cookiecutter.package_name }}.training.reports import (
    MODEL_CARD,
    REFUSED,
    RESULTS_END,
    RESULTS_START,
)
from {{ cookiecutter.package_name }}.training.run import run_stages
from {{ cookiecutter.package_name }}.training.tracking import champion_version

#: Slow (`make test-all` and CI only): each test runs the whole pipeline.
pytestmark = pytest.mark.slow


def test_run_goes_from_raw_data_to_a_champion(
    runner: CliRunner, project_env: dict[str, str], tracking_uri: str, isolated: Path
) -> None:
    (isolated / "README.md").write_text(f"{RESULTS_START}\n{RESULTS_END}\n", encoding="utf-8")
    env = project_env | {
        f"{ENV_PREFIX}TRACKING_URI": tracking_uri,
        f"{ENV_PREFIX}MODEL_NAME": "pipeline-test",
    }

    result = runner.invoke(app, ["run"], env=env)

    assert result.exit_code == 0, result.output
    assert "Champion: pipeline-test version 1" in result.stdout
    assert champion_version("pipeline-test") == "1"
    assert list((isolated / "data" / "processed").glob("*.parquet"))
    assert (isolated / "reports" / "model_card.md").is_file()
    assert list((isolated / "reports" / "figures").glob("*.png"))
    assert "| metric |" in (isolated / "README.md").read_text(encoding="utf-8")

    again = runner.invoke(app, ["run"], env=env)
    assert again.exit_code == 0, again.output  # the same model again does no worse: promoted
    assert champion_version("pipeline-test") == "2"


def test_predict_scores_a_file_with_the_champion(
    runner: CliRunner, project_env: dict[str, str], tracking_uri: str, isolated: Path, raw_data
) -> None:  # type: ignore[no-untyped-def]
    env = project_env | {
        f"{ENV_PREFIX}TRACKING_URI": tracking_uri,
        f"{ENV_PREFIX}MODEL_NAME": "predict-test",
    }
    missing = runner.invoke(app, ["predict", "rows.csv", "out.csv"], env=env)
    raw_data.head(50).to_csv(isolated / "rows.csv", index=False)
    assert runner.invoke(app, ["run"], env=env).exit_code == 0

    result = runner.invoke(app, ["predict", "rows.csv", "out.parquet"], env=env)

    assert missing.exit_code == 1
    assert "has no champion yet" in missing.stderr
    assert result.exit_code == 0, result.output
    assert "Wrote 50 predictions" in result.stdout


def test_a_refused_run_leaves_the_results_to_the_champion_and_marks_its_own_card(
    trained_config: ProjectConfig, settings: Settings, isolated: Path
) -> None:
    readme = isolated / "README.md"
    readme.write_text(f"{RESULTS_START}\n{RESULTS_END}\n", encoding="utf-8")
    quiet = Console(quiet=True)
    run_stages(trained_config, settings, quiet)
    champion_results = readme.read_text(encoding="utf-8")
    worse = trained_config.model_copy(update={"train": TrainConfig(model="baseline")})

    with pytest.raises(PromotionRefusedError):
        run_stages(worse, settings, quiet)

    assert champion_version(settings.model_name) == "1"
    assert readme.read_text(encoding="utf-8") == champion_results
    assert "the champion, model version 1" in champion_results
    card = (trained_config.evaluate.reports_dir / MODEL_CARD).read_text(encoding="utf-8")
    assert f"{REFUSED} version 2 was not promoted: " in card
    refused_run = mlflow.MlflowClient().get_model_version(settings.model_name, "2").run_id
    assert mlflow.artifacts.load_text(f"runs:/{refused_run}/{MODEL_CARD}") == card
