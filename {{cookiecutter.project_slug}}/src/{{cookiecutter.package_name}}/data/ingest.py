"""The ingest stage: read the raw data, validate it, and write a Parquet copy (or nothing)."""

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

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
{%- if cookiecutter.include_spark and cookiecutter.data_source == "csv" %}

#: In a processed data folder that `ingest --engine spark` sampled: the rule and the counts.
SAMPLING_FILE = "_sampling.json"
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
    target = valid[contract.target.name]
{%- if cookiecutter.task == "classification" %}
    described = target.value_counts(normalize=True).sort_index()
{%- else %}
    described = target.agg(["min", "median", "max"])
{%- endif %}
    nulls = {str(name): int(count) for name, count in valid.isna().sum().items()}
    return summarize(path, len(valid), nulls, described)


def summarize(path: Path, rows: int, nulls: Mapping[str, int], target: pd.Series) -> Summary:
    """What was ingested, in facts to show.

    Args:
        path: where the data set was written.
        rows: how many rows it holds.
        nulls: each column's empty values.
{%- if cookiecutter.task == "classification" %}
        target: each class's share of the rows, by class.
{%- else %}
        target: the target's min, median and max.
{%- endif %}
    """
    listed = ", ".join(f"{name} {count}" for name, count in nulls.items() if count)
    facts = {
        "rows": f"{rows:,}",
        "columns": str(len(nulls)),
        "missing values": f"{sum(nulls.values()):,}" + (f" ({listed})" if listed else ""),
    }
{%- if cookiecutter.task == "classification" %}
    for label, share in target.items():
        facts[f"share of {label}"] = f"{100 * share:.1f}%"
{%- else %}
    for name, value in target.items():
        facts[f"target {name}"] = f"{value:,.2f}"
{%- endif %}
    return Summary(path=path, rows=rows, facts=facts)
