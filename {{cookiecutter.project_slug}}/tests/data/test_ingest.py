"""The ingest stage: a validated Parquet copy, a summary, and nothing overwritten on failure."""

from pathlib import Path

import pandas as pd
import pytest

import {{ cookiecutter.package_name }}.data.ingest as stage
from {{ cookiecutter.package_name }}.config import ProjectConfig
from {{ cookiecutter.package_name }}.data.contract import DataContract
from {{ cookiecutter.package_name }}.data.ingest import ingest, processed_path
from {{ cookiecutter.package_name }}.errors import DataValidationError
{%- if cookiecutter.data_source == "sql" %}
from {{ cookiecutter.package_name }}.settings import Settings
{%- endif %}


def test_ingest_writes_a_validated_parquet_copy(
    project_config: ProjectConfig,
{%- if cookiecutter.data_source == "sql" %}
    settings: Settings,
{%- endif %}
    contract: DataContract,
    raw_data: pd.DataFrame,
) -> None:
    summary = ingest(project_config{% if cookiecutter.data_source == "sql" %}, settings{% endif %})

    written = pd.read_parquet(summary.path)
    assert summary.path == processed_path(project_config, contract)
    assert len(written) == summary.rows == len(raw_data)
    assert summary.facts["columns"] == str(len(raw_data.columns))
    assert summary.facts["missing values"].startswith(f"{raw_data.isna().sum().sum():,}")


def test_failed_ingest_leaves_processed_data_as_it_was(
    project_config: ProjectConfig,
{%- if cookiecutter.data_source == "sql" %}
    settings: Settings,
{%- endif %}
    contract: DataContract,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    summary = ingest(project_config{% if cookiecutter.data_source == "sql" %}, settings{% endif %})
    before = summary.path.read_bytes()
    real_read = stage.read_source
    monkeypatch.setattr(
        stage, "read_source", lambda *a: real_read(*a).drop(columns=contract.features[0].name)
    )

    with pytest.raises(DataValidationError):
        ingest(project_config{% if cookiecutter.data_source == "sql" %}, settings{% endif %})

    assert summary.path.read_bytes() == before
    assert sorted(p.name for p in Path(summary.path).parent.iterdir()) == [summary.path.name]
