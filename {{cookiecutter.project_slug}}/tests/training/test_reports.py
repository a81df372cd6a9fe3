"""Reports: the model card tells the whole story; the README's results change between markers only."""

import dataclasses
from pathlib import Path

import pandas as pd
import pytest
{%- if cookiecutter.data_source == "sql" %}
from pydantic import SecretStr
{%- endif %}

{% if cookiecutter.data_source == "csv" -%}
from {{ cookiecutter.package_name }}.config import ProjectConfig
{% endif -%}
from {{ cookiecutter.package_name }}.data.contract import DataContract
{%- if cookiecutter.data_source == "sql" %}
from {{ cookiecutter.package_name }}.settings import Settings
{%- endif %}
from {{ cookiecutter.package_name }}.training.metrics import (
    MIN_SLICE_ROWS,
    SLICE_METRICS,
    Evaluation,
    format_metric,
)
from {{ cookiecutter.package_name }}.training.models import PRIMARY_METRIC
from {{ cookiecutter.package_name }}.training.reports import (
    NOTE_SECTIONS,
    NOTES,
    REFUSED,
    RESULTS_END,
    RESULTS_START,
{%- if cookiecutter.data_source == "sql" %}
    SAMPLE_DATABASE,
{%- else %}
    SAMPLE_FILE,
{%- endif %}
    TOP_FEATURES,
    is_sample,
    mark_refused,
    model_card,
    update_results,
)
{%- if cookiecutter.task == "classification" %}

METRICS = {"roc_auc": 0.8612, "accuracy": 0.8267, "log_loss": 0.3757}
BASELINE = {"roc_auc": 0.5, "accuracy": 0.732, "log_loss": 0.5813}
WARNING = "slice region=south (206 rows): roc_auc 0.688 vs 0.861 overall"
PER_CLASS = pd.DataFrame(
    {
        "class": ["stay", "leave"],
        "rows": [550, 200],
        "precision": [0.9, 0.7],
        "recall": [0.85, 0.75],
        "f1": [0.874, 0.724],
    }
)
{%- else %}

METRICS = {"rmse": 52.3377, "mae": 37.7704, "r2": 0.8197, "mape": 0.151}
BASELINE = {"rmse": 123.7074, "mae": 91.5286, "r2": -0.0071, "mape": 0.4039}
WARNING = "slice region=south (109 rows): rmse 71.862 vs 52.338 overall"
PER_CLASS = pd.DataFrame()
{%- endif %}
RUN_ID = "0123456789abcdef"
PARAMS = {"learning_rate": 0.1}
PROJECT_ROOT = Path(__file__).resolve().parents[2]
# A notes file as a candidate fills it in: a title, a prompt left in, a section each.
NOTES_TEXT = """# Model card notes

Nothing before the first section is copied.

## Intended use

<!-- a prompt, never copied -->
Ranks this week's rows for a person to review first.

## Limitations

Rows unlike the training data get confident, wrong answers.

## What I would do differently

Collect a second year of data before trusting the slices.
"""


@pytest.fixture
def evaluation() -> Evaluation:
    """An evaluation with known numbers: reports only render, so no model is needed."""
    slices = pd.DataFrame(
        [
            {"feature": "region", "value": "north", "rows": 1250}
            | dict.fromkeys(SLICE_METRICS, 0.75),
            {"feature": "region", "value": "south", "rows": 206}
            | dict.fromkeys(SLICE_METRICS, 0.5),
        ]
    )
    importances = pd.DataFrame(
        {
            "feature": [f"feature_{number:02d}" for number in range(TOP_FEATURES + 2)],
            "importance_mean": [0.5 - 0.01 * number for number in range(TOP_FEATURES + 2)],
            "importance_std": [0.004] * (TOP_FEATURES + 2),
        }
    )
    return Evaluation(
        metrics=METRICS,
        baseline_metrics=BASELINE,
        slices=slices,
        warnings=[WARNING],
        importances=importances,
        figures={},
        per_class=PER_CLASS,
{%- if cookiecutter.task == "classification" %}
        threshold=0.37,
{%- endif %}
    )


def card(evaluation: Evaluation, contract: DataContract, **changes: object) -> str:
    """The model card of the fixture's evaluation, with some arguments changed."""
    arguments: dict[str, object] = {
        "model_name": "customer-churn",
        "model_version": "3",
        "run_id": RUN_ID,
        "tracking_uri": "http://127.0.0.1:5000",
        "run_link": f"http://127.0.0.1:5000/#/experiments/1/runs/{RUN_ID}",
        "evaluation": evaluation,
        "contract": contract,
        "train_config": {"model": "gradient_boosting", "params": PARAMS},
        "data_rows": {"train": 3500, "validation": 750, "test": 750},
        "data_digest": "sha256:feedface",
    }
    return model_card(**(arguments | changes))  # type: ignore[arg-type]


