"""The pipeline's commands: ingest, train, tune, evaluate, promote, run, predict, export, serve."""

from pathlib import Path
from typing import Annotated, Literal

import typer
import yaml

from {{ cookiecutter.package_name }} import __version__
{%- if cookiecutter.include_monitoring %}
from {{ cookiecutter.package_name }}.cli import data, monitoring, ui
{%- else %}
from {{ cookiecutter.package_name }}.cli import data, ui
{%- endif %}
from {{ cookiecutter.package_name }}.cli.ui import PROG, call, load, show, user_errors
from {{ cookiecutter.package_name }}.errors import mask

app = typer.Typer(
    name=PROG,
    help="{{ cookiecutter.project_name }}: {{ cookiecutter.description }}",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help: `[settings: HOST]` and `[now]` are defaults to show, not Rich markup.
    rich_markup_mode=None,
)
app.add_typer(data.schema_app, name="schema")
app.add_typer(data.data_app, name="data")

RunId = Annotated[str | None, typer.Option(help="A training run; the latest by default.")]
{%- if cookiecutter.include_spark %}
Engine = Annotated[Literal["pandas", "spark"], typer.Option(help="spark: on SPARK_MASTER.")]
{%- endif %}


@app.callback(invoke_without_command=True)
def main(
    version: Annotated[bool, typer.Option("--version", help="Show the version and exit.")] = False,
) -> None:
    """Run a {{ cookiecutter.project_name }} command."""
    if version:
        typer.echo(f"{PROG} {__version__}")
        raise typer.Exit


@app.command()
def info() -> None:
    """Show the validated config and settings this project would run with, as YAML."""
    with user_errors():
        settings, config = load()
    shown = {"config": config.model_dump(mode="json"), "settings": settings.model_dump(mode="json")}
    typer.echo(mask(yaml.safe_dump(shown, sort_keys=False, width=1000)))


@app.command()
{%- if cookiecutter.include_spark and cookiecutter.data_source == "csv" %}
def ingest(engine: Engine = "pandas") -> None:
{%- else %}
def ingest() -> None:
{%- endif %}
    """Read the raw data, validate it against the contract, and write it to the processed folder."""
    # Heavy imports (pandas, pandera) wait until a command needs them.
    from {{ cookiecutter.package_name }}.data.ingest import ingest as run_ingest

    with user_errors():
{%- if cookiecutter.data_source == "sql" or cookiecutter.include_spark %}
        settings, config = load()
{%- else %}
        config = load()[1]
{%- endif %}
        with ui.console.status("Reading, validating and writing the data"):
{%- if cookiecutter.include_spark and cookiecutter.data_source == "csv" %}
            if engine == "spark":
                from {{ cookiecutter.package_name }}.spark.jobs import ingest as in_spark

                summary = in_spark(config, settings)
            else:
                summary = run_ingest(config)
{%- else %}
            summary = run_ingest(config{% if cookiecutter.data_source == "sql" %}, settings{% endif %})
{%- endif %}
    show(f"Ingested {summary.path}", summary.facts.items())


@app.command()
def train() -> None:
    """Train the configured model and the baseline; track both and register the model."""
    from {{ cookiecutter.package_name }}.training.train import train as run_train

    ui.show_training(call(run_train, status="Training the model and the baseline"))


@app.command()
def tune(
    workers: Annotated[int, typer.Option(min=1, help="Processes sharing the search.")] = 1,
    study: Annotated[str | None, typer.Option(help="Name the search (for --join).")] = None,
    join: Annotated[str | None, typer.Option(help="Add trials to a study; no training.")] = None,
) -> None:
    """Search hyperparameters (each trial a nested run), then train with the best ones."""
    from {{ cookiecutter.package_name }}.training import tune as tuning
    from {{ cookiecutter.package_name }}.training.train import train as run_train

    if join is not None:
        ran = call(tuning.join, join, status=f"Running trials of {join}")
        ui.console.print(f"Ran {ran} trials of study {join}")
        return
    search = call(tuning.tune, workers=workers, study=study, status="Searching hyperparameters")
    ui.console.print(
        f"Best of {search.trials} trials of study {search.study}: {search.best_params} "
        f"({search.best_score:.4f})"
    )
    ui.console.print("To keep them, copy them into train.params in configs/project.yaml.")
    ui.show_training(call(run_train, params=search.best_params, status="Training with them"))


@app.command()
def evaluate(run_id: RunId = None) -> None:
    """Judge a trained model on the held-out test set: metrics, plots, slices, model card."""
    from {{ cookiecutter.package_name }}.training.evaluate import evaluate_run
    from {{ cookiecutter.package_name }}.training.reports import README

    result = call(evaluate_run, run_id, readme=README, status="Evaluating on the test set")
    ui.show_metrics(result.evaluation, title=f"Test set, run {result.run_id}")
    for warning in result.evaluation.warnings:
        ui.console.print(f"[yellow]warning:[/] {warning}")
    ui.console.print(f"Model card: {result.model_card}")


