"""Run a GitHub Actions workflow's `run:` steps on this machine, the way a runner would.

A job's steps run in order, in its own fresh clone of the repository, under `bash -e` (the
runner's default shell), with the environment the workflow, the job and the step set plus the
variables a runner provides (`GITHUB_ENV`, `GITHUB_STEP_SUMMARY`, ...). What a step appends to
`GITHUB_ENV` or `GITHUB_PATH` reaches the steps after it.

`uses:` steps are provided here instead of downloaded: actions/checkout is the clone itself,
astral-sh/setup-uv is the uv of the template's test environment with the Python this machine
has for the version asked, actions/setup-java is the machine's own Java (if any), and
actions/upload-artifact checks that its paths match files and
keeps them (actions/upload-pages-artifact too, for its one folder, as `github-pages`). Secrets
are unset, as in a repository that has not configured them yet; an `if:` on a step's output is
evaluated. A step that needs something this machine lacks (a Docker engine, a
Python version) is not run, and neither is anything after it in that job: each is listed with
the reason.
"""

from __future__ import annotations

import itertools
import re
import subprocess
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from conftest import machine_pythons, run, tool

#: A `uses:` line pinned to a full commit SHA, the version in the comment after it.
PINNED_USES = re.compile(r"^\s*(?:- )?uses: [\w.-]+/[\w.-]+@[0-9a-f]{40} # v\d+(\.\d+)*$")
#: Commands that need a Docker engine, which this machine does not have.
NEEDS_DOCKER = re.compile(r"(^|[\s;&|(])(docker|make image)\b", re.MULTILINE)
ANSI_ESCAPE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
EXPRESSION = re.compile(r"\$\{\{\s*(.*?)\s*\}\}")
PROVIDED = (
    "actions/checkout",
    "astral-sh/setup-uv",
    "actions/setup-java",
    "actions/upload-artifact",
    "actions/upload-pages-artifact",
)


def load(path: Path) -> dict[str, Any]:
    """A workflow file as data (YAML reads the `on:` key as True: it is put back)."""
    workflow = yaml.safe_load(path.read_text(encoding="utf-8"))
    if True in workflow:
        workflow["on"] = workflow.pop(True)
    return workflow


def lint_workflows(cwd: Path, workflows: list[str]) -> None:
    """actionlint (with shellcheck on every `run:` script) and the workflow JSON schema."""
    run([tool("actionlint"), "-no-color", "-shellcheck", tool("shellcheck"), *workflows], cwd=cwd)
    schema = ["--builtin-schema", "vendor.github-workflows"]
    run([tool("check-jsonschema"), *schema, *workflows], cwd=cwd)


def step_name(step: Mapping[str, Any]) -> str:
    """How the Actions log names a step."""
    if "name" in step:
        return str(step["name"])
    return str(step["uses"]).split("@")[0] if "uses" in step else step["run"].splitlines()[0]


@dataclass
class JobRun:
    """What running one job (one matrix entry) here did, and what it could not do."""

    job: str
    matrix: dict[str, str]
    workspace: Path
    #: step name -> its output, without the colour codes that FORCE_COLOR asks for
    outputs: dict[str, str] = field(default_factory=dict)
    not_run: list[tuple[str, str]] = field(default_factory=list)  # (step name, why)
    skipped: list[tuple[str, str]] = field(default_factory=list)  # (step name, its false if:)
    artifacts: dict[str, list[Path]] = field(default_factory=dict)
    summary: str = ""  # what the steps wrote to GITHUB_STEP_SUMMARY
    seconds: dict[str, float] = field(default_factory=dict)  # step name -> how long it ran

    @property
    def label(self) -> str:
        values = ", ".join(f"{k}={v}" for k, v in self.matrix.items())
        return f"{self.job} ({values})" if values else self.job

    @property
    def output(self) -> str:
        return "\n".join(self.outputs.values())


def matrix_entries(job: Mapping[str, Any]) -> list[dict[str, str]]:
    """Every combination a job's `strategy.matrix` lists ({} for a job with no matrix)."""
    matrix = job.get("strategy", {}).get("matrix", {})
    assert set(matrix) <= {"python-version"}, f"matrix keys this runner cannot expand: {matrix}"
    keys = list(matrix)
    return [
        dict(zip(keys, map(str, values), strict=True))
        for values in itertools.product(*(matrix[key] for key in keys))
    ]


