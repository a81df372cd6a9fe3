"""The CLI: `--help` and `--version` work, and bad config ends in one line, not a traceback."""

import runpy
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from {{ cookiecutter.package_name }} import __version__
from {{ cookiecutter.package_name }}.cli import PROG, app
from {{ cookiecutter.package_name }}.settings import ENV_PREFIX


def test_version_prints_name_and_version(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--version"])

    assert result.exit_code == 0
    assert result.stdout.strip() == f"{PROG} {__version__}"


def test_help_lists_the_commands(runner: CliRunner) -> None:
    result = runner.invoke(app, ["--help"])

    assert result.exit_code == 0
    assert "info" in result.stdout


def test_no_arguments_shows_help(runner: CliRunner) -> None:
    result = runner.invoke(app, [])

    assert "Usage" in result.output


def test_info_shows_config_and_settings(runner: CliRunner, shipped_config: Path) -> None:
    result = runner.invoke(app, ["info"], env={f"{ENV_PREFIX}CONFIG_FILE": str(shipped_config)})

    assert result.exit_code == 0, result.output
    assert "config.task" in result.stdout
    assert "{{ cookiecutter.task }}" in result.stdout
    assert "settings.log_level" in result.stdout
{%- if cookiecutter.data_source == "sql" %}


def test_info_never_prints_the_database_password(runner: CliRunner, shipped_config: Path) -> None:
    env = {
        f"{ENV_PREFIX}CONFIG_FILE": str(shipped_config),
        f"{ENV_PREFIX}DATABASE_URL": "postgresql://ml:hunter2@db/ml",
    }

    result = runner.invoke(app, ["info"], env=env)

    assert result.exit_code == 0, result.output
    assert "hunter2" not in result.output
{%- endif %}


def test_info_with_missing_config_fails_with_one_line(runner: CliRunner, isolated: Path) -> None:
    result = runner.invoke(app, ["info"])

    assert result.exit_code == 1
    assert result.stderr.strip().count("\n") == 0
    assert "config file not found" in result.stderr
    assert "Traceback" not in result.output


def test_info_with_bad_setting_names_the_variable(runner: CliRunner) -> None:
    result = runner.invoke(app, ["info"], env={f"{ENV_PREFIX}LOG_LEVEL": "LOUD"})

    assert result.exit_code == 1
    assert f"{ENV_PREFIX}LOG_LEVEL" in result.stderr


def test_python_dash_m_runs_the_same_cli(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "argv", ["{{ cookiecutter.package_name }}", "--version"])

    with pytest.raises(SystemExit) as exited:
        runpy.run_module("{{ cookiecutter.package_name }}", run_name="__main__")

    assert exited.value.code == 0
    assert capsys.readouterr().out.strip() == f"{PROG} {__version__}"
