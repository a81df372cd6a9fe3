"""Start a baked project's service on 127.0.0.1 and put it through a fuzzer and a bounded load.

Used by test_baked_project.py once a baked project has a champion: the README's example
request, schemathesis against the live OpenAPI schema, and concurrent requests for a fixed time,
all of which must finish with no server error and nothing logged at ERROR.
"""

from __future__ import annotations

import json
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.client import HTTPConnection, HTTPException
from pathlib import Path
from typing import Any

from dockerfiles import free_port, http, sample_records, wait_for_status, wait_until_answering

from conftest import tool

SCHEMATHESIS_CONFIG = Path(__file__).parent / "data" / "schemathesis.toml"
#: The README's curl example: the JSON after `-d '`.
README_EXAMPLE = re.compile(r"curl -s http://127\.0\.0\.1:8000/predict .*? -d '(\{.*?\})'", re.S)


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
    url: str, records: list[dict[str, Any]], *, concurrency: int = 16, seconds: float = 60
) -> LoadResult:
    """Send single and 10-record batch requests from `concurrency` keep-alive connections.

    Bounded in time and count (at most 200,000 requests). Any answer but 200 is an error.
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


def check_live_service(project: Path, slug: str, prefix: str, env: dict[str, str]) -> None:
    """Serve the champion; the README example, the fuzzer and a bounded load must all pass."""
    with serving(project, slug, prefix, env) as url:
        status, body = http("POST", f"{url}/predict", readme_example(project))
        assert status == 200, body
        assert body["model_version"] == "1"
        print(fuzz(url, project))
        result = load(url, sample_records(project, 50))
        print(
            f"load: {result.requests:,} requests at concurrency 16 in {result.seconds:.1f} s "
            f"({result.requests / result.seconds:,.0f}/s), {len(result.errors)} errors"
        )
        assert not result.errors, result.errors[:5]
        assert result.requests > 0
        status, metrics = http("GET", f"{url}/metrics")
        assert status == 200
        assert 'route="/predict",status="200"' in metrics
