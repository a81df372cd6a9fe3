"""The data contract's commands: adopt a table, write, show and exemplify the contract."""

import json
from pathlib import Path
from typing import Annotated

import typer

from {{ cookiecutter.package_name }}.cli import ui
from {{ cookiecutter.package_name }}.cli.ui import PROG, load, show, user_errors
from {{ cookiecutter.package_name }}.errors import mask

schema_app = typer.Typer(help="Write and show the data contract.", no_args_is_help=True)
data_app = typer.Typer(help="Bring your own data into the project.", no_args_is_help=True)

Target = Annotated[str, typer.Option(help="The column to predict.")]
IdColumn = Annotated[
    str | None,
    typer.Option("--id", help="The column that identifies a row; leave out if there is none."),
]
Positive = Annotated[
    str | None,
    typer.Option(help="A two-class target's positive class [a yes-like label, else the rarer]."),
]


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
    ui.console.print(
        f"Adopted {mask(adopted.data)}: {adopted.rows:,} rows, {len(contract.features)} features, "
        f"target {contract.target.name!r}. Wrote {config.data.contract}, {settings.config_file} "
        "and data/README.md."
    )
    for note in adopted.notes:
        ui.console.print(f"[yellow]note:[/] {note}")
    ui.console.print(
        f"Next: review {config.data.contract}, then `{PROG} run`, `make test-all`, and commit."
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
    ui.console.print(
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
