"""The promote stage: move the champion alias to a candidate only if it passes the quality gate.

`promote --as challenger` moves the `challenger` alias instead, through the same gate, for a
model to be tried beside the champion; the champion stays. When a challenger is promoted to
champion, its challenger alias is removed.

A refused candidate is tagged `rejected` and its model card marked; nothing is ever deleted, so
every decision can be traced back. Promotion is a compare-and-set under one lock file per tracking
URI on this machine (MLflow's registry has no compare-and-set): promote from one place, such as
one CI job with a concurrency group, when several machines share a tracking server.

Writes are ordered so that a kill at any point leaves a true state that the next `promote`
repairs: before the alias moves, the candidate is undecided (and the kill frees the lock); after
it, the champion lacks its `promoted` tag until the next promotion adds it; a README or model card
not yet rewritten is rewritten by the next `promote`, `run` or `evaluate`.
"""

import hashlib
import tempfile
from dataclasses import dataclass
from pathlib import Path

import mlflow
from filelock import FileLock, Timeout

from {{ cookiecutter.package_name }}.config import ProjectConfig
from {{ cookiecutter.package_name }}.errors import ConfigError, PromotionRefusedError
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.training import tracking
from {{ cookiecutter.package_name }}.training.gate import (
    compare_with_champion,
    decide,
    fairness_refusal,
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
#: The tag each alias leaves on the version it moves to, with the gate's reason.
VERDICT_TAGS = {tracking.CHAMPION: "promoted", tracking.CHALLENGER: tracking.CHALLENGER}


@dataclass(frozen=True)
class Decision:
    """The gate's verdict on one candidate."""

    model_version: str
    reason: str


def promotion_lock(settings: Settings) -> FileLock:
    """The lock (one small file per tracking store) that serializes its promotions here."""
    store = hashlib.sha256(settings.tracking_uri.encode()).hexdigest()[:16]
    path = Path(tempfile.gettempdir()) / f"mlflow-promote-{store}.lock"
    return FileLock(path, timeout=LOCK_SECONDS)


def promote(
    config: ProjectConfig,
    settings: Settings,
    run_id: str | None = None,
    readme: Path | None = None,
    alias: str = tracking.CHAMPION,
) -> Decision:
    """Promote the model version of a training run (the latest by default), or refuse it.

    Under the promotion lock: read the champion, compare the candidate with it (again, if
    `evaluate` compared it with another), record the verdict and move the alias; then rewrite
    the README's results table and mark a refused run's model card.

    With `alias` CHALLENGER, the candidate is compared with the champion as ever, and passing
    moves the challenger alias: the champion, its tags and the README are left as they are.

    Raises:
        ConfigError: the run is not registered or not evaluated, or another promotion held the
            lock for LOCK_SECONDS; a challenger is asked for with no champion, or is the champion.
        PromotionRefusedError: the candidate failed the gate (it is tagged `rejected`).
    """
    tracking.configure(settings, experiment=settings.model_name)
    name = settings.model_name
    run = tracking.training_run(name, run_id)
    version = tracking.version_of_run(name, run.info.run_id)
    if version is None:
        raise ConfigError(f"run {run.info.run_id} registered no model version")
    keys = f"test_{PRIMARY_METRIC}", f"baseline_test_{PRIMARY_METRIC}"
    missing = [key for key in keys if key not in run.data.metrics]
    if missing:
        raise ConfigError(f"run {run.info.run_id} has no {missing[0]}: run `evaluate` first")
    candidate, baseline = (run.data.metrics[key] for key in keys)
    unfair = fairness_refusal(run, config.promote)
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
        if alias == tracking.CHALLENGER and previous in (None, version):
            raise ConfigError(
                "there is no champion to challenge: promote a model first"
                if previous is None
                else f"version {version} is the champion: a challenger must be another version"
            )
        comparison = None
        if previous is not None:
            _record_promoted(name, previous)
        if previous is not None and previous != version:
            comparison = recorded_comparison(run, previous)
            if comparison is None:  # `evaluate` compared it with another champion, or none
                contract, parts, _ = load_splits(config)
                model = tracking.load_model(f"runs:/{run.info.run_id}/model")
                min_rows = config.promote.min_comparison_rows
                comparison = compare_with_champion(
                    name, previous, model, parts.test, contract, min_rows=min_rows
                )
                comparison.record(run.info.run_id)
        margin = config.promote.min_improvement_over_baseline
        promoted, reason = decide(candidate, baseline, comparison, margin=margin)
        if promoted and unfair is not None:
            promoted, reason = False, unfair
        client.set_tag(run.info.run_id, GATE, reason)
        goal = "" if alias == tracking.CHAMPION else f" to {alias}"
        refused = f"version {version} was not promoted{goal}: {reason}"
        if promoted:
            # The alias before the version's tag: a kill between the two leaves a champion
            # without its note (repaired by the next promotion), never a `promoted` version
            # that never served.
            client.set_registered_model_alias(name, alias, version)
            client.set_model_version_tag(name, version, VERDICT_TAGS[alias], reason)
            challenger = tracking.champion_version(name, tracking.CHALLENGER)
            if alias == tracking.CHAMPION and challenger == version:  # the challenger won
                client.delete_registered_model_alias(name, tracking.CHALLENGER)
            if "rejected" in client.get_model_version(name, version).tags:
                # Refused once against an older champion: today's verdict replaces that one.
                client.delete_model_version_tag(name, version, "rejected")
        else:
            client.set_model_version_tag(name, version, "rejected", reason)
            mark_card_refused(config, run.info.run_id, refused)
        if readme is not None:
            write_champion_results(readme, name)
    finally:
        lock.release()
    if not promoted:
        raise PromotionRefusedError(f"{name} {refused}")
    return Decision(model_version=version, reason=reason)


def _record_promoted(model_name: str, champion: str) -> None:
    """Tag the champion `promoted` if a killed promotion moved the alias but did not tag it."""
    client = mlflow.MlflowClient()
    if "promoted" in client.get_model_version(model_name, champion).tags:
        return
    verdict = tracking.run_of_version(model_name, champion).data.tags.get(
        GATE, "the alias was moved outside `promote`: no gate verdict is recorded"
    )
    client.set_model_version_tag(model_name, champion, "promoted", verdict)
