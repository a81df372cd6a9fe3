"""The A/B readout: a truly better challenger is promoted, a worse one is not, few labels wait.

The log is written as the service writes it and the labels as they would arrive; the
predictions are drawn right or wrong at known rates, so which model is better is known.
"""

import json
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from {{ cookiecutter.package_name }}.cli import app
from {{ cookiecutter.package_name }}.cli.monitoring import VERDICT_EXIT
from {{ cookiecutter.package_name }}.config import ProjectConfig
from {{ cookiecutter.package_name }}.data.contract import DataContract
from {{ cookiecutter.package_name }}.errors import ConfigError
from {{ cookiecutter.package_name }}.monitoring.experiment import (
    VERDICT_TAG,
    promote_challenger,
    read_experiment,
)
from {{ cookiecutter.package_name }}.monitoring.prediction_log import (
    PredictionLogger,
    open_log,
)
from {{ cookiecutter.package_name }}.settings import ENV_PREFIX, Settings
from {{ cookiecutter.package_name }}.training import tracking
from {{ cookiecutter.package_name }}.training.evaluate import evaluate_run
from {{ cookiecutter.package_name }}.training.promote import promote
from {{ cookiecutter.package_name }}.training.train import train
{% if cookiecutter.task == "classification" %}
#: How often each model is right: the challenger is truly better, or truly worse.
GOOD, BETTER, WORSE = 0.70, 0.80, 0.60
{%- else %}
#: The spread of each model's errors: the challenger is truly better, or truly worse.
GOOD, BETTER, WORSE = 2.0, 1.0, 4.0
{%- endif %}
#: The fewest labelled rows per variant for a verdict (`monitoring.min_rows` as shipped).
MIN_ROWS = 100


@pytest.fixture
def project_config(project_config: ProjectConfig) -> ProjectConfig:
    """The project's config with `monitoring.min_rows` as shipped, whatever yours says: the
    samples below are sized around it."""
    monitoring = project_config.monitoring.model_copy(update={"min_rows": MIN_ROWS})
    return project_config.model_copy(update={"monitoring": monitoring})


@pytest.fixture
def logging_settings(settings: Settings, tmp_path: Path) -> Settings:
    """The test's settings with a prediction log of its own."""
    return settings.model_copy(update={"prediction_log_dir": tmp_path / "log"})


def predicted(rng: np.random.Generator, truth: {% if cookiecutter.task == "classification" %}object{% else %}float{% endif %}, quality: float) -> dict[str, object]:
{%- if cookiecutter.task == "classification" %}
    """A model's answer: the true class with probability `quality`, else the other one."""
    return {"prediction": truth if rng.random() < quality else {"a": "b", "b": "a"}[str(truth)]}
{%- else %}
    """A model's answer: the truth plus an error of spread `quality`."""
    return {"prediction": truth + float(rng.normal(0, quality))}
{%- endif %}


def play(
    settings: Settings,
    contract: DataContract,
    folder: Path,
    *,
    mode: str,
    challenger: float,
    requests: int,
) -> str:
    """Log `requests` answered records as a rollout does, and write their labels; the file.

    In a canary, every other request is the challenger's; in shadow, it scores every one too.
    """
    rng = np.random.default_rng(7)
    log = open_log(settings)
    assert log is not None
    writer = PredictionLogger(log, contract)
    labels = []
    for number in range(requests):
        request_id = f"request-{number}"
{%- if cookiecutter.task == "classification" %}
        truth: object = str(rng.choice(["a", "b"]))
{%- else %}
        truth = float(rng.normal(100, 10))
{%- endif %}
        if mode == "canary" and number % 2:
            answer = predicted(rng, truth, challenger)
            writer.submit(request_id, "model", "4", [{}], [answer], "challenger")
        else:
            writer.submit(request_id, "model", "3", [{}], [predicted(rng, truth, GOOD)])
        if mode == "shadow":
            answer = predicted(rng, truth, challenger)
            writer.submit(request_id, "model", "4", [{}], [answer], "shadow")
        labels.append({"request_id": request_id, contract.target.name: truth})
    writer.close()
    path = folder / "labels.csv"
    pd.DataFrame(labels).to_csv(path, index=False)
    return str(path)


@pytest.mark.parametrize("mode", ["shadow", "canary"])
@pytest.mark.parametrize(
    ("challenger", "verdict"), [(BETTER, "promote"), (WORSE, "keep")], ids=["better", "worse"]
)
def test_the_readout_promotes_a_better_challenger_and_keeps_the_champion_against_a_worse(
    mode: str,
    challenger: float,
    verdict: str,
    project_config: ProjectConfig,
    logging_settings: Settings,
    contract: DataContract,
    tmp_path: Path,
) -> None:
    labels = play(
        logging_settings, contract, tmp_path, mode=mode, challenger=challenger, requests=2000
    )

    readout = read_experiment(project_config, logging_settings, labels)

    assert (readout.mode, readout.verdict) == (mode, verdict), readout.reason
    assert (readout.champion_version, readout.challenger_version) == ("3", "4")
    expected = {"shadow": (2000, 2000), "canary": (1000, 1000)}[mode]
    assert (readout.rows["champion"], readout.rows["challenger"]) == expected
    assert readout.p_value < 0.001
    difference = readout.difference
    assert difference.low < difference.value < difference.high
    assert (difference.high < 0) or (difference.low > 0)  # the interval excludes no change
    for estimate in readout.scores.values():
        assert estimate.low < estimate.value < estimate.high
    assert (readout.agreement is not None) is (mode == "shadow")
    written = json.loads(readout.json_path.read_text(encoding="utf-8"))
    assert written["verdict"] == verdict
    assert readout.figure.stat().st_size > 0
    run = mlflow.get_run(readout.run_id)
    assert run.data.tags["verdict"] == verdict
    assert run.data.metrics["p_value"] == pytest.approx(readout.p_value)