def substitute(text: str, matrix: Mapping[str, str]) -> str:
    """Replace `${{ matrix.X }}` and `${{ secrets.X }}` (unset here, as in a new repository)."""

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name.startswith("matrix.") and name.removeprefix("matrix.") in matrix:
            return matrix[name.removeprefix("matrix.")]
        if re.fullmatch(r"secrets\.\w+", name):
            return ""  # GitHub gives an unset secret as the empty string
        raise AssertionError(f"an expression this runner cannot evaluate: {match.group(0)}")

    return EXPRESSION.sub(value, text)


STEP_OUTPUT_TEST = re.compile(r"steps\.([\w-]+)\.outputs\.([\w-]+) (==|!=) '([^']*)'")


def condition_holds(condition: str | None, outputs: Mapping[str, Mapping[str, str]]) -> bool:
    """Evaluate a step's `if:`: success(), always(), or a step output compared with a string."""
    if condition in (None, "success()", "always()"):
        return True
    test = STEP_OUTPUT_TEST.fullmatch(str(condition).strip())
    assert test, f"an if: this runner cannot evaluate: {condition}"
    step, name, operator, expected = test.groups()
    actual = outputs.get(step, {}).get(name, "")
    return (actual == expected) is (operator == "==")


def runner_env(base: Mapping[str, str], workspace: Path, scratch: Path, sha: str) -> dict[str, str]:
    """The variables a GitHub-hosted runner sets for every step."""
    scratch.mkdir(parents=True, exist_ok=True)
    files = {
        name: scratch / name.lower()
        for name in ("GITHUB_ENV", "GITHUB_PATH", "GITHUB_OUTPUT", "GITHUB_STEP_SUMMARY")
    }
    for path in files.values():
        path.touch()
    return (
        dict(base)
        | {name: str(path) for name, path in files.items()}
        | {
            "CI": "true",
            "GITHUB_ACTIONS": "true",
            "GITHUB_WORKSPACE": str(workspace),
            "GITHUB_SHA": sha,
            "GITHUB_REF": "refs/heads/main",
            "GITHUB_REF_NAME": "main",
            "GITHUB_EVENT_NAME": "push",
            "GITHUB_REPOSITORY": "baked/project",
            "GITHUB_SERVER_URL": "https://github.com",
            "GITHUB_ACTOR": "baked",
            "RUNNER_TEMP": str(scratch),
            "RUNNER_OS": "Linux",
        }
    )


def read_env_file(path: Path) -> dict[str, str]:
    """`NAME=value` lines and `NAME<<DELIMITER` blocks, as written to `GITHUB_ENV`."""
    values: dict[str, str] = {}
    lines = iter(path.read_text(encoding="utf-8").splitlines())
    for line in lines:
        if "<<" in line and ("=" not in line or line.index("<<") < line.index("=")):
            name, delimiter = line.split("<<", 1)
            block = []
            for content in lines:
                if content == delimiter:
                    break
                block.append(content)
            values[name] = "\n".join(block)
        elif "=" in line:
            name, value = line.split("=", 1)
            values[name] = value
    return values


