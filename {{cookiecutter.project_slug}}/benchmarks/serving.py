"""Throughput and latency of the prediction service, against `mlflow models serve` and the floor.

Usage, from the project root, once `run` has made a champion:
    uv run python benchmarks/serving.py [--requests 2000] [--batch-requests 200]
        [--concurrency 8] [--duration 60] [--floor-seconds 5] [--rounds 1] [--skip-mlflow]
        [--json PATH] [--readme]

On one champion model, in one run: the registered version is exported to a temporary folder;
the in-process floor is timed (`predict_records`, the handler's prediction path without HTTP,
JSON or validation); then our service (`{{ cookiecutter.project_slug }} serve`, loading the
exported folder, its /explain timed too where SHAP is installed{% if cookiecutter.include_monitoring %}, once logging every prediction, once with the log off, then with a challenger in shadow and as a 10% canary{% endif %}) and MLflow's scoring server
(`mlflow models serve`, loading the same version) are started one after the other, each timed
from process start to ready, warmed up, and sent a fixed number of requests at a fixed
concurrency: single records, then batches of 100, built from the shipped sample data. Every
load stops after --duration seconds whatever it has sent. With --rounds N, our servers are
started N times, in turn, and each figure is the median of the rounds: on a shared machine,
servers measured one after the other have differed by a third with nothing changed.

The load comes from a small HTTP/1.1 keep-alive client in this script (one connection per
request in flight, every request's bytes built beforehand, uvloop when installed). It spends
well under a millisecond of CPU per request, against several milliseconds for either server:
the table shows both, so a client that became the bottleneck would show. Exits with 1 if any
request failed, so it doubles as a bounded load test that must see no errors.
"""

import argparse
import asyncio
import http.client
import importlib.util
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from statistics import median
from typing import Any

from figures import write_figures

from {{ cookiecutter.package_name }}.config import load_config
from {{ cookiecutter.package_name }}.data.contract import (
    DataContract,
    load_contract,
    plain,
)
from {{ cookiecutter.package_name }}.data.datasets import read_source
from {{ cookiecutter.package_name }}.data.validation import validate
from {{ cookiecutter.package_name }}.serving.model import (
    export_model,
    is_registry_uri,
    load_configured_model,
    registered_metadata,
)
from {{ cookiecutter.package_name }}.serving.routers.predict import predict_records
from {{ cookiecutter.package_name }}.serving.schemas import record_model
from {{ cookiecutter.package_name }}.settings import ENV_PREFIX, Settings, load_settings
{%- if cookiecutter.task == "classification" %}
from {{ cookiecutter.package_name }}.training.predictions import threshold_of
{%- endif %}

BATCH_ROWS = 100
WARMUP_REQUESTS = 100
READY_TIMEOUT = 180.0  # seconds a server may take to load before the benchmark gives up
REQUEST_TIMEOUT = 30.0  # seconds past the --duration cap that requests still in flight may take
HOST = "127.0.0.1"


@dataclass
class Load:
    """What one bounded load against one server measured."""

    server: str
    kind: str
    rows_per_request: int
    requests: int
    errors: int
    seconds: float
    requests_per_second: float
    p50_ms: float
    p99_ms: float
    server_cpu_ms_per_request: float | None
    client_cpu_ms_per_request: float


@dataclass
class Floor:
    """`predict_records` called in a loop, in this process: no HTTP, no JSON, no validation."""

    rows_per_call: int
    openmp: str
    calls: int
    seconds: float
    calls_per_second: float
    cpu_ms_per_call: float


# ---------------------------------------------------------------------------------------------
# The sample data, as API records


def sample_records(settings: Settings, contract: DataContract) -> list[dict[str, Any]]:
    """The shipped sample, validated, without the ID and the target, as JSON would carry it."""
    config = load_config(settings.config_file)
{%- if cookiecutter.data_source == "sql" %}
    raw = read_source(config.data, settings.database_url.get_secret_value())
{%- else %}
    raw = read_source(config.data)
{%- endif %}
    listed = {
        column.name: {str(category): category for category in column.categories}
        for column in contract.features
        if column.categories is not None
    }
    rows = validate(raw, contract)[contract.feature_names].astype(object)
    return [
        {
            name: listed[name].get(str(value), value) if name in listed else value
            for name, value in ((str(name), plain(value)) for name, value in row.items())
        }
        for row in rows.to_dict(orient="records")
    ]


