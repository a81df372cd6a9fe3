"""The prediction log: every answer the service gives, kept for drift checks and audits.

Rows are inserted, never updated, and deleted only once older than the retention
(`prediction_log_keep_days`). By default the log is a folder of SQLite files (a new file once
the current one passes a size); for several servers, one PostgreSQL table. Requests never wait
for it: `PredictionLogger` queues the rows and one background thread writes them, a burst at a
time.
"""

import contextlib
import fcntl
import json
import logging
import math
import queue
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from {{ cookiecutter.package_name }}.data.contract import DataContract
from {{ cookiecutter.package_name }}.settings import Settings

if TYPE_CHECKING:
    import psycopg

logger = logging.getLogger(__name__)

#: Compact JSON: the log holds millions of these.
ENCODE = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
#: Types JSON holds as they are (a float also needs to be finite).
PLAIN_TYPES = frozenset({str, int, bool})
FIXED_COLUMNS = ["request_id", "row", "logged_at", "model_name", "model_version"]
#: The most rows one write holds: a burst becomes a few transactions, not thousands.
MAX_ROWS_PER_WRITE = 1000
#: How long the writer gathers rows before writing them (what a crash could lose).
FLUSH_SECONDS = 0.25
#: How long a writer waits for another process's write (SQLite) or for a connection (PostgreSQL).
WAIT_SECONDS = 30
#: How often a writer deletes the rows past the retention: at its first write, then this often.
PRUNE_EVERY_SECONDS = 3600
#: A rotated SQLite file's name: the time it was renamed aside, after its last row was logged.
ROTATED_NAME = "predictions-%Y%m%dT%H%M%S%fZ.sqlite3"
# Open bounds for read(): every row falls between them.
EARLIEST = datetime.min.replace(tzinfo=UTC)
LATEST = datetime.max.replace(tzinfo=UTC)
# "row" is quoted: it is an SQL keyword.
SELECT = 'SELECT request_id, "row", logged_at, model_name, model_version, features, output FROM prediction_log'
SQLITE_SCHEMA = (
    'CREATE TABLE IF NOT EXISTS prediction_log (request_id TEXT NOT NULL, "row" INTEGER NOT NULL,'
    " logged_at TEXT NOT NULL, model_name TEXT NOT NULL, model_version TEXT NOT NULL,"
    " features TEXT NOT NULL, output TEXT NOT NULL)",
    "CREATE INDEX IF NOT EXISTS prediction_log_logged_at ON prediction_log (logged_at)",
)
POSTGRES_SCHEMA = (
    'CREATE TABLE IF NOT EXISTS prediction_log (request_id TEXT NOT NULL, "row" INTEGER NOT NULL,'
    " logged_at TIMESTAMPTZ NOT NULL, model_name TEXT NOT NULL, model_version TEXT NOT NULL,"
    " features JSONB NOT NULL, output JSONB NOT NULL)",
    "CREATE INDEX IF NOT EXISTS prediction_log_logged_at ON prediction_log (logged_at)",
)


@dataclass(frozen=True)
class LoggedPrediction:
    """One record the service scored, and what it answered."""

    request_id: str
    row: int  # the record's position in its request (0 for /predict)
    logged_at: datetime  # timezone-aware, UTC
    model_name: str
    model_version: str
    features: dict[str, Any]  # the validated input record, JSON-ready, without sensitive columns
    output: dict[str, Any]  # the answer for this record, such as {"prediction": 123.4}


