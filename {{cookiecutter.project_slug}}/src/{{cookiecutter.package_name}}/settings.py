"""Environment-specific settings, read from `{{ cookiecutter.package_name | upper }}_*` variables and `.env`.

Only what changes between machines lives here (paths to local state, log level, secrets);
what describes the project itself lives in the validated YAML config (see `config.py`).
"""

from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field, SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict, SettingsError

from {{ cookiecutter.package_name }}.errors import ConfigError, describe

ENV_PREFIX = "{{ cookiecutter.package_name | upper }}_"

LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]


class Settings(BaseSettings):
    """Settings for one machine; every field can be set as `{{ cookiecutter.package_name | upper }}_<FIELD>`."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_file=".env",
        env_file_encoding="utf-8",
        extra="forbid",
        frozen=True,
        populate_by_name=True,
    )

    config_file: Path = Path("configs/project.yaml")
    log_level: LogLevel = "INFO"
    # MLflow's own variable (MLFLOW_TRACKING_URI) points at a tracking server; by default runs,
    # models and the registry live in a local SQLite file with artifacts in ./mlruns beside it.
    tracking_uri: str = Field(
        default="sqlite:///mlflow.db",
        validation_alias=AliasChoices("MLFLOW_TRACKING_URI", f"{ENV_PREFIX}TRACKING_URI"),
    )
    # The registered model's name: every trained model becomes a new version of it.
    model_name: str = "{{ cookiecutter.project_slug }}"
    # What `serve` and `export` load: a registry URI (by default the champion of model_name) or
    # a directory written by `export`, which needs no tracking store at all (an image, say).
    model_uri: str = Field(
        default_factory=lambda values: f"models:/{values['model_name']}@champion", min_length=1
    )
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    workers: int = Field(default=1, ge=1)
    # The most records one /predict/batch request may hold (more is answered with 413).
    max_batch_size: int = Field(default=1000, ge=1)
    # Browser origins allowed to call the API, as a JSON list; none by default (CORS off).
    cors_origins: list[str] = Field(default_factory=list)
    # Server limits, per worker. A client must send a request's headers within header_timeout
    # seconds of connecting (or of its first byte on a kept-alive connection), else it is
    # disconnected: slow clients cannot hold connections open. An idle keep-alive connection
    # is closed after keep_alive_timeout seconds. Past max_connections open connections, new
    # requests are answered 503 at once.
    header_timeout: float = Field(default=10, gt=0)
    keep_alive_timeout: int = Field(default=5, ge=1)
    max_connections: int = Field(default=1000, ge=1)
    # Where `tune` workers share a search: an Optuna storage URL, a secret once it names a
    # server (postgresql+psycopg://user:password@host/db); `tune --workers N` uses a SQLite
    # file, optuna.db, when unset.
    tune_storage: SecretStr | None = None
{%- if cookiecutter.include_spark %}
    # Where `--engine spark` runs: Spark's own SPARK_MASTER (local[*], spark://host:7077, ...).
    spark_master: str = Field(
        default="local[*]",
        validation_alias=AliasChoices("SPARK_MASTER", f"{ENV_PREFIX}SPARK_MASTER"),
    )
{%- endif %}
{%- if cookiecutter.data_source == "sql" %}
    # A secret once it names a real server: masked whenever settings are shown.
    database_url: SecretStr = SecretStr("sqlite:///data/raw/{{ cookiecutter.__sample }}.db")
{%- endif %}
{%- if cookiecutter.include_monitoring %}
    # The service logs every prediction (never a feature the contract marks sensitive).
    prediction_log: bool = True
    # By default to a SQLite file in this folder, deleting rows older than
    # prediction_log_keep_days ...
    prediction_log_dir: Path = Path("logs/predictions")
    prediction_log_keep_days: float = Field(default=90, gt=0)
    # ... or to a PostgreSQL database (postgresql://user:password@host/db) when this is set.
    prediction_log_url: SecretStr | None = None
    # A second model beside the champion (README, Deploy): "shadow" scores every request with
    # it too, off the request path; "canary" lets it answer canary_share of the requests.
    rollout: Literal["off", "shadow", "canary"] = "off"
    challenger_uri: str = Field(
        default_factory=lambda values: f"models:/{values['model_name']}@challenger", min_length=1
    )
    canary_share: float = Field(default=0.1, ge=0, le=1)
{%- endif %}


def load_settings() -> Settings:
    """Read the settings, turning a bad value into one line that names the variable.

    Raises:
        ConfigError: a variable or `.env` entry has a value that is not allowed, or a list that
            is not JSON.
    """
    try:
        return Settings()
    except ValidationError as error:
        raise ConfigError(
            describe(error, prefix=ENV_PREFIX, source="environment or .env")
        ) from None
    except SettingsError as error:  # raised before validation: a list's value is not JSON
        raise ConfigError(
            f"environment or .env: {error} ({error.__cause__}): "
            'write the list as JSON, e.g. ["https://example.com"]'
        ) from None
