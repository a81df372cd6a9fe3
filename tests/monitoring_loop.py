"""The monitoring loop of a baked project, end to end, against its running service.

Serve the champion with a fresh prediction log; send a bounded set of the shipped rows, then the
same number of rows with one numeric feature moved up (redrawn from its top 30%, so every value
stays valid); stop the service. The log must hold exactly the predictions answered; `drift`
must find nothing in the first window and exactly the moved feature in the second; `retrain` on
the moved rows (labels included) must run the quality gate.
"""

from __future__ import annotations

import csv
import json
import random
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml
from live_service import http, serving

from conftest import run, tool

ROWS_PER_WINDOW = 200


def shipped_rows(project: Path) -> tuple[list[dict[str, str]], dict[str, Any]]:
    """The sample CSV's complete rows (ID, features, target) and the data contract."""
    contract = yaml.safe_load((project / "configs" / "contract.yaml").read_text(encoding="utf-8"))
    config = yaml.safe_load((project / "configs" / "project.yaml").read_text(encoding="utf-8"))
    with (project / config["data"]["path"]).open(encoding="utf-8", newline="") as file:
        rows = [row for row in csv.DictReader(file) if all(row.values())]
    return rows, contract


def moved(rows: list[dict[str, str]], name: str, seed: int = 0) -> list[dict[str, str]]:
    """The rows with feature `name` redrawn from the top 30% of its values."""
    values = sorted(float(row[name]) for row in rows)
    high = values[int(0.7 * len(values)) :]
    pick = random.Random(seed)  # noqa: S311 - test data, not security
    return [row | {name: repr(pick.choice(high))} for row in rows]


def as_record(row: dict[str, str], contract: dict[str, Any]) -> dict[str, Any]:
    """A CSV row as a /predict request body, typed by the contract."""
    convert = {"numeric": float, "boolean": lambda value: value.lower() == "true"}
    return {f["name"]: convert.get(f["type"], str)(row[f["name"]]) for f in contract["features"]}


def send_all(url: str, records: list[dict[str, Any]]) -> list[str]:
    """POST each record to /predict from 8 threads; every answer must be 200."""

    def send(record: dict[str, Any]) -> str:
        status, body = http("POST", f"{url}/predict", record, timeout=30)
        assert status == 200, body
        return str(body["request_id"])

    with ThreadPoolExecutor(max_workers=8) as pool:
        return list(pool.map(send, records))


def instant() -> str:
    """Now, in whole seconds of UTC, as `drift --since/--until` read it; then a second passes,
    so that windows on either side of it never share a prediction."""
    moment = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1)
    time.sleep(max(0.0, (moment - datetime.now(UTC)).total_seconds()) + 1.0)
    return moment.strftime("%Y-%m-%dT%H:%M:%S")


def command(project: Path, slug: str, env: dict[str, str], *args: str) -> tuple[int, str]:
    """Run one of the project's commands; its exit code and output, whatever the code."""
    completed = subprocess.run(
        [tool("uv"), "run", slug, *args],
        cwd=project,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    return completed.returncode, completed.stdout + completed.stderr


def check_monitoring_loop(project: Path, slug: str, prefix: str, env: dict[str, str]) -> None:
    """Serve, log, detect drift in the right window only, and retrain through the gate."""
    rows, contract = shipped_rows(project)
    feature = next(f["name"] for f in contract["features"] if f["type"] == "numeric")
    plain = rows[-ROWS_PER_WINDOW:]
    shifted = moved(rows, feature)[-2 * ROWS_PER_WINDOW : -ROWS_PER_WINDOW]
    env = env | {f"{prefix}PREDICTION_LOG_DIR": str(project / "logs" / "loop")}

    with serving(project, slug, prefix, env) as url:
        start = instant()
        answered = send_all(url, [as_record(row, contract) for row in plain])
        middle = instant()
        answered += send_all(url, [as_record(row, contract) for row in shifted])
        end = instant()
    # The service has stopped: whatever it had queued is written.

    count = (
        "from customer_churn.monitoring.prediction_log import open_log;"
        "from customer_churn.settings import load_settings;"
        "frame = open_log(load_settings()).read();"
        "print(len(frame), len(set(frame['request_id'])))"
    )
    logged = run([tool("uv"), "run", "python", "-c", count], cwd=project, env=env).split()
    assert logged[-2:] == [str(len(answered)), str(len(set(answered)))], logged

    code, output = command(project, slug, env, "drift", "--since", start, "--until", middle)
    assert code == 0, output
    assert "No drift found" in output
    code, output = command(project, slug, env, "drift", "--since", middle, "--until", end)
    assert code == 3, output
    report = json.loads((project / "reports" / "drift" / "drift.json").read_text(encoding="utf-8"))
    drifted = [f["name"] for f in report["features"] if f["drifted"]]
    assert drifted == [feature], report
    print(f"drift: the moved feature {feature} was found, and only it")

    labelled = project / "moved.csv"
    with labelled.open("w", encoding="utf-8", newline="") as file:
        writer = csv.DictWriter(file, fieldnames=list(shifted[0]))
        writer.writeheader()
        writer.writerows(shifted)
    code, output = command(project, slug, env, "retrain", str(labelled))
    # Either verdict is the gate's to give; it must have been given, with its reason.
    if code == 0:
        assert "version 2 promoted" in output, output
    else:
        assert code == 1, output
        assert "version 2 was not promoted" in output, output
    print("retrain:", next(line for line in output.splitlines() if "promoted" in line))
