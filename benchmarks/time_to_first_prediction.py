"""Time from nothing to a first prediction: bake, install, train, serve, predict.

Usage: uv run python benchmarks/time_to_first_prediction.py [--skip-warmup] [--timeout 300]

What a new user does, timed phase by phase in a temporary folder: `cookiecutter --no-input`
(the default answers, with this interpreter's Python version), `uv sync --all-extras`,
`uv run <slug> run` (ingest, train, evaluate, promote), then `uv run <slug> serve` on a free
port of 127.0.0.1 until a POST /predict with a sample record answers 200. The figure is for a
warm uv cache: an untimed bake and sync come first unless --skip-warmup. Python is never
downloaded (UV_PYTHON_DOWNLOADS=never). The server and the folder are removed however it ends.
"""

from __future__ import annotations

import argparse
import csv
import http.client
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import yaml

TEMPLATE_DIR = Path(__file__).resolve().parents[1]
TARGET_SECONDS = 60.0
HOST = "127.0.0.1"


def tool(name: str) -> str:
    """A command from this environment (where `uv run` put us), else from PATH."""
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    if found is None:
        sys.exit(f"{name} not found: run this with the template's environment (uv run python ...)")
    return found


def environment() -> dict[str, str]:
    """This environment without the caller's virtualenv, and with no Python downloads."""
    env = {k: v for k, v in os.environ.items() if k != "VIRTUAL_ENV"}
    return env | {"UV_PYTHON_DOWNLOADS": "never"}


def bake(output: Path, python_version: str) -> Path:
    """Bake the default answers into `output`; return the project folder."""
    subprocess.run(
        [
            tool("cookiecutter"),
            str(TEMPLATE_DIR),
            "--no-input",
            "--output-dir",
            str(output),
            f"python_version={python_version}",
        ],
        check=True,
        capture_output=True,
        env=environment(),
    )
    (project,) = [path for path in output.iterdir() if path.is_dir()]
    return project


def step(command: list[str], project: Path, timeout: float) -> None:
    """Run one command in the project; stop with its output if it fails."""
    done = subprocess.run(
        command,
        cwd=project,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if done.returncode != 0:
        sys.exit(f"{' '.join(command)} failed:\n{done.stdout[-2000:]}{done.stderr[-2000:]}")


def sample_record(project: Path) -> bytes:
    """The first row of the sample data as a /predict body: the contract's features, typed."""
    config = yaml.safe_load((project / "configs" / "project.yaml").read_text("utf-8"))
    contract = yaml.safe_load((project / config["data"]["contract"]).read_text("utf-8"))
    with (project / config["data"]["path"]).open(newline="", encoding="utf-8") as data:
        row = next(csv.DictReader(data))
    record: dict[str, Any] = {}
    for feature in contract["features"]:
        value = row[feature["name"]]
        if value == "":
            record[feature["name"]] = None
        elif feature["type"] == "numeric":
            record[feature["name"]] = float(value)
        elif feature["type"] == "boolean":
            record[feature["name"]] = value.strip().lower() in ("true", "1", "yes")
        else:
            record[feature["name"]] = value
    return json.dumps(record).encode()


def free_port() -> int:
    """A TCP port nobody listens on now, on the loopback interface."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def predicts(port: int, body: bytes) -> bool:
    """Whether POST /predict answers 200 now."""
    connection = http.client.HTTPConnection(HOST, port, timeout=5)
    try:
        connection.request("POST", "/predict", body, {"Content-Type": "application/json"})
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


def first_prediction(project: Path, slug: str, timeout: float) -> float:
    """Seconds from starting `uv run <slug> serve` to the first 200 from POST /predict."""
    body = sample_record(project)
    port = free_port()
    command = [tool("uv"), "run", slug, "serve", "--host", HOST, "--port", str(port)]
    with tempfile.TemporaryFile() as log:
        started = time.perf_counter()
        server = subprocess.Popen(
            command,
            cwd=project,
            env=environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            while not predicts(port, body):
                if server.poll() is not None or time.perf_counter() - started > timeout:
                    log.seek(0)
                    tail = log.read().decode(errors="replace")[-2000:]
                    sys.exit(f"no prediction from {' '.join(command)}:\n{tail}")
                time.sleep(0.1)
            return time.perf_counter() - started
        finally:
            stop(server)


def stop(server: subprocess.Popen[bytes]) -> None:
    """Stop the server's process group (uv and the server under it): SIGTERM, then SIGKILL."""
    for sent in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(server.pid, sent)
        except ProcessLookupError:
            return
        try:
            server.wait(timeout=15)
            return
        except subprocess.TimeoutExpired:
            continue


def main() -> None:
    """Warm the cache, then time each phase once and print them with the total."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip-warmup", action="store_true", help="no untimed bake and sync first")
    parser.add_argument(
        "--timeout", type=float, default=300.0, help="seconds allowed to each phase"
    )
    arguments = parser.parse_args()
    python_version = f"{sys.version_info.major}.{sys.version_info.minor}"
    choices = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text())["python_version"]
    if python_version not in choices:
        sys.exit(f"this is Python {python_version}; the template offers {', '.join(choices)}")
    uv = tool("uv")

    with tempfile.TemporaryDirectory(ignore_cleanup_errors=True) as scratch:
        if not arguments.skip_warmup:
            warm = bake(Path(scratch) / "warmup", python_version)
            step([uv, "sync", "--all-extras"], warm, arguments.timeout)
            shutil.rmtree(warm, ignore_errors=True)

        load = os.getloadavg()[0]
        phases: dict[str, float] = {}
        started = time.perf_counter()
        project = bake(Path(scratch) / "timed", python_version)
        phases["bake (cookiecutter --no-input)"] = time.perf_counter() - started
        slug = project.name
        for name, command in (
            ("uv sync --all-extras", [uv, "sync", "--all-extras"]),
            (f"uv run {slug} run", [uv, "run", slug, "run"]),
        ):
            started = time.perf_counter()
            step(command, project, arguments.timeout)
            phases[name] = time.perf_counter() - started
        phases[f"uv run {slug} serve, to a first 200 from POST /predict"] = first_prediction(
            project, slug, arguments.timeout
        )

    total = sum(phases.values())
    cache = "warm (after an untimed bake and sync)" if not arguments.skip_warmup else "as found"
    print(f"Time to first prediction, default answers, Python {python_version}, uv cache {cache}:")
    width = max(len(name) for name in phases)
    for name, seconds in phases.items():
        print(f"  {name:<{width}}  {seconds:6.1f} s")
    verdict = "under" if total < TARGET_SECONDS else "over"
    print(f"  {'total':<{width}}  {total:6.1f} s ({verdict} the {TARGET_SECONDS:.0f} s target)")
    print(f"  load average at the start: {load:.2f} on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