def requests_for(path: str, port: int, bodies: list[Any]) -> list[bytes]:
    """Complete HTTP/1.1 requests, built once: the client only writes them."""
    built = []
    for body in bodies:
        data = json.dumps(body).encode()
        head = (
            f"POST {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
        )
        built.append(head.encode() + data)
    return built


def batches(records: list[dict[str, Any]], count: int) -> list[list[dict[str, Any]]]:
    """`count` different batches of BATCH_ROWS consecutive records (wrapping around)."""
    cycled = records * (1 + BATCH_ROWS * count // len(records))
    return [cycled[i * BATCH_ROWS : (i + 1) * BATCH_ROWS] for i in range(count)]


# ---------------------------------------------------------------------------------------------
# The in-process floor


def time_floor(
    call: Callable[[list[dict[str, Any]]], object],
    inputs: list[list[dict[str, Any]]],
    calls: int,
    duration: float,
    openmp: str,
) -> Floor:
    """Call `call` on each input in turn, `calls` times or until `duration` seconds pass."""
    for warmup in inputs[:10]:
        call(warmup)
    done = 0
    cpu_before = time.process_time()
    start = time.perf_counter()
    deadline = start + duration
    while done < calls and time.perf_counter() < deadline:
        call(inputs[done % len(inputs)])
        done += 1
    seconds = time.perf_counter() - start
    cpu_ms = 1000 * (time.process_time() - cpu_before) / done
    return Floor(len(inputs[0]), openmp, done, seconds, done / seconds, cpu_ms)


def time_floors(
    call: Callable[[list[dict[str, Any]]], object],
    rows: list[dict[str, Any]],
    arguments: argparse.Namespace,
) -> list[Floor]:
    """The floor for one row and for a batch, with OpenMP as configured and with one thread.

    scikit-learn's histogram gradient boosting runs an OpenMP parallel region per tree, by
    default on every core; for a few rows the threads cost more than they save, hence both.
    """
    from threadpoolctl import threadpool_limits  # scikit-learn's own dependency

    plan = [
        ([[row] for row in rows[:500]], arguments.requests),
        (batches(rows, 20), arguments.batch_requests),
    ]
    floors = []
    for openmp in ("as configured", "1 thread"):
        limit = 1 if openmp == "1 thread" else None
        with threadpool_limits(limits=limit, user_api="openmp"):
            for inputs, calls in plan:
                floors.append(time_floor(call, inputs, calls, arguments.floor_seconds, openmp))
    return floors


# ---------------------------------------------------------------------------------------------
# Servers


def free_port() -> int:
    """A TCP port nobody listens on now, on the loopback interface."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def answers(port: int, path: str) -> bool:
    """Whether GET `path` answers 200."""
    connection = http.client.HTTPConnection(HOST, port, timeout=2)
    try:
        connection.request("GET", path)
        return connection.getresponse().status == 200
    except OSError:
        return False
    finally:
        connection.close()


@contextmanager
def server(
    name: str, command: list[str], env: dict[str, str], port: int, ready_path: str
) -> Iterator[tuple[int, float]]:
    """Start a server in its own process group; yield its PID and seconds to ready; stop it."""
    with tempfile.TemporaryFile() as log:
        started = time.perf_counter()
        process = subprocess.Popen(  # noqa: S603 - this project's CLI or MLflow's, fixed arguments
            command, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        try:
            while not answers(port, ready_path):
                if process.poll() is not None or time.perf_counter() - started > READY_TIMEOUT:
                    log.seek(0)
                    tail = log.read().decode(errors="replace")[-3000:]
                    sys.exit(f"{name} did not become ready on port {port}:\n{tail}")
                time.sleep(0.05)
            yield process.pid, time.perf_counter() - started
        finally:
            stop(process)


def stop(process: "subprocess.Popen[bytes]") -> None:
    """SIGTERM to the server's process group (MLflow runs uvicorn as a child), then SIGKILL."""
    for sent in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(process.pid, sent)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=15)
            return
        except subprocess.TimeoutExpired:
            continue


def tree_cpu_seconds(pid: int) -> float | None:
    """CPU seconds used so far by a process and its descendants (Linux only, else None)."""
    proc = Path("/proc")
    if not (proc / str(pid)).exists():
        return None
    children: dict[int, list[int]] = {}
    cpu: dict[int, float] = {}
    tick = os.sysconf("SC_CLK_TCK")
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(entry.name))
        cpu[int(entry.name)] = (int(fields[11]) + int(fields[12])) / tick  # utime + stime
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        total += cpu.get(current, 0.0)
        todo += children.get(current, [])
    return total


