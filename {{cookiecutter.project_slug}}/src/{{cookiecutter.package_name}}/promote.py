"""The promote stage: move the champion alias to a candidate only if it passes the quality gate.

The gate: beat the baseline by the configured margin on the primary metric, and do no worse than
the current champion on the same test set. A refused candidate is tagged `rejected` with the
reason; nothing is ever overwritten or deleted, so every decision can be traced back.
"""

from dataclasses import dataclass

import mlflow

from {{ cookiecutter.package_name }} import tracking
from {{ cookiecutter.package_name }}.config import ProjectConfig
from {{ cookiecutter.package_name }}.errors import ConfigError, PromotionRefusedError
from {{ cookiecutter.package_name }}.models import PRIMARY_METRIC, is_better
from {{ cookiecutter.package_name }}.settings import Settings


@dataclass(frozen=True)
class Decision:
    """The gate's verdict on one candidate."""

    model_version: str
    promoted: bool
    reason: str
    previous_champion: str | None


def gate(
    candidate: float,
    baseline: float,
    champion: float | None,
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
    if champion is not None and not is_better(candidate, champion):
        return False, f"test {metric} {candidate:.4f} is worse than the champion's {champion:.4f}"
    against = "no champion yet" if champion is None else f"champion {champion:.4f}"
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


def promote(config: ProjectConfig, settings: Settings, run_id: str | None = None) -> Decision:
    """Promote the model version of a training run (the latest by default), or refuse it.

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
    previous = tracking.champion_version(name)
    champion = None
    if previous is not None:
        # Scored on the candidate's test set by `evaluate`; a run evaluated before there was a
        # champion falls back to the champion's score on its own test set.
        key = f"champion_test_{PRIMARY_METRIC}"
        champion = run.data.metrics.get(key)
        if champion is None:
            champion = score_on_test(tracking.run_of_version(name, previous))
    promoted, reason = gate(
        score_on_test(run),
        score_on_test(run, prefix="baseline_"),
        champion,
        margin=config.promote.min_improvement_over_baseline,
    )
    client = mlflow.MlflowClient()
    if not promoted:
        client.set_model_version_tag(name, version, "rejected", reason)
        raise PromotionRefusedError(f"{name} version {version} was not promoted: {reason}")
    client.set_model_version_tag(name, version, "promoted", reason)
    client.set_registered_model_alias(name, tracking.CHAMPION, version)
    return Decision(model_version=version, promoted=True, reason=reason, previous_champion=previous)
