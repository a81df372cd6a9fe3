"""The project's one command-line interface: it parses arguments and calls the stages."""

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from {{ cookiecutter.package_name }} import __version__
from {{ cookiecutter.package_name }}.config import ProjectConfig, load_config
from {{ cookiecutter.package_name }}.errors import (
    ConfigError,
    DataSourceError,
    DataValidationError,
)
from {{ cookiecutter.package_name }}.settings import Settings, load_settings

PROG = "{{ cookiecutter.project_slug }}"

app = typer.Typer(
    name=PROG,
    help="{{ cookiecutter.project_name }}: {{ cookiecutter.description }}",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
schema_app = typer.Typer(help="Write and show the data contract.", no_args_is_help=True)
app.add_typer(schema_app, name="schema")
console = Console()


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
    """Turn errors a user can fix into one line each and exit code 1, never a traceback."""
    try:
        yield
    except DataValidationError as error:
        for problem in error.problems:
            typer.secho(f"error: {problem}", fg=typer.colors.RED, err=True)
        typer.secho(
            f"error: {len(error.problems)} problem(s) with the data; nothing was written",
            fg=typer.colors.RED,
            err=True,
        )
        raise typer.Exit(code=1) from None
    except (ConfigError, DataSourceError, FileExistsError) as error:
        typer.secho(f"error: {error}", fg=typer.colors.RED, err=True)
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
        table.add_row(name, str(value))
    console.print(table)


@app.command()
def ingest() -> None:
    """Read the raw data, validate it against the contract, and write it to the processed folder."""
    # Heavy imports (pandas, pandera) wait until a command needs them.
    from {{ cookiecutter.package_name }}.ingest import ingest as run_ingest

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


@schema_app.command("infer")
def schema_infer(
    path: Annotated[str, typer.Argument(help="A CSV or Parquet file, a glob, or an http(s) URL.")],
    target: Annotated[str, typer.Option(help="The column to predict.")],
    id_column: Annotated[str, typer.Option("--id", help="The column that identifies a row.")],
    output: Annotated[Path, typer.Option(help="Where to write the contract.")] = Path(
        "configs/contract.yaml"
    ),
    force: Annotated[bool, typer.Option(help="Replace an existing contract.")] = False,
) -> None:
    """Write a data contract from a data file, for you to review and tighten."""
    from {{ cookiecutter.package_name }}.contract import (
        dump_contract,
        infer_contract,
        name_for,
    )
    from {{ cookiecutter.package_name }}.datasets import read_table

    with user_errors():
        if output.exists() and not force:
            raise FileExistsError(
                f"{output} exists: pass --force to replace it, or --output elsewhere"
            )
        frame = read_table(path)
        contract = infer_contract(frame, name=name_for(path), target=target, id_column=id_column)
        output.parent.mkdir(parents=True, exist_ok=True)
        header = (
            f"Inferred by `{PROG} schema infer` from {path}.\n"
            "Review it: tighten min/max, check the categories, add descriptions, mark nullable\n"
            "columns. Validation, features, the API schema and drift checks all follow it."
        )
        output.write_text(dump_contract(contract, header), encoding="utf-8")
    console.print(
        f"Wrote {output}: {len(contract.features)} features, target {contract.target.name!r}. "
        "Review the types, ranges and categories, then run `ingest`."
    )


@schema_app.command("show")
def schema_show() -> None:
    """Show the data contract the project runs with."""
    from {{ cookiecutter.package_name }}.contract import load_contract

    with user_errors():
        _, config = load()
        contract = load_contract(config.data.contract)
    table = Table(
        "column", "role", "type", "nullable", "allowed", "description", title=contract.name
    )
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


def flatten(values: dict[str, object], prefix: str = "") -> list[tuple[str, object]]:
    """List nested values as (dotted.name, value) rows."""
    rows: list[tuple[str, object]] = []
    for name, value in values.items():
        if isinstance(value, dict):
            rows += flatten(value, prefix=f"{prefix}{name}.")
        else:
            rows.append((f"{prefix}{name}", value))
    return rows
