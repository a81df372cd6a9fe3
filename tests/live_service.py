"""Start a baked project's service on 127.0.0.1 and put it through a fuzzer and a bounded load.

Used by test_baked_project.py once a baked project has a champion: the README's example
request, schemathesis against the live OpenAPI schema, and concurrent requests for a fixed time,
all of which must finish with no server error and nothing logged at ERROR.
"""

from __future__ import annotations

import csv
import json
import math
import re
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.client import HTTPConnection, HTTPException
from pathlib import Path
from typing import Any

import pytest
import yaml

from conftest import tool

SCHEMATHESIS_CONFIG = Path(__file__).parent / "data" / "schemathesis.toml"
#: The README's curl example: the JSON after `-d '`.
README_EXAMPLE = re.compile(r"curl -s http://127\.0\.0\.1:8000/predict .*? -d '(\{.*?\})'", re.S)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def http(method: str, url: str, body: Any = None, timeout: float = 10) -> tuple[int, Any]:
    """One request; the status and the decoded JSON body (or text, when it is not JSON)."""
    assert url.startswith("http://127.0.0.1:"), f"{url}: tests only talk to this machine"
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(  # noqa: S310 - a local test server's http URL, checked above
        url, data=data, method=method, headers={"Content-Type": "application/json"}
    )
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            status, raw = response.status, response.read()
    except urllib.error.HTTPError as error:
        status, raw = error.code, error.read()
    try:
        return status, json.loads(raw)
    except ValueError:
        return status, raw.decode("utf-8", "replace")


def wait_until_answering(url: str, timeout: float = 60, alive: Any = None) -> float:
    """Poll `url` until the server answers at all; return the seconds that took.

    `alive`, if given, is called between tries and says whether the server is still running.
    """
    start = time.monotonic()
    while True:
        try:
            http("GET", url, timeout=2)
            return time.monotonic() - start
        except OSError as error:
            if alive is not None and not alive():
                raise AssertionError(f"the server stopped before it answered {url}") from error
            if time.monotonic() - start > timeout:
                raise AssertionError(f"nothing answered {url} in {timeout:.0f} s") from error
            time.sleep(0.2)


def wait_for_status(url: str, status: int = 200, timeout: float = 60) -> tuple[float, Any]:
    """Poll GET `url` until it answers `status`; the seconds that took and the last body."""
    start = time.monotonic()
    while True:
        answered, body = http("GET", url, timeout=5)
        if answered == status:
            return time.monotonic() - start, body
        if time.monotonic() - start > timeout:
            raise AssertionError(f"{url} still answers {answered} after {timeout:.0f} s: {body}")
        time.sleep(0.3)


def sample_records(project: Path, count: int = 1) -> list[dict[str, Any]]:
    """Rows of a baked project's sample CSV as request records: features only, typed by the
    data contract (no ID, no target), skipping rows with empty values."""
    contract = yaml.safe_load((project / "configs" / "contract.yaml").read_text(encoding="utf-8"))
    config = yaml.safe_load((project / "configs" / "project.yaml").read_text(encoding="utf-8"))
    types = {feature["name"]: feature["type"] for feature in contract["features"]}
    convert = {
        "numeric": float,
        "boolean": lambda value: {"true": True, "false": False}[value.lower()],
    }
    records = []
    with (project / config["data"]["path"]).open(encoding="utf-8", newline="") as rows:
        for row in csv.DictReader(rows):
            if any(row[name] == "" for name in types):
                continue
            records.append({name: convert.get(types[name], str)(row[name]) for name in types})
            if len(records) == count:
                break
    assert len(records) == count, "the sample data has too few complete rows"
    return records


