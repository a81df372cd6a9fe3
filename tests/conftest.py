"""Shared helpers for the template's tests: the option space, baking, and running commands.

Fast mode (`TEMPLATE_TESTS_FAST=1`) bakes only the default answers and skips the tests
that install baked projects: a quick local loop. CI runs everything.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import pytest

TEMPLATE_DIR = Path(__file__).resolve().parents[1]
COOKIECUTTER_JSON = json.loads((TEMPLATE_DIR / "cookiecutter.json").read_text(encoding="utf-8"))
FAST = os.environ.get("TEMPLATE_TESTS_FAST") == "1"

# --- the option space --------------------------------------------------------

#: Options that select files or code paths that interact: every combination is baked.
INTERACTING = ("task", "data_source", "include_docker", "include_ci", "include_monitoring")
#: Options that only fill in values, or whose code meets only the task and the data source
#: (Spark): they cycle through the combinations above, each value meeting every other answer.
CYCLING = ("python_version", "license", "include_spark")


def choices(option: str) -> list[Any]:
    """Every value an option allows, default first."""
    default = COOKIECUTTER_JSON[option]
    if isinstance(default, list):
        return list(default)
    if isinstance(default, bool):
        return [default, not default]
    raise TypeError(f"{option} is free text, not a choice")


DEFAULTS: dict[str, Any] = {option: choices(option)[0] for option in INTERACTING + CYCLING}


def all_combinations() -> list[dict[str, Any]]:
    """Every valid combination of the interacting options, the others cycled through them.

    A cycling option's value shifts by one more every full turn, so that it does not pair
    with the same interacting values every time. Every answer cookiecutter.json offers is
    valid with every other, so nothing is filtered out; a rule that made a pair invalid
    would be added here.
    """
    combinations = []
    for index, values in enumerate(itertools.product(*(choices(o) for o in INTERACTING))):
        combination = dict(zip(INTERACTING, values, strict=True))
        for option in CYCLING:
            offered = choices(option)
            combination[option] = offered[(index + index // len(offered)) % len(offered)]
        combinations.append(combination)
    return combinations


def combination_id(context: Mapping[str, Any]) -> str:
    """A short, readable test id for a combination."""
    flags = "".join(
        letter if context[option] else "-"
        for option, letter in (
            ("include_docker", "d"),
            ("include_ci", "c"),
            ("include_monitoring", "m"),
            ("include_spark", "s"),
        )
    )
    return "-".join(
        [
            context["task"][:5],
            context["data_source"],
            flags,
            "py" + context["python_version"],
            context["license"],
        ]
    )


COMBINATIONS = [DEFAULTS] if FAST else all_combinations()

# --- baking --------------------------------------------------------------------


def cookiecutter_context(answers: Mapping[str, Any]) -> dict[str, str]:
    """Answers as cookiecutter's extra_context takes them (booleans spelled as on the CLI)."""
    return {
        key: ("yes" if value else "no") if isinstance(value, bool) else value
        for key, value in answers.items()
    }


def bake_with(cookies: Any, answers: Mapping[str, Any]) -> Path:
    """Bake the template with some answers and return the baked project's path."""
    result = cookies.bake(template=str(TEMPLATE_DIR), extra_context=cookiecutter_context(answers))
    assert result.exception is None, result.exception
    assert result.exit_code == 0
    return Path(result.project_path)


@pytest.fixture
def bake(cookies: Any) -> Any:
    """Bake the template with answers given as keywords; each bake gets its own folder."""
    return lambda **answers: bake_with(cookies, answers)


def baked_files(project: Path) -> set[str]:
    """Every file in a baked project, as POSIX paths relative to it."""
    return {path.relative_to(project).as_posix() for path in project.rglob("*") if path.is_file()}


# --- running commands ----------------------------------------------------------


@cache
def machine_pythons() -> dict[str, str]:
    """The answered Python versions this machine has an interpreter for, found by uv."""
    found = {}
    for version in choices("python_version"):
        completed = subprocess.run(
            ["uv", "python", "find", "--no-project", version],
            capture_output=True,
            text=True,
            env=clean_env(),
            check=False,
        )
        if completed.returncode == 0:
            found[version] = completed.stdout.strip()
    return found


