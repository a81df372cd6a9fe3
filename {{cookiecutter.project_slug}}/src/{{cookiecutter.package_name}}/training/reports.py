"""What an evaluation found, as Markdown: the model card, and the README's results table.

Both are Jinja2 templates beside this module (`model_card.md.j2`, `metrics_table.md.j2`): change
the wording or the layout there. This module gives them the facts (and the card the candidate's
own words, from NOTES), and writes the files.
"""

import json
import logging
import re
from pathlib import Path

import jinja2
import mlflow
from mlflow.exceptions import MlflowException

from {{ cookiecutter.package_name }}.config import ProjectConfig, PromoteConfig
from {{ cookiecutter.package_name }}.data.contract import DataContract
from {{ cookiecutter.package_name }}.data.datasets import write_whole
from {{ cookiecutter.package_name }}.errors import mask
from {{ cookiecutter.package_name }}.governance.explain import in_words
from {{ cookiecutter.package_name }}.governance.fairness import MIN_GROUP_ROWS
{%- if cookiecutter.data_source == "sql" %}
from {{ cookiecutter.package_name }}.settings import Settings
{%- endif %}
from {{ cookiecutter.package_name }}.training import tracking
from {{ cookiecutter.package_name }}.training.metrics import (
    IMPORTANCE_REPEATS,
    MIN_SLICE_ROWS,
    SLICE_METRICS,
    Evaluation,
    format_metric,
)
from {{ cookiecutter.package_name }}.training.models import (
    GREATER_IS_BETTER,
    PRIMARY_METRIC,
)

logger = logging.getLogger(__name__)

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
#: Your own words for the model card, one `## ` section each: edit this file, never the card.
NOTES = Path("docs/model-card-notes.md")
#: The sections of NOTES that the model card shows, in its order.
NOTE_SECTIONS = ("Intended use", "Limitations", "What I would do differently")
{%- if cookiecutter.data_source == "sql" %}
#: The synthetic sample data that ships with the template: a model card on it says so.
SAMPLE_DATABASE = "sqlite:///data/raw/{{ cookiecutter.__sample }}.db"
{%- else %}
#: The synthetic sample data that ships with the template: a model card on it says so.
SAMPLE_FILE = Path("data/raw/{{ cookiecutter.__sample }}.csv")
{%- endif %}

TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent),
    autoescape=False,  # noqa: S701 - Markdown files, never served as HTML
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)
TEMPLATES.filters |= {
    "metric": format_metric,
    "cell": lambda value: str(value).replace("|", "\\|"),  # a `|` would end a table cell
}
TEMPLATES.globals |= {
    "primary_metric": PRIMARY_METRIC,
    "better": "higher" if GREATER_IS_BETTER else "lower",
{%- if cookiecutter.task == "classification" %}
    "predicts": "a probability for each class, and a predicted class",
{%- else %}
    "predicts": "a number",
{%- endif %}
    "min_slice_rows": MIN_SLICE_ROWS,
    "slice_metrics": SLICE_METRICS,
    "importance_repeats": IMPORTANCE_REPEATS,
    "top_features": TOP_FEATURES,
    "min_group_rows": MIN_GROUP_ROWS,
}


def model_card(
    *,
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
    sample: bool = False,
{%- if cookiecutter.include_spark and cookiecutter.data_source == "csv" %}
    sampled: str | None = None,
{%- endif %}
    promote_config: PromoteConfig | None = None,
    notes: Path = NOTES,
) -> str:
    """A model card in Markdown: what the model is for, what it was trained on, how good it is.

    `model_version` is None when the run is not registered; a password in `tracking_uri` or
    `run_link` is never shown; `data_rows` counts the rows of each split; `sample` says whether
    the data is the synthetic sample that ships with the template;{% if cookiecutter.include_spark and cookiecutter.data_source == "csv" %} `sampled` says how Spark
    sampled the training data, if it did;{% endif %} `promote_config` holds the
    fairness rule the card states; `notes` is the file of the candidate's own sections (see
    `read_notes`).
    """
    explained = evaluation.explanation
    # Every argument as it is, but for these:
    return TEMPLATES.get_template("model_card.md.j2").render(
        locals()
        | {
            "notes": read_notes(notes),
            "tracking_uri": mask(tracking_uri),
            "run_link": mask(run_link) if run_link else None,
            "metrics": evaluation.metrics,
            "baseline_metrics": evaluation.baseline_metrics,
            "train_config": json.dumps(train_config, indent=2, default=str),
            "rule": promote_config or PromoteConfig(),
            "explained_in_words": in_words(explained) if explained else [],
        }
    )


def read_notes(path: Path) -> dict[str, str]:
    """Each of NOTE_SECTIONS as written under its `## ` heading in `path`, comments left out.

    A missing or unreadable file, or a missing or empty section, gives a line that says where to
    write it: the card is written all the same.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        text = ""
    written: dict[str, str] = {}
    for section in re.split(r"^## ", text, flags=re.MULTILINE)[1:]:
        heading, _, body = section.partition("\n")
        written[heading.strip()] = re.sub(r"<!--.*?-->", "", body, flags=re.DOTALL).strip()
    return {
        name: written.get(name) or f"_Not written yet: write it under `## {name}` in `{path}`._"
        for name in NOTE_SECTIONS
    }


{% if cookiecutter.data_source == "sql" -%}
def is_sample(settings: Settings) -> bool:
    """Whether the configured database is the synthetic sample that ships with the template."""
    return settings.database_url.get_secret_value() == SAMPLE_DATABASE
{%- else -%}
def is_sample(config: ProjectConfig) -> bool:
    """Whether the configured data is the synthetic sample file that ships with the template."""
    return Path(config.data.path).resolve() == SAMPLE_FILE.resolve()
{%- endif %}


def mark_refused(card: str, why: str) -> str:
    """A model card with a note under its title that the gate refused the model, and why."""
    title, _, rest = card.partition("\n\n")
    if rest.startswith(REFUSED):
        rest = rest.partition("\n\n")[2]  # refused again: the newest reason only
    return f"{title}\n\n{REFUSED} {why}. It never served: the champion stays.\n\n{rest}"


def mark_card_refused(config: ProjectConfig, run_id: str, why: str) -> None:
    """Mark a refused run's model card as refused: in MLflow, and in `reports/` if it is there."""
    try:
        card = mlflow.artifacts.load_text(f"runs:/{run_id}/{MODEL_CARD}")
    except (MlflowException, OSError):
        return  # `evaluate` was killed after its metrics, before the card: nothing to mark
    marked = mark_refused(card, why)
    mlflow.MlflowClient().log_text(run_id, marked, MODEL_CARD)
    local = config.evaluate.reports_dir / MODEL_CARD
    if local.exists() and f"`{run_id}`" in local.read_text(encoding="utf-8"):
        write_whole(local, lambda temporary: temporary.write_text(marked, encoding="utf-8"))


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
    table = TEMPLATES.get_template("metrics_table.md.j2").render(
        metrics=metrics, baseline_metrics=baseline_metrics
    )
    results = f"Test-set results of the champion, model version {model_version}:\n\n{table}"
    return f"{readme[: start + len(RESULTS_START)]}\n{results}{readme[end:]}"


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
