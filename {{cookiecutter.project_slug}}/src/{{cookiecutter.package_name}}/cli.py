"""The project's one command-line interface: it parses arguments and calls the stages."""

import json
from collections.abc import Iterator
from contextlib import contextmanager
{%- if cookiecutter.include_monitoring %}
from datetime import UTC, datetime
{%- endif %}
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, NoReturn

import typer
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


def show_version(value: bool) -> None:
    """Print the version and stop, for `--version`."""
    if value:
        typer.echo(f"{PROG} {__version__}")
        raise typer.Exit


@app.callback()
def main(
    version: Annotated[
        bool,
        typer.Option(
            "--version", callback=show_version, is_eager=True, help="Show the version and exit."
        ),
    ] = False,
) -> None:
    """Run a {{ cookiecutter.project_name }} command."""


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn errors a user can fix into one line each and exit code 1, never a traceback.

    At most MAX_PROBLEMS lines of data problems are shown, then how many more there are; every
    line has its URLs' passwords masked.
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
    """Print each line as an error, its URLs masked, and exit with code 1."""
    for line in lines:
        typer.secho(f"error: {mask(line)}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=1) from None


def load() -> tuple[Settings, ProjectConfig]:
    """The settings and the project config, validated."""
    settings = load_settings()
    return settings, load_config(settings.config_file)


@app.command()
def info() -> None:
    """Show the validated config and settings this project would run with."""
    with user_errors():
        settings, config = load()
    table = Table("name", "value", title=f"{PROG} {__version__}")
    for name, value in flatten({"settings": settings.model_dump(), "config": config.model_dump()}):
        table.add_row(name, mask(str(value)))
    console.print(table)


@app.command()
def ingest() -> None:
    """Read the raw data, validate it against the contract, and write it to the processed folder."""
    # Heavy imports (pandas, pandera) wait until a command needs them.
    from {{ cookiecutter.package_name }}.data.ingest import ingest as run_ingest

    with user_errors():
        settings, config = load()
        summary = run_ingest(config, settings, console)
    table = Table("", "", title=f"Ingested {summary.path}", show_header=False)
    table.add_row("rows", f"{summary.rows:,}")
    table.add_row("columns", str(summary.columns))
    nulls = ", ".join(f"{name} {count}" for name, count in summary.null_columns.items())
    table.add_row("missing values", f"{summary.null_cells:,}" + (f" ({nulls})" if nulls else ""))
    for name, value in summary.target.items():
        table.add_row(name, value)
    console.print(table)


@app.command()
def train() -> None:
    """Train the configured model and the baseline; track both and register the model."""
    from {{ cookiecutter.package_name }}.training.train import train as run_train

    with user_errors():
        settings, config = load()
        with console.status(f"Training the {config.train.model} model"):
            result = run_train(config, settings)
    show_training(result)


@app.command()
def tune() -> None:
    """Search hyperparameters (each trial a nested run), then train with the best ones."""
    from {{ cookiecutter.package_name }}.training.train import train as run_train
    from {{ cookiecutter.package_name }}.training.tune import tune as run_tune

    with user_errors():
        settings, config = load()
        limits = f"{config.tune.n_trials} trials or {config.tune.timeout_seconds:g} s"
        with console.status(f"Tuning the {config.train.model} model ({limits})"):
            search = run_tune(config, settings)
        console.print(
            f"Best of {search.trials} trials: {search.best_params} ({search.best_score:.4f})"
        )
        console.print("To keep them, copy them into train.params in configs/project.yaml.")
        with console.status("Training with the best parameters"):
            result = run_train(config, settings, params=search.best_params)
    show_training(result)


def show_training(result: "TrainResult") -> None:
    """Print what a training run produced."""
    from {{ cookiecutter.package_name }}.training.models import PRIMARY_METRIC

    table = Table("", "", title=f"Training run {result.run_id}", show_header=False)
    table.add_row("registered version", result.model_version or "-")
    table.add_row(f"validation {PRIMARY_METRIC}", f"{result.validation_score:.4f}")
    table.add_row(
        f"baseline validation {PRIMARY_METRIC}", f"{result.baseline_validation_score:.4f}"
    )
    table.add_row("training time", f"{result.seconds:.1f} s")
    console.print(table)


@app.command()
def evaluate(
    run_id: RunId = None,
{%- if cookiecutter.include_monitoring %}
    data: Annotated[
        str | None,
        typer.Option(
            help="Newly labelled rows: score the champion on them and track it over time."
        ),
    ] = None,
    as_of: Annotated[
        datetime | None, typer.Option(help="When the labels are from (with --data) [now].")
    ] = None,
{%- endif %}
) -> None:
    """Judge a trained model on the test set: metrics, plots, slices, model card, README table."""
    from {{ cookiecutter.package_name }}.training.evaluate import evaluate_run
    from {{ cookiecutter.package_name }}.training.reports import README
{%- if cookiecutter.include_monitoring %}

    if data is not None:
        show_performance(data, as_of)
        return
{%- endif %}

    with user_errors():
        settings, config = load()
        with console.status("Evaluating on the held-out test set"):
            result = evaluate_run(config, settings, run_id, readme=README)
    evaluation = result.evaluation
    show_metrics(evaluation, title=f"Test set, run {result.run_id}")
    for warning in evaluation.warnings:
        console.print(f"[yellow]warning:[/] {warning}")
    console.print(f"Model card: {result.model_card}")


{%- if cookiecutter.include_monitoring %}


def show_performance(data: str, as_of: datetime | None) -> None:
    """Score the champion on labelled rows, record it, and print the record."""
    from {{ cookiecutter.package_name }}.monitoring.jobs import record_performance

    with user_errors():
        settings, config = load()
        with console.status(f"Scoring the champion on {mask(data)}"):
            record = record_performance(config, settings, data, aware(as_of))
    table = Table("metric", "value")
    for name, value in record.metrics.items():
        table.add_row(name, f"{value:.4f}")
    console.print(
        f"Champion version {record.model_version} on {record.rows:,} labelled rows, "
        f"recorded as of {record.as_of:%Y-%m-%d %H:%M}:"
    )
    console.print(table)
    console.print(f"Over time: {record.figure} (MLflow run {record.run_id})")


def aware(moment: datetime | None) -> datetime | None:
    """A date or time given on the command line, read as UTC unless it names its zone."""
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)
{%- endif %}


