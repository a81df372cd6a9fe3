"""The prediction log: rows come back whole from SQLite files or PostgreSQL, whoever writes them.

The stores are real: SQLite files in the test's folder and a PostgreSQL server of the session.
"""

import contextlib
import json
import re
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

from {{ cookiecutter.package_name }}.data.contract import DataContract
from {{ cookiecutter.package_name }}.monitoring.prediction_log import (
    ROTATED_NAME,
    LoggedPrediction,
    PostgresLog,
    PredictionLog,
    PredictionLogger,
    SQLiteLog,
    open_log,
)
from {{ cookiecutter.package_name }}.settings import Settings

START = datetime(2025, 3, 1, 12, 0, 0, 123457, tzinfo=UTC)
PROBABILITIES = {"low": 0.25, "high": 0.75}


def logged(request_id: str, at: datetime = START, row: int = 0) -> LoggedPrediction:
    """A logged prediction whose features and output differ with its request and row."""
    return LoggedPrediction(
        request_id=request_id,
        row=row,
        logged_at=at,
        model_name="model",
        model_version="3",
        features={"count": 10 + row, "label": request_id, "amount": None if row else 12.5},
        output={"prediction": f"{request_id}/{row}", "probabilities": PROBABILITIES},
    )


def stored(log: PredictionLog) -> list[tuple[str, str]]:
    """The features and output of every row as the store holds them: JSON text, not via read()."""
    if isinstance(log, SQLiteLog):
        found: list[tuple[str, str]] = []
        for path in log.directory.glob("*.sqlite3"):
            with contextlib.closing(sqlite3.connect(path)) as connection:
                found += connection.execute(
                    "SELECT features, output FROM prediction_log"
                ).fetchall()
        return found
    assert isinstance(log, PostgresLog)
    with psycopg.connect(log.url) as connection:
        query = "SELECT features::text, output::text FROM prediction_log"
        return [(features, output) for features, output in connection.execute(query)]


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
    log: PredictionLog
    if request.param == "sqlite":
        log = SQLiteLog(tmp_path / "log", max_bytes=64 * 1024 * 1024)
    else:
        log = PostgresLog(request.getfixturevalue("postgres_log_url"))
    yield log
    log.close()


# --- the stores --------------------------------------------------------------


def test_what_is_written_is_read_back_whole(store: PredictionLog) -> None:
    rows = [logged("a"), logged("a", row=1), logged("b", START + timedelta(seconds=1))]
    store.write(rows)
    frame = store.read()
    assert list(frame.columns[:5]) == [
        "request_id",
        "row",
        "logged_at",
        "model_name",
        "model_version",
    ]
    assert set(frame.columns[5:]) == {"count", "label", "amount", "prediction"}
    assert keys(frame) == [("a", 0), ("a", 1), ("b", 0)]
    assert isinstance(frame["logged_at"].dtype, pd.DatetimeTZDtype)
    assert str(frame["logged_at"].dt.tz) == "UTC"
    assert list(frame["logged_at"]) == [pd.Timestamp(row.logged_at) for row in rows]
    assert list(frame["model_name"]) == ["model"] * 3
    assert list(frame["model_version"]) == ["3"] * 3
    assert list(frame["count"]) == [10, 11, 10]
    assert list(frame["label"]) == ["a", "a", "b"]
    assert frame["amount"].isna().tolist() == [False, True, False]
    assert list(frame["prediction"]) == ["a/0", "a/1", "b/0"]
    outputs = sorted(json.loads(output)["prediction"] for _, output in stored(store))
    assert outputs == ["a/0", "a/1", "b/0"]
    assert all(json.loads(output)["probabilities"] == PROBABILITIES for _, output in stored(store))


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


def test_an_empty_log_reads_as_an_empty_frame(store: PredictionLog) -> None:
    frame = store.read()
    assert frame.empty
    assert {"request_id", "row", "logged_at", "model_name", "model_version", "prediction"} <= set(
        frame.columns
    )


