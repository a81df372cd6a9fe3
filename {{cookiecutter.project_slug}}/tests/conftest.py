"""Shared fixtures: an isolated working directory, the shipped config, data generated from the contract{% if cookiecutter.data_source == "sql" or cookiecutter.include_monitoring %}, a real PostgreSQL server{% endif %}."""

import contextlib
import os
import re
{%- if cookiecutter.data_source == "sql" or cookiecutter.include_monitoring %}
import shutil
{%- endif %}
import socket
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import mlflow
import numpy as np
import pandas as pd
import pytest
{%- if cookiecutter.data_source == "sql" %}
import sqlalchemy as sa
{%- endif %}
import yaml
from rich.console import Console
{%- if cookiecutter.task == "classification" %}
from sklearn.linear_model import LogisticRegression
{%- else %}
from sklearn.linear_model import Ridge
{%- endif %}
from typer.testing import CliRunner

from {{ cookiecutter.package_name }}.cli import ui
from {{ cookiecutter.package_name }}.config import (
    ProjectConfig,
    TrainConfig,
    TuneConfig,
    load_config,
)
from {{ cookiecutter.package_name }}.data.contract import (
    Column,
    DataContract,
    load_contract,
    plain,
)
from {{ cookiecutter.package_name }}.data.datasets import write_parquet
from {{ cookiecutter.package_name }}.data.features import build_pipeline
from {{ cookiecutter.package_name }}.data.ingest import processed_path
from {{ cookiecutter.package_name }}.data.validation import validate
from {{ cookiecutter.package_name }}.settings import ENV_PREFIX, Settings
from {{ cookiecutter.package_name }}.training import metrics
from {{ cookiecutter.package_name }}.training.tracking import CHAMPION
from {{ cookiecutter.package_name }}.training.train import TrainResult, train

PROJECT_ROOT = Path(__file__).resolve().parents[1]

# --- isolation ---------------------------------------------------------------


@pytest.fixture(autouse=True)
def isolated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tracking_uri: str) -> Path:
    """Run every test in an empty directory with none of the project's variables set, and
    MLflow pointed at the session's tracking store.

    A developer's own `.env` or exported variables must never change a test's outcome, nor may
    a test before it that pointed MLflow elsewhere (a CLI command on the default store, say).
    """
    for name in list(os.environ):
        if name.startswith(ENV_PREFIX):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    mlflow.set_tracking_uri(tracking_uri)  # also sets MLFLOW_TRACKING_URI, as MLflow does
    return tmp_path


