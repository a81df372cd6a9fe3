"""The project's configuration: YAML in `configs/`, validated into frozen models.

A typo is an error, not a silent default: every model forbids unknown keys. What each value
means is written beside it in `configs/project.yaml`, where it is set.
"""

from pathlib import Path
from typing import {% if cookiecutter.task == "classification" %}Annotated, {% endif %}Literal{% if cookiecutter.data_source == "sql" %}, Self{% endif %}

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError{% if cookiecutter.data_source == "sql" %}, model_validator{% endif %}

from {{ cookiecutter.package_name }}.errors import ConfigError, describe


class FrozenModel(BaseModel):
    """Base for every config section: immutable, and unknown keys are rejected."""

    model_config = ConfigDict(extra="forbid", frozen=True)


{% if cookiecutter.data_source == "sql" -%}
class DataConfig(FrozenModel):
    """Where the raw data comes from: a SQL query or a whole table, through SQLAlchemy.

    The database URL is a setting (it differs per machine and may hold a password).
    """

    query: str | None = Field(default=None, min_length=1)
    table: str | None = Field(default=None, min_length=1)
    contract: Path = Path("configs/contract.yaml")
    processed_dir: Path = Path("data/processed")

    @model_validator(mode="after")
    def _query_or_table(self) -> Self:
        if (self.query is None) == (self.table is None):
            raise ValueError("set exactly one of data.query and data.table")
        return self
{%- else -%}
class DataConfig(FrozenModel):
    """Where the raw data comes from: a CSV or Parquet file, a glob of them, or an http(s) URL."""

    path: str = Field(min_length=1)
    contract: Path = Path("configs/contract.yaml")
    processed_dir: Path = Path("data/processed")
{%- if cookiecutter.include_spark %}
    # `ingest --engine spark` only: keep about this many rows, a random sample seeded by `seed`
    # (by class for classification), so that training fits in memory. None keeps every row.
    sample_rows: int | None = Field(default=None, ge=1)
{%- endif %}
{%- endif %}


class SplitConfig(FrozenModel):
    """How the processed data is split into train, validation and test sets.

    Random and seeded by default ({% if cookiecutter.task == "classification" %}stratified by the target{% else %}shuffled{% endif %}); name a datetime column in
    `time_column` to train on the past and test on the most recent rows instead.
    """

    validation_size: float = Field(default=0.15, gt=0, lt=0.5)
    test_size: float = Field(default=0.15, gt=0, lt=0.5)
    time_column: str | None = None


class FeaturesConfig(FrozenModel):
    """Which custom features (YOUR FEATURES in features.py) the model adds to the contract's."""

    custom: tuple[str, ...] = ()


ModelName = Literal["baseline", "linear", "gradient_boosting", "custom"]
ParamValue = int | float | str | bool | None


class TrainConfig(FrozenModel):
    """Which model to train, with which hyperparameters (`tune` finds good ones)."""

    model: ModelName = "gradient_boosting"
    params: dict[str, ParamValue] = Field(default_factory=dict)


class TuneConfig(FrozenModel):
    """How long the hyperparameter search may run, over all its workers: whichever limit comes first."""

    n_trials: int = Field(default=20, ge=1)
    timeout_seconds: float = Field(default=300, gt=0)


class EvaluateConfig(FrozenModel):
    """How the held-out test set is judged."""
{% if cookiecutter.task == "classification" %}
    threshold: Annotated[float, Field(gt=0, lt=1)] | Literal["max_f1"] = "max_f1"
{%- endif %}
    slice_tolerance: float = Field(default=0.1, ge=0)
    explanations: bool = True
    reports_dir: Path = Path("reports")


class PromoteConfig(FrozenModel):
    """The quality gate a candidate must pass to become the champion."""

    min_improvement_over_baseline: float = Field(default=0.02, ge=0)
    min_comparison_rows: int = Field(default=30, ge=1)
    max_fairness_gap: float | None = Field(default=None, gt=0)
{%- if cookiecutter.task == "classification" %}
    fairness_metric: Literal[
        "selection_rate", "true_positive_rate", "false_positive_rate", "accuracy", "f1_macro"
    ] = "selection_rate"
{%- else %}
    fairness_metric: Literal["mae", "mean_error", "mean_prediction"] = "mae"
{%- endif %}
{%- if cookiecutter.include_monitoring %}


class ExperimentConfig(FrozenModel):
    """How the rollout's readout decides: significance, power, and the effect worth finding."""

    alpha: float = Field(default=0.05, gt=0, lt=1)
    power: float = Field(default=0.8, gt=0, lt=1)
    min_effect: float = Field(default=0.02, gt=0)


class MonitoringConfig(FrozenModel):
    """When a feature counts as drifted, how much data a drift check needs, how to read an A/B."""

    p_value: float = Field(default=0.01, gt=0, lt=1)
    psi_threshold: float = Field(default=0.2, gt=0)
    min_rows: int = Field(default=100, ge=10)
    reference_rows: int = Field(default=5000, ge=100)
    window_days: int = Field(default=7, ge=1)
    experiment: ExperimentConfig = ExperimentConfig()
{%- endif %}


class ProjectConfig(FrozenModel):
    """Everything that describes the project itself, as opposed to one machine's settings."""

    seed: int = Field(default=42, ge=0)
    data: DataConfig
    split: SplitConfig = SplitConfig()
    features: FeaturesConfig = FeaturesConfig()
    train: TrainConfig = TrainConfig()
    tune: TuneConfig = TuneConfig()
    evaluate: EvaluateConfig = EvaluateConfig()
    promote: PromoteConfig = PromoteConfig()
{%- if cookiecutter.include_monitoring %}
    monitoring: MonitoringConfig = MonitoringConfig()
{%- endif %}


def load_config(path: Path) -> ProjectConfig:
    """Read and validate the project config.

    Args:
        path: the YAML file, usually `configs/project.yaml`.

    Raises:
        ConfigError: the file is missing or unreadable, is not UTF-8 YAML, or breaks the schema.
    """
    missing = "config file not found: run from the project root or set {{ cookiecutter.package_name | upper }}_CONFIG_FILE"
    return parse_config(read_yaml(path, missing=missing), source=str(path))


def parse_config(raw: object, *, source: str) -> ProjectConfig:
    """Validate config values already read from YAML; `source` names them in the error.

    Raises:
        ConfigError: the values break the schema.
    """
    try:
        return ProjectConfig.model_validate(raw)
    except ValidationError as error:
        raise ConfigError(describe(error, source=source)) from None


def read_yaml(path: Path, *, missing: str) -> object:
    """Read a YAML file; a missing file or broken YAML is one line naming the file.

    Args:
        path: the YAML file.
        missing: what to tell the user when the file is not there.

    Raises:
        ConfigError: the file is missing, cannot be read, is not UTF-8 or is not YAML.
    """
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: {missing}") from None
    except OSError as error:  # a folder, or no permission
        raise ConfigError(f"{path}: cannot be read ({error.strerror})") from None
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: not UTF-8 (at byte {error.start}): save it as UTF-8") from None
    except yaml.YAMLError as error:
        raise ConfigError(f"{path}: not valid YAML ({str(error).splitlines()[0]})") from None
