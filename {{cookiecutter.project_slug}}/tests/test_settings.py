"""Settings: read from prefixed variables and `.env`, validated, secrets kept secret."""

from pathlib import Path

import pytest

from {{ cookiecutter.package_name }}.errors import ConfigError
from {{ cookiecutter.package_name }}.settings import ENV_PREFIX, load_settings


def test_defaults_need_no_environment() -> None:
    settings = load_settings()

    assert settings.config_file == Path("configs/project.yaml")
    assert settings.log_level == "INFO"


def test_env_prefix_is_derived_from_the_package_name() -> None:
    assert ENV_PREFIX == "{{ cookiecutter.package_name | upper }}_"


def test_environment_variable_overrides_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(f"{ENV_PREFIX}LOG_LEVEL", "DEBUG")

    assert load_settings().log_level == "DEBUG"


def test_dotenv_file_in_working_directory_is_read(isolated: Path) -> None:
    (isolated / ".env").write_text(f"{ENV_PREFIX}LOG_LEVEL=WARNING\n", encoding="utf-8")

    assert load_settings().log_level == "WARNING"


def test_bad_value_names_the_variable_on_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(f"{ENV_PREFIX}LOG_LEVEL", "LOUD")

    with pytest.raises(ConfigError, match=f"{ENV_PREFIX}LOG_LEVEL: Input should be") as caught:
        load_settings()
    assert "\n" not in str(caught.value)


def test_unknown_prefixed_entry_in_dotenv_is_an_error(isolated: Path) -> None:
    (isolated / ".env").write_text(f"{ENV_PREFIX}LOG_LEVL=DEBUG\n", encoding="utf-8")

    with pytest.raises(ConfigError, match="LOG_LEVL"):
        load_settings()
{%- if cookiecutter.data_source == "sql" %}


def test_database_url_is_masked_when_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(f"{ENV_PREFIX}DATABASE_URL", "postgresql://ml:hunter2@db/ml")

    settings = load_settings()

    assert "hunter2" not in repr(settings)
    assert settings.database_url.get_secret_value() == "postgresql://ml:hunter2@db/ml"
{%- endif %}
{%- if cookiecutter.include_monitoring %}


def test_prediction_log_location_is_a_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(f"{ENV_PREFIX}PREDICTION_LOG_DIR", "/var/log/predictions")

    assert load_settings().prediction_log_dir == Path("/var/log/predictions")
{%- endif %}


def test_cors_origins_that_are_not_json_are_one_line(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(f"{ENV_PREFIX}CORS_ORIGINS", "https://example.com")

    with pytest.raises(ConfigError, match=r"cors_origins.*write the list as JSON") as caught:
        load_settings()
    assert "\n" not in str(caught.value)
