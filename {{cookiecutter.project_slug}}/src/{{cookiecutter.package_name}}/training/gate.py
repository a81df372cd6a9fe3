"""The quality gate: compare a candidate with the baseline and the champion, and decide.

The champion is compared with a candidate only on the test rows it never trained on: a new split
or new data can put its training rows in today's test set, which would flatter it. `evaluate`
records the comparison on the candidate's run; `promote` decides from it.
"""

import tempfile
import time
from dataclasses import dataclass
from typing import Any

import mlflow
import numpy as np
import pandas as pd
from mlflow.entities import Metric, Run, RunTag
from mlflow.exceptions import MlflowException

from {{ cookiecutter.package_name }}.config import PromoteConfig
from {{ cookiecutter.package_name }}.data.contract import DataContract
from {{ cookiecutter.package_name }}.data.splits import SEEN_ROWS, row_keys
from {{ cookiecutter.package_name }}.errors import ConfigError
from {{ cookiecutter.package_name }}.governance.fairness import FairnessAudit
from {{ cookiecutter.package_name }}.training import tracking
from {{ cookiecutter.package_name }}.training.metrics import score
from {{ cookiecutter.package_name }}.training.models import PRIMARY_METRIC, is_better

#: Tags on a candidate's run that record how it was compared with which champion.
COMPARED_WITH = "champion_compared"
COMPARISON = "champion_comparison"
#: Metrics on a candidate's run: its and the champion's primary metric on the same rows.
CANDIDATE_SCORE = f"comparison_{PRIMARY_METRIC}"
CHAMPION_SCORE = f"champion_comparison_{PRIMARY_METRIC}"
#: Metrics on a run: `fairness_gap_<metric>`, its largest fairness gap over the protected
#: columns, and `fairness_gap_<metric>.<column>` for each column.
FAIRNESS_GAP = "fairness_gap_"


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

    def record(self, run_id: str) -> None:
        """Log the comparison on the candidate's run, read back by `recorded_comparison`."""
        scores = {"comparison_rows": self.rows, CANDIDATE_SCORE: self.candidate}
        scores[CHAMPION_SCORE] = self.champion_score
        now = int(time.time() * 1000)
        metrics = [Metric(key, value, now, 0) for key, value in scores.items() if value is not None]
        tags = [RunTag(COMPARED_WITH, self.champion), RunTag(COMPARISON, self.reason)]
        # One batch, so a kill cannot leave the tags of one comparison with the scores of another.
        mlflow.MlflowClient().log_batch(run_id, metrics=metrics, tags=tags)


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

    run_id = tracking.run_of_version(model_name, champion).info.run_id
    try:
        with tempfile.TemporaryDirectory() as folder:
            uri = f"runs:/{run_id}/{SEEN_ROWS}"
            seen = np.load(mlflow.artifacts.download_artifacts(uri, dst_path=folder))
    except (MlflowException, OSError, ValueError):
        return skipped(f"version {champion} has no record of the rows it trained on")
    unseen = test[~np.isin(row_keys(test, contract), seen)]
    if len(unseen) < min_rows:
        return skipped(
            f"only {len(unseen):,} of {len(test):,} test rows are new to version {champion} "
            f"(promote.min_comparison_rows is {min_rows})"
        )
    champion_model = tracking.load_model(f"models:/{model_name}/{champion}")
    reads = list(champion_model.named_steps["input"].types)  # the raw columns it was trained on
    lacking = [name for name in reads if name not in contract.feature_names]
    if lacking:
        named = ", ".join(lacking[:5])
        return skipped(f"version {champion} reads columns this data lacks ({named})")
    try:
        # Scored by the one `score` that scored the candidate; its pipeline drops the columns
        # it does not read.
        champion_score = score(champion_model, unseen, contract)[PRIMARY_METRIC]
    except (KeyError, ValueError, TypeError) as error:
        first = str(error).splitlines()[0] if str(error) else type(error).__name__
        return skipped(f"version {champion} cannot score this data ({first[:120]})")
    if not np.isfinite(champion_score):
        return skipped(f"its {PRIMARY_METRIC} is undefined on these rows")
    share = "" if len(unseen) == len(test) else f" of {len(test):,}"
    rows = f"{len(unseen):,}{share} test rows"
    reason = f"compared with version {champion} on the {rows} it never trained on"
    candidate_score = score(candidate, unseen, contract)[PRIMARY_METRIC]
    return Comparison(champion, len(unseen), candidate_score, champion_score, reason)


