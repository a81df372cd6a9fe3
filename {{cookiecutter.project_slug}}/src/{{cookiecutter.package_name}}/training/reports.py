"""Render an evaluation as Markdown: the model card, and the results table in the README."""

import json
from pathlib import Path

from {{ cookiecutter.package_name }}.data.contract import DataContract
from {{ cookiecutter.package_name }}.errors import mask
from {{ cookiecutter.package_name }}.training.metrics import (
    IMPORTANCE_REPEATS,
    MIN_SLICE_ROWS,
    SLICE_METRICS,
    Evaluation,
    format_metric,
)
from {{ cookiecutter.package_name }}.training.models import GREATER_IS_BETTER, PRIMARY_METRIC

#: The project README, whose results table (between these markers) describes the champion.
README = Path("README.md")
RESULTS_START = "<!-- results:start -->"
RESULTS_END = "<!-- results:end -->"
#: The model card's file name, in `reports/` and in the training run's artifacts.
MODEL_CARD = "model_card.md"
#: How a refused candidate's model card begins, under its title.
REFUSED = "> **Refused by the quality gate:**"
# The model card lists this many of the most important features.
TOP_FEATURES = 10
# The name of the sample data set that ships with the template.
SAMPLE_DATA = "{{ cookiecutter.__sample }}"
{%- if cookiecutter.task == "classification" %}
PREDICTS = "a probability for each class, and a predicted class"
{%- else %}
PREDICTS = "a number"
{%- endif %}


def model_card(
    *,
    project: str,
    model_name: str,
    model_version: str | None,
    run_id: str,
    tracking_uri: str,
    run_link: str | None,
    evaluation: Evaluation,
    contract: DataContract,
    train_config: dict[str, object],
    data_rows: dict[str, int],
    data_digest: str,
) -> str:
    """A model card in Markdown: what the model is for, what it was trained on, how good it is.

    Args:
        project: the project's name, for the title.
        model_name: the registered model's name.
        model_version: its registered version, or None when the run is not registered.
        run_id: the MLflow run that trained it.
        tracking_uri: where that run is tracked.
        run_link: a link to the run in the MLflow UI, when there is one.
        evaluation: the model's evaluation on the test set.
        contract: the data contract: the target and the features.
        train_config: the training settings, as plain values.
        data_rows: rows per split, such as {"train": 3500, "validation": 750, "test": 750}.
        data_digest: a digest of the data trained on, to tell data versions apart.
    """
    version = f"version {model_version}" if model_version else "not registered"
    config = json.dumps(train_config, indent=2, default=str)
    sections = [
        f"# Model card: {project}\n\nModel `{model_name}`, {version}, trained in MLflow run `{run_id}`.",
        intended_use(contract),
        data_section(contract, data_rows, data_digest),
        "## Metrics\n\n" + metrics_summary(evaluation, data_rows.get("test")),
        per_class_section(evaluation),
        slices_section(evaluation),
        importances_section(evaluation),
        limitations(evaluation, contract, data_rows),
        f"## Training configuration\n\n```json\n{config}\n```",
        tracking_section(model_name, model_version, run_id, tracking_uri, run_link),
    ]
    return "\n\n".join(section for section in sections if section) + "\n"


def mark_refused(card: str, why: str) -> str:
    """A model card with a note under its title that the gate refused the model, and why."""
    title, _, rest = card.partition("\n\n")
    if rest.startswith(REFUSED):
        rest = rest.partition("\n\n")[2]  # refused again: the newest reason only
    return f"{title}\n\n{REFUSED} {why}. It never served: the champion stays.\n\n{rest}"


def update_results(
    readme: str,
    model_version: str,
    metrics: dict[str, float],
    baseline_metrics: dict[str, float],
) -> str:
    """Replace what is between the results markers of a README with the champion's results.

    Raises:
        ValueError: the README lacks either marker, or has them in the wrong order.
    """
    start = readme.find(RESULTS_START)
    end = readme.find(RESULTS_END, start) if start >= 0 else -1
    if end < 0:
        raise ValueError(
            f"the README has no {RESULTS_START} ... {RESULTS_END} markers: "
            "add them where the results table should go"
        )
    results = (
        f"Test-set results of the champion, model version {model_version}:\n\n"
        f"{metrics_table(metrics, baseline_metrics)}"
    )
    return f"{readme[: start + len(RESULTS_START)]}\n{results}\n{readme[end:]}"


def metrics_summary(evaluation: Evaluation, test_rows: int | None) -> str:
    """One sentence on what the metrics are, then the table of model against baseline."""
    rows = f" ({test_rows:,} rows)" if test_rows is not None else ""
    better = "higher" if GREATER_IS_BETTER else "lower"
    return (
        f"On the held-out test set{rows}, beside a baseline scored on the same rows. The primary "
        f"metric is **{PRIMARY_METRIC}** ({better} is better).\n\n"
        f"{metrics_table(evaluation.metrics, evaluation.baseline_metrics)}"
    )


def metrics_table(metrics: dict[str, float], baseline_metrics: dict[str, float]) -> str:
    """Each metric of the model beside the baseline's, the primary metric in bold."""
    rows = [
        [
            f"**{name}**" if name == PRIMARY_METRIC else name,
            format_metric(value),
            format_metric(baseline_metrics[name]),
        ]
        for name, value in metrics.items()
    ]
    return table(["metric", "model", "baseline"], rows)


