"""Promotion: the champion alias moves only through the quality gate; refusals are recorded."""

import mlflow
import pytest

from {{ cookiecutter.package_name }}.config import (
    ProjectConfig,
    PromoteConfig,
    TrainConfig,
)
from {{ cookiecutter.package_name }}.errors import PromotionRefusedError
from {{ cookiecutter.package_name }}.evaluate import evaluate_run
from {{ cookiecutter.package_name }}.models import GREATER_IS_BETTER
from {{ cookiecutter.package_name }}.promote import gate, promote
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.tracking import CHAMPION, champion_version
from {{ cookiecutter.package_name }}.train import train


def train_and_evaluate(config: ProjectConfig, settings: Settings) -> str:
    run_id = train(config, settings).run_id
    evaluate_run(config, settings, run_id)
    return run_id


def test_gate_needs_a_margin_over_the_baseline_and_no_loss_to_the_champion() -> None:
    good, baseline = (0.9, 0.6) if GREATER_IS_BETTER else (1.0, 2.0)
    champion_better = 0.95 if GREATER_IS_BETTER else 0.9

    assert gate(good, baseline, None, margin=0.02)[0]
    assert not gate(baseline, baseline, None, margin=0.02)[0]
    passed, reason = gate(good, baseline, champion_better, margin=0.02)
    assert not passed
    assert "worse than the champion" in reason


def test_a_good_model_becomes_the_champion(
    trained_config: ProjectConfig, settings: Settings
) -> None:
    run_id = train_and_evaluate(trained_config, settings)

    decision = promote(trained_config, settings, run_id)

    assert decision.promoted
    assert champion_version(settings.model_name) == decision.model_version == "1"


def test_a_model_no_better_than_the_baseline_is_refused_and_the_champion_stays(
    trained_config: ProjectConfig, settings: Settings
) -> None:
    promote(trained_config, settings, train_and_evaluate(trained_config, settings))
    worse = trained_config.model_copy(update={"train": TrainConfig(model="baseline")})
    rejected_run = train_and_evaluate(worse, settings)

    with pytest.raises(
        PromotionRefusedError, match=r"version 2 was not promoted: .* does not beat the baseline"
    ):
        promote(worse, settings, rejected_run)

    client = mlflow.MlflowClient()
    assert str(client.get_model_version_by_alias(settings.model_name, CHAMPION).version) == "1"
    assert "baseline" in client.get_model_version(settings.model_name, "2").tags["rejected"]
    versions = client.search_model_versions(f"name = '{settings.model_name}'")
    assert sorted(str(v.version) for v in versions) == ["1", "2"]  # nothing deleted


def test_a_model_worse_than_the_champion_is_refused(
    trained_config: ProjectConfig, settings: Settings
) -> None:
    promote(trained_config, settings, train_and_evaluate(trained_config, settings))
    weak = trained_config.model_copy(
        update={
            "train": TrainConfig(
                model="gradient_boosting", params={"max_iter": 3, "learning_rate": 0.05}
            ),
            "promote": PromoteConfig(min_improvement_over_baseline=0.0),
        }
    )
    weak_run = train_and_evaluate(weak, settings)

    with pytest.raises(PromotionRefusedError, match="worse than the champion"):
        promote(weak, settings, weak_run)
    assert champion_version(settings.model_name) == "1"
