"""Promotion: the champion alias moves only through the quality gate; refusals are recorded.

The champion is compared with a candidate only on test rows it never trained on, and the
comparison is made again when the champion changed after the candidate was evaluated, or while
the promotion waited for another. A promotion killed at any step is completed by the next one.
"""

import threading
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
import yaml
from typer.testing import CliRunner

from {{ cookiecutter.package_name }}.cli import app
from {{ cookiecutter.package_name }}.config import (
    FeaturesConfig,
    ProjectConfig,
    PromoteConfig,
    SplitConfig,
    TrainConfig,
)
from {{ cookiecutter.package_name }}.data.contract import (
    Column,
    DataContract,
    dump_contract,
)
from {{ cookiecutter.package_name }}.data.datasets import write_parquet
from {{ cookiecutter.package_name }}.data.ingest import processed_path
from {{ cookiecutter.package_name }}.errors import ConfigError, PromotionRefusedError
from {{ cookiecutter.package_name }}.settings import ENV_PREFIX, Settings
from {{ cookiecutter.package_name }}.training import promote as promote_module
from {{ cookiecutter.package_name }}.training.evaluate import evaluate_run
from {{ cookiecutter.package_name }}.training.gate import COMPARISON, Comparison, decide
from {{ cookiecutter.package_name }}.training.metrics import format_metric
from {{ cookiecutter.package_name }}.training.models import (
    GREATER_IS_BETTER,
    PRIMARY_METRIC,
)
from {{ cookiecutter.package_name }}.training.promote import GATE, promote, promotion_lock
from {{ cookiecutter.package_name }}.training.reports import (
    MODEL_CARD,
    REFUSED,
    RESULTS_END,
    RESULTS_START,
)
from {{ cookiecutter.package_name }}.training.tracking import (
    CHALLENGER,
    CHAMPION,
    champion_version,
)
from {{ cookiecutter.package_name }}.training.train import train

#: Slow (`make test-all` and CI only): each test trains and promotes two models or more.
pytestmark = pytest.mark.slow

#: A one-split model: better than the baseline, worse than a real model, on any data.
STUMP = TrainConfig(model="gradient_boosting", params={"max_iter": 1, "max_leaf_nodes": 2})


@pytest.fixture
def trained_config(trained_config: ProjectConfig) -> ProjectConfig:
    """The quick config without SHAP explanations: the gate never reads them, and they cost a
    second or more per candidate (tests/governance and tests/training/test_evaluate.py keep them)."""
    evaluate = trained_config.evaluate.model_copy(update={"explanations": False})
    return trained_config.model_copy(update={"evaluate": evaluate})


def train_and_evaluate(config: ProjectConfig, settings: Settings) -> str:
    run_id = train(config, settings).run_id
    evaluate_run(config, settings, run_id)
    return run_id


class Killed(BaseException):
    """A kill -9 at one step of a promotion: nothing after it runs."""