class PredictionLog(ABC):
    """A store of logged predictions, each kept until it is `keep_days` old."""

    def __init__(self, keep_days: float | None = None) -> None:
        """Keep rows `keep_days` days (None: for ever)."""
        self.keep_days = keep_days
        self._next_prune = -math.inf

    def _prune_due(self) -> datetime | None:
        """The time before which rows go, when a write should delete them now; else None."""
        now = time.monotonic()
        if self.keep_days is None or now < self._next_prune:
            return None
        self._next_prune = now + PRUNE_EVERY_SECONDS
        return datetime.now(UTC) - timedelta(days=self.keep_days)

    @abstractmethod
    def write(self, rows: Sequence[LoggedPrediction]) -> None:
        """Append rows, in one transaction: all of them are stored, or none."""

    @abstractmethod
    def read(self, since: datetime | None = None, until: datetime | None = None) -> pd.DataFrame:
        """The rows logged from `since` (inclusive) until `until` (exclusive), oldest first.

        Returns:
            request_id, row, logged_at (UTC), model_name, model_version, one column per logged
            feature, and prediction; no rows (but those fixed columns) when nothing was logged.
        """

    def close(self) -> None:  # noqa: B027 (a store with nothing to release needs no override)
        """Release connections (a later call opens them again)."""


class SQLiteLog(PredictionLog):
    """SQLite files in one folder: `predictions.sqlite3`, and the older files it was renamed to.

    Several processes (the service's workers) may share the folder. SQLite finds a database's
    write-ahead log by file name, so a connection kept open while another process renames the
    file would write into the new file's log. Hence a connection is open only while its process
    holds the folder's lock file: exclusively to write (and rotate), shared to read. Each write
    thus opens whatever file is current, and no file is renamed under an open connection.
    """

    def __init__(self, directory: Path, max_bytes: int, keep_days: float | None = None) -> None:
        """Log into `directory` (created on first write), renaming the file past `max_bytes`."""
        super().__init__(keep_days)
        self.directory = directory
        self.max_bytes = max_bytes
        self.path = directory / "predictions.sqlite3"

    def write(self, rows: Sequence[LoggedPrediction]) -> None:
        """Append rows to the current file, first renaming it aside when it is past max_bytes.

        Rows past the retention go first: whole rotated files, and the current file's old rows.

        Raises:
            OSError: the folder cannot be created or locked.
            sqlite3.Error: the file cannot be written.
        """
        if not rows:
            return
        values = _values(rows, _iso, ENCODE)
        with self._locked(fcntl.LOCK_EX):  # alone in the folder: no other connection is open
            if self._size() > self.max_bytes:
                self._rotate()
            cutoff = self._prune_due()
            if cutoff is not None:
                self._prune(cutoff)
            self._insert(values)

    def read(self, since: datetime | None = None, until: datetime | None = None) -> pd.DataFrame:
        """Rows from every file in the folder, rotated and current (see `PredictionLog.read`)."""
        found: list[tuple[Any, ...]] = []
        bounds = [_iso(bound) for bound in _bounds(since, until)]
        query = f"{SELECT} WHERE logged_at >= ? AND logged_at < ?"
        if self.directory.is_dir():  # reading never creates the folder
            with self._locked(fcntl.LOCK_SH):
                for path in sorted(self.directory.glob("predictions*.sqlite3")):
                    with contextlib.closing(self._connect(path)) as connection:
                        found += connection.execute(query, bounds).fetchall()
        return _frame(
            (*r[:2], datetime.fromisoformat(r[2]), *r[3:5], json.loads(r[5]), json.loads(r[6]))
            for r in found
        )

    @contextlib.contextmanager
    def _locked(self, mode: int) -> Iterator[None]:
        """Hold the folder's lock file: `fcntl.LOCK_SH` (shared) or `fcntl.LOCK_EX` (exclusive)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        with (self.directory / "predictions.lock").open("a") as handle:
            fcntl.flock(handle, mode)  # released when the file is closed
            yield

    def _size(self) -> int:
        """The current file's size, with its write-ahead log; 0 before the first write."""
        files = (self.path, self.path.with_name(self.path.name + "-wal"))
        return sum(path.stat().st_size for path in files if path.exists())

    def _connect(self, path: Path) -> sqlite3.Connection:
        """A connection to one file, in WAL mode, with the table in place."""
        connection = sqlite3.connect(path, timeout=WAIT_SECONDS)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute("PRAGMA synchronous=NORMAL")  # WAL stays consistent on a crash
            for statement in SQLITE_SCHEMA:
                connection.execute(statement)
        except BaseException:
            connection.close()
            raise
        return connection

    def _insert(self, values: list[tuple[Any, ...]]) -> None:
        with contextlib.closing(self._connect(self.path)) as connection, connection:
            connection.executemany(
                "INSERT INTO prediction_log VALUES (?, ?, ?, ?, ?, ?, ?)", values
            )

    def _rotate(self) -> None:
        """Rename the current file aside; the next insert starts a new one."""
        with contextlib.closing(self._connect(self.path)) as connection:
            # Into the file, in case a crashed writer left a log: closing then deletes the log.
            connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        target = self.directory / datetime.now(UTC).strftime(ROTATED_NAME)
        if not target.exists():  # never overwrite (the clock went back): rotate next time
            self.path.rename(target)

    def _prune(self, cutoff: datetime) -> None:
        """Delete the rotated files renamed before `cutoff`, and older rows of the current one."""
        for path in self.directory.glob("predictions-*.sqlite3"):
            try:
                rotated = datetime.strptime(path.name, ROTATED_NAME).replace(tzinfo=UTC)
            except ValueError:  # not a name rotation gives
                continue
            if rotated < cutoff:
                for suffix in ("", "-wal", "-shm"):  # with what reading it may have left
                    path.with_name(path.name + suffix).unlink(missing_ok=True)
        if self.path.exists():
            with contextlib.closing(self._connect(self.path)) as connection, connection:
                connection.execute(
                    "DELETE FROM prediction_log WHERE logged_at < ?", (_iso(cutoff),)
                )


