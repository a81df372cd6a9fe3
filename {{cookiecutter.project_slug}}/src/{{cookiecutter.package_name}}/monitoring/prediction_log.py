"""The prediction log: every answer the service gives, kept for drift checks and audits.

One table, `prediction_log`, a row per request, in a SQLite file by default or in PostgreSQL,
through the same SQL and the same code on Linux, macOS and Windows. Rows are inserted, never
updated, and deleted once older than `prediction_log_keep_days`. A request never waits for it:
`submit` only queues references, and a background thread encodes each request as one JSON
document and writes a quarter second's requests in one transaction.
"""

import contextlib
import json
import logging
import sqlite3
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from {{ cookiecutter.package_name }}.data.contract import DataContract, plain
from {{ cookiecutter.package_name }}.settings import Settings

logger = logging.getLogger(__name__)
#: A request's validated records, or its answers: one mapping per row.
Rows = Sequence[Mapping[str, Any]]

#: Compact JSON through the one conversion; NaN is refused (PostgreSQL's JSONB has none).
ENCODE = json.JSONEncoder(
    separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=plain
).encode
#: How long the writer gathers requests before writing them (what a crash could lose).
FLUSH_SECONDS = 0.25
#: How long a writer waits for another process's write (SQLite) or for a connection (PostgreSQL).
WAIT_SECONDS = 30
#: How often a writer deletes the rows past the retention: at its first write, then this often.
PRUNE_EVERY_SECONDS = 3600
CREATE = (
    "CREATE TABLE IF NOT EXISTS prediction_log (request_id TEXT NOT NULL, logged_at {time} NOT"
    " NULL, model_name TEXT NOT NULL, model_version TEXT NOT NULL, features {json} NOT NULL,"
    " outputs {json} NOT NULL, variant TEXT NOT NULL DEFAULT 'champion')"
)
#: Which variant made the prediction (README, Deploy): a column that logs written before
#: rollouts lack, added in place (SQLite has no IF NOT EXISTS here: `_transaction` asks first).
VARIANT = "ALTER TABLE prediction_log ADD COLUMN {exists}variant TEXT NOT NULL DEFAULT 'champion'"
INDEX = "CREATE INDEX IF NOT EXISTS prediction_log_logged_at ON prediction_log (logged_at)"
#: What a new connection runs first. Times go in as ISO text in UTC, which SQLite compares in
#: time order and PostgreSQL casts to its own type.
SETUP = {
    "sqlite": (
        "PRAGMA journal_mode=WAL",  # readers and the writer do not block each other
        "PRAGMA synchronous=NORMAL",  # WAL stays consistent on a crash
        CREATE.format(time="TEXT", json="TEXT"),
        INDEX,
    ),
    "postgresql": (
        "SELECT pg_advisory_xact_lock(hashtext('prediction_log'))",  # one worker creates it
        CREATE.format(time="TIMESTAMPTZ", json="JSONB"),
        VARIANT.format(exists="IF NOT EXISTS "),
        INDEX,
    ),
}
INSERT = (
    "INSERT INTO prediction_log (request_id, logged_at, model_name, model_version, features,"
    " outputs, variant) VALUES (?, ?, ?, ?, ?, ?, ?)"
)
PRUNE = "DELETE FROM prediction_log WHERE logged_at < ?"
SELECT = (
    "SELECT request_id, logged_at, model_name, model_version, variant, CAST(features AS TEXT),"
    " CAST(outputs AS TEXT) FROM prediction_log WHERE logged_at >= ? AND logged_at < ?"
    " ORDER BY logged_at"
)
#: What `read` returns before the logged features: a row per record, not per request.
COLUMNS = ["request_id", "row", "logged_at", "model_name", "model_version", "variant", "prediction"]