def test_model_card_has_every_section(evaluation: Evaluation, contract: DataContract) -> None:
    text = card(evaluation, contract)

    headings = [line for line in text.splitlines() if line.startswith("#")]
    assert headings == [
        "# Model card: customer-churn",
        "## Intended use",
        "### In my words",
        "## Data",
        "## Metrics",
{%- if cookiecutter.task == "classification" %}
        "## Per class",
{%- endif %}
        "## Slices",
        "## What the model relies on",
        "## Why the model predicts what it does",
        "## Fairness",
        "## Limitations",
        "### In my words",
        "## What I would do differently",
        "## Training configuration",
        "## Tracking",
    ]


def section(card_text: str, heading: str) -> str:
    """The text under a `## ` heading of a card, up to the next `## ` heading."""
    return card_text.split(f"\n{heading}\n")[1].split("\n## ")[0]


def test_the_candidates_notes_appear_beside_the_evidence(
    evaluation: Evaluation, contract: DataContract, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.md"
    notes.write_text(NOTES_TEXT, encoding="utf-8")

    text = card(evaluation, contract, notes=notes)

    generated, mine = section(text, "## Intended use").split("### In my words")
    assert "support a person's decision" in generated
    assert mine.strip() == "Ranks this week's rows for a person to review first."
    generated, mine = section(text, "## Limitations").split("### In my words")
    assert "one test set of 750 rows" in generated
    assert mine.strip() == "Rows unlike the training data get confident, wrong answers."
    differently = section(text, "## What I would do differently")
    assert differently.strip() == "Collect a second year of data before trusting the slices."
    assert "prompt" not in text
    assert "Nothing before the first section" not in text


def test_without_a_notes_file_each_section_says_which_file_to_edit(
    evaluation: Evaluation, contract: DataContract
) -> None:
    # The working directory is empty: the default notes file is not there.
    text = card(evaluation, contract)

    for name in NOTE_SECTIONS:
        assert f"Not written yet: write it under `## {name}` in `{NOTES}`" in text


def test_a_section_missing_or_left_as_a_prompt_says_which_file_to_edit(
    evaluation: Evaluation, contract: DataContract, tmp_path: Path
) -> None:
    notes = tmp_path / "notes.md"
    written = "## Intended use\n\nMine.\n\n## Limitations\n\n<!-- a prompt -->\n"
    notes.write_text(written, encoding="utf-8")

    text = card(evaluation, contract, notes=notes)

    assert section(text, "## Intended use").split("### In my words")[1].strip() == "Mine."
    for name in ("Limitations", "What I would do differently"):
        assert f"Not written yet: write it under `## {name}` in `{notes}`" in text


def test_the_shipped_notes_file_has_every_section_the_card_reads() -> None:
    shipped = (PROJECT_ROOT / NOTES).read_text(encoding="utf-8").splitlines()

    for name in NOTE_SECTIONS:
        assert f"## {name}" in shipped


def test_model_card_puts_model_and_baseline_side_by_side(
    evaluation: Evaluation, contract: DataContract
) -> None:
    text = card(evaluation, contract)

    assert "| metric | model | baseline |" in text
    primary = f"| **{PRIMARY_METRIC}** | {format_metric(METRICS[PRIMARY_METRIC])} | "
    assert primary + f"{format_metric(BASELINE[PRIMARY_METRIC])} |" in text
    for name, value in METRICS.items():
        assert f" | {format_metric(value)} | {format_metric(BASELINE[name])} |" in text


def test_model_card_describes_the_data_and_the_run(
    evaluation: Evaluation, contract: DataContract
) -> None:
    text = card(evaluation, contract)

    assert "| train | 3,500 |" in text
    assert "| test | 750 |" in text
    assert "`sha256:feedface`" in text
    assert f"`{contract.target.name}`" in text
    for feature in contract.features:
        assert f"| `{feature.name}` | {feature.type} |" in text
    assert '"learning_rate": 0.1' in text
    assert f"[`{RUN_ID}`](http://127.0.0.1:5000/#/experiments/1/runs/{RUN_ID})" in text
    assert "`customer-churn` version 3" in text


def test_model_card_shows_slices_and_their_warnings(
    evaluation: Evaluation, contract: DataContract
) -> None:
    text = card(evaluation, contract)

    assert f"| feature | value | rows | {' | '.join(SLICE_METRICS)} |" in text
    assert "| region | north | 1,250 | " in text
    assert f"- {WARNING}" in text


def test_model_card_says_when_no_slice_is_much_worse(
    evaluation: Evaluation, contract: DataContract
) -> None:
    calm = dataclasses.replace(evaluation, warnings=[])

    assert "No slice is much worse than the whole test set." in card(calm, contract)


def test_model_card_lists_only_the_top_features(
    evaluation: Evaluation, contract: DataContract
) -> None:
    text = card(evaluation, contract)

    assert "| `feature_00` | 0.500 ± 0.004 |" in text
    assert f"`feature_{TOP_FEATURES - 1:02d}`" in text
    assert f"`feature_{TOP_FEATURES:02d}`" not in text


def test_model_card_states_its_limitations(evaluation: Evaluation, contract: DataContract) -> None:
    limitations = card(evaluation, contract).split("## Limitations")[1].split("##")[0]

    assert f"fewer than {MIN_SLICE_ROWS} test rows are not evaluated" in limitations
    assert "one test set of 750 rows" in limitations
{%- if cookiecutter.task == "classification" %}
    assert "decision threshold of 0.370" in limitations
{%- endif %}

{%- if cookiecutter.task == "classification" %}


def test_model_card_shows_each_class_on_its_own(
    evaluation: Evaluation, contract: DataContract
) -> None:
    section = card(evaluation, contract).split("## Per class")[1].split("##")[0]

    assert "| `stay` | 550 | 0.900 | 0.850 | 0.874 |" in section
    assert "| `leave` | 200 | 0.700 | 0.750 | 0.724 |" in section
{%- endif %}


def test_only_the_shipped_sample_is_called_synthetic(
    evaluation: Evaluation, contract: DataContract
) -> None:
    assert "synthetic sample data" in card(evaluation, contract, sample=True)
    assert "synthetic" not in card(evaluation, contract, sample=False)
{%- if cookiecutter.data_source == "sql" %}


def test_the_sample_is_the_shipped_database_whatever_its_tables_are_called(
    settings: Settings,
) -> None:
    shipped = settings.model_copy(update={"database_url": SecretStr(SAMPLE_DATABASE)})

    assert is_sample(shipped)
    assert not is_sample(settings)  # the generated rows
{%- else %}


def test_the_sample_is_the_shipped_file_whatever_the_data_is_called(
    project_config: ProjectConfig, tmp_path: Path
) -> None:
    def reading(path: Path) -> ProjectConfig:
        data = project_config.data.model_copy(update={"path": str(path)})
        return project_config.model_copy(update={"data": data})

    assert is_sample(reading(SAMPLE_FILE))
    assert not is_sample(reading(tmp_path / "yours" / SAMPLE_FILE.name))  # same name, your data
    assert not is_sample(project_config)  # the generated rows
{%- endif %}


def test_model_card_of_an_unregistered_run_without_a_link(
    evaluation: Evaluation, contract: DataContract
) -> None:
    text = card(evaluation, contract, model_version=None, run_link=None)

    assert "Registered model: not registered" in text
    assert f"- MLflow run: `{RUN_ID}`" in text
    assert "](" not in text


README = f"# Project\n\nIntro.\n\n{RESULTS_START}\nold results\n{RESULTS_END}\n\nMore text.\n"


def test_update_results_replaces_only_what_is_between_the_markers() -> None:
    updated = update_results(README, "3", METRICS, BASELINE)

    before, rest = updated.split(RESULTS_START)
    between, after = rest.split(RESULTS_END)
    assert before == "# Project\n\nIntro.\n\n"
    assert after == "\n\nMore text.\n"
    assert "old results" not in between
    assert "the champion, model version 3" in between
    assert "| metric | model | baseline |" in between
    assert f"| {format_metric(METRICS[PRIMARY_METRIC])} | " in between


def test_update_results_again_gives_the_same_readme() -> None:
    once = update_results(README, "3", METRICS, BASELINE)

    assert update_results(once, "3", METRICS, BASELINE) == once


@pytest.mark.parametrize(
    "readme",
    [
        "# Project\n",
        f"# Project\n{RESULTS_START}\n",
        f"# Project\n{RESULTS_END}\n",
        f"# Project\n{RESULTS_END}\n{RESULTS_START}\n",
    ],
)
def test_update_results_refuses_a_readme_without_both_markers(readme: str) -> None:
    with pytest.raises(ValueError, match="markers") as caught:
        update_results(readme, "3", METRICS, BASELINE)

    assert "\n" not in str(caught.value)


def test_a_refused_model_card_says_so_under_its_title_once(
    evaluation: Evaluation, contract: DataContract
) -> None:
    text = card(evaluation, contract)

    marked = mark_refused(text, "version 3 was not promoted: worse than the champion")
    again = mark_refused(marked, "version 3 was not promoted: still worse")

    title, note, rest = marked.split("\n\n", 2)
    assert title == text.split("\n\n")[0]
    assert note.startswith(REFUSED)
    assert "worse than the champion" in note
    assert rest == text.split("\n\n", 1)[1]  # the card itself is unchanged
    assert again.count(REFUSED) == 1
    assert "still worse" in again


def test_model_card_never_shows_a_password_in_a_url(
    evaluation: Evaluation, contract: DataContract
) -> None:
    server = "http://ml:hunter2@127.0.0.1:5000"
    text = card(evaluation, contract, tracking_uri=server, run_link=f"{server}/#/runs/{RUN_ID}")

    assert "hunter2" not in text
    assert "Tracking URI: `http://ml:***@127.0.0.1:5000`" in text


def test_model_card_says_when_explanations_and_the_fairness_audit_did_not_run(
    evaluation: Evaluation, contract: DataContract
) -> None:
    text = card(evaluation, contract)

    assert "No SHAP explanations: they were turned off (`evaluate.explanations: false`)" in text
    assert "No contract column is marked `protected: true`" in text