def per_class_section(evaluation: Evaluation) -> str:
    """Precision, recall and f1 of each class (classification); nothing for a regressor."""
    if evaluation.per_class.empty:
        return ""
    rows = [
        [f"`{row['class']}`", f"{row['rows']:,}"]
        + [format_metric(row[name]) for name in ("precision", "recall", "f1")]
        for row in evaluation.per_class.to_dict(orient="records")
    ]
    return "## Per class\n\nEach class on its own, on the test set:\n\n" + table(
        ["class", "test rows", "precision", "recall", "f1"], rows
    )


def intended_use(contract: DataContract) -> str:
    """What the model predicts, and what it is not for."""
    target = contract.target
    described = f" ({target.description.rstrip('.')})" if target.description else ""
    return (
        f"## Intended use\n\nPredicts `{target.name}`{described} for one row of the "
        f"`{contract.name}` data at a time: {PREDICTS}. It is meant to support a person's decision "
        "on rows like those it was trained on; it has not been checked on data from another "
        "source, period or population, and should not decide about people on its own."
    )


def data_section(contract: DataContract, data_rows: dict[str, int], data_digest: str) -> str:
    """Rows per split, the data digest, and the features from the contract."""
    splits = table(["split", "rows"], [[name, f"{rows:,}"] for name, rows in data_rows.items()])
    features = table(
        ["feature", "type", "description"],
        [[f"`{f.name}`", f.type, f.description] for f in contract.features],
    )
    return (
        f"## Data\n\nData set `{contract.name}`, digest `{data_digest}`; the target is "
        f"`{contract.target.name}`.\n\n{splits}\n\nFeatures, from the data contract:\n\n{features}"
    )


def slices_section(evaluation: Evaluation) -> str:
    """The slice table, then the slices much worse than the whole, if any."""
    intro = (
        f"## Slices\n\nThe model on the test rows of each category of each categorical or boolean "
        f"feature with at least {MIN_SLICE_ROWS} of them."
    )
    if evaluation.slices.empty:
        return f"{intro}\n\nNo category has that many test rows: nothing was sliced."
    rows = [
        [str(row["feature"]), str(row["value"]), f"{row['rows']:,}"]
        + [format_metric(row[name]) for name in SLICE_METRICS]
        for row in evaluation.slices.to_dict(orient="records")
    ]
    sliced = table(["feature", "value", "rows", *SLICE_METRICS], rows)
    if not evaluation.warnings:
        return f"{intro}\n\n{sliced}\n\nNo slice is much worse than the whole test set."
    warnings = "\n".join(f"- {warning}" for warning in evaluation.warnings)
    return f"{intro}\n\n{sliced}\n\nSlices much worse than the whole test set:\n\n{warnings}"


def importances_section(evaluation: Evaluation) -> str:
    """The most important features by permutation importance."""
    rows = [
        [
            f"`{row['feature']}`",
            f"{format_metric(row['importance_mean'])} ± {format_metric(row['importance_std'])}",
        ]
        for row in evaluation.importances.head(TOP_FEATURES).to_dict(orient="records")
    ]
    return (
        f"## What the model relies on\n\nPermutation importance on the test set: how much "
        f"{PRIMARY_METRIC} worsens when one feature's values are shuffled (mean ± standard "
        f"deviation over {IMPORTANCE_REPEATS} shuffles), for the top {TOP_FEATURES} features."
        f"\n\n{table(['feature', 'importance'], rows)}"
    )


def limitations(evaluation: Evaluation, contract: DataContract, data_rows: dict[str, int]) -> str:
    """What the numbers above do not show."""
    points = []
    if contract.name == SAMPLE_DATA:
        points.append(
            f"`{SAMPLE_DATA}` is the synthetic sample data that ships with the project template: "
            "these numbers describe made-up data, not how the model would do in the real world."
        )
    if "test" in data_rows:
        points.append(
            f"Every metric comes from one test set of {data_rows['test']:,} rows: small differences "
            "between models can be noise."
        )
    if evaluation.threshold is not None:
        points.append(
            f"Accuracy, precision, recall and f1 are at a decision threshold of "
            f"{evaluation.threshold:.3f} on the positive class's probability, set by "
            "`evaluate.threshold` (`max_f1`: the best f1 on the validation set); another "
            "threshold trades precision for recall."
        )
    points += [
        f"Slices with fewer than {MIN_SLICE_ROWS} test rows are not evaluated, nor are missing "
        "values, numeric ranges or combinations of features: a weak group can hide there.",
        "Permutation importance shows what the model uses, not what causes the target; "
        "correlated features share their importance.",
        "Categories never seen in training are ignored: the model knows only what its training "
        "data showed it.",
    ]
    return "## Limitations\n\n" + "\n".join(f"- {point}" for point in points)


def tracking_section(
    model_name: str, model_version: str | None, run_id: str, tracking_uri: str, run_link: str | None
) -> str:
    """Where to find the run, and the model in the registry (never a password in a URL)."""
    run = f"[`{run_id}`]({run_link})" if run_link else f"`{run_id}`"
    registered = f"`{model_name}` version {model_version}" if model_version else "not registered"
    return mask(
        f"## Tracking\n\n- MLflow run: {run}\n- Tracking URI: `{tracking_uri}`\n"
        f"- Registered model: {registered}"
    )


def table(header: list[str], rows: list[list[str]]) -> str:
    """A Markdown table; a `|` inside a cell is escaped."""
    lines = [header, ["---"] * len(header), *rows]
    return "\n".join(
        "| " + " | ".join(cell.replace("|", "\\|") for cell in line) + " |" for line in lines
    )