class PredictionLog:
    """The `prediction_log` table, through one DB-API connection: sqlite3's or psycopg's.

    Several processes may write one SQLite file: WAL lets them read while one writes, and the
    busy timeout makes a writer wait its turn. The connection opens on first use and stays
    open; after an error, the next call opens a new one.
    """

    def __init__(self, target: Path | str, keep_days: float | None = None) -> None:
        """Log into a SQLite file (a path, created on first write) or a PostgreSQL URL.

        Rows are kept `keep_days` days (None: for ever).
        """
        self.target = target
        self.dialect = "sqlite" if isinstance(target, Path) else "postgresql"
        self.keep_days = keep_days
        self._next_prune = 0.0
        self._connection: Any = None
        self._lock = threading.RLock()  # one connection: one thread at a time

    def write(self, rows: Sequence[tuple[Any, ...]]) -> None:
        """Append rows in one transaction (all or none), first deleting expired ones if due.

        Args:
            rows: (request_id, `iso` time, model_name, model_version, JSON array of the
                records, JSON array of the answers, variant).

        Raises:
            OSError, sqlite3.Error, psycopg.Error: the store cannot be reached or written.
        """
        with self._transaction() as cursor:
            if self.keep_days is not None and time.monotonic() >= self._next_prune:
                self._next_prune = time.monotonic() + PRUNE_EVERY_SECONDS
                cutoff = datetime.now(UTC) - timedelta(days=self.keep_days)
                cursor.execute(self._sql(PRUNE), (iso(cutoff),))
            cursor.executemany(self._sql(INSERT), rows)

    def read(self, since: datetime | None = None, until: datetime | None = None) -> pd.DataFrame:
        """The records logged from `since` (inclusive) until `until` (exclusive), oldest first.

        Returns:
            request_id, row (the record's place in its request), logged_at (UTC), model_name,
            model_version, variant, prediction, and a column per logged feature.
        """
        found: list[tuple[Any, ...]] = []
        if self.dialect == "postgresql" or Path(self.target).exists():  # reading creates nothing
            with self._transaction() as cursor:
                bounds = (iso(since or datetime.min), iso(until or datetime.max))
                found = cursor.execute(self._sql(SELECT), bounds).fetchall()
        records = [
            (request_id, row, logged_at, name, version, variant, output.get("prediction"), record)
            for request_id, logged_at, name, version, variant, features, outputs in found
            for row, (record, output) in enumerate(
                zip(json.loads(features), json.loads(outputs), strict=True)
            )
        ]
        frame = pd.DataFrame(records, columns=[*COLUMNS, "features"])
        frame["logged_at"] = pd.to_datetime(frame["logged_at"], utc=True, format="ISO8601")
        features = pd.DataFrame(frame.pop("features").tolist(), index=frame.index)
        return pd.concat([frame, features], axis=1)

    def close(self) -> None:
        """Close the connection (a later call opens a new one)."""
        with self._lock:
            if self._connection is not None:
                self._connection.close()
                self._connection = None

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[Any]:
        """A cursor in one transaction, committed at the end; an error closes the connection."""
        with self._lock:
            try:
                if self._connection is None:
                    self._connection = self._connect()
                    for statement in SETUP[self.dialect]:  # committed with the first transaction
                        self._connection.execute(statement)
                    if self.dialect == "sqlite":
                        found = self._connection.execute("PRAGMA table_info(prediction_log)")
                        if "variant" not in {column[1] for column in found}:
                            self._connection.execute(VARIANT.format(exists=""))
                yield self._connection.cursor()
                self._connection.commit()
            except BaseException:
                self.close()
                raise

    def _connect(self) -> Any:
        """A new connection to the SQLite file (its folder created) or the PostgreSQL server."""
        if isinstance(self.target, Path):
            self.target.parent.mkdir(parents=True, exist_ok=True)
            return sqlite3.connect(self.target, timeout=WAIT_SECONDS, check_same_thread=False)
        import psycopg  # in the serve extra; imported only when the log goes to PostgreSQL

        url = self.target.replace("postgresql+psycopg://", "postgresql://", 1)
        return psycopg.connect(url, connect_timeout=WAIT_SECONDS)

    def _sql(self, statement: str) -> str:
        """A statement in the driver's placeholder style: sqlite3 takes ?, psycopg %s."""
        return statement if self.dialect == "sqlite" else statement.replace("?", "%s")