class PostgresLog(PredictionLog):
    """One PostgreSQL table, `prediction_log`, for any number of servers."""

    def __init__(self, url: str, keep_days: float | None = None) -> None:
        """Log to `postgresql://user:password@host:port/database`; connects on first use."""
        super().__init__(keep_days)
        self.url = url.replace("postgresql+psycopg://", "postgresql://", 1)  # SQLAlchemy's form
        self._connection: psycopg.Connection[tuple[Any, ...]] | None = None
        self._lock = threading.Lock()  # one connection: one thread at a time

    def write(self, rows: Sequence[LoggedPrediction]) -> None:
        """Append rows in one transaction, after deleting the rows past the retention.

        Raises:
            psycopg.Error: the server cannot be reached or refused the rows.
        """
        from psycopg.types.json import Jsonb

        if not rows:
            return
        values = _values(rows, _utc, Jsonb)
        with self._session() as connection:
            cutoff = self._prune_due()
            if cutoff is not None:
                connection.execute("DELETE FROM prediction_log WHERE logged_at < %s", (cutoff,))
            with connection.transaction(), connection.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO prediction_log VALUES (%s, %s, %s, %s, %s, %s, %s)", values
                )

    def read(self, since: datetime | None = None, until: datetime | None = None) -> pd.DataFrame:
        """The logged rows in a time window (see `PredictionLog.read`).

        Raises:
            psycopg.Error: the server cannot be reached.
        """
        query = f"{SELECT} WHERE logged_at >= %s AND logged_at < %s ORDER BY logged_at"
        with self._session() as connection:
            return _frame(connection.execute(query, _bounds(since, until)).fetchall())

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    @contextlib.contextmanager
    def _session(self) -> Iterator["psycopg.Connection[tuple[Any, ...]]"]:
        """The connection, opened if need be; after an error, the next call opens a new one."""
        import psycopg

        with self._lock:
            try:
                if self._connection is None:
                    self._connection = psycopg.connect(
                        self.url, autocommit=True, connect_timeout=WAIT_SECONDS
                    )
                    with self._connection.transaction():
                        # Workers starting together must not create the table concurrently.
                        self._connection.execute(
                            "SELECT pg_advisory_xact_lock(hashtext('prediction_log'))"
                        )
                        for statement in POSTGRES_SCHEMA:
                            self._connection.execute(statement)
                yield self._connection
            except BaseException:
                if self._connection is not None:
                    self._connection.close()
                    self._connection = None
                raise