@pytest.fixture(scope="session", autouse=True)
def fewer_shuffles() -> Iterator[None]:
    """Importances from two shuffles of each feature instead of five: the same code, sooner."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(metrics, "IMPORTANCE_REPEATS", 2)
        yield


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


def over_generated_data(
    values: dict[str, object], data_source: dict[str, str], folder: Path
) -> ProjectConfig:
    """A config (as a dict) reading the generated data, with every path absolute."""
    data = dict(values["data"])  # type: ignore[call-overload]
{%- if cookiecutter.data_source == "sql" %}
    data.pop("query", None)
{%- endif %}
    data.update(data_source)
    data["contract"] = str(PROJECT_ROOT / data["contract"])
    path = folder / "project.yaml"
    path.write_text(yaml.safe_dump(values | {"data": data}), encoding="utf-8")
    return load_config(path)


@pytest.fixture
def project_config(
    valid_config: dict[str, object], data_source: dict[str, str], tmp_path: Path
) -> ProjectConfig:
    """The shipped config, reading the generated data, with every path absolute."""
    return over_generated_data(valid_config, data_source, tmp_path)


@pytest.fixture
def project_env(project_config: ProjectConfig, tmp_path: Path) -> dict[str, str]:
    """Environment variables that point the CLI at the project config over the generated data."""
    path = tmp_path / "cli-project.yaml"
    path.write_text(yaml.safe_dump(project_config.model_dump(mode="json")), encoding="utf-8")
    return {
        f"{ENV_PREFIX}CONFIG_FILE": str(path),
{%- if cookiecutter.data_source == "sql" %}
        f"{ENV_PREFIX}DATABASE_URL": GENERATED_DATABASE_URL,
{%- endif %}
    }


# --- contract and data -------------------------------------------------------
# Tests are about the code, not about the data that happens to be configured: they run on rows
# generated from the project's own contract, so they pass unchanged when you bring your own
# table (any columns, types, labels and size) and its contract.

GENERATED_ROWS = 1000
#: Where the session's generated rows are written, as the project's data source reads them.
GENERATED_DIR = Path(tempfile.mkdtemp(prefix="generated-data-"))
{%- if cookiecutter.data_source == "sql" %}
GENERATED_DATABASE_URL = f"sqlite:///{GENERATED_DIR / 'generated.db'}"
GENERATED_TABLE = "generated"
{%- endif %}


@pytest.fixture(scope="session")
def contract() -> DataContract:
    """The data contract the project is configured with."""
    shipped = yaml.safe_load((PROJECT_ROOT / "configs" / "project.yaml").read_text("utf-8"))
    return load_contract(PROJECT_ROOT / shipped["data"]["contract"])


def generate_rows(contract: DataContract, rows: int, *, seed: int = 0) -> pd.DataFrame:
    """Rows that fit the contract, as a source holds them, with a target a model can learn.

    Each feature is drawn within its contract (type, bounds, categories; about 5% empty where
    nullable). The target follows a hidden score of the features plus noise: every class
    appears, and a trained model beats the baseline, whatever the columns are called.
    """
    rng = np.random.default_rng(seed)
    data: dict[str, object] = {}
    if contract.id_column is not None:
        data[contract.id_column] = [f"row-{number:07d}" for number in range(rows)]
    score = rng.normal(0, 0.3, rows)
    for column in contract.features:
        values, effect = _draw(column, rows, rng)
        if column.nullable:
            empty = rng.random(rows) < 0.05
            values = pd.Series(values, dtype=object).mask(empty, None).to_numpy()
            effect = np.where(empty, 0.0, effect)
        data[column.name] = values
        score += effect
    data[contract.target.name] = _target(contract.target, score)
    order = [name for name in [contract.id_column, *(c.name for c in contract.columns)] if name]
    return pd.DataFrame(data)[order]


def _draw(column: Column, rows: int, rng: np.random.Generator) -> tuple[object, np.ndarray]:
    """One feature's values within its contract, and each row's share of the hidden score."""
    weight = rng.choice([-1.0, 1.0]) * rng.uniform(0.5, 1.5)
    if column.type == "numeric":
        low, high = _bounds(column)
        values = rng.uniform(low, high, rows)
        return values, weight * ((values - low) / max(high - low, 1e-9) - 0.5)
    if column.type == "boolean":
        flags = rng.random(rows) < 0.5
        return flags, weight * (flags - 0.5)
    if column.type == "datetime":
        days = rng.integers(0, 6 * 365, rows)
        dates = pd.Timestamp("2020-01-01") + pd.to_timedelta(days, unit="D")
        return dates.strftime("%Y-%m-%d").to_numpy(), weight * (days / (6 * 365) - 0.5)
    categories = list(column.categories or [f"value-{number}" for number in range(4)])
    picked = rng.integers(0, len(categories), rows)
    effects = rng.normal(0, 0.6, len(categories))
    return np.array(categories, dtype=object)[picked], effects[picked]


def _bounds(column: Column) -> tuple[float, float]:
    """A numeric column's range: its contract bounds, or a span of 100 from the one it has."""
    low = column.min if column.min is not None else None
    if low is None:
        low = column.max - 100 if column.max is not None else 0.0
    high = column.max if column.max is not None else low + 100
    return float(low), float(high)


def _target(column: Column, score: np.ndarray) -> np.ndarray:
    """The target from the hidden score: classes by its quantiles, or a number in range."""
    rank = pd.Series(score).rank(pct=True).to_numpy()
    if column.type == "numeric":
        low, high = _bounds(column)
        return low + (high - low) * rank
    categories = list(column.categories or ())
    if len(categories) == 2:
        positive = column.positive if column.positive is not None else categories[-1]
        negative = next(c for c in categories if c != positive)
        return np.where(rank > 0.7, positive, negative).astype(object)
    bins = np.minimum((rank * len(categories)).astype(int), len(categories) - 1)
    return np.array(categories, dtype=object)[bins]