def test_a_full_file_is_renamed_aside_and_every_row_is_still_read(tmp_path: Path) -> None:
    log = SQLiteLog(tmp_path, max_bytes=1)  # every write after the first starts a new file
    files: set[str] = set()
    for request in range(5):
        log.write([logged(f"r{request}", row=row) for row in range(3)])
        now = {path.name for path in tmp_path.glob("*.sqlite3")}
        assert files < now, "a write did not start a new file, or a file went missing"
        files = now
    rotated = files - {"predictions.sqlite3"}
    assert len(rotated) == 4
    assert all(re.fullmatch(r"predictions-\d{8}T\d{12}Z\.sqlite3", name) for name in rotated)
    frame = log.read()
    assert sorted(keys(frame)) == [(f"r{request}", row) for request in range(5) for row in range(3)]


# A writer process: python -c WRITER MODULE FOLDER NAME. From 4 threads, 20 writes each of one
# request of 5 rows.
WRITER = """
import importlib
import sys
import threading
from datetime import UTC, datetime
from pathlib import Path

module = importlib.import_module(sys.argv[1])
log = module.SQLiteLog(Path(sys.argv[2]), max_bytes=16_384)
name = sys.argv[3]


def write(thread):
    for request in range(20):
        at = datetime.now(UTC)
        rows = [
            module.LoggedPrediction(f"{name}-{thread}-{request}", row, at, "m", "1", {"x": row}, {})
            for row in range(5)
        ]
        log.write(rows)


threads = [threading.Thread(target=write, args=(thread,)) for thread in range(4)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
"""


def test_two_processes_sharing_a_folder_lose_nothing_across_rotations(tmp_path: Path) -> None:
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, SQLiteLog.__module__, str(tmp_path), name],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("this", "other")
    ]
    for writer in writers:
        _, errors = writer.communicate(timeout=120)
        assert (writer.returncode, errors) == (0, "")
    files = sorted(tmp_path.glob("*.sqlite3"))
    assert len(files) > 2, "the test never rotated"
    for path in files:
        with contextlib.closing(sqlite3.connect(path)) as connection:
            assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    found = keys(SQLiteLog(tmp_path, max_bytes=16_384).read())
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
    records = raw_data[marked.feature_names].head(5).to_dict("records")
    writer = PredictionLogger(store, marked)
    writer.submit("request", "model", "3", records, [{"prediction": 1}] * 5)
    writer.close()
    frame = store.read()
    assert len(frame) == 5
    assert set(marked.feature_names) - sensitive <= set(frame.columns)
    assert sensitive.isdisjoint(frame.columns)
    for features, _ in stored(store):
        assert sensitive.isdisjoint(json.loads(features))


def test_values_are_stored_as_plain_json(tmp_path: Path, contract: DataContract) -> None:
    log = SQLiteLog(tmp_path, max_bytes=1024 * 1024)
    record: dict[str, Any] = {
        "when": datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC),
        "day": date(2025, 1, 2),
        "stamp": pd.Timestamp("2025-01-02 06:00"),
        "count": np.int64(3),
        "share": np.float64("nan"),
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
    [(features, output)] = stored(log)
    assert json.loads(features) == {
        "when": "2025-01-02T03:04:05+00:00",
        "day": "2025-01-02",
        "stamp": "2025-01-02T06:00:00",
        "count": 3,
        "share": None,
        "flag": True,
        "missing": None,
    }
    assert json.loads(output) == {"prediction": "high", "probabilities": PROBABILITIES}


def unwritable_folder(tmp_path: Path) -> PredictionLog:
    """SQLite files under a path that is a file: no folder can be made there (even as root)."""
    blocker = tmp_path / "a-file"
    blocker.write_text("", encoding="utf-8")
    return SQLiteLog(blocker / "log", max_bytes=1024)