def execute(
    script: str, cwd: Path, env: Mapping[str, str], timeout: float = 900
) -> subprocess.CompletedProcess[str]:
    """One `run:` script under `bash -e`, as the runner's default shell runs it."""
    return subprocess.run(
        ["bash", "-e", "-c", script],
        cwd=cwd,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def apply_runner_files(env: dict[str, str]) -> None:
    """What a step wrote to GITHUB_ENV and GITHUB_PATH takes effect for the next steps."""
    env.update(read_env_file(Path(env["GITHUB_ENV"])))
    for line in Path(env["GITHUB_PATH"]).read_text(encoding="utf-8").splitlines():
        if line and line not in env["PATH"].split(":"):
            env["PATH"] = f"{line}:{env['PATH']}"


def provide(
    step: Mapping[str, Any], env: dict[str, str], job_run: JobRun, matrix: Mapping[str, str]
) -> str | None:
    """Do what a provided action would; return why it cannot be done here, or None."""
    action = step["uses"].split("@")[0]
    inputs = {k: substitute(str(v), matrix) for k, v in step.get("with", {}).items()}
    if action == "actions/checkout":
        return None  # the workspace is a fresh clone
    if action == "astral-sh/setup-uv":
        env["PATH"] = f"{Path(tool('uv')).parent}:{env['PATH']}"
        version = inputs.get("python-version")
        if version is not None:
            pythons = machine_pythons()
            if version not in pythons:
                return f"Python {version} is not installed here, and uv may not download one"
            env["UV_PYTHON"] = pythons[version]
        return None
    if action == "actions/setup-java":
        # The machine's own Java, if any: without one, the baked Spark tests skip and say why.
        return None
    if action == "actions/upload-artifact":
        files: list[Path] = []
        for pattern in filter(None, inputs["path"].splitlines()):
            matched = sorted(job_run.workspace.glob(pattern.strip().rstrip("/")))
            assert matched, f"upload-artifact: {pattern} matches nothing in {job_run.label}"
            for path in matched:
                files += [p for p in path.rglob("*") if p.is_file()] if path.is_dir() else [path]
        job_run.artifacts[inputs["name"]] = files
        return None
    if action == "actions/upload-pages-artifact":
        site = job_run.workspace / inputs["path"]
        assert site.is_dir(), f"upload-pages-artifact: {inputs['path']} is not a folder"
        job_run.artifacts[inputs.get("name", "github-pages")] = sorted(
            path for path in site.rglob("*") if path.is_file()
        )
        return None
    raise AssertionError(f"{job_run.label} uses {action}, which this runner cannot provide")


def run_job(
    workflow: Mapping[str, Any],
    name: str,
    repository: Path,
    scratch: Path,
    base_env: Mapping[str, str],
    event: Mapping[str, str] | None = None,
    entries: int | None = None,
) -> list[JobRun]:
    """Run one job of a workflow, once per matrix entry, each in its own fresh clone.

    `event` overrides what the runner says triggered the run (a tag push, say). `entries` runs
    only the first so many matrix entries; each of the others is reported as not run, with why.
    """
    job = workflow["jobs"][name]
    assert "needs" not in job, f"{name} needs another job: this runner runs jobs one at a time"
    sha = subprocess.run(
        ["git", "rev-parse", "HEAD"], cwd=repository, capture_output=True, text=True, check=True
    ).stdout.strip()
    runs = []
    for index, matrix in enumerate(matrix_entries(job) or [{}]):
        if entries is not None and index >= entries:
            why = f"matrix entry {index + 1}: the caller runs the first {entries} only"
            runs.append(JobRun(job=name, matrix=matrix, workspace=scratch, not_run=[("job", why)]))
            continue
        workspace = scratch / f"{name}-{index}"
        subprocess.run(
            ["git", "clone", "--quiet", str(repository), str(workspace)], check=True, timeout=120
        )
        job_run = JobRun(job=name, matrix=matrix, workspace=workspace)
        env = runner_env(base_env, workspace, scratch / f"{name}-{index}-runner", sha)
        env |= event or {}
        variables = workflow.get("env", {}) | job.get("env", {})
        env |= {k: substitute(str(v), matrix) for k, v in variables.items()}
        blocked = ""
        step_outputs: dict[str, dict[str, str]] = {}
        for step in job["steps"]:
            label = step_name(step)
            if blocked:
                job_run.not_run.append(
                    (label, f"comes after a step that could not run ({blocked})")
                )
                continue
            if not condition_holds(step.get("if"), step_outputs):
                job_run.skipped.append((label, step["if"]))
                continue
            if "uses" in step:
                why = provide(step, env, job_run, matrix)
                if why is not None:
                    job_run.not_run.append((label, why))
                    blocked = label
                continue
            script = substitute(step["run"], matrix)
            if NEEDS_DOCKER.search(script):
                job_run.not_run.append(
                    (label, "needs a Docker engine (none here; test_container.py uses podman)")
                )
                blocked = label
                continue
            step_env = {k: substitute(str(v), matrix) for k, v in step.get("env", {}).items()}
            Path(env["GITHUB_OUTPUT"]).write_text("", encoding="utf-8")
            started = time.monotonic()
            output = run(["bash", "-e", "-c", script], workspace, env | step_env, timeout=1500)
            job_run.seconds[label] = time.monotonic() - started
            job_run.outputs[label] = ANSI_ESCAPE.sub("", output)
            apply_runner_files(env)
            if "id" in step:
                step_outputs[step["id"]] = read_env_file(Path(env["GITHUB_OUTPUT"]))
        job_run.summary = Path(env["GITHUB_STEP_SUMMARY"]).read_text(encoding="utf-8")
        runs.append(job_run)
    return runs


def report(runs: Mapping[str, list[JobRun]]) -> str:
    """What ran and what did not, for the test log."""
    lines = []
    for job_runs in runs.values():
        for job_run in job_runs:
            took = ", ".join(f"{step} {secs:.0f} s" for step, secs in job_run.seconds.items())
            lines.append(f"{job_run.label}: {len(job_run.outputs)} run steps passed ({took})")
            lines += [f"  skipped: {step}: if: {why}" for step, why in job_run.skipped]
            lines += [f"  not run: {step}: {why}" for step, why in job_run.not_run]
    return "\n".join(lines)