def contract_of_every_kind(target: Column, *, id_column: str | None = None) -> DataContract:
    """A contract with a feature of every kind the API treats differently, around `target`.

    No id column unless asked: the service never needs one.
    """
    return DataContract(
        name="every_kind",
        id_column=id_column,
        target=target,
        features=(
            Column(name="bounded number", type="numeric", min=0, max=50),
            Column(name="open number (€)", type="numeric", nullable=True),
            Column(name="yes or no", type="boolean"),
            Column(name="a date", type="datetime", nullable=True),
            Column(name="closed category", type="categorical", categories=("a", "b", "c")),
            Column(
                name="open category",
                type="categorical",
                categories=("x", "y"),
                unknown_categories="accept",
                nullable=True,
            ),
            Column(name="coded category", type="categorical", categories=(1, 2, 3)),
        ),
    )


@pytest.fixture(scope="session")
def every_kind() -> Callable[..., DataContract]:
    """`contract_of_every_kind(target, id_column=None)`: for a test that needs a kind of column
    the configured contract may lack."""
    return contract_of_every_kind


@pytest.fixture(scope="session")
def generate() -> Callable[..., pd.DataFrame]:
    """`generate_rows(contract, rows, seed=0)`, for a test that needs a contract of its own."""
    return generate_rows


def request_records(frame: pd.DataFrame, contract: DataContract) -> list[dict[str, Any]]:
    """Validated rows as request records: the features only, as JSON carries them.

    A listed category takes the type the contract lists it with (validation holds categories
    as text: `"1"` becomes `1` for a category listed as a number).
    """
    listed = {
        column.name: {str(category): category for category in column.categories}
        for column in contract.features
        if column.categories is not None
    }
    records = []
    for row in frame[contract.feature_names].astype(object).to_dict(orient="records"):
        record = {str(name): plain(value) for name, value in row.items()}
        for name, value in record.items():
            if name in listed and value is not None:
                record[name] = listed[name].get(str(value), value)
        records.append(record)
    return records


@pytest.fixture(scope="session")
def to_records() -> Callable[[pd.DataFrame, DataContract], list[dict[str, Any]]]:
    """`request_records`: validated rows as the API takes them."""
    return request_records


@pytest.fixture(scope="session")
def raw_data(contract: DataContract) -> pd.DataFrame:
    """Rows generated from the contract, as read from a source: the data most tests use."""
    return generate_rows(contract, GENERATED_ROWS)


@pytest.fixture(scope="session")
def data_source(raw_data: pd.DataFrame) -> dict[str, str]:
    """The generated rows written where the project reads data, as `data` config values."""
{%- if cookiecutter.data_source == "sql" %}
    with sa.create_engine(GENERATED_DATABASE_URL).begin() as connection:
        raw_data.to_sql(GENERATED_TABLE, connection, index=False, if_exists="replace")
    return {"table": GENERATED_TABLE}
{%- else %}
    path = GENERATED_DIR / "generated.csv"
    raw_data.to_csv(path, index=False)
    return {"path": str(path)}
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