def closed_port(tmp_path: Path) -> PredictionLog:
    """PostgreSQL on a port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return PostgresLog(f"postgresql://test@127.0.0.1:{port}/postgres")


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


def test_a_bad_submission_is_dropped_not_raised(tmp_path: Path, contract: DataContract) -> None:
    writer = PredictionLogger(SQLiteLog(tmp_path, max_bytes=1024), contract)
    writer.submit("r", "model", "3", [{"x": 1}, {"x": 2}], [{"prediction": 1}])  # one answer short
    writer.close()
    assert (writer.written, writer.dropped) == (0, 2)


class GatedLog(SQLiteLog):
    """A real SQLite log whose writes wait until the test opens the gate."""

    def __init__(self, directory: Path) -> None:
        super().__init__(directory, max_bytes=1024 * 1024)
        self.entered = threading.Event()
        self.gate = threading.Event()

    def write(self, rows: Any) -> None:
        self.entered.set()
        self.gate.wait()
        super().write(rows)


def test_a_full_queue_drops_requests_instead_of_waiting(
    tmp_path: Path, contract: DataContract
) -> None:
    log = GatedLog(tmp_path)
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


# --- settings ----------------------------------------------------------------


def test_open_log_follows_the_settings(tmp_path: Path) -> None:
    assert open_log(Settings(prediction_log=False)) is None
    remote = open_log(Settings(prediction_log_url="postgresql://user:secret@db/log"))
    assert isinstance(remote, PostgresLog)
    assert remote.url == "postgresql://user:secret@db/log"
    local = open_log(Settings(prediction_log_dir=tmp_path / "logs", prediction_log_max_mb=0.5))
    assert isinstance(local, SQLiteLog)
    assert (local.directory, local.max_bytes) == (tmp_path / "logs", 512 * 1024)
    default = open_log(Settings())
    assert isinstance(default, SQLiteLog)
    assert default.directory == Path("logs/predictions")


# --- retention -----------------------------------------------------------------


def retaining(store: PredictionLog, keep_days: float) -> PredictionLog:
    """The same store, opened as the settings open it, keeping rows `keep_days` days."""
    if isinstance(store, SQLiteLog):
        settings = Settings(prediction_log_dir=store.directory, prediction_log_keep_days=keep_days)
    else:
        assert isinstance(store, PostgresLog)
        settings = Settings(prediction_log_url=store.url, prediction_log_keep_days=keep_days)
    log = open_log(settings)
    assert log is not None
    return log


def test_rows_past_the_retention_are_deleted_when_a_writer_starts(store: PredictionLog) -> None:
    now = datetime.now(UTC)
    store.write([logged("old", now - timedelta(days=31)), logged("kept", now - timedelta(days=29))])

    log = retaining(store, keep_days=30)
    log.write([logged("new", now)])
    log.close()

    assert sorted(store.read()["request_id"]) == ["kept", "new"]


def test_rotated_files_past_the_retention_are_deleted_whole(tmp_path: Path) -> None:
    now = datetime.now(UTC)
    folder = tmp_path / "log"
    folder.mkdir()
    for name, age in (("old", 31), ("kept", 29)):
        SQLiteLog(tmp_path / name, max_bytes=1024).write([logged(name, now - timedelta(days=age))])
        rotated = folder / (now - timedelta(days=age)).strftime(ROTATED_NAME)
        (tmp_path / name / "predictions.sqlite3").rename(rotated)
    old = min(folder.glob("predictions-*.sqlite3"))
    old.with_name(old.name + "-shm").write_bytes(b"left by a reader")
    unknown = folder / "predictions-copy.sqlite3"  # not a name rotation gives: never deleted
    unknown.write_bytes(b"")

    retaining(SQLiteLog(folder, max_bytes=1024), keep_days=30).write([logged("new", now)])

    assert {path.name for path in folder.iterdir()} == {
        (now - timedelta(days=29)).strftime(ROTATED_NAME),
        unknown.name,
        "predictions.sqlite3",
        "predictions.lock",
    }
