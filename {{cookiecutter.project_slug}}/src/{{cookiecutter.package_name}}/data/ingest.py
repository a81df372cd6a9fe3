"""The ingest stage: read the raw data, validate it, and write a Parquet copy (or nothing)."""

from dataclasses import dataclass
from pathlib import Path

from {{ cookiecutter.package_name }}.config import ProjectConfig
from {{ cookiecutter.package_name }}.data.contract import (
    TASK,
    DataContract,
    check_task,
    load_contract,
)
from {{ cookiecutter.package_name }}.data.datasets import read_source, write_parquet
from {{ cookiecutter.package_name }}.data.splits import check_splittable
from {{ cookiecutter.package_name }}.data.validation import validate
{%- if cookiecutter.data_source == "sql" %}
from {{ cookiecutter.package_name }}.settings import Settings
{%- endif %}


@dataclass(frozen=True)
class Summary:
    """What was ingested: where it went, its rows, and facts to show (missing values, target)."""

    path: Path
    rows: int
    facts: dict[str, str]


def processed_path(config: ProjectConfig, contract: DataContract) -> Path:
    """Where the validated copy of the data set lives."""
    return config.data.processed_dir / f"{contract.name}.parquet"


def ingest(config: ProjectConfig{% if cookiecutter.data_source == "sql" %}, settings: Settings{% endif %}) -> Summary:
    """Read, validate and write the data set the config names.

    Raises:
        ConfigError: the contract is missing or invalid.
        DataSourceError: the raw data cannot be read.
        DataValidationError: the raw data breaks the contract (nothing is written).
    """
    contract = load_contract(config.data.contract)
    check_task(contract, TASK)
{%- if cookiecutter.data_source == "sql" %}
    valid = validate(read_source(config.data, settings.database_url.get_secret_value()), contract)
{%- else %}
    valid = validate(read_source(config.data), contract)
{%- endif %}
    # Refused here, before the processed data is replaced, rather than later by training.
    check_splittable(valid, contract, config.split)
    path = processed_path(config, contract)
    write_parquet(valid, path)
    nulls = valid.isna().sum()
    listed = ", ".join(f"{name} {count}" for name, count in nulls.items() if count)
    facts = {
        "rows": f"{len(valid):,}",
        "columns": str(valid.shape[1]),
        "missing values": f"{int(nulls.sum()):,}" + (f" ({listed})" if listed else ""),
    }
    target = valid[contract.target.name]
{%- if cookiecutter.task == "classification" %}
    for label, share in target.value_counts(normalize=True).sort_index().items():
        facts[f"share of {label}"] = f"{100 * share:.1f}%"
{%- else %}
    for name in ("min", "median", "max"):
        facts[f"target {name}"] = f"{target.agg(name):,.2f}"
{%- endif %}
    return Summary(path=path, rows=len(valid), facts=facts)
