"""The promote stage: move the champion alias to a candidate only if it passes the quality gate.

The gate (`gate.py`): beat the baseline by the configured margin on the primary metric, and do no
worse than the champion. A refused candidate is tagged `rejected` with the reason and its model
card is marked refused; no version or run is ever deleted, so every decision can be traced back.

Promotion is a compare-and-set under one lock (`promotion_lock`), from reading the champion to
moving the alias, so two promotions cannot both pass against the same old champion. The lock is
a file in this machine's temporary folder, one per tracking URI; promotions from several
machines against one tracking server are not serialized by it (MLflow's registry has no
compare-and-set): run them from one place, such as one CI job with a concurrency group.

Each write is ordered so that a process killed at any point leaves a true state that the next
`promote` (or `run`) repairs:

1. Killed before the alias moved (with or without the `gate` tag on the candidate's run): the
   candidate is undecided; promoting it again decides afresh. A kill frees the lock.
2. The alias moved, the version has no `promoted` tag yet: the next promotion, of any candidate,
   tags the champion `promoted` with the verdict from its run before it compares.
3. The README results table or the model card not yet rewritten: the next `promote`, `run` or
   `evaluate` rewrites the README from the champion; promoting a refused run again marks its card.
"""

import hashlib
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import mlflow
from filelock import FileLock, Timeout
from mlflow.entities import Metric, RunTag

from {{ cookiecutter.package_name }}.config import ProjectConfig
from {{ cookiecutter.package_name }}.errors import ConfigError, PromotionRefusedError
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.training import tracking
from {{ cookiecutter.package_name }}.training.gate import (
    Comparison,
    compare_with_champion,
    decide,
    recorded_comparison,
)
from {{ cookiecutter.package_name }}.training.inputs import load_splits
from {{ cookiecutter.package_name }}.training.models import PRIMARY_METRIC
from {{ cookiecutter.package_name }}.training.reports import (
    mark_card_refused,
    write_champion_results,
)

#: The tag on a candidate's run with the gate's verdict, written before the alias moves.
GATE = "gate"
#: How long a promotion waits for another one on this machine to finish.
LOCK_SECONDS = 600


@dataclass(frozen=True)
class Decision:
    """The gate's verdict on one candidate."""

    model_version: str
    reason: str


def score_on_test(run: mlflow.entities.Run, prefix: str = "") -> float:
    """A run's test score on the primary metric.

    Raises:
        ConfigError: the run has not been evaluated.
    """
    key = f"{prefix}test_{PRIMARY_METRIC}"
    if key not in run.data.metrics:
        raise ConfigError(f"run {run.info.run_id} has no {key}: run `evaluate` first")
    return float(run.data.metrics[key])


def promotion_lock(settings: Settings) -> FileLock:
    """The lock that serializes promotions into this tracking store, on this machine.

    One small file per tracking store, reused: a Unix lock file stays after its release.
    """
    store = hashlib.sha256(settings.tracking_uri.encode()).hexdigest()[:16]
    path = Path(tempfile.gettempdir()) / f"mlflow-promote-{store}.lock"
    return FileLock(path, timeout=LOCK_SECONDS)


def promote(
    config: ProjectConfig,
    settings: Settings,
    run_id: str | None = None,
    readme: Path | None = None,
) -> Decision:
    """Promote the model version of a training run (the latest by default), or refuse it.

    Under the promotion lock the champion is read, the candidate compared with it (again, if
    `evaluate` compared it with another), the verdict recorded and the alias moved; then the
    README results table is rewritten from the champion, and a refused run's model card is
    marked refused. The module docstring lists what a kill at each step leaves.

    Raises:
        ConfigError: the run is not registered or not evaluated, or another promotion held the
            lock for LOCK_SECONDS.
        PromotionRefusedError: the candidate failed the gate (it is tagged `rejected`).
    """
    tracking.configure(settings, experiment=settings.model_name)
    name = settings.model_name
    run = tracking.training_run(name, run_id)
    version = tracking.version_of_run(name, run.info.run_id)
    if version is None:
        raise ConfigError(f"run {run.info.run_id} registered no model version")
    candidate = score_on_test(run)
    baseline = score_on_test(run, prefix="baseline_")
    lock = promotion_lock(settings)
    try:
        lock.acquire()
    except Timeout:
        raise ConfigError(
            f"another promotion held {lock.lock_file} for {LOCK_SECONDS} s: "
            "wait for it to finish, then promote again"
        ) from None
    try:
        client = mlflow.MlflowClient()
        previous = tracking.champion_version(name)
        if previous is not None:
            record_promoted(name, previous)
        comparison = None
        if previous is not None and previous != version:
            comparison = recorded_comparison(run, previous) or compare_again(
                config, settings, run, previous
            )
        promoted, reason = decide(
            candidate,
            baseline,
            comparison,
            margin=config.promote.min_improvement_over_baseline,
        )
        client.set_tag(run.info.run_id, GATE, reason)
        if promoted:
            # The alias before the version's tag: a kill between the two leaves a champion
            # without its note (repaired by the next promotion), never a `promoted` version
            # that never served.
            client.set_registered_model_alias(name, tracking.CHAMPION, version)
            client.set_model_version_tag(name, version, "promoted", reason)
            if "rejected" in client.get_model_version(name, version).tags:
                # Refused once against an older champion: today's verdict replaces that one.
                client.delete_model_version_tag(name, version, "rejected")
        else:
            client.set_model_version_tag(name, version, "rejected", reason)
            why = f"version {version} was not promoted: {reason}"
            mark_card_refused(config, run.info.run_id, why)
        if readme is not None:
            write_champion_results(readme, name)
    finally:
        lock.release()
    if not promoted:
        raise PromotionRefusedError(f"{name} version {version} was not promoted: {reason}")
    return Decision(model_version=version, reason=reason)


def record_promoted(model_name: str, champion: str) -> None:
    """Tag the champion `promoted` if a promotion was killed before it could (state 2)."""
    client = mlflow.MlflowClient()
    if "promoted" in client.get_model_version(model_name, champion).tags:
        return
    verdict = tracking.run_of_version(model_name, champion).data.tags.get(
        GATE, "the alias was moved outside `promote`: no gate verdict is recorded"
    )
    client.set_model_version_tag(model_name, champion, "promoted", verdict)


def compare_again(
    config: ProjectConfig, settings: Settings, run: mlflow.entities.Run, champion: str
) -> Comparison:
    """Compare a candidate with a champion `evaluate` did not see, and record it on its run."""
    contract, parts, _ = load_splits(config)
    candidate = tracking.load_model(f"runs:/{run.info.run_id}/model")
    comparison = compare_with_champion(
        settings.model_name,
        champion,
        candidate,
        parts.test,
        contract,
        min_rows=config.promote.min_comparison_rows,
    )
    # One batch, so a kill cannot leave the tags of one comparison with the scores of another.
    mlflow.MlflowClient().log_batch(
        run.info.run_id,
        metrics=[
            Metric(key, value, int(time.time() * 1000), 0)
            for key, value in comparison.metrics().items()
        ],
        tags=[RunTag(key, text) for key, text in comparison.tags().items()],
    )
    return comparison