def show_metrics(evaluation: "Evaluation", title: str) -> None:
    """Print the model's test metrics beside the baseline's."""
    table = Table("metric", "model", "baseline", title=title)
    for name, value in evaluation.metrics.items():
        baseline = evaluation.baseline_metrics.get(name, float("nan"))
        table.add_row(name, f"{value:.4f}", f"{baseline:.4f}")
    console.print(table)
{%- if cookiecutter.task == "classification" %}
    if evaluation.threshold is not None:
        console.print(f"Decision threshold: {evaluation.threshold:.3f} (evaluate.threshold)")
    if len(evaluation.per_class) > 2:
        per_class = Table("class", "rows", "precision", "recall", "f1", title="Per class")
        for row in evaluation.per_class.to_dict(orient="records"):
            scores = (f"{row[name]:.4f}" for name in ("precision", "recall", "f1"))
            per_class.add_row(str(row["class"]), f"{row['rows']:,}", *scores)
        console.print(per_class)
{%- endif %}


@app.command()
def promote(
    run_id: RunId = None,
) -> None:
    """Make a model the champion if it passes the quality gate; otherwise tag it rejected."""
    from {{ cookiecutter.package_name }}.training.promote import promote as run_promote
    from {{ cookiecutter.package_name }}.training.reports import README

    with user_errors():
        settings, config = load()
        decision = run_promote(config, settings, run_id, readme=README)
    console.print(
        f"{settings.model_name} version {decision.model_version} is the champion: {decision.reason}"
    )


@app.command()
def predict(
    source: Annotated[Path, typer.Argument(help="A CSV or Parquet file of rows to score.")],
    output: Annotated[Path, typer.Argument(help="Where to write predictions (.csv or .parquet).")],
    chunk_rows: Annotated[int, typer.Option(min=1, help="Rows scored at a time.")] = 100_000,
) -> None:
    """Score a file with the champion model, a chunk at a time."""
    from {{ cookiecutter.package_name }}.data.contract import load_contract
    from {{ cookiecutter.package_name }}.serving.batch import predict_file
    from {{ cookiecutter.package_name }}.training import tracking

    with user_errors():
        settings, config = load()
        tracking.configure(settings, experiment=settings.model_name)
        version = tracking.champion_version(settings.model_name)
        if version is None:
            raise ConfigError(f"{settings.model_name} has no champion yet: run `run` or `promote`")
        model = tracking.load_model(f"models:/{settings.model_name}@{tracking.CHAMPION}")
        contract = load_contract(config.data.contract)
        with console.status(f"Scoring {source} with version {version}"):
            summary = predict_file(
                model,
                contract,
                source,
                output,
                model_version=version,
                chunk_rows=chunk_rows,
{%- if cookiecutter.task == "classification" %}
                threshold=tracking.decision_threshold(settings.model_name, version),
{%- endif %}
            )
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
    from {{ cookiecutter.package_name }}.training.run import run_pipeline

    with user_errors():
        settings, config = load()
        result = run_pipeline(config, settings, console)
    console.print(f"Champion: {settings.model_name} version {result.decision.model_version}")
    show_metrics(result.evaluated.evaluation, title="Test set")
    console.print(f"Primary metric: {PRIMARY_METRIC}. Model card: {result.evaluated.model_card}")