def open_log(settings: Settings) -> PredictionLog | None:
    """The store the settings choose: none, PostgreSQL when a URL is set, else SQLite files."""
    if not settings.prediction_log:
        return None
    keep_days = settings.prediction_log_keep_days
    if settings.prediction_log_url is not None:
        return PostgresLog(settings.prediction_log_url.get_secret_value(), keep_days)
    return SQLiteLog(
        settings.prediction_log_dir, int(settings.prediction_log_max_mb * 1024 * 1024), keep_days
    )


@dataclass(frozen=True)
class _Request:
    """One request's records and answers, as `submit` received them."""

    request_id: str
    model_name: str
    model_version: str
    logged_at: datetime
    records: Sequence[Mapping[str, Any]]
    outputs: Sequence[Mapping[str, Any]]


class PredictionLogger:
    """Writes predictions in a background thread so that a request never waits for the store.

    `submit` only stamps the request and queues it; the writer thread turns it into rows (JSON-
    ready, without the sensitive columns) and writes them. `written` and `dropped` count rows: a
    row is dropped when the queue is full or its write fails (logged, never raised).
    """

    def __init__(
        self, log: PredictionLog, contract: DataContract, *, max_queued: int = 100_000
    ) -> None:
        """Start the writer thread.

        Args:
            log: where the rows go; closed by `close`.
            contract: says which columns are sensitive and never written.
            max_queued: the most rows waiting for the writer; more are dropped.
        """
        self.log = log
        self.sensitive = frozenset(column.name for column in contract.columns if column.sensitive)
        self.max_queued = max_queued
        self.written = 0
        self.dropped = 0
        self._queued = 0  # rows submitted and not yet written or dropped
        self._queue: queue.SimpleQueue[_Request | None] = queue.SimpleQueue()
        self._lock = threading.Lock()  # for the counters and the closed flag
        self._closed = False
        self._thread = threading.Thread(target=self._run, name="prediction-log", daemon=True)
        self._thread.start()

    def submit(
        self,
        request_id: str,
        model_name: str,
        model_version: str,
        records: Sequence[Mapping[str, Any]],
        outputs: Sequence[Mapping[str, Any]],
    ) -> None:
        """Queue one request's records and answers; never blocks and never raises.

        Args:
            request_id: the request's ID, as in the service's log lines.
            model_name: the registered model that answered.
            model_version: its version.
            records: the validated input records, in request order (not changed afterwards).
            outputs: what the API answered for each record, in the same order.
        """
        size = len(records)
        with self._lock:
            if self._closed or self._queued + size > self.max_queued:
                self.dropped += size
                return
            self._queued += size
        now = datetime.now(UTC)
        self._queue.put(_Request(request_id, model_name, model_version, now, records, outputs))

    def close(self, timeout: float = 10.0) -> None:
        """Write everything queued (for at most `timeout` seconds), stop the thread, close the log."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._queue.put(None)  # the stop marker, behind every queued request
        self._thread.join(timeout)
        if self._thread.is_alive():  # still writing: what it has not written is lost
            with self._lock:
                left, self._queued = self._queued, 0
                self.dropped += left
            logger.error("prediction log: still writing after %s s; %d rows dropped", timeout, left)
            return
        try:
            self.log.close()
        except Exception:
            logger.exception("prediction log: cannot close the store")

    def _run(self) -> None:
        """The writer thread: gather what arrives for up to FLUSH_SECONDS, write it, repeat.

        Each write costs a transaction (and, for SQLite, opening the file): gathering a busy
        second's requests into a few writes keeps that cost off the requests being answered.
        """
        stopping = False
        while not stopping:
            batch: list[LoggedPrediction] = []
            item = self._queue.get()  # wait for the first request
            deadline = time.monotonic() + FLUSH_SECONDS
            while True:
                if item is None:
                    stopping = True
                    break
                batch += self._rows(item)
                wait = deadline - time.monotonic()
                if len(batch) >= MAX_ROWS_PER_WRITE or wait <= 0:
                    break
                try:
                    item = self._queue.get(timeout=wait)
                except queue.Empty:
                    break
            if batch:
                self._write(batch)

    def _rows(self, request: _Request) -> list[LoggedPrediction]:
        """A request's rows as the store takes them; none (counted as dropped) if malformed."""
        try:
            return [
                LoggedPrediction(
                    request_id=request.request_id,
                    row=index,
                    logged_at=request.logged_at,
                    model_name=request.model_name,
                    model_version=request.model_version,
                    features={
                        k: v if type(v) in PLAIN_TYPES else _json_ready(v)
                        for k, v in record.items()
                        if k not in self.sensitive
                    },
                    output=_json_ready(output),
                )
                for index, (record, output) in enumerate(
                    zip(request.records, request.outputs, strict=True)
                )
            ]
        except Exception:
            logger.exception("prediction log: cannot log request %s", request.request_id)
            self._count(dropped=len(request.records))
            return []

    def _write(self, batch: list[LoggedPrediction]) -> None:
        try:
            self.log.write(batch)
        except Exception:
            logger.exception("prediction log: cannot write %d rows; they are dropped", len(batch))
            self._count(dropped=len(batch))
        else:
            self._count(written=len(batch))

    def _count(self, *, written: int = 0, dropped: int = 0) -> None:
        with self._lock:
            self.written += written
            self.dropped += dropped
            self._queued -= written + dropped


