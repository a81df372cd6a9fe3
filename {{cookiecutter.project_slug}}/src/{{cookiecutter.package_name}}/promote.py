"""The promote stage: move the champion alias to a candidate only if it passes the quality gate.

The gate: beat the baseline by the configured margin on the primary metric, and do no worse than
the current champion on the same test rows: the ones the champion never trained on (a new split
or new data can put its training rows in today's test set, which would flatter it). A refused
candidate is tagged `rejected` with the reason; nothing is ever overwritten or deleted, so every
decision can be traced back.
"""

import tempfile
from dataclasses import dataclass
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException

from {{ cookiecutter.package_name }} import tracking
from {{ cookiecutter.package_name }}.config import ProjectConfig
from {{ cookiecutter.package_name }}.contract import DataContract
from {{ cookiecutter.package_name }}.errors import ConfigError, PromotionRefusedError
from {{ cookiecutter.package_name }}.models import PRIMARY_METRIC, is_better, score
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.splits import SEEN_ROWS, row_keys

#: Tags on a candidate's run that record how it was compared with which champion.
COMPARED_WITH = "champion_compared"
COMPARISON = "champion_comparison"


@dataclass(frozen=True)
class Decision:
    """The gate's verdict on one candidate."""

    model_version: str
    reason: str
    previous_champion: str | None


@dataclass(frozen=True)
class Comparison:
    """A candidate and the champion scored on the same test rows, or why they were not.

    Attributes:
        champion: the champion's version.
        rows: the test rows both were scored on (0 when skipped).
        candidate: the candidate's primary metric on those rows (None when skipped).
        champion_score: the champion's primary metric on those rows (None when skipped).
        reason: one line: which rows, or why the comparison was skipped.
    """

    champion: str
    rows: int
    candidate: float | None
    champion_score: float | None
    reason: str

    @property
    def skipped(self) -> bool:
        """Whether the champion could not be fairly compared."""
        return self.champion_score is None

    def metrics(self) -> dict[str, float]:
        """The comparison as metrics to log on the candidate's run."""
        if self.candidate is None or self.champion_score is None:
            return {"comparison_rows": 0}
        return {
            "comparison_rows": self.rows,
            f"comparison_{PRIMARY_METRIC}": self.candidate,
            f"champion_comparison_{PRIMARY_METRIC}": self.champion_score,
        }

    def tags(self) -> dict[str, str]:
        """The comparison as tags to set on the candidate's run."""
        return {COMPARED_WITH: self.champion, COMPARISON: self.reason}


def compare_with_champion(
    model_name: str,
    champion: str,
    candidate: Any,
    test: pd.DataFrame,
    contract: DataContract,
    *,
    min_rows: int,
) -> Comparison:
    """Score the candidate and the champion on the test rows the champion never trained on.

    The rule: rows the champion trained or was validated on are left out (its training run
    records their fingerprints); with fewer than `min_rows` left, or a champion that cannot
    score this data (another contract), the comparison is skipped and says why.
    """

    def skipped(why: str) -> Comparison:
        return Comparison(champion, 0, None, None, f"champion comparison skipped: {why}")

    run = tracking.run_of_version(model_name, champion)
    try:
        with tempfile.TemporaryDirectory() as folder:
            seen = np.load(
                mlflow.artifacts.download_artifacts(
                    run_id=run.info.run_id, artifact_path=SEEN_ROWS, dst_path=folder
                )
            )
    except (MlflowException, OSError, ValueError):
        return skipped(f"version {champion} has no record of the rows it trained on")
    unseen = test[~np.isin(row_keys(test, contract), seen)]
    if len(unseen) < min_rows:
        return skipped(
            f"only {len(unseen):,} of {len(test):,} test rows are new to version {champion} "
            f"(promote.min_comparison_rows is {min_rows})"
        )
    features, target = unseen[contract.feature_names], unseen[contract.target.name]
    champion_model = tracking.load_model(f"models:/{model_name}/{champion}")
    reads = list(champion_model.named_steps["input"].types)  # the raw columns it was trained on
    lacking = [name for name in reads if name not in features.columns]
    if lacking:
        named = ", ".join(lacking[:5])
        return skipped(f"version {champion} reads columns this data lacks ({named})")
    try:
        champion_score = score(champion_model, features[reads], target)
    except (KeyError, ValueError, TypeError) as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        return skipped(f"version {champion} cannot score this data ({first[:120]})")
    if not np.isfinite(champion_score):
        return skipped(f"its {PRIMARY_METRIC} is undefined on these rows")
    share = "" if len(unseen) == len(test) else f" of {len(test):,}"
    return Comparison(
        champion,
        len(unseen),
        score(candidate, features, target),
        champion_score,
        f"compared with version {champion} on the {len(unseen):,}{share} test rows it never "
        "trained on",
    )


