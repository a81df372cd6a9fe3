"""The `run` command's stages, one after another: ingest, train, evaluate and promote."""

from dataclasses import dataclass

from rich.console import Console

from {{ cookiecutter.package_name }}.config import ProjectConfig
from {{ cookiecutter.package_name }}.data.ingest import Summary, ingest
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.training.evaluate import EvaluateResult, evaluate_run
from {{ cookiecutter.package_name }}.training.promote import Decision, promote
from {{ cookiecutter.package_name }}.training.reports import README
from {{ cookiecutter.package_name }}.training.train import TrainResult, train


@dataclass(frozen=True)
class RunResult:
    """What each stage of one run produced."""

    ingested: Summary
    trained: TrainResult
    evaluated: EvaluateResult
    decision: Decision


def run_stages(config: ProjectConfig, settings: Settings, console: Console) -> RunResult:
    """Run every stage in order; the first failure stops the run with its own error.

    Raises:
        ConfigError, DataSourceError, DataValidationError: a stage could not run.
        PromotionRefusedError: the new model failed the quality gate (the champion stays).
    """
    with console.status("Ingesting the raw data"):
        ingested = ingest(config{% if cookiecutter.data_source == "sql" %}, settings{% endif %})
    console.print(f"[green]✓[/] ingested {ingested.rows:,} rows into {ingested.path}")
    with console.status(f"Training the {config.train.model} model and the baseline"):
        trained = train(config, settings)
    console.print(f"[green]✓[/] trained run {trained.run_id} in {trained.seconds:.1f} s")
    with console.status("Evaluating on the held-out test set"):
        evaluated = evaluate_run(config, settings, trained.run_id)
    console.print(f"[green]✓[/] evaluated: model card at {evaluated.model_card}")
    if evaluated.comparison is not None and evaluated.comparison.skipped:
        console.print(f"[yellow]![/] {evaluated.comparison.reason}")
    for warning in evaluated.evaluation.warnings:
        console.print(f"[yellow]![/] {warning}")
    # The README's results describe the champion: promote rewrites them, whatever it decides.
    decision = promote(config, settings, trained.run_id, readme=README)
    console.print(f"[green]✓[/] promoted version {decision.model_version}: {decision.reason}")
    return RunResult(ingested=ingested, trained=trained, evaluated=evaluated, decision=decision)