@contextmanager
def serving(project: Path, slug: str, prefix: str, env: dict[str, str]) -> Iterator[str]:
    """`uv run SLUG serve` on a free port; yields its base URL once /ready answers 200."""
    port = free_port()
    log = project / "serve.log"
    server_env = env | {f"{prefix}PORT": str(port), f"{prefix}HOST": "127.0.0.1"}
    with log.open("w", encoding="utf-8") as output:
        server = subprocess.Popen(
            [tool("uv"), "run", slug, "serve"],
            cwd=project,
            env=server_env,
            stdout=output,
            stderr=subprocess.STDOUT,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            wait_until_answering(f"{url}/health", timeout=120, alive=lambda: server.poll() is None)
            wait_for_status(f"{url}/ready", 200, timeout=120)
            yield url
        finally:
            server.terminate()
            server.wait(timeout=30)
    errors = [line for line in log.read_text(encoding="utf-8").splitlines() if '"ERROR"' in line]
    assert not errors, "the server logged errors:\n" + "\n".join(errors[:5])


def readme_example(project: Path) -> dict[str, Any]:
    """The request body of the README's curl example."""
    found = README_EXAMPLE.search((project / "README.md").read_text(encoding="utf-8"))
    assert found, "the README has no curl example for /predict"
    example: dict[str, Any] = json.loads(found.group(1))
    return example


def fuzz(url: str, workdir: Path, *, max_examples: int = 30) -> str:
    """Run schemathesis with every check against the live schema; fail on any finding."""
    result = subprocess.run(
        [
            tool("schemathesis"),
            "--config-file",
            str(SCHEMATHESIS_CONFIG),
            "run",
            f"{url}/openapi.json",
            "--checks",
            "all",
            "--max-examples",
            str(max_examples),
            "--seed",
            "1",
            "--workers",
            "1",
        ],
        capture_output=True,
        text=True,
        cwd=workdir,  # where it keeps its example database
        timeout=600,
        check=False,
    )
    summary = result.stdout[-3000:]
    assert result.returncode == 0, f"schemathesis found problems:\n{summary}"
    return summary


@dataclass
class LoadResult:
    """What a bounded load run sent and got back."""

    requests: int
    errors: list[str]
    seconds: float


def load(
    url: str, records: list[dict[str, Any]], *, concurrency: int = 16, seconds: float = 20
) -> LoadResult:
    """Send single and 10-record batch requests from `concurrency` keep-alive connections.

    Bounded in time and count (at most 200,000 requests). Any answer but 200 is an error.
    20 s of 16 connections meets the service's races (micro-batches, the prediction log's
    writer, metrics) in a third of CI's former minute; throughput is the serving benchmark's.
    """
    assert url.startswith("http://127.0.0.1:"), "load goes to this machine only"
    host, port = url.removeprefix("http://").split(":")
    bodies = [("/predict", json.dumps(record).encode()) for record in records]
    bodies.append(("/predict/batch", json.dumps({"records": records[:10]}).encode()))
    deadline = time.monotonic() + seconds
    lock = threading.Lock()
    sent = [0]
    errors: list[str] = []

    def client() -> None:
        connection = HTTPConnection(host, int(port), timeout=30)
        index = 0
        while time.monotonic() < deadline:
            with lock:
                if sent[0] >= 200_000:
                    return
                sent[0] += 1
            path, body = bodies[index % len(bodies)]
            index += 1
            try:
                connection.request(
                    "POST", path, body=body, headers={"Content-Type": "application/json"}
                )
                response = connection.getresponse()
                answer = response.read()
                if response.status != 200:
                    errors.append(f"{path}: {response.status} {answer[:200]!r}")
            except (OSError, HTTPException) as error:
                errors.append(f"{path}: {error!r}")
                connection.close()
                connection = HTTPConnection(host, int(port), timeout=30)
        connection.close()

    started = time.monotonic()
    threads = [threading.Thread(target=client) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return LoadResult(sent[0], errors, time.monotonic() - started)


def assert_explanation_adds_up(predicted: dict[str, Any], explained: dict[str, Any]) -> None:
    """An /explain answer: its base values plus contributions give /predict's answer."""
    outputs = explained["explanations"]
    totals = [output["base_value"] + sum(output["contributions"].values()) for output in outputs]
    if explained["space"] == "units":
        assert totals == pytest.approx([predicted["prediction"]], abs=1e-6), explained
        return
    wanted = [predicted["probabilities"][output["output"]] for output in outputs]
    if explained["space"] == "log-odds" and len(totals) == 1:
        totals = [1 / (1 + math.exp(-totals[0]))]
    elif explained["space"] == "log-odds":  # each class's score: probabilities are their softmax
        exps = [math.exp(total - max(totals)) for total in totals]
        totals = [e / sum(exps) for e in exps]
    assert totals == pytest.approx(wanted, abs=1e-6), explained


def check_live_service(
    project: Path, slug: str, prefix: str, env: dict[str, str], *, canary: bool = False
) -> None:
    """Serve the champion; the README example, the fuzzer and a bounded load must all pass.

    With `canary`, an exported copy of the champion is loaded beside it as a challenger that
    answers half the requests, so the fuzzer and the load meet the split too; that load runs
    60 s (issue 16), the others 20 s.
    """
    if canary:
        challenger = project / "models" / "challenger"
        subprocess.run(
            [tool("uv"), "run", slug, "export", str(challenger), "--force"],
            cwd=project,
            env=env,
            check=True,
            capture_output=True,
        )
        env = env | {
            f"{prefix}ROLLOUT": "canary",
            f"{prefix}CANARY_SHARE": "0.5",
            f"{prefix}CHALLENGER_URI": str(challenger),
        }
    with serving(project, slug, prefix, env) as url:
        status, body = http("POST", f"{url}/predict", readme_example(project))
        assert status == 200, body
        assert body["model_version"] == "1"
        status, explained = http("POST", f"{url}/explain", readme_example(project), timeout=60)
        assert status == 200, explained
        assert_explanation_adds_up(body, explained)
        print(fuzz(url, project))
        result = load(url, sample_records(project, 50), seconds=60 if canary else 20)
        print(
            f"load{' (canary)' if canary else ''}: {result.requests:,} requests at concurrency 16 "
            f"in {result.seconds:.1f} s "
            f"({result.requests / result.seconds:,.0f}/s), {len(result.errors)} errors"
        )
        assert not result.errors, result.errors[:5]
        assert result.requests > 0
        status, metrics = http("GET", f"{url}/metrics")
        assert status == 200
        assert 'handler="/predict",method="POST",status="200"' in metrics
        if canary:  # both variants answered, and neither ever fell back
            assert 'variant_requests_total{variant="challenger"}' in metrics
            assert 'variant_requests_total{variant="champion"}' in metrics
            assert "rollout_fallbacks_total{" not in metrics