def kill_at(monkeypatch: pytest.MonkeyPatch, method: str, key: str | None = None) -> None:
    """Make a MlflowClient write stop the process (for one tag `key`, or for every call)."""
    real = getattr(mlflow.MlflowClient, method)

    def killed(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        if key is None or key in args:
            raise Killed
        return real(self, *args, **kwargs)

    monkeypatch.setattr(mlflow.MlflowClient, method, killed)


def die(*_: object) -> None:
    """A kill -9 in place of a whole step."""
    raise Killed


def version_tags(settings: Settings, version: str) -> dict[str, str]:
    return mlflow.MlflowClient().get_model_version(settings.model_name, version).tags


def compared(candidate: float, champion: float) -> Comparison:
    return Comparison("1", 500, candidate, champion, "compared on 500 test rows")


def test_gate_needs_a_margin_over_the_baseline_and_no_loss_to_the_champion() -> None:
    good, baseline = (0.9, 0.6) if GREATER_IS_BETTER else (1.0, 2.0)
    champion_better = 0.95 if GREATER_IS_BETTER else 0.9
    skipped = Comparison("1", 0, None, None, "champion comparison skipped: no record")

    assert decide(good, baseline, None, margin=0.02)[0]
    assert not decide(baseline, baseline, None, margin=0.02)[0]
    passed, reason = decide(good, baseline, compared(good, champion_better), margin=0.02)
    assert not passed
    assert "worse than the champion" in reason
    assert decide(good, baseline, compared(good, good), margin=0.02)[0]  # no worse is enough
    passed, reason = decide(good, baseline, skipped, margin=0.02)
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


def test_a_challenger_passes_the_same_gate_and_leaves_the_champion_in_place(
    trained_config: ProjectConfig, settings: Settings, runner: CliRunner, tmp_path: Path
) -> None:
    first = train_and_evaluate(trained_config, settings)
    with pytest.raises(ConfigError, match="there is no champion to challenge"):
        promote(trained_config, settings, first, alias=CHALLENGER)
    promote(trained_config, settings, first)
    with pytest.raises(ConfigError, match="version 1 is the champion: a challenger must be"):
        promote(trained_config, settings, first, alias=CHALLENGER)
    second = train_and_evaluate(trained_config, settings)  # the same model: no worse
    config = tmp_path / "challenge.yaml"
    config.write_text(yaml.safe_dump(trained_config.model_dump(mode="json")), encoding="utf-8")
    env = {
        f"{ENV_PREFIX}CONFIG_FILE": str(config),
        f"{ENV_PREFIX}MODEL_NAME": settings.model_name,
        "MLFLOW_TRACKING_URI": settings.tracking_uri,
    }

    result = runner.invoke(app, ["promote", "--as", "challenger", "--run-id", second], env=env)

    assert result.exit_code == 0, result.output
    assert "Version 2 is the challenger" in result.stdout
    assert champion_version(settings.model_name) == "1"
    assert champion_version(settings.model_name, CHALLENGER) == "2"
    tags = version_tags(settings, "2")
    assert "challenger" in tags
    assert "promoted" not in tags
    worse = trained_config.model_copy(update={"train": TrainConfig(model="baseline")})
    refused = r"version 3 was not promoted to challenger: .* baseline"
    with pytest.raises(PromotionRefusedError, match=refused):
        promote(worse, settings, train_and_evaluate(worse, settings), alias=CHALLENGER)
    assert champion_version(settings.model_name, CHALLENGER) == "2"

    promote(trained_config, settings, second)  # the challenger won: it is the champion now

    assert champion_version(settings.model_name) == "2"
    assert champion_version(settings.model_name, CHALLENGER) is None


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
    from {{ cookiecutter.package_name }}.data.validation import validate

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


def test_a_promotion_that_waited_for_another_compares_with_the_champion_it_made(
    trained_config: ProjectConfig, settings: Settings
) -> None:
    fair = trained_config.model_copy(
        update={"promote": PromoteConfig(min_improvement_over_baseline=0.0)}
    )
    stump = fair.model_copy(update={"train": STUMP})
    promote(stump, settings, train_and_evaluate(stump, settings))  # version 1
    train_and_evaluate(fair, settings)  # version 2
    weak = train_and_evaluate(stump, settings)  # version 3: the same as version 1, so no worse
    outcome: list[BaseException | None] = []

    def promote_weak() -> None:
        try:
            promote(stump, settings, weak)
            outcome.append(None)
        except PromotionRefusedError as error:
            outcome.append(error)

    with promotion_lock(settings):  # another promotion is under way
        waiting = threading.Thread(target=promote_weak)
        waiting.start()
        waiting.join(timeout=3)
        assert waiting.is_alive(), "promote did not wait for the promotion under way"
        # ... and the other promotion makes version 2 the champion before it lets go.
        mlflow.MlflowClient().set_registered_model_alias(settings.model_name, CHAMPION, "2")
    waiting.join(timeout=120)

    assert isinstance(outcome[0], PromotionRefusedError)
    assert "worse than the champion" in str(outcome[0])
    assert champion_version(settings.model_name) == "2"
    assert mlflow.get_run(weak).data.tags["champion_compared"] == "2"


def test_a_promotion_that_cannot_get_the_lock_says_so_in_one_line(
    trained_config: ProjectConfig, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id = train_and_evaluate(trained_config, settings)
    monkeypatch.setattr(promote_module, "LOCK_SECONDS", 0.1)

    with promotion_lock(settings), pytest.raises(ConfigError) as caught:
        promote(trained_config, settings, run_id)

    assert "another promotion held" in str(caught.value)
    assert "\n" not in str(caught.value)
    assert champion_version(settings.model_name) is None


def test_killed_before_the_alias_moved_the_candidate_is_undecided_and_promoted_next_time(
    trained_config: ProjectConfig, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id = train_and_evaluate(trained_config, settings)
    kill_at(monkeypatch, "set_registered_model_alias")

    with pytest.raises(Killed):
        promote(trained_config, settings, run_id)
    assert champion_version(settings.model_name) is None
    assert not {"promoted", "rejected"} & set(version_tags(settings, "1"))
    monkeypatch.undo()

    assert promote(trained_config, settings, run_id).model_version == "1"
    assert "promoted" in version_tags(settings, "1")


def test_killed_after_the_alias_moved_the_next_promotion_tags_the_champion(
    trained_config: ProjectConfig, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    run_id = train_and_evaluate(trained_config, settings)
    kill_at(monkeypatch, "set_model_version_tag", "promoted")

    with pytest.raises(Killed):
        promote(trained_config, settings, run_id)
    assert champion_version(settings.model_name) == "1"
    assert "promoted" not in version_tags(settings, "1")
    monkeypatch.undo()
    worse = trained_config.model_copy(update={"train": TrainConfig(model="baseline")})
    with pytest.raises(PromotionRefusedError):
        promote(worse, settings, train_and_evaluate(worse, settings))

    verdict = mlflow.get_run(run_id).data.tags[GATE]
    assert version_tags(settings, "1")["promoted"] == verdict
    assert "beats baseline" in verdict


def test_the_readme_results_describe_the_champion_whatever_promote_decides(
    trained_config: ProjectConfig,
    settings: Settings,
    isolated: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    readme = isolated / "README.md"
    readme.write_text(f"{RESULTS_START}\nnothing yet\n{RESULTS_END}\n", encoding="utf-8")
    first = train_and_evaluate(trained_config, settings)
    # Killed after the alias moved and the tags, before the README was rewritten.
    monkeypatch.setattr(promote_module, "write_champion_results", die)
    with pytest.raises(Killed):
        promote(trained_config, settings, first, readme=readme)
    monkeypatch.undo()
    assert "nothing yet" in readme.read_text(encoding="utf-8")
    worse = trained_config.model_copy(update={"train": TrainConfig(model="baseline")})
    refused = train_and_evaluate(worse, settings)

    with pytest.raises(PromotionRefusedError):
        promote(worse, settings, refused, readme=readme)

    text = readme.read_text(encoding="utf-8")
    assert "the champion, model version 1" in text
    score = mlflow.get_run(first).data.metrics[f"test_{PRIMARY_METRIC}"]
    assert f"| **{PRIMARY_METRIC}** | {format_metric(score)} |" in text


def test_a_readme_without_the_results_markers_is_left_alone_and_promotion_goes_on(
    trained_config: ProjectConfig,
    settings: Settings,
    isolated: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    readme = isolated / "README.md"
    readme.write_text("# My own README\n", encoding="utf-8")

    run_id = train_and_evaluate(trained_config, settings)

    decision = promote(trained_config, settings, run_id, readme=readme)

    assert champion_version(settings.model_name) == decision.model_version
    assert readme.read_text(encoding="utf-8") == "# My own README\n"
    assert "results table not written" in caplog.text


def test_a_version_refused_once_and_promoted_later_loses_its_rejected_tag(
    trained_config: ProjectConfig, settings: Settings
) -> None:
    run_id = train_and_evaluate(trained_config, settings)
    strict = trained_config.model_copy(
        update={"promote": PromoteConfig(min_improvement_over_baseline=1e9)}
    )
    with pytest.raises(PromotionRefusedError):
        promote(strict, settings, run_id)

    decision = promote(trained_config, settings, run_id)

    tags = version_tags(settings, decision.model_version)
    assert "promoted" in tags
    assert "rejected" not in tags


def test_a_refused_candidates_model_card_is_marked_refused_once(
    trained_config: ProjectConfig, settings: Settings
) -> None:
    promote(trained_config, settings, train_and_evaluate(trained_config, settings))
    worse = trained_config.model_copy(update={"train": TrainConfig(model="baseline")})
    refused = train_and_evaluate(worse, settings)

    for _ in range(2):  # refused twice: marked once, with the latest reason
        with pytest.raises(PromotionRefusedError):
            promote(worse, settings, refused)

    card = mlflow.artifacts.load_text(f"runs:/{refused}/{MODEL_CARD}")
    assert card.count(REFUSED) == 1
    assert f"{REFUSED} version 2 was not promoted: " in card
    assert "does not beat the baseline" in card
    local = (trained_config.evaluate.reports_dir / MODEL_CARD).read_text(encoding="utf-8")
    assert local == card


def with_a_protected_group(
    config: ProjectConfig, folder: Path, *, unfair: bool, protected: bool = True
) -> ProjectConfig:
    """`config` over generated people in groups a and b, under the fairness rule.

    Unfair: the label follows the group, so the model treats the groups differently. Fair: it
    follows another column, which is spread alike in both groups.
    """
    from {{ cookiecutter.package_name }}.data.validation import validate

    folder.mkdir()
{%- if cookiecutter.task == "classification" %}
    target = Column(name="label", type="categorical", categories=("no", "yes"), positive="yes")
    rule = PromoteConfig(max_fairness_gap=0.3, fairness_metric="selection_rate")
{%- else %}
    target = Column(name="label", type="numeric")
    rule = PromoteConfig(max_fairness_gap=20, fairness_metric="mean_prediction")
{%- endif %}
    people = DataContract(
        name="people",
        target=target,
        features=(
            Column(name="group", type="categorical", categories=("a", "b"), protected=protected),
            Column(name="x", type="numeric", min=0, max=1),
        ),
    )
    rng = np.random.default_rng(0)
    rows = pd.DataFrame({"group": rng.choice(["a", "b"], 1500), "x": rng.random(1500)})
    signal = (rows["group"] == "b").astype(float) if unfair else rows["x"]
{%- if cookiecutter.task == "classification" %}
    rows["label"] = np.where(signal + rng.normal(0, 0.1, len(rows)) > 0.5, "yes", "no")
{%- else %}
    rows["label"] = 100 * signal + rng.normal(0, 5, len(rows))
{%- endif %}
    path = folder / "contract.yaml"
    path.write_text(dump_contract(people), encoding="utf-8")
    data = config.data.model_copy(update={"contract": path, "processed_dir": folder})
    changes = {"data": data, "split": SplitConfig(), "features": FeaturesConfig(), "promote": rule}
    audited = config.model_copy(update=changes)
    write_parquet(validate(rows, people), processed_path(audited, people))
    return audited


def test_the_fairness_rule_refuses_an_unfair_model_and_passes_a_fair_one(
    trained_config: ProjectConfig, settings: Settings, tmp_path: Path
) -> None:
    unfair = with_a_protected_group(trained_config, tmp_path / "unfair", unfair=True)
    fair = with_a_protected_group(trained_config, tmp_path / "fair", unfair=False)

    with pytest.raises(
        PromotionRefusedError,
        match=r"version 1 was not promoted: \S+ differs by [\d.]+ between the groups of group",
    ):
        promote(unfair, settings, train_and_evaluate(unfair, settings))
    decision = promote(fair, settings, train_and_evaluate(fair, settings))

    assert decision.model_version == "2"
    assert "promote.max_fairness_gap is" in version_tags(settings, "1")["rejected"]
    card = (unfair.evaluate.reports_dir / MODEL_CARD).read_text(encoding="utf-8")
    assert "## Fairness" in card
    assert "The fairness rule is on" in card


def test_the_fairness_rule_without_a_protected_column_says_what_to_mark(
    trained_config: ProjectConfig, settings: Settings, tmp_path: Path
) -> None:
    config = with_a_protected_group(trained_config, tmp_path / "p", unfair=True, protected=False)

    with pytest.raises(ConfigError, match=r"recorded no fairness_gap_\w+: mark a contract column"):
        promote(config, settings, train_and_evaluate(config, settings))

    assert champion_version(settings.model_name) is None