# ---------------------------------------------------------------------------------------------
# The load generator: a minimal HTTP/1.1 keep-alive client


async def read_response(reader: asyncio.StreamReader) -> tuple[int, bytes, bool]:
    """Status, body and whether the server closes the connection, for one response."""
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    lower = head.lower()
    closes = b"\r\nconnection: close" in lower
    at = lower.find(b"\r\ncontent-length:")
    if at >= 0:
        end = lower.index(b"\r\n", at + 2)
        return status, await reader.readexactly(int(lower[at + 17 : end])), closes
    if b"\r\ntransfer-encoding: chunked" not in lower:
        raise ValueError("a response with neither Content-Length nor chunked encoding")
    body = b""
    while True:
        size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
        chunk = await reader.readexactly(size + 2)
        if size == 0:
            return status, body, closes
        body += chunk[:-2]


async def drive(
    port: int, requests: list[bytes], total: int, concurrency: int, duration: float
) -> tuple[list[float], int, list[bytes]]:
    """Send `total` requests over `concurrency` connections, stopping early after `duration` s.

    Returns the latency of each request answered with 200, the number of requests sent (the
    others failed: another status, a broken connection, or no answer in time), and one body.
    """
    latencies: list[float] = []
    issued = 0
    bodies: list[bytes] = []
    deadline = time.perf_counter() + duration

    async def connection() -> None:
        nonlocal issued
        writer = None
        try:
            while issued < total and time.perf_counter() < deadline:
                if writer is None:
                    try:
                        reader, writer = await asyncio.open_connection(HOST, port)
                    except OSError:  # the server is gone: this connection stops sending
                        issued += 1
                        return
                request = requests[issued % len(requests)]
                issued += 1
                start = time.perf_counter()
                try:
                    writer.write(request)
                    status, body, closes = await read_response(reader)
                except (OSError, ValueError, asyncio.IncompleteReadError):
                    closes = True
                else:
                    if status == 200:
                        latencies.append(time.perf_counter() - start)
                    if not bodies:
                        bodies.append(body)
                if closes:
                    writer.close()
                    writer = None
        finally:
            if writer is not None:
                writer.close()

    try:
        async with asyncio.timeout(duration + REQUEST_TIMEOUT):
            await asyncio.gather(*(connection() for _ in range(concurrency)))
    except TimeoutError:
        pass
    return latencies, issued, bodies


def run(coroutine: Coroutine[Any, Any, Any]) -> Any:
    """Run the client on uvloop when it is installed (it comes with uvicorn[standard])."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coroutine)
    return uvloop.run(coroutine)


def percentile(values: list[float], share: float) -> float:
    """The value below which `share` of `values` lie (nearest rank)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(share * len(ordered)) - 1))]


def measure(
    name: str,
    kind: str,
    pid: int,
    port: int,
    requests: list[bytes],
    arguments: argparse.Namespace,
    check: Callable[[bytes, int], bool],
) -> Load:
    """Warm a server up (checking an answer), then drive it and summarise what was measured."""
    rows = BATCH_ROWS if kind == "batch" else 1
    total = arguments.batch_requests if kind == "batch" else arguments.requests
    warmup = min(WARMUP_REQUESTS, total)
    warm, sent, bodies = run(
        drive(port, requests, warmup, arguments.concurrency, arguments.duration)
    )
    warm_failures = sent - len(warm)
    if not bodies or not check(bodies[0], rows):
        print(f"  {name} {kind}: unexpected answer {bodies[:1]!r}", file=sys.stderr)
        warm_failures = max(warm_failures, 1)
    server_before, client_before = tree_cpu_seconds(pid), time.process_time()
    started = time.perf_counter()
    latencies, sent, _ = run(
        drive(port, requests, total, arguments.concurrency, arguments.duration)
    )
    seconds = time.perf_counter() - started
    client_cpu = time.process_time() - client_before
    server_after = tree_cpu_seconds(pid)
    answered = max(1, sent)
    server_cpu = (
        None
        if server_before is None or server_after is None
        else 1000 * (server_after - server_before) / answered
    )
    return Load(
        server=name,
        kind=kind,
        rows_per_request=rows,
        requests=sent,
        errors=sent - len(latencies) + warm_failures,
        seconds=seconds,
        requests_per_second=len(latencies) / seconds,
        p50_ms=1000 * percentile(latencies, 0.50) if latencies else float("nan"),
        p99_ms=1000 * percentile(latencies, 0.99) if latencies else float("nan"),
        server_cpu_ms_per_request=server_cpu,
        client_cpu_ms_per_request=1000 * client_cpu / answered,
    )