def decide(
    candidate: float, baseline: float, comparison: Comparison | None, *, margin: float
) -> tuple[bool, str]:
    """Decide on a candidate from its test scores; the reason is one line either way."""
    metric = PRIMARY_METRIC
    if not is_better(candidate, baseline, margin):
        return False, (
            f"test {metric} {candidate:.4f} does not beat the baseline's {baseline:.4f} by {margin}"
        )
    against = "no champion yet"
    if comparison is not None:
        ours, theirs, against = comparison.candidate, comparison.champion_score, comparison.reason
        if ours is not None and theirs is not None:
            if not is_better(ours, theirs):
                why = f"{metric} {ours:.4f} is worse than the champion's {theirs:.4f} ({against})"
                return False, why
            against = f"{ours:.4f} vs champion {theirs:.4f}, {against}"
    why = f"test {metric} {candidate:.4f} beats baseline {baseline:.4f} by {margin}+; {against}"
    return True, why


def recorded_comparison(run: Run, champion: str) -> Comparison | None:
    """The comparison recorded on a candidate's run, if it was with this champion."""
    tags, metrics = run.data.tags, run.data.metrics
    if tags.get(COMPARED_WITH) != champion:
        return None
    rows = int(metrics.get("comparison_rows", 0))
    scores = metrics.get(CANDIDATE_SCORE), metrics.get(CHAMPION_SCORE)
    return Comparison(champion, rows, *scores, tags.get(COMPARISON, ""))


def fairness_gaps(fairness: FairnessAudit) -> dict[str, float]:
    """The audit's gaps as run metrics: per metric and column, and each metric's largest."""
    gaps = {
        tracking.metric_name(f"{FAIRNESS_GAP}{row['metric']}", row["column"]): row["gap"]
        for row in fairness.gaps.to_dict(orient="records")
    }
    for metric in fairness.gaps["metric"].unique():
        gaps[f"{FAIRNESS_GAP}{metric}"] = fairness.largest_gap(metric)[0]
    return gaps


def fairness_refusal(run: Run, rule: PromoteConfig) -> str | None:
    """Why the fairness rule refuses a candidate (None: it passes, or the rule is off).

    Raises:
        ConfigError: the rule is on, but the run recorded no such gap.
    """
    if rule.max_fairness_gap is None:
        return None
    key = f"{FAIRNESS_GAP}{rule.fairness_metric}"
    gap = run.data.metrics.get(key)
    if gap is None:
        raise ConfigError(
            f"promote.max_fairness_gap is set, but run {run.info.run_id} recorded no {key}: mark a "
            "contract column `protected: true` and run `evaluate`, or choose a fairness_metric "
            "of this task"
        )
    prefix = f"{key}."
    worst = max(
        (name for name in run.data.metrics if name.startswith(prefix)),
        key=lambda name: np.nan_to_num(run.data.metrics[name], nan=-np.inf),
        default=prefix,
    ).removeprefix(prefix)
    if np.isnan(gap):
        return f"the {rule.fairness_metric} gap cannot be measured: no two groups have enough test rows"
    if gap > rule.max_fairness_gap:
        return (
            f"{rule.fairness_metric} differs by {gap:.4f} between the groups of {worst} "
            f"(promote.max_fairness_gap is {rule.max_fairness_gap})"
        )
    return None
