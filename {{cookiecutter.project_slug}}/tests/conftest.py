"""Shared fixtures: an isolated working directory, the shipped config, contract and data{% if cookiecutter.data_source == "sql" or cookiecutter.include_monitoring %}, a real PostgreSQL server{% endif %}."""

import os
import re
{%- if cookiecutter.data_source == "sql" or cookiecutter.include_monitoring %}
import shutil
import socket
import subprocess
import tempfile
{%- endif %}
import uuid
from collections.abc import Callable{% if cookiecutter.data_source == "sql" or cookiecutter.include_monitoring %}, Iterator{% endif %}
from pathlib import Path

{% if cookiecutter.include_monitoring -%}
import numpy as np
{% endif -%}
import pandas as pd
import pytest
import yaml
from rich.console import Console
{%- if cookiecutter.task == "classification" %}
from sklearn.linear_model import LogisticRegression
{%- else %}
from sklearn.linear_model import Ridge
{%- endif %}
from typer.testing import CliRunner

from {{ cookiecutter.package_name }} import cli
from {{ cookiecutter.package_name }}.config import (
    ProjectConfig,
    TrainConfig,
    TuneConfig,
    load_config,
)
from {{ cookiecutter.package_name }}.contract import DataContract, load_contract
{%- if cookiecutter.data_source == "sql" %}
from {{ cookiecutter.package_name }}.datasets import read_sql, write_parquet
{%- else %}
from {{ cookiecutter.package_name }}.datasets import read_table, write_parquet
{%- endif %}
from {{ cookiecutter.package_name }}.features import build_pipeline
from {{ cookiecutter.package_name }}.ingest import processed_path
from {{ cookiecutter.package_name }}.settings import ENV_PREFIX, Settings
from {{ cookiecutter.package_name }}.validation import validate

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


@pytest.fixture
def project_config(
    valid_config: dict[str, object], write_config: Callable[[object], Path]
) -> ProjectConfig:
    """The shipped config with every path absolute, so it works from the test's directory."""
    data = dict(valid_config["data"])  # type: ignore[call-overload]
{%- if cookiecutter.data_source == "csv" %}
    data["path"] = str(PROJECT_ROOT / data["path"])
{%- endif %}
    data["contract"] = str(PROJECT_ROOT / data["contract"])
    return load_config(write_config(valid_config | {"data": data}))


@pytest.fixture
def project_env(project_config: ProjectConfig, tmp_path: Path) -> dict[str, str]:
    """Environment variables that point the CLI at the shipped config, contract and data."""
    path = tmp_path / "cli-project.yaml"
    path.write_text(yaml.safe_dump(project_config.model_dump(mode="json")), encoding="utf-8")
    return {
        f"{ENV_PREFIX}CONFIG_FILE": str(path),
{%- if cookiecutter.data_source == "sql" %}
        f"{ENV_PREFIX}DATABASE_URL": SHIPPED_DATABASE_URL,
{%- endif %}
    }


# --- contract and data -------------------------------------------------------
{%- if cookiecutter.data_source == "sql" %}

SHIPPED_DATABASE_URL = f"sqlite:///{PROJECT_ROOT / 'data' / 'raw' / '{{ cookiecutter.__sample }}.db'}"
{%- endif %}


{%- if cookiecutter.data_source == "sql" %}


@pytest.fixture
def shipped_database_url() -> str:
    """The SQLite database that ships with the project, by absolute path."""
    return SHIPPED_DATABASE_URL
{%- endif %}


@pytest.fixture(scope="session")
def contract() -> DataContract:
    """The data contract that ships with the project."""
    return load_contract(PROJECT_ROOT / "configs" / "contract.yaml")


@pytest.fixture(scope="session")
def raw_data() -> pd.DataFrame:
    """The sample data that ships with the project, as read from its source."""
{%- if cookiecutter.data_source == "sql" %}
    return read_sql(SHIPPED_DATABASE_URL, table="{{ cookiecutter.__sample }}")
{%- else %}
    return read_table(str(PROJECT_ROOT / "data" / "raw" / "{{ cookiecutter.__sample }}.csv"))
{%- endif %}


@pytest.fixture
def sample(raw_data: pd.DataFrame) -> pd.DataFrame:
    """A few hundred raw rows that a test may change."""
    return raw_data.head(300).copy()


# --- training and MLflow -----------------------------------------------------


@pytest.fixture(scope="session")
def fitted_model(contract: DataContract, raw_data: pd.DataFrame):  # type: ignore[no-untyped-def]
    """A quick linear pipeline fitted on the sample data, untracked: for tests that only predict."""
    train = validate(raw_data, contract)
{%- if cookiecutter.task == "classification" %}
    pipeline = build_pipeline(contract, LogisticRegression(max_iter=1000))
{%- else %}
    pipeline = build_pipeline(contract, Ridge())
{%- endif %}
    return pipeline.fit(train[contract.feature_names], train[contract.target.name])