def holds(key: str) -> Callable[[bytes, int], bool]:
    """A check that an answer is a JSON object with `key`: one prediction, or a list of them."""

    def check(body: bytes, rows: int) -> bool:
        try:
            answer = json.loads(body)
        except ValueError:
            return False
        if not isinstance(answer, dict) or key not in answer:
            return False
        return key != "predictions" or len(answer[key]) == rows

    return check


# ---------------------------------------------------------------------------------------------
# The run


def main() -> None:
    """Export the champion, time the floor, load both servers, print one table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="single-record requests")
    parser.add_argument("--batch-requests", type=int, default=200, help="100-record requests")
    parser.add_argument("--concurrency", type=int, default=8, help="requests in flight at once")
    parser.add_argument(
        "--duration", type=float, default=60.0, help="cap in seconds on each load (default 60)"
    )
    parser.add_argument(
        "--floor-seconds", type=float, default=5.0, help="cap in seconds on each floor loop"
    )
    parser.add_argument(
        "--rounds", type=int, default=1, help="times our servers are started in turn (medians)"
    )
    parser.add_argument("--skip-mlflow", action="store_true", help="only our service")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument("--readme", action="store_true", help="also write the table into README.md")
    arguments = parser.parse_args()

    bin_dir = Path(sys.executable).parent
    cli = shutil.which("{{ cookiecutter.project_slug }}", path=str(bin_dir))
    mlflow_cli = None if arguments.skip_mlflow else shutil.which("mlflow", path=str(bin_dir))
    if cli is None or (mlflow_cli is None and not arguments.skip_mlflow):
        sys.exit("run this in the project's environment: uv run python benchmarks/serving.py")
    settings = load_settings()
    if not is_registry_uri(settings.model_uri):
        sys.exit(f"{ENV_PREFIX}MODEL_URI must name a registered model, not {settings.model_uri}")
    config = load_config(settings.config_file)
    contract = load_contract(config.data.contract)
    load_before = os.getloadavg()[0]

    # One version for both servers: the alias could move while the benchmark runs.
    metadata, pinned = registered_metadata(settings)
    records = sample_records(settings, contract)
    singles, multiples = records[:500], batches(records, 20)
    results: list[Load] = []
    ready: dict[str, float] = {}
    path = os.pathsep.join([str(bin_dir), os.environ.get("PATH", "")])

    with tempfile.TemporaryDirectory() as scratch:
        exported = Path(scratch) / "model"
        export_model(settings.model_copy(update={"model_uri": pinned}), exported)
        print(
            f"Model: {metadata.name} version {metadata.version} ({pinned}), exported to a "
            f"temporary folder. Load average: {load_before:.2f} on {os.cpu_count()} CPUs.",
            flush=True,
        )

        # The floor: predict_records on rows made as the handler makes them (the JSON record
        # validated by the request model, then dumped by alias).
        model = load_configured_model(
            settings.model_copy(update={"model_uri": str(exported)}), contract
        )
        record_type = record_model(contract)
        rows = [record_type.model_validate(r).model_dump(by_alias=True) for r in records]
{%- if cookiecutter.task == "classification" %}
        threshold = threshold_of(model.metadata.metrics)  # as the service scores

        def predict(rows: list[dict[str, Any]]) -> object:
            return predict_records(model, contract, rows, threshold=threshold)
{%- else %}

        def predict(rows: list[dict[str, Any]]) -> object:
            return predict_records(model, contract, rows)
{%- endif %}

        floors = time_floors(predict, rows, arguments)
        print("In-process floor timed.", flush=True)

{%- if cookiecutter.include_monitoring %}
        # As deployed (every prediction logged, to a fresh SQLite log), then with the log off:
        # the difference is what logging costs a request. Then with a challenger (a copy of
        # the champion) in shadow, and answering 10% as a canary: what a rollout costs.
        challenger = {f"{ENV_PREFIX}CHALLENGER_URI": str(exported)}
        variants = {
            "ours": {f"{ENV_PREFIX}PREDICTION_LOG_DIR": str(Path(scratch) / "log")},
            "ours, log off": {f"{ENV_PREFIX}PREDICTION_LOG": "false"},
            "ours, shadow": challenger
            | {
                f"{ENV_PREFIX}ROLLOUT": "shadow",
                f"{ENV_PREFIX}PREDICTION_LOG_DIR": str(Path(scratch) / "shadow"),
            },
            "ours, canary 10%": challenger
            | {
                f"{ENV_PREFIX}ROLLOUT": "canary",
                f"{ENV_PREFIX}CANARY_SHARE": "0.1",
                f"{ENV_PREFIX}PREDICTION_LOG_DIR": str(Path(scratch) / "canary"),
            },
        }
{%- else %}
        as_configured: dict[str, str] = {}
        variants = {"ours": as_configured}
{%- endif %}
        for name, variant in [*variants.items()] * arguments.rounds:  # in turn, round by round
            port = free_port()
            ours = [cli, "serve", "--host", HOST, "--port", str(port), "--workers", "1"]
            ours_env = (
                os.environ
                | variant
                | {
                    f"{ENV_PREFIX}MODEL_URI": str(exported),
                    f"{ENV_PREFIX}LOG_LEVEL": "WARNING",
                    "PATH": path,
                }
            )
            with server(name, ours, ours_env, port, "/ready") as (pid, seconds):
                ready[name] = seconds
                one = requests_for("/predict", port, singles)
                many = requests_for("/predict/batch", port, [{"records": b} for b in multiples])
                results += [
                    measure(name, "single", pid, port, one, arguments, holds("prediction")),
                    measure(name, "batch", pid, port, many, arguments, holds("predictions")),
                ]
                explained_once = any(result.kind == "explain" for result in results)
                if name == "ours" and not explained_once and importlib.util.find_spec("shap"):
                    why = requests_for("/explain", port, singles)
                    explained = holds("explanations")
                    results.append(measure(name, "explain", pid, port, why, arguments, explained))
            print(f"{name} measured (ready in {seconds:.1f} s).", flush=True)

        if mlflow_cli is not None:
            port = free_port()
            mlflow = [mlflow_cli, "models", "serve", "-m", pinned, "--env-manager", "local"]
            mlflow += ["-h", HOST, "-p", str(port)]
            mlflow_env = os.environ | {"MLFLOW_TRACKING_URI": settings.tracking_uri, "PATH": path}
            with server("mlflow", mlflow, mlflow_env, port, "/ping") as (pid, seconds):
                ready["mlflow"] = seconds
                one = requests_for("/invocations", port, [dataframe([r]) for r in singles])
                many = requests_for("/invocations", port, [dataframe(b) for b in multiples])
                results += [
                    measure("mlflow", "single", pid, port, one, arguments, holds("predictions")),
                    measure("mlflow", "batch", pid, port, many, arguments, holds("predictions")),
                ]
            print(f"mlflow models serve measured (ready in {seconds:.1f} s).", flush=True)

    report(medians(results), floors, ready, arguments, load_before)
    if any(result.errors for result in results):
        sys.exit(1)


def medians(results: list[Load]) -> list[Load]:
    """One figure per server and request kind: each measure's median over the rounds."""
    rounds: dict[tuple[str, str], list[Load]] = {}
    for result in results:
        rounds.setdefault((result.server, result.kind), []).append(result)
    measures = ("requests_per_second", "p50_ms", "p99_ms", "client_cpu_ms_per_request")
    merged = []
    for runs in rounds.values():
        cpu = [run.server_cpu_ms_per_request for run in runs]
        known = [value for value in cpu if value is not None]
        merged.append(
            replace(
                runs[0],
                requests=sum(run.requests for run in runs),
                errors=sum(run.errors for run in runs),
                seconds=sum(run.seconds for run in runs),
                server_cpu_ms_per_request=median(known) if len(known) == len(cpu) else None,
                **{name: median(getattr(run, name) for run in runs) for name in measures},
            )
        )
    return merged