def _json_ready(value: Any) -> Any:
    """`value` as JSON can hold it: dates as ISO text, numpy scalars as Python's, NaN as null."""
    if value is None or type(value) in PLAIN_TYPES:  # what a validated request holds, mostly
        return value
    if type(value) is float:
        return value if math.isfinite(value) else None
    if isinstance(value, Mapping):
        return {str(key): _json_ready(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_json_ready(item) for item in value]
    if isinstance(value, np.generic):
        value = value.item()
    if value is pd.NaT or value is pd.NA or (isinstance(value, float) and not math.isfinite(value)):
        return None
    if isinstance(value, datetime | date):
        return value.isoformat()
    if value is None or isinstance(value, str | int | float):
        return value
    return str(value)  # anything else (a Decimal, say) as text: a write must not fail on it


def _values(
    rows: Sequence[LoggedPrediction],
    stamp: Callable[[datetime], Any],
    document: Callable[[Any], Any],
) -> list[tuple[Any, ...]]:
    """Rows as INSERT parameters, with times and JSON documents in the store's own form."""
    return [
        (
            r.request_id,
            r.row,
            stamp(r.logged_at),
            r.model_name,
            r.model_version,
            document(r.features),
            document(r.output),
        )
        for r in rows
    ]


def _utc(moment: datetime) -> datetime:
    """A time in UTC; a naive time is taken to be UTC already."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _iso(moment: datetime) -> str:
    """A time as fixed-width ISO text in UTC, which sorts in time order."""
    return _utc(moment).isoformat(timespec="microseconds")


def _bounds(since: datetime | None, until: datetime | None) -> tuple[datetime, datetime]:
    """A read()'s window, with open ends replaced by the earliest and latest times."""
    return (EARLIEST if since is None else _utc(since), LATEST if until is None else _utc(until))


def _frame(rows: Iterable[tuple[Any, ...]]) -> pd.DataFrame:
    """Rows of (fixed fields..., features, output) as a flat frame ordered by logged_at."""
    rows = list(rows)
    frame = pd.DataFrame([row[:5] for row in rows], columns=FIXED_COLUMNS)
    frame["logged_at"] = pd.to_datetime(frame["logged_at"], utc=True)
    features = pd.DataFrame([row[5] for row in rows], index=frame.index)
    frame = pd.concat([frame, features], axis=1)
    frame["prediction"] = [row[6].get("prediction") for row in rows]
    return frame.sort_values("logged_at", kind="stable", ignore_index=True)
