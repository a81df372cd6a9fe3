"""The project's one command-line interface: it parses arguments, calls a stage, prints the result."""

import json
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
{%- if cookiecutter.include_monitoring %}
from datetime import UTC, datetime
{%- endif %}
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
import yaml
from rich.console import Console
from rich.table import Table

from {{ cookiecutter.package_name }} import __version__
from {{ cookiecutter.package_name }}.config import ProjectConfig, load_config
from {{ cookiecutter.package_name }}.errors import (
    ConfigError,
    DataSourceError,
    DataValidationError,
    PromotionRefusedError,
    mask,
    unreachable,
)
from {{ cookiecutter.package_name }}.settings import Settings, load_settings

if TYPE_CHECKING:
    from {{ cookiecutter.package_name }}.training.metrics import Evaluation
    from {{ cookiecutter.package_name }}.training.train import TrainResult

PROG = "{{ cookiecutter.project_slug }}"
#: The most data problems printed one per line; the rest are counted.
MAX_PROBLEMS = 20
{%- if cookiecutter.include_monitoring %}
#: `drift`'s exit code when it finds drift (1 means the check itself failed).
DRIFT_FOUND = 3
{%- endif %}

app = typer.Typer(
    name=PROG,
    help="{{ cookiecutter.project_name }}: {{ cookiecutter.description }}",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    # Plain help: `[settings: HOST]` and `[now]` are defaults to show, not Rich markup.
    rich_markup_mode=None,
)
schema_app = typer.Typer(help="Write and show the data contract.", no_args_is_help=True)
app.add_typer(schema_app, name="schema")
data_app = typer.Typer(help="Bring your own data into the project.", no_args_is_help=True)
app.add_typer(data_app, name="data")
console = Console()

RunId = Annotated[str | None, typer.Option(help="A training run; the latest by default.")]
Target = Annotated[str, typer.Option(help="The column to predict.")]
IdColumn = Annotated[
    str | None,
    typer.Option("--id", help="The column that identifies a row; leave out if there is none."),
]
Positive = Annotated[
    str | None,
    typer.Option(help="A two-class target's positive class [a yes-like label, else the rarer]."),
]