@pytest.fixture(scope="session")
def tracking_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One SQLite tracking store for the session: creating one costs seconds of migrations."""
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


@pytest.fixture
def settings(tracking_uri: str, request: pytest.FixtureRequest) -> Settings:
    """Settings that track to the session's store, under a model name of this test's own."""
    name = "test-" + re.sub(r"[^a-z0-9]+", "-", request.node.name.lower()).strip("-")[:60]
    return Settings(
        tracking_uri=tracking_uri,
        model_name=f"{name}-{uuid.uuid4().hex[:8]}",
{%- if cookiecutter.data_source == "sql" %}
        database_url=SHIPPED_DATABASE_URL,
{%- endif %}
    )


@pytest.fixture
def trained_config(
    project_config: ProjectConfig, raw_data: pd.DataFrame, contract: DataContract, tmp_path: Path
) -> ProjectConfig:
    """The project config over a small processed data set, with a short search and quick model."""
    config = project_config.model_copy(
        update={
            "data": project_config.data.model_copy(
                update={"processed_dir": tmp_path / "processed"}
            ),
            "train": TrainConfig(model="gradient_boosting", params={"max_iter": 30}),
            "tune": TuneConfig(n_trials=3, timeout_seconds=60),
            "evaluate": project_config.evaluate.model_copy(
                update={"reports_dir": tmp_path / "reports"}
            ),
        }
    )
    write_parquet(validate(raw_data.head(1000), contract), processed_path(config, contract))
    return config


# --- CLI ---------------------------------------------------------------------


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A Typer test runner; the CLI prints plain, wide text whatever the terminal.

    CI sets FORCE_COLOR, which would otherwise put colour codes between the words tests read.
    """
    plain = Console(force_terminal=False, no_color=True, highlight=False, width=200)
    monkeypatch.setattr(cli, "console", plain)
    return CliRunner()
{%- if cookiecutter.data_source == "sql" or cookiecutter.include_monitoring %}


# --- PostgreSQL ----------------------------------------------------------------


def _postgres_binaries() -> Path | None:
    """The folder holding initdb and pg_ctl: on PATH, or where Debian and Ubuntu put them."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return candidates[-1].parent if candidates else None


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A real PostgreSQL server for this test session, on 127.0.0.1, removed afterwards.

    PostgreSQL refuses to run as root; as root (in a container, say) the server runs as the
    `postgres` system user instead.
    """
    binaries = _postgres_binaries()
    if binaries is None:
        pytest.skip("PostgreSQL server binaries (initdb, pg_ctl) not found: install postgresql")
    as_user: list[str] = []
    # Not under pytest's temporary folder: as root, that is private to root.
    data = Path(tempfile.mkdtemp(prefix="postgres-"))
    if os.geteuid() == 0:
        if shutil.which("runuser") is None:
            pytest.skip("running as root without runuser: PostgreSQL cannot start as root")
        as_user = ["runuser", "-u", "postgres", "--"]
        shutil.chown(data, user="postgres")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    subprocess.run(
        [*as_user, str(binaries / "initdb"), "-D", str(data / "db"), "-U", "test", "--auth=trust"],
        check=True,
        capture_output=True,
    )
    options = f"-h 127.0.0.1 -p {port} -k {data}"
    subprocess.run(
        [
            *as_user,
            str(binaries / "pg_ctl"),
            "-D",
            str(data / "db"),
            "-o",
            options,
            "-l",
            str(data / "log"),
            "-w",
            "start",
        ],
        check=True,
        capture_output=True,
    )
    try:
        yield f"postgresql+psycopg://test@127.0.0.1:{port}/postgres"
    finally:
        subprocess.run(
            [*as_user, str(binaries / "pg_ctl"), "-D", str(data / "db"), "-m", "fast", "stop"],
            check=False,
            capture_output=True,
        )
        shutil.rmtree(data, ignore_errors=True)
{%- endif %}
{%- if cookiecutter.include_monitoring %}


# --- monitoring ----------------------------------------------------------------


@pytest.fixture
def moved_up() -> Callable[[pd.DataFrame, str], pd.DataFrame]:
    """Rows with one numeric feature redrawn (seeded) from its top 30%: valid, but drifted."""

    def move(rows: pd.DataFrame, name: str) -> pd.DataFrame:
        values = rows[name].dropna()
        high = values[values >= values.quantile(0.7)].to_numpy()
        moved = rows.copy()
        moved[name] = np.random.default_rng(0).choice(high, size=len(rows))
        return moved

    return move
{%- endif %}