def test_too_few_labels_ask_for_more_and_say_how_many(
    project_config: ProjectConfig,
    logging_settings: Settings,
    contract: DataContract,
    tmp_path: Path,
    runner: CliRunner,
    project_env: dict[str, str],
) -> None:
    labels = play(
        logging_settings, contract, tmp_path, mode="canary", challenger=BETTER, requests=40
    )
    env = project_env | {
        "MLFLOW_TRACKING_URI": logging_settings.tracking_uri,
        f"{ENV_PREFIX}MODEL_NAME": logging_settings.model_name,
        f"{ENV_PREFIX}PREDICTION_LOG_DIR": str(logging_settings.prediction_log_dir),
    }

    result = runner.invoke(app, ["experiment", labels], env=env)

    assert result.exit_code == VERDICT_EXIT["collect"], result.output
    assert "Verdict: collect" in result.output
    written = project_config.evaluate.reports_dir / "experiment" / "experiment.json"
    readout = json.loads(written.read_text(encoding="utf-8"))
    assert readout["needed_rows"] > 20
    assert f"{readout['needed_rows'] - 20:,} more labelled rows" in readout["reason"]


def test_no_verdict_comes_before_min_rows_however_clear_the_difference(
    project_config: ProjectConfig,
    logging_settings: Settings,
    contract: DataContract,
    tmp_path: Path,
) -> None:
    always_right = {% if cookiecutter.task == "classification" %}1.0{% else %}0.01{% endif %}
    labels = play(
        logging_settings, contract, tmp_path, mode="shadow", challenger=always_right, requests=60
    )

    readout = read_experiment(project_config, logging_settings, labels)

    assert readout.p_value < project_config.monitoring.experiment.alpha
    assert readout.verdict == "collect", readout.reason
    assert readout.needed_rows >= MIN_ROWS > readout.rows["challenger"]


def test_labels_that_join_no_challenger_or_lack_a_column_are_one_line_errors(
    project_config: ProjectConfig,
    logging_settings: Settings,
    contract: DataContract,
    tmp_path: Path,
) -> None:
    labels = play(logging_settings, contract, tmp_path, mode="off", challenger=GOOD, requests=5)
    with pytest.raises(ConfigError, match="at least 2 of each are needed"):
        read_experiment(project_config, logging_settings, labels)
    (tmp_path / "unkeyed.csv").write_text(f"{contract.target.name}\n1\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="has no request_id column"):
        read_experiment(project_config, logging_settings, str(tmp_path / "unkeyed.csv"))
    off = logging_settings.model_copy(update={"prediction_log": False})
    with pytest.raises(ConfigError, match="the prediction log is off"):
        read_experiment(project_config, off, labels)


@pytest.mark.slow
def test_the_challenger_becomes_champion_only_on_a_promote_verdict_or_force(
    trained_config: ProjectConfig, settings: Settings
) -> None:
    def trained() -> tuple[str, str]:
        result = train(trained_config, settings)
        evaluate_run(trained_config, settings, result.run_id)
        return result.run_id, str(result.model_version)

    (champion_run, champion), (challenger_run, challenger) = trained(), trained()
    promote(trained_config, settings, champion_run)
    promote(trained_config, settings, challenger_run, alias=tracking.CHALLENGER)
    client = mlflow.MlflowClient()

    with pytest.raises(ConfigError, match=f"version {challenger}'s experiment verdict is not read"):
        promote_challenger(trained_config, settings)
    client.set_model_version_tag(settings.model_name, challenger, VERDICT_TAG, "keep")
    with pytest.raises(ConfigError, match="verdict is keep: run `experiment`"):
        promote_challenger(trained_config, settings)
    assert tracking.champion_version(settings.model_name) == champion

    client.set_model_version_tag(settings.model_name, challenger, VERDICT_TAG, "promote")
    decision = promote_challenger(trained_config, settings)

    assert decision.model_version == challenger
    assert tracking.champion_version(settings.model_name) == challenger
    assert tracking.champion_version(settings.model_name, tracking.CHALLENGER) is None
    for version in (champion, challenger):
        note = client.get_model_version(settings.model_name, version).tags["experiment"]
        assert note == (
            f"version {challenger} replaced version {champion} as the champion, "
            "on the experiment's verdict"
        )
    with pytest.raises(ConfigError, match="there is no challenger"):
        promote_challenger(trained_config, settings, force=True)
