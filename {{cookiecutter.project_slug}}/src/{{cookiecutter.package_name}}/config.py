"""The project's configuration: YAML in `configs/`, validated into frozen models.

A typo is an error, not a silent default: every model forbids unknown keys.
"""

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from {{ cookiecutter.package_name }}.errors import ConfigError, describe

Task = Literal["classification", "regression"]


class FrozenModel(BaseModel):
    """Base for every config section: immutable, and unknown keys are rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True)


{% if cookiecutter.data_source == "sql" -%}
class DataConfig(FrozenModel):
    """Where the raw data comes from: a SQL query run through SQLAlchemy.

    The database URL is a setting (it differs per machine and may hold a password).
    """

    source: Literal["sql"] = "sql"
    query: str = Field(min_length=1)
{%- else -%}
class DataConfig(FrozenModel):
    """Where the raw data comes from: a CSV or Parquet file, a glob, or an http(s) URL."""

    source: Literal["csv"] = "csv"
    path: str = Field(min_length=1)
{%- endif %}
{%- if cookiecutter.include_monitoring %}


class MonitoringConfig(FrozenModel):
    """When a feature counts as drifted (population stability index)."""

    psi_threshold: float = Field(default=0.2, gt=0)
{%- endif %}


class ProjectConfig(FrozenModel):
    """Everything that describes the project itself, as opposed to one machine's settings."""

    task: Task
    seed: int = Field(default=42, ge=0)
    data: DataConfig
{%- if cookiecutter.include_monitoring %}
    monitoring: MonitoringConfig = MonitoringConfig()
{%- endif %}


def load_config(path: Path) -> ProjectConfig:
    """Read and validate the project config.

    Args:
        path: the YAML file, usually `configs/project.yaml`.

    Raises:
        ConfigError: the file is missing, is not YAML, or breaks the schema.
    """
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: config file not found: run from the project root "
            "or set {{ cookiecutter.package_name | upper }}_CONFIG_FILE"
        ) from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML ({str(error).splitlines()[0]})") from None
    try:
        return ProjectConfig.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(describe(error, source=str(path))) from None
