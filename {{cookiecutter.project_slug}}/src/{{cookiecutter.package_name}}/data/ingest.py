"""The ingest stage: read the raw data, validate it against the contract, write a Parquet copy.

Raw data is never modified; a run that fails leaves `data/processed/` as it was.
"""

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from {{ cookiecutter.package_name }}.config import ProjectConfig
from {{ cookiecutter.package_name }}.data.contract import (
    DataContract,
    check_task,
    load_contract,
)
from {{ cookiecutter.package_name }}.data.datasets import read_source, write_parquet
from {{ cookiecutter.package_name }}.data.splits import check_splittable
from {{ cookiecutter.package_name }}.data.validation import validate
from {{ cookiecutter.package_name }}.settings import Settings


@dataclass(frozen=True)
class Summary:
    """What was ingested: size, missing values, and the target's balance or range."""

    path: Path
    rows: int
    columns: int
    null_cells: int
    null_columns: dict[str, int]
    target: dict[str, str] = field(default_factory=dict)


def processed_path(config: ProjectConfig, contract: DataContract) -> Path:
    """Where the validated copy of the data set lives."""
    return config.data.processed_dir / f"{contract.name}.parquet"


def ingest(config: ProjectConfig, settings: Settings, console: Console | None = None) -> Summary:
    """Read, validate and write the data set the config names.

    Raises:
        ConfigError: the contract is missing or invalid.
        DataSourceError: the raw data cannot be read.
        DataValidationError: the raw data breaks the contract (nothing is written).
    """
    contract = load_contract(config.data.contract)
    check_task(contract, config.task)
    target = processed_path(config, contract)
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        step = progress.add_task("Reading the raw data", total=3)
{%- if cookiecutter.data_source == "sql" %}
        raw = read_source(config.data, settings.database_url.get_secret_value())
{%- else %}
        raw = read_source(config.data)
{%- endif %}
        progress.update(
            step, advance=1, description=f"Validating {len(raw):,} rows against the contract"
        )
        valid = validate(raw, contract)
        # Refused here, before the processed data is replaced, rather than later by training.
        check_splittable(valid, contract, config.split)
        progress.update(step, advance=1, description=f"Writing {target}")
        write_parquet(valid, target)
        progress.update(step, advance=1)
    return summarize(valid, contract, target)


def summarize(frame: pd.DataFrame, contract: DataContract, path: Path) -> Summary:
    """Describe a validated data set in a few numbers."""
    nulls = frame.isna().sum()
    target = frame[contract.target.name]
{%- if cookiecutter.task == "classification" %}
    shares = target.value_counts(normalize=True).sort_index()
    balance = {f"share of {label}": f"{100 * share:.1f}%" for label, share in shares.items()}
{%- else %}
    balance = {
        "target min": f"{target.min():,.2f}",
        "target median": f"{target.median():,.2f}",
        "target max": f"{target.max():,.2f}",
    }
{%- endif %}
    return Summary(
        path=path,
        rows=len(frame),
        columns=frame.shape[1],
        null_cells=int(nulls.sum()),
        null_columns={str(name): int(count) for name, count in nulls.items() if count},
        target=balance,
    )
