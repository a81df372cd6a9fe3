"""Shared fixtures: an isolated working directory, config files and the CLI runner."""

import os
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from {{ cookiecutter.package_name }}.settings import ENV_PREFIX

PROJECT_ROOT = Path(__file__).resolve().parents[1]

# --- isolation ---------------------------------------------------------------


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Run every test in an empty directory with none of the project's variables set.

    A developer's own `.env` or exported variables must never change a test's outcome.
    """
    for name in list(os.environ):
        if name.startswith(ENV_PREFIX):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    return tmp_path


# --- config ------------------------------------------------------------------


@pytest.fixture
def shipped_config() -> Path:
    """The project config that ships in `configs/`."""
    return PROJECT_ROOT / "configs" / "project.yaml"


@pytest.fixture
def valid_config(shipped_config: Path) -> dict[str, object]:
    """The shipped project config, as a dict a test may change."""
    loaded: dict[str, object] = yaml.safe_load(shipped_config.read_text(encoding="utf-8"))
    return loaded


@pytest.fixture
def write_config(tmp_path: Path) -> Callable[[object], Path]:
    """Write a config dict to a YAML file and return its path."""

    def write(values: object) -> Path:
        path = tmp_path / "project.yaml"
        path.write_text(yaml.safe_dump(values), encoding="utf-8")
        return path

    return write


# --- CLI ---------------------------------------------------------------------


@pytest.fixture
def runner() -> CliRunner:
    """A Typer test runner that keeps stdout and stderr apart."""
    return CliRunner()