def clean_env(**extra: str) -> dict[str, str]:
    """The environment for commands run inside a baked project.

    Nothing of the template's own virtual environment leaks in, and uv never downloads a
    Python build: it uses an interpreter already on the machine. Python writes bytecode as it
    does on a user's machine or a CI runner: where PYTHONDONTWRITEBYTECODE is set, every
    baked command would compile its imports (MLflow, scikit-learn, ...) again, about 10 s each.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if key
        not in {"VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT", "PYTHONPATH", "PYTHONDONTWRITEBYTECODE"}
    }
    env |= {"UV_PYTHON_DOWNLOADS": "never", "NO_COLOR": "1", "UV_NO_PROGRESS": "1"}
    return env | extra


def run(
    command: list[str], cwd: Path, env: Mapping[str, str] | None = None, timeout: float = 600
) -> str:
    """Run a command, failing the test with its output if it fails; return its output.

    The command runs in a session of its own: past `timeout` the whole process group is
    killed, so a hung grandchild (a pytest worker under `make`) cannot outlive the test.
    """
    process = subprocess.Popen(
        command,
        cwd=cwd,
        env=dict(env) if env is not None else clean_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    try:
        output, _ = process.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        output, _ = process.communicate()
        pytest.fail(f"{' '.join(command)} took over {timeout:.0f} s in {cwd}:\n{output}")
    assert process.returncode == 0, (
        f"{' '.join(command)} exited {process.returncode} in {cwd}:\n{output}"
    )
    return output


def tool(name: str) -> str:
    """Path of a tool from the template's test environment."""
    found = shutil.which(name, path=str(Path(sys.executable).parent)) or shutil.which(name)
    assert found, f"{name} is not installed in the template's test environment"
    return found


def postgresql_binaries() -> Path | None:
    """Where this machine keeps initdb and pg_ctl, if it has a PostgreSQL server at all."""
    found = shutil.which("initdb")
    if found:
        return Path(found).resolve().parent
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return candidates[-1].parent if candidates else None


@pytest.fixture(scope="session")
def postgresql_server() -> Path | None:
    """Make sure the PostgreSQL server binaries that the sql projects' tests start are installed.

    As root on Debian or Ubuntu (CI, a fresh machine) they are installed with apt-get; elsewhere
    a missing server is reported, and the baked tests skip their PostgreSQL test with a reason.
    """
    if postgresql_binaries() is None and os.geteuid() == 0 and shutil.which("apt-get"):
        env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run(
            ["apt-get", "update", "-qq"], check=True, env=env, capture_output=True, timeout=600
        )
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "--no-install-recommends", "postgresql"],
            check=True,
            env=env,
            capture_output=True,
            timeout=600,
        )
    binaries = postgresql_binaries()
    if binaries is None:
        print("No PostgreSQL server here: the baked projects skip their PostgreSQL test.")
    return binaries


@pytest.fixture(scope="session")
def template_repo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The template's working tree as a committed git repository (what cruft needs)."""
    repo = tmp_path_factory.mktemp("template") / "cookiecutter-ml-portfolio"
    ignore = shutil.ignore_patterns(
        ".git", ".venv", "__pycache__", ".pytest_cache", ".ruff_cache", ".mypy_cache"
    )
    shutil.copytree(TEMPLATE_DIR, repo, ignore=ignore)
    commit_all(repo, "template under test")
    return repo


def commit_all(repository: Path, message: str) -> None:
    """Commit everything, as a user does before pushing (creating the repository if need be)."""
    if not (repository / ".git").exists():
        run(["git", "init", "--quiet", "--initial-branch=main"], cwd=repository)
    run(["git", "add", "--all"], cwd=repository)
    git = ["git", "-c", "user.name=Template Tests", "-c", "user.email=tests@example.com"]
    run([*git, "commit", "--quiet", "--message", message], cwd=repository)