@app.callback(invoke_without_command=True)
def main(
    version: Annotated[bool, typer.Option("--version", help="Show the version and exit.")] = False,
) -> None:
    """Run a {{ cookiecutter.project_name }} command."""
    if version:
        typer.echo(f"{PROG} {__version__}")
        raise typer.Exit


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn errors a user can fix into one line each and exit code 1, never a traceback.

    At most MAX_PROBLEMS lines of data problems are shown, then how many more there are.
    """
    try:
        yield
    except DataValidationError as error:
        problems = error.problems
        more = len(problems) - MAX_PROBLEMS
        fail(
            *problems[:MAX_PROBLEMS],
            *([f"... and {more} more problem(s)"] if more > 0 else []),
            f"{len(problems)} problem(s) with the data; nothing was written",
        )
    except (ConfigError, DataSourceError, FileExistsError, PromotionRefusedError) as error:
        fail(str(error))
    except Exception as error:
        line = unreachable(error)
        if line is None:
            raise
        fail(line)


def fail(*lines: str) -> NoReturn:
    """Print each line as an error, its URLs' passwords masked, and exit with code 1."""
    for line in lines:
        typer.secho(f"error: {mask(line)}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=1) from None


def load() -> tuple[Settings, ProjectConfig]:
    """The settings and the project config, validated."""
    settings = load_settings()
    return settings, load_config(settings.config_file)


def call(stage: Callable[..., Any], *args: object, status: str, **options: object) -> Any:
    """Run a stage with the config and settings, a spinner showing `status`, errors in one line.

    It returns what the stage returns (`Any`: a generic would need two spellings, 3.11 and 3.12+).
    """
    with user_errors():
        settings, config = load()
        with console.status(status):
            return stage(config, settings, *args, **options)


def show(title: str, rows: Iterable[Sequence[object]], header: Sequence[str] = ()) -> None:
    """Print rows as a table; without a header, as `name  value` pairs."""
    table = Table(*(header or ("", "")), title=title, show_header=bool(header))
    for row in rows:
        table.add_row(*map(str, row))
    console.print(table)


@app.command()
def info() -> None:
    """Show the validated config and settings this project would run with, as YAML."""
    with user_errors():
        settings, config = load()
    shown = {"config": config.model_dump(mode="json"), "settings": settings.model_dump(mode="json")}
    typer.echo(mask(yaml.safe_dump(shown, sort_keys=False, width=1000)))


@app.command()
def ingest() -> None:
    """Read the raw data, validate it against the contract, and write it to the processed folder."""
    # Heavy imports (pandas, pandera) wait until a command needs them.
    from {{ cookiecutter.package_name }}.data.ingest import ingest as run_ingest

    with user_errors():
{%- if cookiecutter.data_source == "sql" %}
        settings, config = load()
{%- else %}
        config = load()[1]
{%- endif %}
        with console.status("Reading, validating and writing the data"):
            summary = run_ingest(config{% if cookiecutter.data_source == "sql" %}, settings{% endif %})
    show(f"Ingested {summary.path}", summary.facts.items())


@app.command()
def train() -> None:
    """Train the configured model and the baseline; track both and register the model."""
    from {{ cookiecutter.package_name }}.training.train import train as run_train

    show_training(call(run_train, status="Training the model and the baseline"))


@app.command()
def tune() -> None:
    """Search hyperparameters (each trial a nested run), then train with the best ones."""
    from {{ cookiecutter.package_name }}.training.train import train as run_train
    from {{ cookiecutter.package_name }}.training.tune import tune as run_tune

    search = call(run_tune, status="Searching hyperparameters")
    console.print(f"Best of {search.trials} trials: {search.best_params} ({search.best_score:.4f})")
    console.print("To keep them, copy them into train.params in configs/project.yaml.")
    show_training(call(run_train, params=search.best_params, status="Training with them"))


def show_training(result: "TrainResult") -> None:
    """Print what a training run produced."""
    from {{ cookiecutter.package_name }}.training.models import PRIMARY_METRIC

    rows = [
        ("registered version", result.model_version or "-"),
        (f"validation {PRIMARY_METRIC}", f"{result.validation_score:.4f}"),
        (f"baseline validation {PRIMARY_METRIC}", f"{result.baseline_validation_score:.4f}"),
        ("training time", f"{result.seconds:.1f} s"),
    ]
    show(f"Training run {result.run_id}", rows)


@app.command()
def evaluate(run_id: RunId = None) -> None:
    """Judge a trained model on the held-out test set: metrics, plots, slices, model card."""
    from {{ cookiecutter.package_name }}.training.evaluate import evaluate_run
    from {{ cookiecutter.package_name }}.training.reports import README

    result = call(evaluate_run, run_id, readme=README, status="Evaluating on the test set")
    show_metrics(result.evaluation, title=f"Test set, run {result.run_id}")
    for warning in result.evaluation.warnings:
        console.print(f"[yellow]warning:[/] {warning}")
    console.print(f"Model card: {result.model_card}")


def show_metrics(evaluation: "Evaluation", title: str) -> None:
    """Print the model's test metrics beside the baseline's."""
    baseline = evaluation.baseline_metrics
    rows = [
        (name, f"{value:.4f}", f"{baseline.get(name, float('nan')):.4f}")
        for name, value in evaluation.metrics.items()
    ]
    show(title, rows, ("metric", "model", "baseline"))
{%- if cookiecutter.task == "classification" %}
    if evaluation.threshold is not None:
        console.print(f"Decision threshold: {evaluation.threshold:.3f} (evaluate.threshold)")
    if len(evaluation.per_class) > 2:
        per_class = evaluation.per_class.round(4)
        show("Per class", per_class.itertuples(index=False), list(per_class.columns))
{%- endif %}


@app.command()
def promote(run_id: RunId = None) -> None:
    """Make a model the champion if it passes the quality gate; otherwise tag it rejected."""
    from {{ cookiecutter.package_name }}.training.promote import promote as run_promote
    from {{ cookiecutter.package_name }}.training.reports import README

    decision = call(run_promote, run_id, readme=README, status="Checking the quality gate")
    console.print(f"Version {decision.model_version} is the champion: {decision.reason}")


@app.command()
def predict(
    source: Annotated[Path, typer.Argument(help="A CSV or Parquet file of rows to score.")],
    output: Annotated[Path, typer.Argument(help="Where to write predictions (.csv or .parquet).")],
    chunk_rows: Annotated[int, typer.Option(min=1, help="Rows scored at a time.")] = 100_000,
) -> None:
    """Score a file with the champion model, a chunk at a time."""
    from {{ cookiecutter.package_name }}.serving.batch import predict_with_champion

    summary = call(predict_with_champion, source, output, chunk_rows, status=f"Scoring {source}")
    console.print(
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
    from {{ cookiecutter.package_name }}.data.contract import load_contract
    from {{ cookiecutter.package_name }}.serving.model import export_model

    with user_errors():
        settings, config = load()
        metadata = export_model(settings, load_contract(config.data.contract), output, force=force)
    console.print(
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
        result = run_stages(config, settings, console)
    console.print(f"Champion: {settings.model_name} version {result.decision.model_version}")
    show_metrics(result.evaluated.evaluation, title="Test set")
    console.print(f"Primary metric: {PRIMARY_METRIC}. Model card: {result.evaluated.model_card}")
{%- if cookiecutter.include_monitoring %}


def aware(moment: datetime | None) -> datetime | None:
    """A date or time given on the command line, read as UTC unless it names its zone."""
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)


@app.command()
def drift(
    data: Annotated[
        str | None,
        typer.Argument(help="A CSV or Parquet file to check [default: the prediction log]."),
    ] = None,
    since: Annotated[
        datetime | None, typer.Option(help="Start of the log window [window_days ago].")
    ] = None,
    until: Annotated[datetime | None, typer.Option(help="End of the log window [now].")] = None,
) -> None:
    """Compare recent inputs and predictions with the champion's training data.

    Exit code 0: no drift. 3: drift found. 1: the check could not run.
    """
    from {{ cookiecutter.package_name }}.monitoring.drift_check import check_drift

    result = call(check_drift, data, aware(since), aware(until), status="Checking for drift")
    report = result.report
    rows = [
        (
            f.name,
            f.test,
            f"{f.p_value:.3g}",
            f"{f.psi:.3f}",
            f.reference_summary,
            f.current_summary,
            "[red]yes[/]" if f.drifted else "no",
        )
        for f in report.tested
    ] + [(name, "-", "", "", "", why, "") for name, why in report.skipped.items()]
    title = (
        f"Drift: {mask(result.source)} ({report.current_rows:,} rows) vs version "
        f"{result.model_version}'s training data ({report.reference_rows:,} rows)"
    )
    show(title, rows, ("feature", "test", "p-value", "PSI", "reference", "current", "drifted"))
    console.print(f"Reports: {result.json_path}, {result.html_path} (MLflow run {result.run_id})")
    if report.drifted:
        drifted = ", ".join(feature.name for feature in report.tested if feature.drifted)
        typer.secho(f"drift found: {drifted}", fg=typer.colors.YELLOW, err=True)
        raise typer.Exit(code=DRIFT_FOUND)
    console.print("No drift found.")


@app.command()
def performance(
    data: Annotated[
        str, typer.Argument(help="Newly labelled rows: a CSV or Parquet file, a glob or a URL.")
    ],
    as_of: Annotated[datetime | None, typer.Option(help="When the labels are from [now].")] = None,
) -> None:
    """Score the champion on newly labelled rows and track its metrics over time.

    `evaluate` judges a new model on the held-out test set; this follows the champion in use.
    """
    from {{ cookiecutter.package_name }}.monitoring.performance import record_performance

    record = call(record_performance, data, aware(as_of), status="Scoring the champion")
    console.print(
        f"Champion version {record.model_version} on {record.rows:,} labelled rows, "
        f"recorded as of {record.as_of:%Y-%m-%d %H:%M}:"
    )
    show(
        "", ((name, f"{value:.4f}") for name, value in record.metrics.items()), ("metric", "value")
    )
    console.print(f"Over time: {record.figure} (MLflow run {record.run_id})")


@app.command()
def retrain(
    data: Annotated[
        str, typer.Argument(help="Newly labelled rows (CSV or Parquet) to learn from.")
    ],
    force: Annotated[bool, typer.Option(help="Retrain even when no drift is found.")] = False,
) -> None:
    """On drift (or --force): ingest the new rows, train, evaluate, and promote through the gate.

    The champion stays if the new model is not better.
    """
    from {{ cookiecutter.package_name }}.monitoring.retrain import retrain as run_retrain

    console.print(call(run_retrain, data, force=force, console=console, status="Retraining").reason)
{%- endif %}


@data_app.command("adopt")
def data_adopt(
{%- if cookiecutter.data_source == "sql" %}
    source: Annotated[
        str, typer.Argument(help="A table, or a SELECT query, in the DATABASE_URL database.")
    ],
{%- else %}
    source: Annotated[
        str, typer.Argument(help="A CSV or Parquet file (copied into data/raw/), a glob or a URL.")
    ],
{%- endif %}
    target: Target,
    id_column: IdColumn = None,
    positive: Positive = None,
) -> None:
    """Make a table the project's data: write its contract, point the config at it, describe it."""
    from {{ cookiecutter.package_name }}.data.adopt import adopt

    with user_errors():
        settings, config = load()
        adopted = adopt(
            settings.config_file,
            source,
            target=target,
            id_column=id_column,
            positive=positive,
{%- if cookiecutter.data_source == "sql" %}
            database_url=settings.database_url.get_secret_value(),
{%- endif %}
        )
    contract = adopted.contract
    console.print(
        f"Adopted {mask(adopted.data)}: {adopted.rows:,} rows, {len(contract.features)} features, "
        f"target {contract.target.name!r}. Wrote {config.data.contract}, {settings.config_file} "
        "and data/README.md."
    )
    for note in adopted.notes:
        console.print(f"[yellow]note:[/] {note}")
    console.print(
        f"Next: review {config.data.contract}, then `{PROG} run`, `make test`, and commit."
    )


@schema_app.command("infer")
def schema_infer(
    path: Annotated[str, typer.Argument(help="A CSV or Parquet file, a glob, or an http(s) URL.")],
    target: Target,
    id_column: IdColumn = None,
    positive: Positive = None,
    output: Annotated[Path, typer.Option(help="Where to write the contract.")] = Path(
        "configs/contract.yaml"
    ),
    force: Annotated[bool, typer.Option(help="Replace an existing contract.")] = False,
) -> None:
    """Write a data contract from a data file, for you to review (`data adopt` does more)."""
    from {{ cookiecutter.package_name }}.data.adopt import write_contract

    with user_errors():
        contract = write_contract(
            path, output, target=target, id_column=id_column, positive=positive, force=force
        )
    console.print(
        f"Wrote {output}: {len(contract.features)} features, target {contract.target.name!r}. "
        "Review the types, ranges and categories, then run `ingest`."
    )


@schema_app.command("show")
def schema_show() -> None:
    """Show the data contract the project runs with."""
    from {{ cookiecutter.package_name }}.data.contract import load_contract

    with user_errors():
        contract = load_contract(load()[1].data.contract)
    rows = [(contract.id_column, "id", "", "no", "unique", "")] if contract.id_column else []
    for column in contract.columns:
        allowed = ", ".join(map(str, column.categories or ()))
        if (column.min, column.max) != (None, None):
            allowed = "..".join(
                "" if end is None else f"{end:g}" for end in (column.min, column.max)
            )
        role = "target" if column is contract.target else "feature"
        nullable = "yes" if column.nullable else "no"
        rows.append((column.name, role, column.type, nullable, allowed, column.description))
    show(contract.name, rows, ("column", "role", "type", "nullable", "allowed", "description"))


@schema_app.command("example")
def schema_example() -> None:
    """Print an example `/predict` request body, built from the data contract."""
    from {{ cookiecutter.package_name }}.data.contract import load_contract
    from {{ cookiecutter.package_name }}.serving.schemas import example_record

    with user_errors():
        contract = load_contract(load()[1].data.contract)
    typer.echo(json.dumps(example_record(contract)))
