"""The rollout's readout: did the challenger do better than the champion on real traffic?

`experiment LABELS` joins the prediction log with labels that arrived later: a CSV or Parquet
file with `request_id` (the ID every answer carries; a caller may choose it with its
X-Request-ID header), `row` (the record's place in its request, 0 if absent) and the target.
Each labelled record gets a score: 1 or 0 for a right or wrong class, or its absolute error.
Per variant: the rows, the mean score and its 95% interval. Then the challenger's difference
from the champion, its interval and a p-value: Welch's t-test where the variants answered
different requests (canary), a paired t-test where the challenger scored the champion's own
requests in shadow (with the share of those both models predicted alike). t intervals, not a
bootstrap: at the sample sizes a decision needs the two agree, and a million rows take O(n).

The verdict: `promote` when the challenger is better at `alpha`; `keep` when the champion is
better, or when enough rows were labelled to see `min_effect` (a share of the champion's
score) at `power` and no difference was seen; else `collect`, with the rows still needed. No
verdict comes before `monitoring.min_rows` labelled rows per variant: three right answers in a
row have a p-value too, but they are not evidence.
"""

import json
from dataclasses import asdict, dataclass, replace
from datetime import UTC, datetime
from pathlib import Path

import matplotlib.pyplot as plt
import mlflow
import numpy as np
import pandas as pd
from mlflow.exceptions import MlflowException
from scipy import stats  # type: ignore[import-untyped]

from {{ cookiecutter.package_name }}.config import ProjectConfig
from {{ cookiecutter.package_name }}.data.contract import load_contract
from {{ cookiecutter.package_name }}.data.datasets import read_table
from {{ cookiecutter.package_name }}.errors import ConfigError
from {{ cookiecutter.package_name }}.monitoring import monitoring_experiment
from {{ cookiecutter.package_name }}.monitoring.prediction_log import open_log
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.training import tracking
from {{ cookiecutter.package_name }}.training.promote import Decision, promote

#: The tag on the challenger's registered version that `promote --challenger` reads.
VERDICT_TAG = "experiment_verdict"
KEYS = ["request_id", "row"]
{%- if cookiecutter.task == "classification" %}
METRIC, HIGHER_IS_BETTER = "accuracy", True
{%- else %}
METRIC, HIGHER_IS_BETTER = "mean absolute error", False
{%- endif %}


@dataclass(frozen=True)
class Estimate:
    """A mean score (or a difference of them) with its 95% interval."""

    value: float
    low: float
    high: float


@dataclass(frozen=True)
class Readout:
    """The experiment's figures, its verdict, and where they were written."""

    mode: str  # "shadow" (paired rows) or "canary" (different requests)
    metric: str
    champion_version: str
    challenger_version: str
    rows: dict[str, int]  # labelled rows per variant
    scores: dict[str, Estimate]
    difference: Estimate  # challenger minus champion
    p_value: float
    agreement: float | None  # shadow: the share of rows both models predicted alike
    needed_rows: int  # per variant, to see min_effect at the configured power
    verdict: str  # "promote", "keep" or "collect"
    reason: str
    json_path: Path
    figure: Path
    run_id: str


