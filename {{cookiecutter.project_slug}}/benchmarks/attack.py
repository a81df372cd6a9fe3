"""Attack the project as a tester would, in a scratch copy, and count what holds.

Usage, from the project root: uv run python benchmarks/attack.py [--keep]

A temporary copy of `configs/` and `data/raw/`, with its own MLflow store, is trained once
(`run`, with a linear model) and attacked, every attack bounded in count and time:

- bad CLI inputs: broken data and config files, bad settings, a password in the tracking URI,
  `export` over a folder that is not an export. Each must exit non-zero with at most 22 lines
  on stderr, no traceback and no password, and leave the copy byte-identical.
- HTTP attacks on `serve` over 127.0.0.1: bad and oversized bodies, chunked or not, odd values,
  slow-header connections. Each must answer 4xx (never 5xx or nothing), the slow connections
  must be dropped while `/health` keeps answering, and the server must stay under 1 GiB.
- faults: kill -9 during ingest, train and export, then the same command again, which must
  succeed with no `.tmp` debris and no run left RUNNING, the previous data or export intact;
  and two `run`s at once, which must leave the better model champion.

Prints one table and exits with 1 if anything failed. The project's own files are never touched.
"""

import argparse
import hashlib
import http.client
import json
import os
import platform
import select
import shutil
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import closing, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from figures import README, write_figures

from {{ cookiecutter.package_name }}.config import load_config
from {{ cookiecutter.package_name }}.data.contract import DataContract, load_contract
from {{ cookiecutter.package_name }}.data.datasets import read_source
from {{ cookiecutter.package_name }}.serving.schemas import example_record
from {{ cookiecutter.package_name }}.settings import ENV_PREFIX, Settings, load_settings
from {{ cookiecutter.package_name }}.training.models import (
    GREATER_IS_BETTER,
    PRIMARY_METRIC,
)

HOST = "127.0.0.1"
TIMEOUT = 180  # seconds a command may take before it counts as hung
MAX_ERROR_LINES = 22  # 20 problems, their count and a summary
MAX_ERROR_CHARS = 10_000
RSS_LIMIT_MB = 1024  # the memory a serving container is given
SLOW_CONNECTIONS = 200  # each sends half its headers, then nothing
SLOW_SECONDS = 30  # by when /health must answer and the server must have dropped them
PASSWORD = "attack-Secret-42"  # noqa: S105 - a made-up password that must never be printed
CONFIG = f"{ENV_PREFIX}CONFIG_FILE"
MAY_SUCCEED = "password in tracking URI: info"  # it shows the URI: masked is all it must be

Case = tuple[str, list[str], dict[str, str]]  # a name, CLI arguments, environment variables


@dataclass
class Tally:
    """One category of attacks: how many were tried, which failed and how."""

    category: str
    tried: int = 0
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    note: str = ""

    def record(self, name: str, problem: str | None) -> None:
        """Count one attack; `problem` says how it failed, None when it held."""
        self.tried += 1
        if problem:
            self.failures.append(f"{name} ({problem})")
        print(f"  {self.category}: {name}: {problem or 'held'}", flush=True)


