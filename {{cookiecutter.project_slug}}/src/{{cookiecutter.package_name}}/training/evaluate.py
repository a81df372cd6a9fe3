"""The evaluate stage: judge a trained model on the held-out test set, beside its baseline.

Metrics, plots, slices and importances go to the training run in MLflow and to `reports/`, with
the model card. The README's results table describes the champion, so it changes only when the
champion's own run is evaluated again (or when `promote` moves the alias).
"""

from dataclasses import dataclass
from pathlib import Path

import mlflow

from {{ cookiecutter.package_name }}.config import ProjectConfig
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.training import tracking
from {{ cookiecutter.package_name }}.training.gate import (
    Comparison,
    compare_with_champion,
    fairness_gaps,
)
from {{ cookiecutter.package_name }}.training.inputs import fit_baseline, load_splits
from {{ cookiecutter.package_name }}.training.metrics import Evaluation, evaluate
{%- if cookiecutter.task == "classification" %}
from {{ cookiecutter.package_name }}.training.predictions import threshold_of
{%- endif %}
from {{ cookiecutter.package_name }}.training.reports import (
    MODEL_CARD,
    is_sample,
    model_card,
    write_champion_results,
)


@dataclass(frozen=True)
class EvaluateResult:
    """What evaluating one training run produced."""

    run_id: str
    model_version: str | None
    evaluation: Evaluation
    model_card: Path
    comparison: Comparison | None = None


def evaluate_run(
    config: ProjectConfig,
    settings: Settings,
    run_id: str | None = None,
    readme: Path | None = None,
) -> EvaluateResult:
    """Evaluate a training run (the latest one by default) and record what was found.

    Given a `readme`, its results table is rewritten from the champion.

    Raises:
        ConfigError: nothing trained yet, or no processed data.
    """
    tracking.configure(settings, experiment=settings.model_name)
    run = tracking.training_run(settings.model_name, run_id)
    contract, parts, _ = load_splits(config)
    model = tracking.load_model(f"runs:/{run.info.run_id}/model")
    baseline = fit_baseline(contract, parts, seed=config.seed)
    evaluation = evaluate(
        model,
        baseline,
        parts.test,
        contract,
{%- if cookiecutter.task == "classification" %}
        threshold=threshold_of(run.data.metrics),
{%- endif %}
        seed=config.seed,
        slice_tolerance=config.evaluate.slice_tolerance,
        background=parts.train if config.evaluate.explanations else None,
    )
    version = tracking.version_of_run(settings.model_name, run.info.run_id)
    reports = config.evaluate.reports_dir
    (reports / "figures").mkdir(parents=True, exist_ok=True)
    # The gate compares a candidate with the champion on the same rows: the test rows the
    # champion never trained on. Its own test score came from data that may have moved.
    champion = tracking.champion_version(settings.model_name)
    comparison = None
    if champion is not None and champion != version:
        min_rows = config.promote.min_comparison_rows
        comparison = compare_with_champion(
            settings.model_name, champion, model, parts.test, contract, min_rows=min_rows
        )

    with mlflow.start_run(run_id=run.info.run_id):
        # Reopened, the run is RUNNING again: tagged with this process, so that a kill now is
        # marked KILLED by the next start (and a live evaluation is not).
        mlflow.set_tags(tracking.process_tags())
        mlflow.log_metrics(
            {f"test_{name}": value for name, value in evaluation.metrics.items()}
            | {f"baseline_test_{name}": v for name, v in evaluation.baseline_metrics.items()}
        )
        if comparison is not None:
            comparison.record(run.info.run_id)
        for stem, figure in evaluation.figures.items():  # drawn once, for both places
            path = reports / "figures" / f"{stem}.png"
            figure.savefig(path, dpi=120)  # laid out "constrained": no second, "tight" draw
            mlflow.log_artifact(str(path), "figures")
        mlflow.log_text(evaluation.slices.to_csv(index=False), "slices.csv")
        mlflow.log_text(evaluation.importances.to_csv(index=False), "importances.csv")
        if not evaluation.per_class.empty:
            mlflow.log_text(evaluation.per_class.to_csv(index=False), "per_class.csv")
        if evaluation.explanation is not None:
            shap_table = evaluation.explanation.importance().to_csv(index=False)
            mlflow.log_text(shap_table, "shap_importance.csv")
        if evaluation.audit is not None:
            mlflow.log_text(evaluation.audit.by_group.to_csv(index=False), "fairness.csv")
            mlflow.log_metrics(fairness_gaps(evaluation.audit))
        mlflow.set_tag("slice_warnings", str(len(evaluation.warnings)))
        card = model_card(
            model_name=settings.model_name,
            model_version=version,
            run_id=run.info.run_id,
            tracking_uri=settings.tracking_uri,
            run_link=tracking.run_link(run),
            evaluation=evaluation,
            contract=contract,
            train_config=config.train.model_dump(mode="json"),
            data_rows={part: len(getattr(parts, part)) for part in ("train", "validation", "test")},
            data_digest=run.data.tags.get("data_sha256", "unknown"),
            sample=is_sample({% if cookiecutter.data_source == "sql" %}settings{% else %}config{% endif %}),
{%- if cookiecutter.include_spark and cookiecutter.data_source == "csv" %}
            sampled=run.data.params.get(tracking.SAMPLE_PARAM),
{%- endif %}
            promote_config=config.promote,
        )
        mlflow.log_text(card, MODEL_CARD)
    card_path = reports / MODEL_CARD
    card_path.write_text(card, encoding="utf-8")
    if readme is not None:
        write_champion_results(readme, settings.model_name)
    return EvaluateResult(run.info.run_id, version, evaluation, card_path, comparison)
