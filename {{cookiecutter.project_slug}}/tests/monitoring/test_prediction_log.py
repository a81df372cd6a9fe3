"""The prediction log: records come back whole from SQLite or PostgreSQL, whoever writes them.

The stores are real: a SQLite file in the test's folder and a PostgreSQL server of the session.
"""

import contextlib
import json
import socket
import sqlite3
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import psycopg
import pytest
from psycopg import sql

from {{ cookiecutter.package_name }}.data.contract import DataContract, plain
from {{ cookiecutter.package_name }}.monitoring.prediction_log import (
    ENCODE,
    PredictionLog,
    PredictionLogger,
    iso,
    open_log,
)
from {{ cookiecutter.package_name }}.settings import Settings

START = datetime(2025, 3, 1, 12, 0, 0, 123457, tzinfo=UTC)
PROBABILITIES = {"low": 0.25, "high": 0.75}


def logged(
    request_id: str, at: datetime = START, rows: int = 1, variant: str = "champion"
) -> tuple[Any, ...]:
    """A request of `rows` records as the table holds it; values differ with request and row."""
    features = [
        {"count": 10 + row, "label": request_id, "amount": row or None} for row in range(rows)
    ]
    outputs = [
        {"prediction": f"{request_id}/{row}", "probabilities": PROBABILITIES} for row in range(rows)
    ]
    return (request_id, iso(at), "model", "3", ENCODE(features), ENCODE(outputs), variant)


def stored(log: PredictionLog) -> list[tuple[str, str]]:
    """The features and outputs of every row as the store holds them: JSON text, not via read()."""
    query = "SELECT CAST(features AS TEXT), CAST(outputs AS TEXT) FROM prediction_log"
    if isinstance(log.target, Path):
        with contextlib.closing(sqlite3.connect(log.target)) as connection:
            return connection.execute(query).fetchall()
    with psycopg.connect(log.target) as connection:
        return [(features, outputs) for features, outputs in connection.execute(query)]


def keys(frame: pd.DataFrame) -> list[tuple[str, int]]:
    return list(zip(frame["request_id"], frame["row"], strict=True))


@pytest.fixture
def postgres_log_url(postgres_url: str) -> str:
    """A new database on the session's PostgreSQL server, for this test alone."""
    url = postgres_url.replace("postgresql+psycopg://", "postgresql://")
    name = f"log_{uuid.uuid4().hex}"
    with psycopg.connect(url, autocommit=True) as connection:
        connection.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return f"{url.rsplit('/', 1)[0]}/{name}"