def open_log(settings: Settings) -> PredictionLog | None:
    """The log the settings choose: none, PostgreSQL when a URL is set, else a SQLite file."""
    if not settings.prediction_log:
        return None
    url = settings.prediction_log_url
    target = url.get_secret_value() if url else settings.prediction_log_dir / "predictions.sqlite3"
    return PredictionLog(target, settings.prediction_log_keep_days)


class PredictionLogger:
    """Writes predictions in a background thread so that a request never waits for the store.

    `written` and `dropped` count records: a record is dropped when the queue is full, its
    request cannot be encoded, or its write fails (logged, never raised).
    """

    def __init__(
        self, log: PredictionLog, contract: DataContract, *, max_queued: int = 100_000
    ) -> None:
        """Start the writer thread, which leaves out the contract's sensitive columns.

        At most `max_queued` records wait for the writer; more are dropped.
        """
        self.log = log
        self.sensitive = frozenset(column.name for column in contract.columns if column.sensitive)
        self.max_queued = max_queued
        self.written = self.dropped = 0
        self._queued = 0  # records submitted and not yet written or dropped
        self._pending: list[tuple[Any, ...]] = []  # the requests the writer takes next
        self._lock = threading.Lock()  # for the pending list, the counters and closing
        self._closing = threading.Event()  # set once: no more submits; the writer stops waiting
        self._thread = threading.Thread(target=self._run, name="prediction-log", daemon=True)
        self._thread.start()

    def submit(
        self,
        request_id: str,
        model_name: str,
        model_version: str,
        records: Rows,
        outputs: Rows,
        variant: str = "champion",
    ) -> None:
        """Queue a request's validated records and its answers, in order; never blocks or raises.

        `variant` says which model made them: the champion, a challenger, or one in shadow.
        The records and answers must not change afterwards: the writer encodes them later.
        """
        now = datetime.now(UTC)
        request = (request_id, now, model_name, model_version, records, outputs, variant)
        with self._lock:
            if self._closing.is_set() or self._queued + len(records) > self.max_queued:
                self.dropped += len(records)
            else:
                self._queued += len(records)
                self._pending.append(request)

    def close(self, timeout: float = 10.0) -> None:
        """Write what is queued (for at most `timeout` seconds), stop the thread, close the log."""
        with self._lock:
            if self._closing.is_set():
                return
            self._closing.set()
        self._thread.join(timeout)
        if self._thread.is_alive():
            logger.error("prediction log: still writing after %s s; the rest is lost", timeout)
        else:
            self.log.close()

    def _run(self) -> None:
        """The writer thread: every quarter second (and on closing), write what was submitted.

        A transaction costs far more than a row: one per quarter second keeps that cost, and
        the encoding, off the requests being answered.
        """
        closing = False
        while not closing:
            closing = self._closing.wait(FLUSH_SECONDS)
            with self._lock:
                batch, self._pending = self._pending, []
            if batch:
                self._write(batch)

    def _write(self, batch: list[tuple[Any, ...]]) -> None:
        """Encode each request (dropping those that cannot be) and write them together."""
        rows: list[tuple[Any, ...]] = []
        written = dropped = 0
        for request_id, at, name, version, records, outputs, variant in batch:
            try:
                if len(records) != len(outputs):
                    raise ValueError(f"{len(records)} records but {len(outputs)} answers")
                kept = [{k: v for k, v in r.items() if k not in self.sensitive} for r in records]
                features, answers = ENCODE(kept), ENCODE(outputs)
                rows.append((request_id, iso(at), name, version, features, answers, variant))
                written += len(records)
            except Exception:
                logger.exception("prediction log: cannot encode request %s", request_id)
                dropped += len(records)
        try:
            if rows:
                self.log.write(rows)
        except Exception:
            logger.exception("prediction log: cannot write %d records; they are dropped", written)
            written, dropped = 0, dropped + written
        with self._lock:
            self.written += written
            self.dropped += dropped
            self._queued -= written + dropped


def iso(moment: datetime) -> str:
    """A time as fixed-width ISO text in UTC (a naive time is taken as UTC): sorts in time order."""
    utc = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return utc.isoformat(timespec="microseconds")