@app.command()
def promote(
    run_id: RunId = None,
    alias: Annotated[
        Literal["champion", "challenger"],
        typer.Option("--as", help="challenger: try the model beside the champion, which stays."),
    ] = "champion",
{%- if cookiecutter.include_monitoring %}
    challenger: Annotated[bool, typer.Option("--challenger", help="If the A/B agrees.")] = False,
    force: Annotated[bool, typer.Option("--force", help="With --challenger: any verdict.")] = False,
{%- endif %}
) -> None:
    """Make a model the champion, or the challenger, if it passes the quality gate."""
    from {{ cookiecutter.package_name }}.training.promote import promote as run_promote
    from {{ cookiecutter.package_name }}.training.reports import README

    status = "Checking the quality gate"
{%- if cookiecutter.include_monitoring %}
    if challenger:
        from {{ cookiecutter.package_name }}.monitoring.experiment import (
            promote_challenger,
        )

        decision = call(promote_challenger, force=force, readme=README, status=status)
    else:
        decision = call(run_promote, run_id, readme=README, alias=alias, status=status)
{%- else %}
    decision = call(run_promote, run_id, readme=README, alias=alias, status=status)
{%- endif %}
    ui.console.print(f"Version {decision.model_version} is the {alias}: {decision.reason}")


@app.command()
def predict(
    source: Annotated[Path, typer.Argument(help="A CSV or Parquet file of rows to score.")],
    output: Annotated[Path, typer.Argument(help="Where to write predictions (.csv or .parquet).")],
    chunk_rows: Annotated[int, typer.Option(min=1, help="Rows scored at a time.")] = 100_000,
    explain: Annotated[
        bool, typer.Option("--explain", help="Add each row's top SHAP contributions (slower).")
    ] = False,
    top: Annotated[int, typer.Option(min=1, help="Contributions per row, with --explain.")] = 3,
{%- if cookiecutter.include_spark %}
    engine: Engine = "pandas",
{%- endif %}
) -> None:
    """Score a file with the champion model, a chunk at a time; explain each row with --explain.

    --explain adds contribution_<i>_column and contribution_<i>_value (largest first),
    base_value and explanation_space; it needs the explain extra (SHAP).
    """
    from {{ cookiecutter.package_name }}.serving.batch import predict_with_champion

    status = f"Scoring{' and explaining' if explain else ''} {source}"
{%- if cookiecutter.include_spark %}
    if engine == "spark":
        from {{ cookiecutter.package_name }}.spark import jobs

        summary = call(jobs.predict_with_champion, source, output, explain, status=status)
    else:
        options = (chunk_rows, top if explain else 0)
        summary = call(predict_with_champion, source, output, *options, status=status)
{%- else %}
    options = (chunk_rows, top if explain else 0)
    summary = call(predict_with_champion, source, output, *options, status=status)
{%- endif %}
    ui.console.print(
        f"Wrote {summary.rows:,} predictions to {summary.output} in {summary.seconds:.1f} s"
    )


@app.command()
def export(
    output: Annotated[Path, typer.Argument(help="The directory to write.")] = Path(
        "models/champion"
    ),
    force: Annotated[
        bool, typer.Option(help="Replace an earlier export (never any other directory).")
    ] = False,
) -> None:
    """Copy the champion (or {{ cookiecutter.package_name | upper }}_MODEL_URI) out of the registry, for `serve` to load alone."""
    from {{ cookiecutter.package_name }}.serving.model import export_model

    with user_errors():
        settings, _ = load()
        metadata = export_model(settings, output, force=force)
    ui.console.print(
        f"Exported {metadata.name} version {metadata.version} to {output}. Serve it with "
        f"{{ cookiecutter.package_name | upper }}_MODEL_URI={output} {PROG} serve"
    )


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on [settings: HOST].")] = None,
    port: Annotated[int | None, typer.Option(help="Port to listen on [settings: PORT].")] = None,
    workers: Annotated[
        int | None, typer.Option(min=1, help="Processes, each with the model [settings: WORKERS].")
    ] = None,
) -> None:
    """Serve the model over HTTP: the API, its docs at /docs, health, readiness and metrics."""
    import uvicorn

    from {{ cookiecutter.package_name }}.serving.main import server_options
    from {{ cookiecutter.package_name }}.serving.model import check_model_source

    with user_errors():
        settings, _ = load()
        check_model_source(settings)
    uvicorn.run(
        "{{ cookiecutter.package_name }}.serving.main:create_app",
        factory=True,
        host=host or settings.host,
        port=port or settings.port,
        workers=workers or settings.workers,
        **server_options(settings),
    )


@app.command("run")
def run_all() -> None:
    """Run the whole pipeline on the configured data: ingest, train, evaluate, promote."""
    from {{ cookiecutter.package_name }}.training.models import PRIMARY_METRIC
    from {{ cookiecutter.package_name }}.training.run import run_stages

    with user_errors():
        settings, config = load()
        result = run_stages(config, settings, ui.console)
    ui.console.print(f"Champion: {settings.model_name} version {result.decision.model_version}")
    ui.show_metrics(result.evaluated.evaluation, title="Test set")
    ui.console.print(f"Primary metric: {PRIMARY_METRIC}. Model card: {result.evaluated.model_card}")
{%- if cookiecutter.include_monitoring %}


# The monitoring loop's commands follow the pipeline's in `--help`.
for command in monitoring.COMMANDS:
    app.command()(command)
{%- endif %}