{%- if cookiecutter.include_monitoring %}


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
    from {{ cookiecutter.package_name }}.monitoring.jobs import check_drift

    with user_errors():
        settings, config = load()
        with console.status("Checking for drift"):
            result = check_drift(config, settings, data, aware(since), aware(until))
    report = result.report
    table = Table(
        "feature",
        "test",
        "p-value",
        "PSI",
        "reference",
        "current",
        "drifted",
        title=f"Drift: {mask(result.source)} ({report.current_rows:,} rows) vs version "
        f"{result.model_version}'s training data ({report.reference_rows:,} rows)",
    )
    for feature in report.tested:
        table.add_row(
            feature.name,
            feature.test,
            f"{feature.p_value:.3g}",
            f"{feature.psi:.3f}",
            feature.reference_summary,
            feature.current_summary,
            "[red]yes[/]" if feature.drifted else "no",
        )
    for name, why in report.skipped.items():
        table.add_row(name, "-", "", "", "", why, "")
    console.print(table)
    console.print(f"Reports: {result.json_path}, {result.html_path} (MLflow run {result.run_id})")
    if report.drifted:
        drifted = ", ".join(feature.name for feature in report.tested if feature.drifted)
        typer.secho(f"drift found: {drifted}", fg=typer.colors.YELLOW, err=True)
        raise typer.Exit(code=DRIFT_FOUND)
    console.print("No drift found.")


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

    with user_errors():
        settings, config = load()
        result = run_retrain(config, settings, data, force=force, console=console)
    console.print(result.reason)
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
        f"Next: review {config.data.contract} (bounds, categories, descriptions), then "
        f"`{PROG} run`, `make test`, and commit."
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
    from {{ cookiecutter.package_name }}.data.contract import (
        dump_contract,
        infer_contract,
        name_for,
    )
    from {{ cookiecutter.package_name }}.data.datasets import read_table

    with user_errors():
        _, config = load()
        if output.exists() and not force:
            raise FileExistsError(
                f"{output} exists: pass --force to replace it, or --output elsewhere"
            )
        frame = read_table(path)
        contract = infer_contract(
            frame,
            name=name_for(path),
            target=target,
            task=config.task,
            id_column=id_column,
            positive=positive,
        )
        output.parent.mkdir(parents=True, exist_ok=True)
        header = (
            f"Inferred by `{PROG} schema infer` from {mask(path)}.\n"
            "Review it: tighten min/max, check the categories, add descriptions, mark nullable\n"
            "columns. Validation, features{% if cookiecutter.include_monitoring %}, the API schema and drift checks{% else %} and the API schema{% endif %} all follow it."
        )
        output.write_text(dump_contract(contract, header), encoding="utf-8")
    console.print(
        f"Wrote {output}: {len(contract.features)} features, target {contract.target.name!r}. "
        "Review the types, ranges and categories, then run `ingest`."
    )


@schema_app.command("show")
def schema_show() -> None:
    """Show the data contract the project runs with."""
    from {{ cookiecutter.package_name }}.data.contract import load_contract

    with user_errors():
        _, config = load()
        contract = load_contract(config.data.contract)
    table = Table(
        "column", "role", "type", "nullable", "allowed", "description", title=contract.name
    )
    if contract.id_column:
        table.add_row(contract.id_column, "id", "", "no", "unique", "")
    for column in contract.columns:
        allowed = ""
        if column.categories is not None:
            allowed = ", ".join(map(str, column.categories))
        elif column.min is not None or column.max is not None:
            allowed = f"{'' if column.min is None else f'{column.min:g}'}..{'' if column.max is None else f'{column.max:g}'}"
        role = "target" if column is contract.target else "feature"
        table.add_row(
            column.name,
            role,
            column.type,
            "yes" if column.nullable else "no",
            allowed,
            column.description,
        )
    console.print(table)


@schema_app.command("example")
def schema_example() -> None:
    """Print an example `/predict` request body, built from the data contract."""
    from {{ cookiecutter.package_name }}.data.contract import load_contract
    from {{ cookiecutter.package_name }}.serving.schemas import example_record

    with user_errors():
        _, config = load()
        contract = load_contract(config.data.contract)
    typer.echo(json.dumps(example_record(contract)))


def flatten(values: dict[str, object], prefix: str = "") -> list[tuple[str, object]]:
    """List nested values as (dotted.name, value) rows."""
    rows: list[tuple[str, object]] = []
    for name, value in values.items():
        if isinstance(value, dict):
            rows += flatten(value, prefix=f"{prefix}{name}.")
        else:
            rows.append((f"{prefix}{name}", value))
    return rows