@pytest.fixture(params=["sqlite", "postgresql"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[PredictionLog]:
    """An empty store of each kind."""
    if request.param == "sqlite":
        log = PredictionLog(tmp_path / "log" / "predictions.sqlite3")
    else:
        log = PredictionLog(request.getfixturevalue("postgres_log_url"))
    yield log
    log.close()


# --- the stores --------------------------------------------------------------


def test_what_is_written_is_read_back_whole(store: PredictionLog) -> None:
    store.write([logged("a", rows=2), logged("b", START + timedelta(seconds=1), variant="shadow")])
    frame = store.read()
    assert list(frame.columns[:6]) == [
        "request_id",
        "row",
        "logged_at",
        "model_name",
        "model_version",
        "variant",
    ]
    assert set(frame.columns[6:]) == {"count", "label", "amount", "prediction"}
    assert keys(frame) == [("a", 0), ("a", 1), ("b", 0)]
    assert str(frame["logged_at"].dt.tz) == "UTC"
    assert list(frame["logged_at"]) == [START, START, START + timedelta(seconds=1)]
    assert list(frame["model_name"]) == ["model"] * 3
    assert list(frame["model_version"]) == ["3"] * 3
    assert list(frame["variant"]) == ["champion", "champion", "shadow"]
    assert list(frame["count"]) == [10, 11, 10]
    assert list(frame["label"]) == ["a", "a", "b"]
    assert frame["amount"].isna().tolist() == [True, False, True]
    assert list(frame["prediction"]) == ["a/0", "a/1", "b/0"]
    outputs = [answer for _, text in stored(store) for answer in json.loads(text)]
    assert all(answer["probabilities"] == PROBABILITIES for answer in outputs)


def test_since_is_inclusive_until_exclusive_and_rows_come_in_time_order(
    store: PredictionLog,
) -> None:
    times = [START + timedelta(minutes=minute) for minute in range(4)]
    for index in (2, 0, 3, 1):
        store.write([logged(f"t{index}", times[index])])
    assert list(store.read()["request_id"]) == ["t0", "t1", "t2", "t3"]
    assert list(store.read(since=times[1], until=times[3])["request_id"]) == ["t1", "t2"]
    assert list(store.read(since=times[2])["request_id"]) == ["t2", "t3"]
    assert list(store.read(until=times[1])["request_id"]) == ["t0"]
    # The same instant in another time zone selects the same rows.
    elsewhere = times[1].astimezone(timezone(timedelta(hours=2)))
    assert list(store.read(since=elsewhere, until=times[2])["request_id"]) == ["t1"]


def test_a_log_written_before_rollouts_gains_the_variant_column(tmp_path: Path) -> None:
    path = tmp_path / "predictions.sqlite3"
    with contextlib.closing(sqlite3.connect(path)) as old:
        old.execute(
            "CREATE TABLE prediction_log (request_id TEXT NOT NULL, logged_at TEXT NOT NULL,"
            " model_name TEXT NOT NULL, model_version TEXT NOT NULL, features TEXT NOT NULL,"
            " outputs TEXT NOT NULL)"
        )
        old.execute("INSERT INTO prediction_log VALUES (?, ?, ?, ?, ?, ?)", logged("old")[:6])
        old.commit()
    log = PredictionLog(path)
    log.write([logged("new", START + timedelta(seconds=1), variant="challenger")])
    frame = log.read()
    log.close()
    assert keys(frame) == [("old", 0), ("new", 0)]
    assert list(frame["variant"]) == ["champion", "challenger"]


def test_an_empty_log_reads_as_an_empty_frame(store: PredictionLog) -> None:
    frame = store.read()
    assert frame.empty
    assert {"request_id", "row", "logged_at", "model_name", "model_version", "prediction"} <= set(
        frame.columns
    )


# A writer process: python -c WRITER MODULE FILE NAME. From 4 threads, 20 requests each of 5
# records, each request written alone.
WRITER = """
import importlib
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

module = importlib.import_module(sys.argv[1])
log = module.PredictionLog(Path(sys.argv[2]))
name = sys.argv[3]

def write(thread):
    for request in range(20):
        at = module.iso(datetime.now(UTC))
        features, outputs = module.ENCODE([{"x": 1}] * 5), module.ENCODE([{}] * 5)
        log.write([(f"{name}-{thread}-{request}", at, "m", "1", features, outputs, "champion")])


threads = [threading.Thread(target=write, args=(thread,)) for thread in range(4)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
"""


@pytest.mark.slow
def test_two_processes_writing_one_file_lose_nothing(tmp_path: Path) -> None:
    path = tmp_path / "predictions.sqlite3"
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, PredictionLog.__module__, str(path), name],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("this", "other")
    ]
    for writer in writers:
        _, errors = writer.communicate(timeout=120)
        assert (writer.returncode, errors) == (0, "")
    with contextlib.closing(sqlite3.connect(path)) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    found = keys(PredictionLog(path).read())
    expected = {
        (f"{name}-{thread}-{request}", row)
        for name in ("this", "other")
        for thread in range(4)
        for request in range(20)
        for row in range(5)
    }
    assert len(found) == len(expected)
    assert set(found) == expected


# --- the background writer ---------------------------------------------------


def test_the_logger_writes_every_row_submitted_from_many_threads(
    store: PredictionLog, contract: DataContract
) -> None:
    writer = PredictionLogger(store, contract)

    def client(thread: int) -> None:
        for request in range(50):
            size = 3 if request % 5 == 0 else 1  # every fifth request is a batch
            records = [{"x": row} for row in range(size)]
            outputs = [{"prediction": row} for row in range(size)]
            writer.submit(f"{thread}-{request}", "model", "3", records, outputs)

    clients = [threading.Thread(target=client, args=(thread,)) for thread in range(16)]
    for thread in clients:
        thread.start()
    for thread in clients:
        thread.join()
    writer.close()
    expected = {
        (f"{thread}-{request}", row)
        for thread in range(16)
        for request in range(50)
        for row in range(3 if request % 5 == 0 else 1)
    }
    found = keys(store.read())
    assert len(found) == len(expected)
    assert set(found) == expected
    assert (writer.written, writer.dropped) == (len(expected), 0)


def test_sensitive_columns_are_never_written(
    store: PredictionLog, contract: DataContract, raw_data: pd.DataFrame
) -> None:
    first, *others = contract.features
    marked = contract.model_copy(
        update={"features": (first.model_copy(update={"sensitive": True}), *others)}
    )
    sensitive = {column.name for column in marked.features if column.sensitive}
    # As the service submits them: validated values, a missing one None (never NaN).
    rows = raw_data[marked.feature_names].head(5).to_dict("records")
    records = [{name: plain(value) for name, value in row.items()} for row in rows]
    writer = PredictionLogger(store, marked)
    writer.submit("request", "model", "3", records, [{"prediction": 1}] * 5)
    writer.close()
    frame = store.read()
    assert len(frame) == 5
    assert set(marked.feature_names) - sensitive <= set(frame.columns)
    assert sensitive.isdisjoint(frame.columns)
    [(features, _)] = stored(store)
    assert all(sensitive.isdisjoint(record) for record in json.loads(features))


