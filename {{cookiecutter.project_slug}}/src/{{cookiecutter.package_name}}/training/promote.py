"""The promote stage: move the champion alias to a candidate only if it passes the quality gate.

The gate: beat the baseline by the configured margin on the primary metric, and do no worse than
the current champion on the same test rows: the ones the champion never trained on (a new split
or new data can put its training rows in today's test set, which would flatter it). A refused
candidate is tagged `rejected` with the reason and its model card is marked refused; no version
or run is ever deleted, so every decision can be traced back.

Promotion is a compare-and-set. Promotions hold one lock (`promotion_lock`) from reading the
champion to moving the alias, so two at once cannot both pass against the same old champion:
the second re-reads the champion the first made and is compared with it. The lock is a file in
this machine's temporary folder, one per tracking URI: it serializes every promotion into that
store run on one machine, whatever the store. Promotions from several machines against one
tracking server are not serialized by it (MLflow's registry has no compare-and-set): run them
from one place, such as one CI job with a concurrency group.

Each write is ordered so that a process killed at any point leaves a state that is true, and
that the next `promote` (or `run`) repairs or reports:

1. Killed before the verdict is recorded: the candidate is undecided (no `promoted` or
   `rejected` tag); promoting it again decides afresh. A kill while holding the lock frees it.
2. The verdict is on the candidate's run (tag `gate`), the alias has not moved: still
   undecided, as in 1. The tag records what the gate said, not that the model ever served.
3. The alias moved, the version has no `promoted` tag yet: the next promotion, of any candidate,
   tags the champion `promoted` with the verdict from its run before it compares.
4. Tagged, but the README results table or the model card not yet rewritten: the next
   `promote`, `run` or `evaluate` rewrites the README from the champion; promoting a refused
   run again marks its model card refused.
"""

import hashlib
import logging
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from filelock import FileLock, Timeout
from mlflow.entities import Metric, RunTag
from mlflow.exceptions import MlflowException

from {{ cookiecutter.package_name }}.config import ProjectConfig
from {{ cookiecutter.package_name }}.data.contract import DataContract
from {{ cookiecutter.package_name }}.data.datasets import write_whole
from {{ cookiecutter.package_name }}.data.splits import SEEN_ROWS, row_keys
from {{ cookiecutter.package_name }}.errors import ConfigError, PromotionRefusedError
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.training import tracking
from {{ cookiecutter.package_name }}.training.models import PRIMARY_METRIC, is_better, score
from {{ cookiecutter.package_name }}.training.reports import (
    MODEL_CARD,
    mark_refused,
    update_results,
)

logger = logging.getLogger(__name__)

#: Tags on a candidate's run that record how it was compared with which champion.
COMPARED_WITH = "champion_compared"
COMPARISON = "champion_comparison"
#: The tag on a candidate's run with the gate's verdict, written before the alias moves.
GATE = "gate"
#: How long a promotion waits for another one on this machine to finish.
LOCK_SECONDS = 600


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
        promoted, reason = gate(
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
            mark_card_refused(config, run, f"version {version} was not promoted: {reason}")
        if readme is not None:
            write_champion_results(readme, name)
    finally:
        lock.release()
    if not promoted:
        raise PromotionRefusedError(f"{name} version {version} was not promoted: {reason}")
    return Decision(model_version=version, reason=reason, previous_champion=previous)


def record_promoted(model_name: str, champion: str) -> None:
    """Tag the champion `promoted` if a promotion was killed before it could (state 3)."""
    client = mlflow.MlflowClient()
    if "promoted" in client.get_model_version(model_name, champion).tags:
        return
    verdict = tracking.run_of_version(model_name, champion).data.tags.get(
        GATE, "the alias was moved outside `promote`: no gate verdict is recorded"
    )
    client.set_model_version_tag(model_name, champion, "promoted", verdict)


def write_champion_results(readme: Path, model_name: str) -> None:
    """Rewrite the README's results table from the champion's test-set metrics, if both exist."""
    champion = tracking.champion_version(model_name)
    if champion is None or not readme.exists():
        return
    recorded = tracking.run_of_version(model_name, champion).data.metrics
    names = sorted(
        (key.removeprefix("test_") for key in recorded if key.startswith("test_")),
        key=lambda name: (name != PRIMARY_METRIC, name),
    )
    metrics = {name: recorded[f"test_{name}"] for name in names}
    baseline = {name: recorded.get(f"baseline_test_{name}", float("nan")) for name in names}
    try:
        text = update_results(readme.read_text(encoding="utf-8"), champion, metrics, baseline)
    except ValueError as error:  # the markers were taken out: the README is the user's now
        logger.warning("%s: results table not written: %s", readme, error)
        return
    write_whole(readme, lambda temporary: temporary.write_text(text, encoding="utf-8"))


def mark_card_refused(config: ProjectConfig, run: mlflow.entities.Run, why: str) -> None:
    """Mark a refused run's model card as refused: in MLflow, and in `reports/` if it is there."""
    run_id = run.info.run_id
    try:
        card = mlflow.artifacts.load_text(f"runs:/{run_id}/{MODEL_CARD}")
    except (MlflowException, OSError):
        return  # `evaluate` was killed after its metrics, before the card: nothing to mark
    marked = mark_refused(card, why)
    mlflow.MlflowClient().log_text(run_id, marked, MODEL_CARD)
    local = config.evaluate.reports_dir / MODEL_CARD
    if local.exists() and f"`{run_id}`" in local.read_text(encoding="utf-8"):
        write_whole(local, lambda temporary: temporary.write_text(marked, encoding="utf-8"))


def compare_again(
    config: ProjectConfig, settings: Settings, run: mlflow.entities.Run, champion: str
) -> Comparison:
    """Compare a candidate with a champion `evaluate` did not see, and record it on its run."""
    # The data stack, only when needed.
    from {{ cookiecutter.package_name }}.training.train import prepare

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