class Project:
    """A scratch copy of the project, run from its own root with its own tracking store."""

    def __init__(self, root: Path) -> None:
        """The copy at `root`; attack inputs go beside it, in `inputs/`."""
        self.root = root
        self.inputs = root.parent / "inputs"
        self.inputs.mkdir(exist_ok=True)

    def env(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        """The environment without the user's settings, tracking to this copy's store."""
        kept = {k: v for k, v in os.environ.items() if not k.startswith((ENV_PREFIX, "MLFLOW_"))}
        return kept | {"MLFLOW_TRACKING_URI": f"sqlite:///{self.root}/mlflow.db"} | (extra or {})

    def cli(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run the project's CLI to the end, its output captured."""
        return subprocess.run(  # noqa: S603 - this project's own CLI
            [sys.executable, "-m", "{{ cookiecutter.package_name }}", *args],
            cwd=self.root,
            env=self.env(env),
            capture_output=True,
            text=True,
            errors="replace",
            timeout=TIMEOUT,
            check=False,
        )

    def start(self, *args: str, env: dict[str, str] | None = None) -> "subprocess.Popen[bytes]":
        """Start the project's CLI in its own process group, its output discarded."""
        return subprocess.Popen(  # noqa: S603 - this project's own CLI
            [sys.executable, "-m", "{{ cookiecutter.package_name }}", *args],
            cwd=self.root,
            env=self.env(env),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def state(self, under: str = "") -> dict[str, str]:
        """The SHA-256 of every file (under a folder), temporaries left aside."""
        return {
            str(path.relative_to(self.root)): hashlib.sha256(path.read_bytes()).hexdigest()
            for path in sorted((self.root / under).rglob("*"))
            if path.is_file() and ".tmp" not in str(path.relative_to(self.root))
        }

    def debris(self) -> list[str]:
        """Temporary files and folders left anywhere in the copy."""
        return [str(path.relative_to(self.root)) for path in self.root.rglob("*.tmp")]

    def query(self, sql: str, *parameters: str) -> list[tuple[Any, ...]]:
        """Rows from the copy's MLflow store (none while a writer holds it locked)."""
        try:
            with closing(sqlite3.connect(self.root / "mlflow.db", timeout=0.1)) as db:
                return db.execute(sql, parameters).fetchall()
        except sqlite3.OperationalError:
            return []

    def running_runs(self) -> int:
        """MLflow runs marked RUNNING."""
        return len(self.query("SELECT 1 FROM runs WHERE status = 'RUNNING'"))

    def config_variant(self, name: str, change: Callable[[dict[str, Any]], object]) -> Path:
        """A copy of configs/project.yaml in `inputs/`, edited by `change`."""
        config = yaml.safe_load((self.root / "configs" / "project.yaml").read_text("utf-8"))
        change(config)
        path = self.inputs / f"{name}.yaml"
        path.write_text(yaml.safe_dump(config), "utf-8")
        return path


# ---------------------------------------------------------------------------------------------
# Bad CLI inputs


def bad_data_files(frame: pd.DataFrame, contract: DataContract, folder: Path) -> dict[str, Path]:
    """Broken data files, each made from the project's own data by one change."""
    folder.mkdir()
    rows = frame.head(200)
    good = rows.to_csv(index=False)
    header = good.splitlines()[0]
    columns = (*contract.features, contract.target)
    numeric = next(c.name for c in columns if c.type == "numeric")
    text = next((c.name for c in columns if c.type == "categorical"), columns[0].name)
    big_cell = rows.astype({text: object})
    big_cell.loc[big_cell.index[0], text] = "x" * 50_000_000
    wide = ",".join(f"c{i}" for i in range(200_000)) + "\n" + ",".join(["1"] * 200_000) + "\n"
    (folder / "a-directory.csv").mkdir()
    files: dict[str, str | bytes | pd.DataFrame | None] = {
        "missing file": None,
        "directory": None,
        "empty file": b"",
        "binary file": bytes(range(256)) * 64,
        "not UTF-8": good.replace(header, header + ",caf\xe9").encode("latin-1"),
        "wrong columns": rows.add_suffix("_x"),
        "200,000-column header": wide,
        "50 MB cell": big_cell,
        "wrong types": rows.assign(**{numeric: "not a number"}),
        "a few rows, one per target value": frame.drop_duplicates(contract.target.name).head(10),
    }
    if contract.id_column:
        files["duplicate ids"] = pd.concat([rows, rows.head(1)])
    paths = {"missing file": folder / "missing.csv", "directory": folder / "a-directory.csv"}
    for number, (name, content) in enumerate(files.items()):
        path = paths.setdefault(name, folder / f"{number}.csv")
        if isinstance(content, pd.DataFrame):
            content.to_csv(path, index=False)
        elif content is not None:
            path.write_bytes(content if isinstance(content, bytes) else content.encode())
    return paths


def set_data(key: str, value: Path) -> Callable[[dict[str, Any]], object]:
    """An edit of the config that points one `data` entry at a path."""
    return lambda config: config["data"].update({key: str(value)})


def cli_cases(project: Project, settings: Settings, contract: DataContract) -> list[Case]:
    """Every bad input, as a CLI command and its environment."""
    config = load_config(settings.config_file)
{%- if cookiecutter.data_source == "sql" %}
    frame = read_source(config.data, settings.database_url.get_secret_value())
{%- else %}
    frame = read_source(config.data)
{%- endif %}
    cases = []
    for name, path in bad_data_files(frame, contract, project.inputs / "data").items():
{%- if cookiecutter.data_source == "sql" %}
        if not name.startswith("a few rows"):  # too few to train on, enough to score
            cases.append((f"performance: {name}", ["performance", str(path)], {}))
{%- else %}
        variant = project.config_variant(name, set_data("path", path))
        cases.append((f"ingest: {name}", ["ingest"], {CONFIG: str(variant)}))
{%- endif %}
    broken = {"empty": b"", "latin1": b"# caf\xe9\nseed: 1\n", "unclosed": b"data: [1\n"}
    for name, content in broken.items():
        (project.inputs / f"{name}.yaml").write_bytes(content)
    configs = {
        "missing config": project.inputs / "missing.yaml",
        "directory as config": project.inputs / "data",
        "empty config": project.inputs / "empty.yaml",
        "config not UTF-8": project.inputs / "latin1.yaml",
        "config not YAML": project.inputs / "unclosed.yaml",
        "unknown config key": project.config_variant("key", lambda c: c.update(colour=1)),
        "wrong config type": project.config_variant("type", lambda c: c.update(seed="many")),
    }
    cases += [(name, ["info"], {CONFIG: str(path)}) for name, path in configs.items()]
    for name, file in [("contract not UTF-8", "latin1.yaml"), ("contract a directory", "data")]:
        variant = project.config_variant(name, set_data("contract", project.inputs / file))
        cases.append((name, ["schema", "show"], {CONFIG: str(variant)}))
    closed = free_port()  # a tracking server that is not there, asked once (no retries)
    leaky = {
        "MLFLOW_TRACKING_URI": f"http://attacker:{PASSWORD}@{HOST}:{closed}",
        "MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0",
    }
    return [
        *cases,
        ("CORS_ORIGINS not JSON", ["info"], {f"{ENV_PREFIX}CORS_ORIGINS": "http://a,http://b"}),
        ("PORT not a number", ["serve"], {f"{ENV_PREFIX}PORT": "eighty"}),
        ("LOG_LEVEL unknown", ["info"], {f"{ENV_PREFIX}LOG_LEVEL": "LOUD"}),
{%- if cookiecutter.data_source == "sql" %}
        (
            "DATABASE_URL port not a number",
            ["ingest"],
            {f"{ENV_PREFIX}DATABASE_URL": f"postgresql://u:{PASSWORD}@{HOST}:port/db"},
        ),
{%- endif %}
        (MAY_SUCCEED, ["info"], leaky),
        ("password in tracking URI: promote", ["promote"], leaky),
        ("password in tracking URI: export", ["export", str(project.inputs / "out")], leaky),
        ("password in tracking URI: serve", ["serve", "--port", str(closed)], leaky),
{%- if cookiecutter.include_monitoring %}
        ("password in tracking URI: drift", ["drift"], leaky),
{%- endif %}
        ("export . --force", ["export", ".", "--force"], {}),
        ("export over a folder that is not an export", ["export", "configs", "--force"], {}),
    ]


def refusal_problem(project: Project, case: Case, scratch: Path) -> str | None:
    """Run one case in its own copy of the project; how it failed to refuse, or None."""
    name, args, env = case
    shutil.copytree(project.root, scratch)
    copy = Project(scratch)
    before = copy.state()
    try:
        done = copy.cli(*args, env=env)
    except subprocess.TimeoutExpired:
        return f"no exit within {TIMEOUT} s"
    finally:
        after = copy.state() if scratch.exists() else {}
        debris = copy.debris() if scratch.exists() else []
        shutil.rmtree(scratch, ignore_errors=True)
    output, lines = done.stdout + done.stderr, len(done.stderr.splitlines())
    changed = sorted(k for k in before.keys() | after.keys() if before.get(k) != after.get(k))
    problems = [
        "exit 0" if done.returncode == 0 and name != MAY_SUCCEED else "",
        "traceback" if "Traceback" in output else "",
        f"{lines:,} lines on stderr" if lines > MAX_ERROR_LINES else "",
        f"{len(done.stderr):,} characters on stderr" if len(done.stderr) > MAX_ERROR_CHARS else "",
        "printed the password" if PASSWORD in output else "",
        f"changed {', '.join(changed[:3])}" if changed else "",
        f"left {', '.join(debris[:3])}" if debris else "",
    ]
    return "; ".join(p for p in problems if p) or None


def cli_inputs(project: Project, settings: Settings, contract: DataContract) -> Tally:
    """Every bad input through the CLI, each in a fresh copy of the trained project."""
    tally = Tally("bad CLI inputs")
    cases = cli_cases(project, settings, contract)
    before = project.state()
    scratches = [project.root.parent / f"case-{number}" for number in range(len(cases))]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        problems = pool.map(lambda c, s: refusal_problem(project, c, s), cases, scratches)
        for case, problem in zip(cases, problems, strict=True):
            tally.record(case[0], problem)
    changed = [path for path, digest in project.state().items() if before.get(path) != digest]
    tally.record("no case touched the trained copy", f"changed {changed[:3]}" if changed else None)
    return tally


# ---------------------------------------------------------------------------------------------
# HTTP attacks


def free_port() -> int:
    """A TCP port nobody listens on now, on the loopback interface."""
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        port: int = probe.getsockname()[1]
        return port


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and its descendants, in MB (Linux; 0 elsewhere)."""
    total, todo = 0.0, [pid]
    while todo:
        current = todo.pop()
        try:
            status = Path(f"/proc/{current}/status").read_text()
            children = Path(f"/proc/{current}/task/{current}/children").read_text().split()
        except OSError:
            continue
        total += next((int(line.split()[1]) for line in status.splitlines() if "VmRSS" in line), 0)
        todo += map(int, children)
    return total / 1024


@contextmanager
def served(project: Project) -> Iterator[tuple[int, list[float]]]:
    """`serve` on a free port; yields the port and its peak memory so far, sampled every 50 ms."""
    port = free_port()
    process = project.start("serve", "--port", str(port), env={f"{ENV_PREFIX}LOG_LEVEL": "WARNING"})
    peak, stop = [0.0], threading.Event()

    def sample() -> None:
        while not stop.wait(0.05):
            peak[0] = max(peak[0], tree_rss_mb(process.pid))

    try:
        deadline = time.monotonic() + TIMEOUT
        while request(port, "GET", "/ready") != 200:
            if process.poll() is not None or time.monotonic() > deadline:
                sys.exit(f"serve did not become ready on port {port}")
            time.sleep(0.2)
        threading.Thread(target=sample, daemon=True).start()
        yield port, peak
    finally:
        stop.set()
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def request(port: int, method: str, path: str, body: bytes = b"", **headers: str) -> int:
    """The status of one request; 0 when there was no answer within 15 s."""
    connection = http.client.HTTPConnection(HOST, port, timeout=15)
    try:
        sent = {"Content-Type": "application/json"} | {
            k.replace("_", "-"): v for k, v in headers.items()
        }
        connection.request(method, path, body=body or None, headers=sent)
        response = connection.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException):
        return 0
    finally:
        connection.close()


def refused(status: int, valid: bool = False) -> str | None:
    """What is wrong with the answer to a bad request (or a valid, odd one); None if nothing."""
    if 400 <= status < 500 or (valid and 200 <= status < 300):
        return None
    return f"answered {status}" if status else "no answer"


def chunked_status(port: int, record: dict[str, Any], column: str, megabytes: int) -> int:
    """Send one record whose `column` is `megabytes` long, chunked, until the server answers."""
    opening = json.dumps({k: v for k, v in record.items() if k != column} | {column: ""})
    chunks = [opening[:-2].encode(), *[b"x" * 1_048_576] * megabytes, b'"}']
    with socket.create_connection((HOST, port), timeout=15) as connection:
        connection.sendall(
            f"POST /predict HTTP/1.1\r\nHost: {HOST}\r\nContent-Type: application/json\r\n"
            "Transfer-Encoding: chunked\r\n\r\n".encode()
        )
        try:
            for chunk in [*chunks, b""]:
                if select.select([connection], [], [], 0)[0]:
                    break  # the server has answered before reading it all
                connection.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            answer = connection.recv(64)
        except OSError:
            return 0
    return int(answer[9:12]) if answer.startswith(b"HTTP/1.1 ") else 0


def slow_headers(port: int) -> str | None:
    """Connections that never finish their headers: /health must answer, the server drop them."""
    held: list[socket.socket] = []
    try:
        for _ in range(SLOW_CONNECTIONS):
            held.append(socket.create_connection((HOST, port), timeout=5))
            held[-1].sendall(b"POST /predict HTTP/1.1\r\nHost: x\r\n")
        deadline = time.monotonic() + SLOW_SECONDS
        while request(port, "GET", "/health") != 200:
            if time.monotonic() > deadline:
                return f"/health did not answer within {SLOW_SECONDS} s"
            time.sleep(0.5)
        waiting = list(held)  # until the server answers or closes each (readable either way)
        while waiting and time.monotonic() < deadline:
            answered = select.select(waiting, [], [], 1)[0]
            waiting = [connection for connection in waiting if connection not in answered]
        return f"{len(waiting)} still open after {SLOW_SECONDS} s" if waiting else None
    except OSError as error:
        return f"could not connect: {error}"
    finally:
        for connection in held:
            connection.close()


def http_attacks(project: Project, settings: Settings, contract: DataContract) -> Tally:
    """Malformed and hostile requests against the served champion, its memory watched."""
    tally = Tally("HTTP attacks")
    record = example_record(contract)
    kinds = {c.type: c.name for c in reversed(contract.features)}  # the first of each type
    free_text = [
        c.name
        for c in contract.features
        if c.type == "categorical" and (not c.categories or c.unknown_categories == "accept")
    ]
    bodies: dict[str, Any] = {
        "not JSON": b"{'not': json",
        "not UTF-8": b'{"a": "caf\xe9"}',
        "empty body": b"",
        "JSON string": "a string",
        "record as a list": list(record.values()),
        "deep JSON": b"[" * 100_000 + b"]" * 100_000,
        "unknown field": record | {"not_a_column": 1},
        "missing field": dict(list(record.items())[1:]),
        "null everywhere": dict.fromkeys(record),
    }
    # Valid dates whose conversion to UTC leaves the calendar: any answer but an error holds.
    valid = {"date 0001-01-01T00:00:00+14:00", "date 9999-12-31T23:59:59-14:00"}
    if "numeric" in kinds:
        number = kinds["numeric"]
        bodies["NaN"] = json.dumps(record | {number: float("nan")}).encode()
        bodies["5,000-digit integer"] = (
            json.dumps(record | {number: "@"}).replace('"@"', "9" * 5000).encode()
        )
        bodies["number as a string"] = record | {number: "12"}
        bodies["boolean for a number"] = record | {number: True}
    if "datetime" in kinds:
        bodies |= {name: record | {kinds["datetime"]: name.split()[1]} for name in valid}
        bodies["epoch seconds as a date string"] = record | {kinds["datetime"]: "1700000000"}
        bodies["number as a date"] = record | {kinds["datetime"]: 1700000000}
    if free_text:
        bodies["100,000-character string"] = record | {free_text[0]: "x" * 100_000}
    too_many = json.dumps({"records": [record] * (settings.max_batch_size + 1)}).encode()
    with served(project) as (port, peak):
        for name, body in bodies.items():
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            tally.record(name, refused(request(port, "POST", "/predict", data), name in valid))
        tally.record(
            "batch over max_batch_size", refused(request(port, "POST", "/predict/batch", too_many))
        )
        tally.record(
            "Content-Length of 1 TB",
            refused(request(port, "POST", "/predict", b"{}", Content_Length=str(10**12))),
        )
        column = (free_text or list(record))[0]
        tally.record("chunked 64 MB body", refused(chunked_status(port, record, column, 64)))
        tally.record(f"{SLOW_CONNECTIONS} slow-header connections", slow_headers(port))
        health = request(port, "GET", "/health")
        tally.record("still healthy after all", None if health == 200 else f"answered {health}")
        peak_mb = peak[0]
    too_much = None if peak_mb < RSS_LIMIT_MB else f"peak {peak_mb:,.0f} MB"
    tally.record(f"server memory under {RSS_LIMIT_MB} MB", too_much)
    tally.note = (
        f"Peak memory of the server under attack: {peak_mb:,.0f} MB (limit {RSS_LIMIT_MB} MB)."
    )
    return tally


# ---------------------------------------------------------------------------------------------
# Faults


def killed(project: Project, args: list[str], ready: Callable[[], bool], delay: float) -> bool:
    """Start a command; kill -9 it `delay` s after `ready()` holds. False if it ended first."""
    process = project.start(*args)
    while process.poll() is None and not ready():
        time.sleep(0.001)
    time.sleep(delay)
    if process.poll() is not None:
        return False
    os.killpg(process.pid, signal.SIGKILL)
    process.wait()
    return True


def faults(project: Project, settings: Settings, contract: DataContract) -> Tally:
    """Kill -9 in the middle of ingest, train and export, then rerun; two runs at once."""
    tally = Tally("faults")
    processed = str(load_config(settings.config_file).data.processed_dir)
    export = ["export", "models/champion", "--force"]
    project.cli(*export)
    plan = [  # what to kill, when it is ready to be killed, how long after that
        (["ingest"], lambda: any((project.root / processed).glob(".*.tmp")), 0.0),
        (["ingest"], lambda: any((project.root / processed).glob(".*.tmp")), 0.02),
        (["train"], lambda: project.running_runs() > 0, 1.0),
        (export, lambda: any((project.root / "models").glob(".*.tmp")), 0.2),
    ]
    for args, ready, delay in plan:
        name = f"kill -9 during {args[0]}, {delay:g} s in"
        under = "models" if args == export else processed
        before = project.state(under)
        if not killed(project, args, ready, delay):
            print(f"  faults: {name}: ended before the kill, not counted", flush=True)
            continue
        intact = project.state(under) == before
        done = project.cli(*args)
        problems = [
            "" if intact else f"{under} changed",
            f"the next {args[0]} failed: {done.stderr.strip()[-200:]}" if done.returncode else "",
            f"debris {project.debris()[:2]}" if project.debris() else "",
            f"{project.running_runs()} run(s) left RUNNING" if project.running_runs() else "",
        ]
        tally.record(name, "; ".join(p for p in problems if p) or None)
    tally.record("two runs at once", concurrent_runs(project, settings))
    return tally


def linear_config(project: Project) -> Path:
    """The project's config with a linear model: worse than gradient boosting on most data."""
    return project.config_variant("linear", lambda c: c["train"].update(model="linear", params={}))


def concurrent_runs(project: Project, settings: Settings) -> str | None:
    """A linear and a gradient-boosting `run` at once, the champion linear: the better must win."""
    boosted = project.config_variant(
        "boosted", lambda c: c["train"].update(model="gradient_boosting")
    )
    runs = [
        project.start("run", env={CONFIG: str(path)}) for path in (linear_config(project), boosted)
    ]
    for process in runs:
        try:
            process.wait(timeout=TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            return f"a run took over {TIMEOUT} s"
    metric = f"test_{PRIMARY_METRIC}"
    scores = [
        value
        for (value,) in project.query("SELECT value FROM latest_metrics WHERE key = ?", metric)
    ]
    champion = project.query(
        "SELECT m.value FROM registered_model_aliases a JOIN model_versions v ON v.name = a.name "
        "AND v.version = a.version JOIN latest_metrics m ON m.run_uuid = v.run_id "
        "WHERE a.name = ? AND a.alias = 'champion' AND m.key = ?",
        settings.model_name,
        metric,
    )[0][0]
    best = max(scores) if GREATER_IS_BETTER else min(scores)
    return (
        None if abs(champion - best) < 1e-9 else f"champion {champion:.4f}, best model {best:.4f}"
    )


# ---------------------------------------------------------------------------------------------
# The run


def main() -> None:
    """Train a scratch copy, attack it, print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keep", action="store_true", help="keep the scratch copy, say where")
    parser.add_argument("--readme", action="store_true", help="also write the table into README.md")
    arguments = parser.parse_args()
    readme = README.resolve()  # the attacks run from the scratch copy
    scratch = Path(tempfile.mkdtemp(prefix="attack-"))
    started = time.perf_counter()
    try:
        shutil.copytree("configs", scratch / "project" / "configs")
        shutil.copytree("data/raw", scratch / "project" / "data" / "raw")
        project = Project(scratch / "project")
        trained = project.cli("run", env={CONFIG: str(linear_config(project))})
        if trained.returncode:
            sys.exit(f"`run` failed in the scratch copy:\n{trained.stderr[-3000:]}")
        print(f"Scratch copy in {scratch} trained in {time.perf_counter() - started:.0f} s.")
        # From here this process reads the copy's settings and config, as its CLI does.
        os.chdir(project.root)
        os.environ.clear()
        os.environ.update(project.env())
        settings = load_settings()
        contract = load_contract(load_config(settings.config_file).data.contract)
        tallies = []
        for attack in (cli_inputs, http_attacks, faults):
            begun = time.perf_counter()
            tallies.append(attack(project, settings, contract))
            tallies[-1].seconds = time.perf_counter() - begun
    finally:
        os.chdir(scratch.parent)
        if not arguments.keep:
            shutil.rmtree(scratch, ignore_errors=True)
    print(
        f"\n{platform.system()} {platform.machine()}, {os.cpu_count()} CPUs, Python "
        f"{platform.python_version()}; {time.perf_counter() - started:.0f} s in all.\n"
    )
    lines = ["| category | tried | held | failed | seconds |", "|---|---:|---:|---|---:|"]
    for tally in tallies:
        failed = f"{len(tally.failures)}: {'; '.join(tally.failures)}" if tally.failures else "0"
        held = tally.tried - len(tally.failures)
        lines.append(
            f"| {tally.category} | {tally.tried} | {held} | {failed} | {tally.seconds:.0f} |"
        )
    table = "\n".join([*lines, "", *(tally.note for tally in tallies if tally.note)])
    print(table)
    if arguments.readme:
        write_figures("attack", table, readme)
    if any(tally.failures for tally in tallies):
        sys.exit(1)


if __name__ == "__main__":
    main()