@pytest.fixture
def finished_pid() -> str:
    """The ID of a process that has run and exited: a writer or a run that was killed."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return str(process.pid)


@pytest.fixture(scope="session")
def tracking_uri(tmp_path_factory: pytest.TempPathFactory) -> str:
    """One SQLite tracking store for the session: creating one costs seconds of migrations."""
    return f"sqlite:///{tmp_path_factory.mktemp('mlflow') / 'mlflow.db'}"


def settings_for(tracking_uri: str, name: str) -> Settings:
    """Settings that track to `tracking_uri` under a model name of its own, made from `name`."""
    name = "test-" + re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")[:60]
    return Settings(
        tracking_uri=tracking_uri,
        model_name=f"{name}-{uuid.uuid4().hex[:8]}",
{%- if cookiecutter.data_source == "sql" %}
        database_url=GENERATED_DATABASE_URL,
{%- endif %}
    )


@pytest.fixture
def settings(tracking_uri: str, request: pytest.FixtureRequest) -> Settings:
    """Settings that track to the session's store, under a model name of this test's own."""
    return settings_for(tracking_uri, request.node.name)


def quick(config: ProjectConfig, folder: Path) -> ProjectConfig:
    """`config` with a short search, a quick model, and its outputs under `folder`."""
    return config.model_copy(
        update={
            "data": config.data.model_copy(update={"processed_dir": folder / "processed"}),
            "train": TrainConfig(model="gradient_boosting", params={"max_iter": 30}),
            "tune": TuneConfig(n_trials=3, timeout_seconds=60),
            "evaluate": config.evaluate.model_copy(update={"reports_dir": folder / "reports"}),
        }
    )


def processed(
    config: ProjectConfig, raw_data: pd.DataFrame, contract: DataContract, folder: Path
) -> ProjectConfig:
    """`config` made `quick`, with the generated rows validated and written where it reads them."""
    config = quick(config, folder)
    write_parquet(validate(raw_data, contract), processed_path(config, contract))
    return config


@pytest.fixture
def trained_config(
    project_config: ProjectConfig, raw_data: pd.DataFrame, contract: DataContract, tmp_path: Path
) -> ProjectConfig:
    """The project config over a small processed data set, with a short search and quick model."""
    return processed(project_config, raw_data, contract, tmp_path)


Project = tuple[ProjectConfig, Settings, Path]


@pytest.fixture(scope="session")
def new_project(
    tracking_uri: str, data_source: dict[str, str], tmp_path_factory: pytest.TempPathFactory
) -> Callable[[str], Project]:
    """`new_project(name)`: a `quick` config, settings of its own and its folder, for a fixture
    wider than one test (its artifacts go under the folder: train in `contextlib.chdir` it)."""
    shipped = yaml.safe_load((PROJECT_ROOT / "configs" / "project.yaml").read_text("utf-8"))

    def make(name: str) -> Project:
        folder = tmp_path_factory.mktemp(name.replace(" ", "-"))
        config = quick(over_generated_data(shipped, data_source, folder), folder)
        return config, settings_for(tracking_uri, name), folder

    return make


@pytest.fixture(scope="session")
def trained_project(new_project: Callable[[str], Project]) -> Project:
    """The config, settings and folder `trained` trains with."""
    return new_project("session champion")


@pytest.fixture(scope="session")
def trained_settings(trained_project: Project) -> Settings:
    """The settings `trained` registers its model under."""
    return trained_project[1]


@pytest.fixture(scope="session")
def trained(
    trained_project: Project, raw_data: pd.DataFrame, contract: DataContract
) -> TrainResult:
    """One quick model for the session's tests that only read it: version 1, the champion.

    Trained as `trained_config` is, once, since training costs seconds. A test that changes a
    model, its artifacts or the registry trains one of its own.
    """
    config, trained_settings, folder = trained_project
    write_parquet(validate(raw_data, contract), processed_path(config, contract))
    with contextlib.chdir(folder):  # MLflow keeps artifacts under the working directory
        result = train(config, trained_settings)
    mlflow.MlflowClient().set_registered_model_alias(
        trained_settings.model_name, CHAMPION, str(result.model_version)
    )
    return result


def unused_port() -> int:
    """A port on 127.0.0.1 that nothing listens on (until a server of the test's takes it)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def free_port() -> Callable[[], int]:
    """`unused_port()`: a port on 127.0.0.1 that nothing listens on."""
    return unused_port


# --- CLI ---------------------------------------------------------------------


@pytest.fixture
def runner(monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A Typer test runner; the CLI prints plain, wide text whatever the terminal.

    CI sets FORCE_COLOR, which would otherwise put colour codes between the words tests read.
    """
    plain = Console(force_terminal=False, no_color=True, highlight=False, width=200)
    monkeypatch.setattr(ui, "console", plain)
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
    port = unused_port()
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


@pytest.fixture(scope="session")
def moved_feature(contract: DataContract) -> str:
    """The feature tests move: the first numeric one, else the first categorical or boolean one."""
    for kinds in (("numeric",), ("categorical", "boolean")):
        for column in contract.features:
            if column.type in kinds:
                return column.name
    pytest.skip("the contract has only datetime features, which drift checks skip")


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
