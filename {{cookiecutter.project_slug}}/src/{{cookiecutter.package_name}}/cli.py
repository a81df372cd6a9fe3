"""The project's one command-line interface: it parses arguments and calls the stages."""

from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from {{ cookiecutter.package_name }} import __version__
from {{ cookiecutter.package_name }}.config import load_config
from {{ cookiecutter.package_name }}.errors import ConfigError
from {{ cookiecutter.package_name }}.settings import load_settings

PROG = "{{ cookiecutter.project_slug }}"

app = typer.Typer(
    name=PROG,
    help="{{ cookiecutter.project_name }}: {{ cookiecutter.description }}",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
console = Console()


def fail(message: str) -> typer.Exit:
    """Print one error line that says what to fix, and return the exit to raise."""
    typer.secho(f"error: {message}", fg=typer.colors.RED, err=True)
    return typer.Exit(code=1)


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


@app.command()
def info() -> None:
    """Show the validated config and settings this project would run with."""
    try:
        settings = load_settings()
        config = load_config(settings.config_file)
    except ConfigError as error:
        raise fail(str(error)) from None

    table = Table("name", "value", title=f"{PROG} {__version__}")
    for name, value in flatten({"settings": settings.model_dump(), "config": config.model_dump()}):
        table.add_row(name, str(value))
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