def gate(
    candidate: float,
    baseline: float,
    comparison: Comparison | None,
    *,
    margin: float,
) -> tuple[bool, str]:
    """Decide on a candidate from its test scores; the reason is one line either way."""
    metric = PRIMARY_METRIC
    if not is_better(candidate, baseline, margin):
        return (
            False,
            f"test {metric} {candidate:.4f} does not beat the baseline's {baseline:.4f} by {margin}",
        )
    if comparison is not None and comparison.candidate is not None:
        champion = comparison.champion_score
        if champion is not None and not is_better(comparison.candidate, champion):
            return False, (
                f"{metric} {comparison.candidate:.4f} is worse than the champion's "
                f"{champion:.4f} ({comparison.reason})"
            )
    against = "no champion yet"
    if comparison is not None:
        against = comparison.reason
        if comparison.champion_score is not None and comparison.candidate is not None:
            against = (
                f"{comparison.candidate:.4f} vs champion {comparison.champion_score:.4f}, "
                f"{comparison.reason}"
            )
    return (
        True,
        f"test {metric} {candidate:.4f} beats baseline {baseline:.4f} by {margin}+; {against}",
    )


def score_on_test(run: mlflow.entities.Run, prefix: str = "") -> float:
    """A run's test score on the primary metric.

    Raises:
        ConfigError: the run has not been evaluated.
    """
    key = f"{prefix}test_{PRIMARY_METRIC}"
    if key not in run.data.metrics:
        raise ConfigError(f"run {run.info.run_id} has no {key}: run `evaluate` first")
    return float(run.data.metrics[key])


def recorded_comparison(run: mlflow.entities.Run, champion: str) -> Comparison | None:
    """The comparison `evaluate` recorded on a run, if it was with this champion."""
    tags, metrics = run.data.tags, run.data.metrics
    if tags.get(COMPARED_WITH) != champion:
        return None
    candidate = metrics.get(f"comparison_{PRIMARY_METRIC}")
    champion_score = metrics.get(f"champion_comparison_{PRIMARY_METRIC}")
    return Comparison(
        champion,
        int(metrics.get("comparison_rows", 0)),
        candidate,
        champion_score,
        tags.get(COMPARISON, ""),
    )


def promote(config: ProjectConfig, settings: Settings, run_id: str | None = None) -> Decision:
    """Promote the model version of a training run (the latest by default), or refuse it.

    The champion is re-read here: if it changed since `evaluate` compared with it, the
    candidate is compared again with the new one before anything moves.

    Raises:
        ConfigError: the run is not registered or not evaluated.
        PromotionRefusedError: the candidate failed the gate (it is tagged `rejected`).
    """
    tracking.configure(settings, experiment=settings.model_name)
    name = settings.model_name
    run = mlflow.get_run(run_id) if run_id else tracking.latest_training_run(name)
    version = tracking.version_of_run(name, run.info.run_id)
    if version is None:
        raise ConfigError(f"run {run.info.run_id} registered no model version")
    candidate = score_on_test(run)
    previous = tracking.champion_version(name)
    comparison = None
    if previous is not None and previous != version:
        comparison = recorded_comparison(run, previous) or compare_again(
            config, settings, run, previous
        )
    promoted, reason = gate(
        candidate,
        score_on_test(run, prefix="baseline_"),
        comparison,
        margin=config.promote.min_improvement_over_baseline,
    )
    client = mlflow.MlflowClient()
    if not promoted:
        client.set_model_version_tag(name, version, "rejected", reason)
        raise PromotionRefusedError(f"{name} version {version} was not promoted: {reason}")
    # The alias first: a crash before the tag leaves a champion without its note, never a
    # version noted as promoted that never served.
    client.set_registered_model_alias(name, tracking.CHAMPION, version)
    client.set_model_version_tag(name, version, "promoted", reason)
    return Decision(model_version=version, reason=reason, previous_champion=previous)


def compare_again(
    config: ProjectConfig, settings: Settings, run: mlflow.entities.Run, champion: str
) -> Comparison:
    """Compare a candidate with a champion `evaluate` did not see, and record it on its run."""
    # The data stack, only when needed.
    from {{ cookiecutter.package_name }}.train import prepare

    contract, parts, _ = prepare(config)
    candidate = tracking.load_model(f"runs:/{run.info.run_id}/model")
    comparison = compare_with_champion(
        settings.model_name,
        champion,
        candidate,
        parts.test,
        contract,
        min_rows=config.promote.min_comparison_rows,
    )
    client = mlflow.MlflowClient()
    for metric, value in comparison.metrics().items():
        client.log_metric(run.info.run_id, metric, value)
    for tag, text in comparison.tags().items():
        client.set_tag(run.info.run_id, tag, text)
    return comparison
