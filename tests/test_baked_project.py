"""Install baked projects and run their own checks, tests, CLI, CI steps and Dockerfile commands.

These tests are marked slow: each creates a virtual environment with uv from a Python already on
the machine (uv never downloads one), so the machine needs network access to the package index
once, or a warm uv cache.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from dockerfiles import replay
from live_service import check_live_service, free_port, http, wait_for_status, wait_until_answering

from conftest import DEFAULTS, FAST, clean_env, machine_pythons, run, tool

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(FAST, reason="TEMPLATE_TESTS_FAST=1: baked projects are not installed"),
]

#: The default answers, and each task x data source (the default is one of them).
CHECKED = [
    DEFAULTS,
    *(
        DEFAULTS | {"task": task, "data_source": source}
        for task in ("classification", "regression")
        for source in ("csv", "sql")
        if (task, source) != (DEFAULTS["task"], DEFAULTS["data_source"])
    ),
]


def installable(answers: dict[str, Any]) -> tuple[dict[str, Any], dict[str, str]]:
    """The answers to install here, and the environment that points uv at a local Python.

    A baked project requires the Python version it was answered with. Where this machine has no
    interpreter for that version (and uv may not download one), the newest version it has is
    answered instead, and the test says so.
    """
    pythons = machine_pythons()
    assert pythons, "no Python offered by the template is installed on this machine"
    version = answers["python_version"]
    if version not in pythons:
        version = max(pythons, key=lambda v: tuple(map(int, v.split("."))))
        print(f"python_version {answers['python_version']} is not installed here: using {version}")
    return answers | {"python_version": version}, clean_env(UV_PYTHON=pythons[version])


@pytest.mark.parametrize(
    "answers",
    CHECKED,
    ids=[f"{a['task']}-{a['data_source']}{'-defaults' if a == DEFAULTS else ''}" for a in CHECKED],
)
def test_documented_commands_pass_in_the_baked_project(
    bake: Any, answers: dict[str, Any], postgresql_server: Path | None
) -> None:
    answers, env = installable(answers)
    project = bake(**answers)

    run(["make", "install"], cwd=project, env=env)
    run(["make", "check"], cwd=project, env=env)
    tests = run(["make", "test"], cwd=project, env=env)
    summary = tests.strip().splitlines()[-1]
    assert " passed" in summary
    assert "Required test coverage of 90" in tests
    if postgresql_server is not None or answers["data_source"] == "csv":
        # Every baked test ran: for sql, that includes the one against a real PostgreSQL server.
        assert "skipped" not in summary, tests

    slug = answers.get("project_slug", "customer-churn")
    version = run(["uv", "run", slug, "--version"], cwd=project, env=env)
    assert version.strip().endswith("0.1.0")
    info = run(["uv", "run", slug, "info"], cwd=project, env=env)
    assert answers["task"] in info
    run(["uv", "run", "pre-commit", "validate-config"], cwd=project, env=env)

    # Once installed, the same commands work with no network: uv uses the lock and its cache.
    # `make run` is the whole pipeline on the sample data: it must end with a champion.
    offline = env | {"UV_OFFLINE": "1", "COLUMNS": "200"}
    run(["make", "install", "check"], cwd=project, env=offline)
    pipeline = run(["make", "run"], cwd=project, env=offline)
    assert "Champion: customer-churn version 1" in pipeline
    assert (project / "mlflow.db").is_file()
    assert (project / "reports" / "model_card.md").is_file()
    assert len(list((project / "reports" / "figures").glob("*.png"))) >= 3
    readme = (project / "README.md").read_text(encoding="utf-8")
    assert "Run `make run` to train" not in readme  # the results table holds real numbers now
    scored = project / "scored.parquet"
    raw = next((project / "data" / "raw").iterdir())
    if raw.suffix == ".csv":
        run(["uv", "run", slug, "predict", str(raw), str(scored)], cwd=project, env=offline)
        assert scored.stat().st_size > 0
        # The service is the same for either data source: it is put to the test once per task.
        check_live_service(project, slug, "CUSTOMER_CHURN_", offline)


def test_ci_job_steps_pass_in_a_fresh_clone(bake: Any, tmp_path: Path) -> None:
    """Every `run:` step of every CI job, in order, in a clone of a freshly committed project.

    `uses:` steps are provided by the test instead: actions/checkout is the clone itself, and
    astral-sh/setup-uv is the uv already on PATH. Nothing else is skipped.
    """
    answers, env = installable(DEFAULTS)
    project = bake(**answers)
    git = ["git", "-c", "user.name=Baked", "-c", "user.email=baked@example.com"]
    run(["git", "init", "--quiet", "--initial-branch=main"], cwd=project)
    run(["git", "add", "--all"], cwd=project)
    run([*git, "commit", "--quiet", "--message", "Bake the project"], cwd=project)
    workflow = yaml.safe_load((project / ".github/workflows/ci.yml").read_text(encoding="utf-8"))

    provided = {"actions/checkout", "astral-sh/setup-uv"}
    for name, job in workflow["jobs"].items():
        clone = tmp_path / name
        run(["git", "clone", "--quiet", str(project), str(clone)], cwd=tmp_path)
        job_env = env | {
            k: str(v) for k, v in (workflow.get("env", {}) | job.get("env", {})).items()
        }
        job_env["UV_PYTHON"] = env["UV_PYTHON"]  # the interpreter this machine has
        for step in job["steps"]:
            if "uses" in step:
                action = step["uses"].split("@")[0]
                assert action in provided, (
                    f"job {name} uses {action}, which this test cannot provide"
                )
                continue
            run(["bash", "-e", "-c", step["run"]], cwd=clone, env=job_env | step.get("env", {}))


def test_dockerfile_install_and_start_commands_work(bake: Any, tmp_path: Path) -> None:
    """The serve target's RUN lines install it, and its CMD serves an exported model.

    No container engine is needed: the stages `docker build .` makes are replayed here
    (tests/dockerfiles.py); tests/test_container.py builds the real images where podman runs.
    """
    answers, env = installable(DEFAULTS)
    project = bake(**answers)
    # The image installs from uv.lock (`make install` writes it) and serves a directory that
    # `export` writes from the champion that `make run` registers.
    run(["make", "install"], cwd=project, env=env)
    run(["make", "run"], cwd=project, env=env)
    exported = tmp_path / "champion"
    run(["uv", "run", "customer-churn", "export", str(exported)], cwd=project, env=env)

    image = replay(project, tmp_path / "image", uv=tool("uv"), base_env=env)

    assert image.stages == ["base", "builder", "serve"], "the serve image needs no train stage"
    syncs = [line for line in image.ran if line.startswith("RUN uv sync")]
    assert len(syncs) == 2, image.ran
    assert all("--locked" in line and "--no-dev" in line for line in syncs), syncs
    print(
        "Dockerfile lines not run here:",
        *(f"  {line}: {why}" for line, why in image.not_run),
        sep="\n",
    )
    site_packages = list((image.host("/app/.venv/lib")).glob("python*/site-packages"))
    assert len(site_packages) == 1
    for leaked in ("pytest", "mypy", "optuna", "matplotlib"):
        assert not (site_packages[0] / leaked).exists(), f"{leaked} leaked into the serve image"
    assert (site_packages[0] / "customer_churn" / "cli.py").is_file(), (
        "the project is not installed as a wheel"
    )

    # From the installed environment alone, with the source tree gone: `docker run IMAGE
    # customer-churn --help` (the image has no ENTRYPOINT, so a command replaces all of CMD).
    shutil.rmtree(image.host("/src"))
    assert image.image.cmd == ["customer-churn", "serve"]
    started = image.start("customer-churn", "--help", env=env)
    assert started.returncode == 0, started.stderr
    assert "Usage" in started.stdout
    info = image.start("customer-churn", "info", env=env)
    assert info.returncode == 0, info.stderr
    assert "config.task" in info.stdout

    # CMD: the server, with the exported model where the image looks for it (what mounting it
    # does), listening on this machine only: the image's 0.0.0.0 is for inside a container.
    model_dir = Path(image.env["CUSTOMER_CHURN_MODEL_URI"])
    assert model_dir == image.host("/app/models/champion")
    assert image.env["CUSTOMER_CHURN_HOST"] == "0.0.0.0"  # noqa: S104 - the image's, not used here
    shutil.copytree(exported, model_dir)
    port = free_port()
    overrides = {"CUSTOMER_CHURN_HOST": "127.0.0.1", "CUSTOMER_CHURN_PORT": str(port)}
    with image.serving(env=env, overrides=overrides) as server:
        url = f"http://127.0.0.1:{port}"
        started_in = wait_until_answering(f"{url}/health", alive=lambda: server.poll() is None)
        assert http("GET", f"{url}/health") == (200, {"status": "ok"})
        ready_in, ready = wait_for_status(f"{url}/ready", 200)
        assert ready["status"] == "ready"
        # The image's HEALTHCHECK command, with the port it names swapped for this one.
        healthcheck = [part.replace(":8000/", f":{port}/") for part in image.image.healthcheck]
        assert healthcheck != image.image.healthcheck, "the HEALTHCHECK does not call :8000/"
        checked = image.execute(healthcheck, env=env)
        assert checked.returncode == 0, checked.stderr
    print(f"Answered /health {started_in:.1f} s after start, ready {ready_in:.1f} s later")