def read_experiment(
    config: ProjectConfig,
    settings: Settings,
    labels: str,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Readout:
    """Join the log's predictions with `labels`, compare the variants, and record the verdict.

    Raises:
        ConfigError: the log is off or holds no challenger's predictions, or too few of them
            are labelled.
        DataSourceError: the labels file cannot be read.
    """
    contract, options = load_contract(config.data.contract), config.monitoring.experiment
    target = contract.target.name
    joined = _labelled(settings, labels, target, since, until)
    mode = "shadow" if (joined["variant"] == "shadow").any() else "canary"
    champion = joined[joined["variant"] == "champion"]
    challenger = joined[joined["variant"] == ("shadow" if mode == "shadow" else "challenger")]
    if mode == "shadow":  # the same records scored by both: compared row for row
        champion = champion.merge(
            challenger[[*KEYS, "prediction", "model_version"]], on=KEYS, suffixes=("", "_shadow")
        )
        challenger = champion.assign(
            prediction=champion["prediction_shadow"], model_version=champion["model_version_shadow"]
        )
    if min(len(champion), len(challenger)) < 2:
        raise ConfigError(
            f"{labels} labels {len(champion)} of the champion's and {len(challenger)} of a "
            "challenger's predictions: at least 2 of each are needed (serve both with "
            "ROLLOUT=shadow or canary, and label what they answered)"
        )
    a = _scores(champion["prediction"], champion[target])
    b = _scores(challenger["prediction"], challenger[target])
    paired = mode == "shadow"
    difference, p_value = _difference(a, b, paired=paired)
    spread = np.var(b - a, ddof=1) if paired else np.var(a, ddof=1) + np.var(b, ddof=1)
    effect = options.min_effect * max(abs(float(a.mean())), 1e-12)
    z = stats.norm.ppf(1 - options.alpha / 2) + stats.norm.ppf(options.power)
    fewest = config.monitoring.min_rows  # a handful of rows gives a p-value, not evidence
    needed = max(fewest, int(np.ceil(z**2 * spread / effect**2)))
    rows = min(len(a), len(b))
    better = difference.value if HIGHER_IS_BETTER else -difference.value
    if rows >= fewest and p_value < options.alpha:
        verdict = "promote" if better > 0 else "keep"
        winner = "challenger" if better > 0 else "champion"
        reason = f"the {winner} is better (p = {p_value:.3g})"
    elif rows >= needed:
        verdict = "keep"
        share = f"{100 * options.min_effect:g}%"
        reason = f"no difference of {share} or more in {rows:,} rows per variant"
    else:
        verdict = "collect"
        reason = f"{needed - rows:,} more labelled rows per variant are needed"
    versions = [str(frame["model_version"].iloc[-1]) for frame in (champion, challenger)]
    readout = Readout(
        mode=mode,
        metric=METRIC,
        champion_version=versions[0],
        challenger_version=versions[1],
        rows={"champion": len(a), "challenger": len(b)},
        scores={"champion": _estimate(a), "challenger": _estimate(b)},
        difference=difference,
        p_value=p_value,
        agreement=_agreement(champion["prediction"], challenger["prediction"]) if paired else None,
        needed_rows=needed,
        verdict=verdict,
        reason=reason,
        json_path=config.evaluate.reports_dir / "experiment" / "experiment.json",
        figure=config.evaluate.reports_dir / "experiment" / "experiment.png",
        run_id="",
    )
    return _record(readout, settings)


def promote_challenger(
    config: ProjectConfig, settings: Settings, *, force: bool = False, readme: Path | None = None
) -> Decision:
    """Make the challenger the champion through the quality gate, if its experiment said so.

    The decision is recorded on both versions (tag `experiment`). `force` skips the verdict,
    never the gate.

    Raises:
        ConfigError: there is no challenger, or its verdict is not `promote` and not `force`.
        PromotionRefusedError: the quality gate refuses it.
    """
    tracking.connect(settings)
    client, name = mlflow.MlflowClient(), settings.model_name
    version = tracking.champion_version(name, tracking.CHALLENGER)
    if version is None:
        raise ConfigError("there is no challenger: promote a model with --as challenger first")
    verdict = client.get_model_version(name, version).tags.get(VERDICT_TAG)
    if verdict != "promote" and not force:
        raise ConfigError(
            f"version {version}'s experiment verdict is {verdict or 'not read yet'}: run "
            "`experiment` on labels of what it answered, or pass --force"
        )
    previous = tracking.champion_version(name)
    run_id = tracking.run_of_version(name, version).info.run_id
    decision = promote(config, settings, run_id, readme=readme)
    how = "on the experiment's verdict" if verdict == "promote" else f"forced, verdict {verdict}"
    for tagged in {version, previous} - {None}:
        note = f"version {version} replaced version {previous} as the champion, {how}"
        client.set_model_version_tag(name, tagged, "experiment", note)
    return decision


def _labelled(
    settings: Settings, labels: str, target: str, since: datetime | None, until: datetime | None
) -> pd.DataFrame:
    """The logged predictions that `labels` has a label for, with the label as `target`."""
    truth = read_table(labels)
    if "row" not in truth.columns:
        truth = truth.assign(row=0)
    missing = [name for name in ["request_id", target] if name not in truth.columns]
    if missing:
        raise ConfigError(
            f"{labels} has no {' or '.join(missing)} column: label each answer by its request_id"
        )
    log = open_log(settings)
    if log is None:
        raise ConfigError("the prediction log is off: an experiment reads it")
    try:
        logged = log.read(since=since, until=until)
    finally:
        log.close()
    truth = truth.astype({"request_id": str, "row": int})[[*KEYS, target]]
    return logged[[*KEYS, "variant", "model_name", "model_version", "prediction"]].merge(
        truth.drop_duplicates(KEYS), on=KEYS
    )


def _scores(predictions: pd.Series, truth: pd.Series) -> np.ndarray:
    """Each labelled record's score: 1 or 0 for a right or wrong class, or its absolute error."""
{%- if cookiecutter.task == "classification" %}
    return (_text(predictions) == _text(truth)).to_numpy(float)
{%- else %}
    try:
        errors = pd.to_numeric(predictions) - pd.to_numeric(truth)
    except (TypeError, ValueError):
        raise ConfigError("the labels hold a value that is not a number") from None
    return errors.abs().to_numpy(float)
{%- endif %}


def _text(values: pd.Series) -> pd.Series:
    """Labels as text, whole numbers without a decimal point: 1, 1.0 and "1" are one class."""
    return values.map(lambda v: str(int(v)) if isinstance(v, float) and v.is_integer() else str(v))


def _agreement(champion: pd.Series, challenger: pd.Series) -> float:
{%- if cookiecutter.task == "classification" %}
    """The share of records both models gave the same class."""
    return float((_text(champion) == _text(challenger)).mean())
{%- else %}
    """How closely the two models' predictions agree: their correlation."""
    return float(np.corrcoef(champion.astype(float), challenger.astype(float))[0, 1])
{%- endif %}


def _estimate(scores: np.ndarray) -> Estimate:
    """The mean score with its 95% t interval."""
    half = stats.t.ppf(0.975, len(scores) - 1) * np.std(scores, ddof=1) / np.sqrt(len(scores))
    mean = float(scores.mean())
    return Estimate(mean, mean - half, mean + half)


def _difference(a: np.ndarray, b: np.ndarray, *, paired: bool) -> tuple[Estimate, float]:
    """`b` minus `a`: its 95% interval, and the two-sided p-value of "no difference"."""
    if paired:
        variance, freedom = np.var(b - a, ddof=1) / len(a), len(a) - 1.0
    else:
        va, vb = np.var(a, ddof=1) / len(a), np.var(b, ddof=1) / len(b)
        variance = va + vb
        freedom = variance**2 / (va**2 / (len(a) - 1) + vb**2 / (len(b) - 1)) if variance else 1.0
    mean, error = float(b.mean() - a.mean()), float(np.sqrt(variance))
    if error == 0:  # every score equal within each variant: the difference is what it is
        return Estimate(mean, mean, mean), 1.0 if mean == 0 else 0.0
    half = stats.t.ppf(0.975, freedom) * error
    p_value = float(2 * stats.t.sf(abs(mean) / error, freedom))
    return Estimate(mean, mean - half, mean + half), p_value


def _record(readout: Readout, settings: Settings) -> Readout:
    """Write the JSON and the plot, log both to MLflow, and tag the challenger with the verdict."""
    readout.json_path.parent.mkdir(parents=True, exist_ok=True)
    tracking.configure(settings, experiment=monitoring_experiment(settings))
    tags = {"stage": "experiment", "verdict": readout.verdict, "mode": readout.mode}
    with mlflow.start_run(run_name="experiment", tags=tags) as run:
        readout = replace(readout, run_id=run.info.run_id)
        figures = asdict(readout) | {"as_of": datetime.now(UTC).isoformat()}
        readout.json_path.write_text(json.dumps(figures, indent=2, default=str) + "\n", "utf-8")
        _plot(readout)
        mlflow.log_metrics(
            {f"{name}_score": estimate.value for name, estimate in readout.scores.items()}
            | {"difference": readout.difference.value, "p_value": readout.p_value}
        )
        mlflow.log_artifact(str(readout.json_path))
        mlflow.log_artifact(str(readout.figure))
    try:  # what `promote --challenger` reads
        mlflow.MlflowClient().set_model_version_tag(
            settings.model_name, readout.challenger_version, VERDICT_TAG, readout.verdict
        )
    except MlflowException as error:
        if error.error_code not in tracking.NOT_FOUND:
            raise  # else the log's challenger is not in this registry: nothing to tag
    return readout


def _plot(readout: Readout) -> None:
    """Each variant's score and the difference, with their 95% intervals."""
    figure, (left, right) = plt.subplots(1, 2, figsize=(8, 3), layout="constrained")
    estimates = [*readout.scores.values(), readout.difference]
    for axes, names, values in (
        (left, list(readout.scores), estimates[:2]),
        (right, ["challenger - champion"], estimates[2:]),
    ):
        axes.errorbar(
            names,
            [e.value for e in values],
            yerr=[[e.value - e.low for e in values], [e.high - e.value for e in values]],
            fmt="o",
            capsize=6,
        )
    right.axhline(0, color="grey", linewidth=0.8)
    left.set_ylabel(readout.metric)
    figure.suptitle(f"{readout.mode}: {readout.verdict} ({readout.reason})", fontsize=9)
    figure.savefig(readout.figure, dpi=120)
    plt.close(figure)
