"""Promotion: the champion alias moves only through the quality gate; refusals are recorded.

The champion is compared with a candidate only on test rows it never trained on, and the
comparison is made again when the champion changed after the candidate was evaluated.
"""

import mlflow
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.config import (
    FeaturesConfig,
    ProjectConfig,
    PromoteConfig,
    SplitConfig,
    TrainConfig,
)
from {{ cookiecutter.package_name }}.contract import DataContract, dump_contract
from {{ cookiecutter.package_name }}.datasets import write_parquet
from {{ cookiecutter.package_name }}.errors import PromotionRefusedError
from {{ cookiecutter.package_name }}.evaluate import evaluate_run
from {{ cookiecutter.package_name }}.ingest import processed_path
from {{ cookiecutter.package_name }}.models import GREATER_IS_BETTER, PRIMARY_METRIC
from {{ cookiecutter.package_name }}.promote import COMPARISON, Comparison, gate, promote
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.tracking import CHAMPION, champion_version
from {{ cookiecutter.package_name }}.train import train

#: A one-split model: better than the baseline, worse than a real model, on any data.
STUMP = TrainConfig(model="gradient_boosting", params={"max_iter": 1, "max_leaf_nodes": 2})


def train_and_evaluate(config: ProjectConfig, settings: Settings) -> str:
    run_id = train(config, settings).run_id
    evaluate_run(config, settings, run_id)
    return run_id


def compared(candidate: float, champion: float) -> Comparison:
    return Comparison("1", 500, candidate, champion, "compared on 500 test rows")


def test_gate_needs_a_margin_over_the_baseline_and_no_loss_to_the_champion() -> None:
    good, baseline = (0.9, 0.6) if GREATER_IS_BETTER else (1.0, 2.0)
    champion_better = 0.95 if GREATER_IS_BETTER else 0.9
    skipped = Comparison("1", 0, None, None, "champion comparison skipped: no record")

    assert gate(good, baseline, None, margin=0.02)[0]
    assert not gate(baseline, baseline, None, margin=0.02)[0]
    passed, reason = gate(good, baseline, compared(good, champion_better), margin=0.02)
    assert not passed
    assert "worse than the champion" in reason
    assert gate(good, baseline, compared(good, good), margin=0.02)[0]  # no worse is enough
    passed, reason = gate(good, baseline, skipped, margin=0.02)
    assert passed
    assert "champion comparison skipped: no record" in reason


def test_a_good_model_becomes_the_champion(
    trained_config: ProjectConfig, settings: Settings
) -> None:
    run_id = train_and_evaluate(trained_config, settings)

    decision = promote(trained_config, settings, run_id)

    assert champion_version(settings.model_name) == decision.model_version == "1"
    tags = mlflow.MlflowClient().get_model_version(settings.model_name, "1").tags
    assert "no champion yet" in tags["promoted"]


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
        update={"train": STUMP, "promote": PromoteConfig(min_improvement_over_baseline=0.0)}
    )
    weak_run = train_and_evaluate(weak, settings)

    with pytest.raises(PromotionRefusedError, match="worse than the champion"):
        promote(weak, settings, weak_run)
    assert champion_version(settings.model_name) == "1"


def test_the_champion_is_compared_only_on_rows_it_never_trained_on(
    trained_config: ProjectConfig, settings: Settings
) -> None:
    promote(trained_config, settings, train_and_evaluate(trained_config, settings))
    # Another seed splits the same rows anew: most of today's test rows trained the champion.
    reshuffled = trained_config.model_copy(
        update={
            "seed": trained_config.seed + 1,
            "promote": PromoteConfig(min_comparison_rows=1),
        }
    )

    run = mlflow.get_run(train_and_evaluate(reshuffled, settings))

    test_rows = int(run.data.params["data.rows"]) * trained_config.split.test_size
    assert 0 < run.data.metrics["comparison_rows"] < test_rows / 2
    assert "test rows it never trained on" in run.data.tags[COMPARISON]
    assert f"champion_comparison_{PRIMARY_METRIC}" in run.data.metrics


def test_too_few_unseen_rows_skip_the_comparison_and_say_so(
    trained_config: ProjectConfig, settings: Settings
) -> None:
    promote(trained_config, settings, train_and_evaluate(trained_config, settings))
    strict = trained_config.model_copy(
        update={
            "seed": trained_config.seed + 1,
            "promote": PromoteConfig(min_comparison_rows=100_000),
        }
    )

    decision = promote(strict, settings, train_and_evaluate(strict, settings))

    assert decision.model_version == "2"
    assert "champion comparison skipped: only" in decision.reason
    assert "min_comparison_rows" in decision.reason


def test_a_champion_that_cannot_read_the_new_data_is_not_the_yardstick(
    trained_config: ProjectConfig,
    settings: Settings,
    contract: DataContract,
    raw_data: pd.DataFrame,
    tmp_path,  # type: ignore[no-untyped-def]
) -> None:
    from {{ cookiecutter.package_name }}.validation import validate

    promote(trained_config, settings, train_and_evaluate(trained_config, settings))
    dropped = contract.features[0].name
    smaller = contract.model_copy(
        update={"features": tuple(f for f in contract.features if f.name != dropped)}
    )
    path = tmp_path / "smaller.yaml"
    path.write_text(dump_contract(smaller), encoding="utf-8")
    data = trained_config.data.model_copy(
        update={"contract": path, "processed_dir": tmp_path / "smaller"}
    )
    other = trained_config.model_copy(
        update={"data": data, "split": SplitConfig(), "features": FeaturesConfig()}
    )
    rows = validate(raw_data.drop(columns=[dropped]), smaller)
    write_parquet(rows, processed_path(other, smaller))

    decision = promote(other, settings, train_and_evaluate(other, settings))

    assert decision.model_version == "2"
    assert f"champion comparison skipped: version 1 reads columns this data lacks ({dropped})" in (
        decision.reason
    )


def test_a_champion_that_changed_after_evaluation_is_compared_again(
    trained_config: ProjectConfig, settings: Settings
) -> None:
    promote(trained_config, settings, train_and_evaluate(trained_config, settings))
    fair = trained_config.model_copy(
        update={"promote": PromoteConfig(min_improvement_over_baseline=0.0)}
    )
    strong = train_and_evaluate(fair, settings)  # version 2, compared with version 1
    weak = train_and_evaluate(fair.model_copy(update={"train": STUMP}), settings)  # version 3
    promote(fair, settings, strong)

    # Evaluated against version 1, but version 2 is the champion now: compared again, refused.
    with pytest.raises(PromotionRefusedError, match="worse than the champion"):
        promote(fair, settings, weak)
    assert champion_version(settings.model_name) == "2"
    assert mlflow.get_run(weak).data.tags["champion_compared"] == "2"