def dataframe(records: list[dict[str, Any]]) -> dict[str, Any]:
    """A body for MLflow's /invocations."""
    return {"dataframe_records": records}


def report(
    results: list[Load],
    floors: list[Floor],
    ready: dict[str, float],
    arguments: argparse.Namespace,
    load_before: float,
) -> None:
    """Print the table and the ratios; write the JSON file if asked."""
    client = "uvloop" if importlib.util.find_spec("uvloop") else "asyncio"
    lines = [
        f"{arguments.concurrency} requests in flight over keep-alive connections ({client} "
        f"client); batches of {BATCH_ROWS} records; latency as the client sees it; CPU per "
        "request from /proc (server: the process and its children).",
        "",
        "| server | request | requests | errors | requests/s | records/s | p50 ms | p99 ms "
        "| server CPU ms/req | client CPU ms/req |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        cpu = r.server_cpu_ms_per_request
        lines.append(
            f"| {r.server} | {r.kind} | {r.requests:,} | {r.errors} | {r.requests_per_second:,.1f} "
            f"| {r.requests_per_second * r.rows_per_request:,.0f} | {r.p50_ms:.1f} | {r.p99_ms:.1f} "
            f"| {'n/a' if cpu is None else f'{cpu:.2f}'} | {r.client_cpu_ms_per_request:.3f} |"
        )
    for f in floors:
        lines.append(
            f"| in-process floor, OpenMP {f.openmp} | predict_records, {f.rows_per_call} row(s) "
            f"| {f.calls:,} calls | | {f.calls_per_second:,.1f} calls/s "
            f"| {f.calls_per_second * f.rows_per_call:,.0f} | {1000 / f.calls_per_second:.1f} (mean) "
            f"| | {f.cpu_ms_per_call:.2f} | |"
        )

    speed = {(r.server, r.kind): r.requests_per_second for r in results}
    # The floor is the faster of the two OpenMP settings: the best the model path can do here.
    floor = max((f for f in floors if f.rows_per_call == 1), key=lambda f: f.calls_per_second)
    batch_floor = max((f for f in floors if f.rows_per_call > 1), key=lambda f: f.calls_per_second)
    ratios: dict[str, float] = {}
    if ("mlflow", "single") in speed:
        ratios["ours/mlflow, single"] = speed["ours", "single"] / speed["mlflow", "single"]
        ratios["ours/mlflow, batch"] = speed["ours", "batch"] / speed["mlflow", "batch"]
    ratios["ours/floor, single"] = speed["ours", "single"] / floor.calls_per_second
    ratios["ours/floor, batch"] = speed["ours", "batch"] / batch_floor.calls_per_second
    targets = {"ours/mlflow, single": 10.0, "ours/floor, single": 0.75, "ours/floor, batch": 0.8}
    lines.append("")
    for key, value in ratios.items():
        target = f" (target: at least {targets[key]:g}x)" if key in targets else ""
        lines.append(f"- {key}: {value:.2f}x{target}")
{%- if cookiecutter.include_monitoring %}
    p50 = {(r.server, r.kind): r.p50_ms for r in results}
    for kind in ("single", "batch"):
        cost = p50["ours", kind] / p50["ours, log off", kind] - 1
        ratios[f"prediction log p50 cost, {kind}"] = cost
        lines.append(
            f"- prediction log cost at p50, {kind}: {100 * cost:+.1f}% (target: under 10%)"
        )
    p99 = {(r.server, r.kind): r.p99_ms for r in results}
    for rollout in ("ours, shadow", "ours, canary 10%"):
        for kind in ("single", "batch"):
            costs = {
                "p50": p50[rollout, kind] / p50["ours", kind] - 1,
                "p99": p99[rollout, kind] / p99["ours", kind] - 1,
                "requests/s": speed[rollout, kind] / speed["ours", kind] - 1,
            }
            ratios |= {f"{rollout} {name} change, {kind}": cost for name, cost in costs.items()}
            changes = ", ".join(f"{name} {100 * cost:+.1f}%" for name, cost in costs.items())
            lines.append(f"- {rollout} against ours, {kind}: {changes}")
{%- endif %}
    lines.append(f"- the floor: OpenMP {floor.openmp}, {floor.calls_per_second:,.1f} calls/s")
    for name, seconds in ready.items():
        lines.append(
            f"- time to ready, {name}: {seconds:.1f} s (process start to a 200 from its probe)"
        )
    load_after = os.getloadavg()[0]
    lines.append(
        f"- load average: {load_before:.2f} before, {load_after:.2f} after ({os.cpu_count()} CPUs)"
    )
    print("\n" + "\n".join(lines))
    if arguments.readme:
        write_figures("serving", "\n".join(lines))

    if arguments.json:
        figures = {
            "loads": [asdict(r) for r in results],
            "floors": [asdict(f) for f in floors],
            "ratios": ratios,
            "ready_seconds": ready,
            "load_average": [load_before, load_after],
            "cpus": os.cpu_count(),
        }
        arguments.json.write_text(json.dumps(figures, indent=2) + "\n")
        print(f"Figures written to {arguments.json}")


if __name__ == "__main__":
    main()
