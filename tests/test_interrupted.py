"""kill -9 in the middle of a write or a training run: the next command cleans up after it.

A baked project, installed; the process is killed with SIGKILL, so nothing of it runs after
(no `finally`, no MLflow end_run); then the project's own commands run again.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sqlite3
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest
from test_baked_project import installable

from conftest import DEFAULTS, FAST, run

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(FAST, reason="TEMPLATE_TESTS_FAST=1: baked projects are not installed"),
]

SLUG = "customer-churn"
#: Kills itself with SIGKILL halfway through writing the processed data, as a killed ingest would.
KILLED_WRITE = """
import os, signal, sys
from pathlib import Path
from customer_churn.datasets import write_whole

def half(temporary):
    temporary.write_bytes(b"half a file")
    os.kill(os.getpid(), signal.SIGKILL)

write_whole(Path(sys.argv[1]), half)
"""


def running_runs(project: Path) -> int:
    """How many MLflow runs of the project are RUNNING (0 before the store exists)."""
    store = project / "mlflow.db"
    if not store.exists():
        return 0
    query = "SELECT count(*) FROM runs WHERE status = 'RUNNING'"
    try:
        with contextlib.closing(sqlite3.connect(store, timeout=1)) as connection:
            return int(connection.execute(query).fetchone()[0])
    except sqlite3.OperationalError:  # the tables are still being created
        return 0


def test_killed_writes_and_runs_are_cleaned_up_by_the_next_command(bake: Any) -> None:
    answers, env = installable(DEFAULTS)
    project = bake(**answers)
    run(["uv", "sync", "--all-extras"], cwd=project, env=env)
    run(["uv", "run", SLUG, "ingest"], cwd=project, env=env)
    processed = next((project / "data" / "processed").glob("*.parquet"))
    before = processed.read_bytes()

    killed = subprocess.run(
        ["uv", "run", "python", "-c", KILLED_WRITE, str(processed)],
        cwd=project,
        env=env,
        check=False,
    )
    assert killed.returncode in {-signal.SIGKILL, 128 + signal.SIGKILL}
    debris = list(processed.parent.glob(".*.tmp"))
    assert debris, "the killed write left nothing to clean up"
    assert processed.read_bytes() == before  # the data it was replacing is intact

    run(["uv", "run", SLUG, "ingest"], cwd=project, env=env)
    assert not list(processed.parent.glob(".*.tmp"))

    training = subprocess.Popen(
        ["uv", "run", SLUG, "train"],
        cwd=project,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    deadline = time.monotonic() + 300
    while running_runs(project) == 0:
        assert training.poll() is None, "train ended before its run could be killed"
        assert time.monotonic() < deadline, "train never started a run"
        time.sleep(0.1)
    os.killpg(training.pid, signal.SIGKILL)
    training.wait(timeout=30)
    assert running_runs(project) == 1

    output = run(["uv", "run", SLUG, "train"], cwd=project, env=env)
    assert "marked 1 run(s) KILLED, their process is gone" in output
    assert running_runs(project) == 0