def test_values_are_stored_as_plain_json(tmp_path: Path, contract: DataContract) -> None:
    log = PredictionLog(tmp_path / "predictions.sqlite3")
    record: dict[str, Any] = {
        "when": datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
        "day": date(2025, 1, 2),
        "stamp": pd.Timestamp("2025-01-02 06:00"),
        "count": np.int64(3),
        "flag": np.bool_(True),
        "missing": pd.NaT,
    }
    probabilities = {"low": np.float32(0.25), "high": np.float64(0.75)}
    writer = PredictionLogger(log, contract)
    writer.submit(
        "r", "model", "3", [record], [{"prediction": "high", "probabilities": probabilities}]
    )
    writer.close()
    assert (writer.written, writer.dropped) == (1, 0)
    [(features, outputs)] = stored(log)
    assert json.loads(features) == [
        {
            "when": "2025-01-02T03:04:05+00:00",
            "day": "2025-01-02",
            "stamp": "2025-01-02T06:00:00",
            "count": 3,
            "flag": True,
            "missing": None,
        }
    ]
    assert json.loads(outputs) == [{"prediction": "high", "probabilities": PROBABILITIES}]


def unwritable_folder(tmp_path: Path) -> PredictionLog:
    """A SQLite file under a path that is a file: no folder can be made there (even as root)."""
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    return PredictionLog(blocker / "log" / "predictions.sqlite3")


def closed_port(tmp_path: Path) -> PredictionLog:
    """PostgreSQL on a port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return PredictionLog(f"postgresql://test@127.0.0.1:{port}/postgres")


@pytest.mark.parametrize("broken", [unwritable_folder, closed_port])
def test_a_failing_store_never_raises_and_its_rows_count_as_dropped(
    broken: Callable[[Path], PredictionLog],
    tmp_path: Path,
    contract: DataContract,
    caplog: pytest.LogCaptureFixture,
) -> None:
    writer = PredictionLogger(broken(tmp_path), contract)
    for request in range(5):
        writer.submit(f"r{request}", "model", "3", [{"x": 1}, {"x": 2}], [{"prediction": 1}] * 2)
    writer.close()
    writer.submit("late", "model", "3", [{"x": 1}], [{"prediction": 1}])  # after close
    assert (writer.written, writer.dropped) == (0, 11)
    assert any(record.levelname == "ERROR" for record in caplog.records)


def test_a_bad_request_is_dropped_alone(tmp_path: Path, contract: DataContract) -> None:
    log = PredictionLog(tmp_path / "predictions.sqlite3")
    writer = PredictionLogger(log, contract)
    writer.submit("short", "model", "3", [{"x": 1}, {"x": 2}], [{"prediction": 1}])
    writer.submit("nan", "model", "3", [{"x": float("nan")}], [{"prediction": 1}])
    writer.submit("good", "model", "3", [{"x": 1}], [{"prediction": 1}])
    writer.close()
    assert (writer.written, writer.dropped) == (1, 3)
    assert list(log.read()["request_id"]) == ["good"]


class GatedLog(PredictionLog):
    """A real SQLite log whose writes wait until the test opens the gate."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.entered = threading.Event()
        self.gate = threading.Event()

    def write(self, rows: Any) -> None:
        self.entered.set()
        self.gate.wait()
        super().write(rows)


def test_a_full_queue_drops_requests_instead_of_waiting(
    tmp_path: Path, contract: DataContract
) -> None:
    log = GatedLog(tmp_path / "predictions.sqlite3")
    writer = PredictionLogger(log, contract, max_queued=10)
    writer.submit("first", "model", "3", [{"x": 0}], [{"prediction": 0}])
    assert log.entered.wait(10), "the writer never took the first row"
    # The first row waits in the store; 9 more fit. A request is logged whole or not at all.
    writer.submit("fits", "model", "3", [{"x": row} for row in range(9)], [{"prediction": 0}] * 9)
    writer.submit("over", "model", "3", [{"x": 0}, {"x": 1}], [{"prediction": 0}] * 2)
    log.gate.set()
    writer.close()
    assert (writer.written, writer.dropped) == (10, 2)
    assert set(log.read()["request_id"]) == {"first", "fits"}


# --- settings and retention ----------------------------------------------------


def test_open_log_follows_the_settings(tmp_path: Path) -> None:
    assert open_log(Settings(prediction_log=False)) is None
    remote = open_log(Settings(prediction_log_url="postgresql://user:secret@db/log"))
    assert remote is not None
    assert remote.target == "postgresql://user:secret@db/log"
    local = open_log(Settings(prediction_log_dir=tmp_path / "logs", prediction_log_keep_days=7))
    assert local is not None
    assert (local.target, local.keep_days) == (tmp_path / "logs" / "predictions.sqlite3", 7)
    assert not (tmp_path / "logs").exists()  # nothing is created before the first write


def test_rows_past_the_retention_are_deleted_when_a_writer_starts(store: PredictionLog) -> None:
    now = datetime.now(UTC)
    store.write([logged("old", now - timedelta(days=31)), logged("kept", now - timedelta(days=29))])

    log = PredictionLog(store.target, keep_days=30)
    log.write([logged("new", now)])
    log.close()

    assert sorted(store.read()["request_id"]) == ["kept", "new"]
