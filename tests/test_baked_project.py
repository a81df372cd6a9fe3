"""Install baked projects and run their CI jobs, documented commands and Dockerfile commands.

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
from monitoring_loop import check_monitoring_loop
from workflows import execute, load, report, run_job, step_name

from conftest import (
    DEFAULTS,
    FAST,
    choices,
    clean_env,
    combination_id,
    commit_all,
    machine_pythons,
    run,
    tool,
)

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(FAST, reason="TEMPLATE_TESTS_FAST=1: baked projects are not installed"),
]

#: Each task x data source (the default answers are one of them). Docker is on for one data
#: source and off for the other in each task; monitoring is on for both tasks and both data
#: sources, and off once (what remains without it is checked for every combination by
#: test_bake.py). Spark is on once, so that its tests run in CI's test job after its Java
#: step. The Pythons the template offers take turns, the default first, so every CI job runs on
#: each of them without running the test job's matrix twice.
PYTHONS = choices("python_version")
CHECKED = [
    answers | {"python_version": PYTHONS[index % len(PYTHONS)]}
    for index, answers in enumerate(
        [
            DEFAULTS,
            DEFAULTS | {"data_source": "sql", "include_docker": False},
            DEFAULTS | {"task": "regression", "include_docker": False, "include_spark": True},
            DEFAULTS | {"task": "regression", "data_source": "sql", "include_monitoring": False},
        ]
    )
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


@pytest.mark.parametrize("answers", CHECKED, ids=[combination_id(a) for a in CHECKED])
def test_first_push_is_green_and_the_documented_commands_work(
    bake: Any, answers: dict[str, Any], postgresql_server: Path | None, tmp_path: Path
) -> None:
    """Commit the project as baked (no uv.lock yet) and run every CI job here, in order.

    Each job runs in its own fresh clone (tests/workflows.py). The first job installs from the
    network; every later one runs offline (`UV_OFFLINE=1`), so the same run proves that
    `make install`, `make test` and `make run` need no network once uv's cache holds the
    dependencies. Then the commands the README documents run in the checkout CI trained in.
    """
    default_answers = answers == DEFAULTS  # before installable() may change the Python version
    answers, env = installable(answers)
    project = bake(**answers)
    commit_all(project, "Bake the project")
    ci = load(project / ".github/workflows/ci.yml")
    expected = {"lint", "typecheck", "test", "pipeline", "pages"} | (
        {"image"} if answers["include_docker"] else set()
    )
    assert set(ci["jobs"]) == expected
    # pages only deploys the site the pipeline job built, on GitHub: it cannot run here.
    jobs = [name for name in ci["jobs"] if name != "pages"]

    offline = env | {"UV_OFFLINE": "1", "COLUMNS": "200"}
    # The test job's first matrix entry is the answered Python; 3.13, its other entry, is
    # answered by a combination of its own (CHECKED).
    runs = {
        name: run_job(
            ci, name, project, tmp_path / "ci", env if name == "lint" else offline, entries=1
        )
        for name in jobs
    }
    print(report(runs))
    for name, job_runs in runs.items():
        for job_run in job_runs:
            if name == "image":  # everything before the image build runs
                assert job_run.not_run[0][0] == "make image"
            elif name == "test" and job_run.not_run:
                why = job_run.not_run[0][1]
                assert why.startswith(("Python ", "matrix entry ")), job_run.not_run
            else:
                assert not job_run.not_run, job_run.not_run
    assert "uv.lock is not committed" in runs["lint"][0].output  # the warning the user sees

    tested = [job_run for job_run in runs["test"] if not job_run.not_run]
    assert tested, "no Python of the test matrix is installed here"
    for job_run in tested:
        tests = job_run.outputs["make test-all"]
        summary = tests.strip().splitlines()[-1]
        assert " passed" in summary
        assert "Required test coverage of 90" in tests
        uses_postgresql = answers["data_source"] == "sql" or answers["include_monitoring"]
        no_java = answers["include_spark"] and shutil.which("java") is None
        if no_java:  # the Spark tests skip, and the reason is printed
            print("No Java here: the baked Spark tests skipped")
            assert "Spark needs Java 17 or newer" in tests
        elif postgresql_server is not None or not uses_postgresql:
            # Every baked test ran, those against a real PostgreSQL server included.
            assert "skipped" not in summary, tests
        assert "TOTAL" in job_run.summary  # the coverage table, in the job's summary

    pipeline = runs["pipeline"][0]
    assert "Champion: customer-churn version 1" in pipeline.output
    uploaded = {
        path.relative_to(pipeline.workspace).as_posix()
        for path in pipeline.artifacts["model-card-and-plots"]
    }
    assert "reports/model_card.md" in uploaded
    assert len([name for name in uploaded if name.endswith(".png")]) >= 3
    checkout = pipeline.workspace
    assert (checkout / "mlflow.db").is_file()
    site_files = pipeline.artifacts["github-pages"]
    check_docs_site(checkout, site_files, answers, offline, failures=default_answers)
    readme = (checkout / "README.md").read_text(encoding="utf-8")
    assert "Run `make run` to train" not in readme  # the results table holds real numbers now

    slug = answers.get("project_slug", "customer-churn")
    version = run(["uv", "run", slug, "--version"], cwd=checkout, env=offline)
    assert version.strip().endswith("0.1.0")
    info = run(["uv", "run", slug, "info"], cwd=checkout, env=offline)
    assert (" threshold: " in info) is (answers["task"] == "classification")
    run(["uv", "run", "pre-commit", "validate-config"], cwd=checkout, env=offline)
    run(["make", "help"], cwd=checkout, env=offline)

    scored = checkout / "scored.parquet"
    raw = next((checkout / "data" / "raw").iterdir())
    if raw.suffix == ".csv":
        run(["uv", "run", slug, "predict", str(raw), str(scored)], cwd=checkout, env=offline)
        assert scored.stat().st_size > 0
        # The service is the same for either data source: it is put to the test once per task.
        canary = answers["include_monitoring"]  # the rollout is part of monitoring
        check_live_service(checkout, slug, "CUSTOMER_CHURN_", offline, canary=canary)
        if answers["include_monitoring"]:
            check_monitoring_loop(checkout, slug, "CUSTOMER_CHURN_", offline)

    if answers["include_docker"]:
        check_release_steps(project, checkout, tmp_path / "release", offline)
    if answers["include_monitoring"]:
        check_scheduled_drift_check(project, tmp_path / "drift", offline)


def check_docs_site(
    checkout: Path,
    uploaded: list[Path],
    answers: dict[str, Any],
    env: dict[str, str],
    *,
    failures: bool,
) -> None:
    """The site `make docs` built after `make run` has every page.

    With `failures`, `make docs` is also run where it must fail: on a broken link, and without
    a model card.
    """
    site = checkout / "site"
    assert site / "index.html" in uploaded
    pages = {
        "index.html": "Quick start",  # the README
        "model-card/index.html": "Fairness",
        "contract/index.html": "<th>protected</th>",
        "api/index.html": "/predict/batch",
        "decisions/index.html": "Decision records",
        "decisions/0001-one-data-contract/index.html": "data contract",
        "model-card-notes/index.html": "Model card notes",
    }
    for page, text in pages.items():
        assert text in (site / page).read_text(encoding="utf-8"), page
    drift_record = site / "decisions/0004-drift-test/index.html"
    assert drift_record.is_file() is answers["include_monitoring"]
    card = (site / "model-card/index.html").read_text(encoding="utf-8")
    figures = sorted(path.name for path in (checkout / "reports/figures").glob("*.png"))
    assert figures
    for name in figures:  # each figure of the evaluation is on the page, and in the site
        assert f'src="../figures/{name}"' in card, name
        assert (site / "figures" / name).is_file(), name
    contract = (site / "contract/index.html").read_text(encoding="utf-8")
    assert contract.count("<tr>") == 1 + 1 + len(
        yaml.safe_load((checkout / "configs/contract.yaml").read_text(encoding="utf-8"))["features"]
    )
    if not failures:
        return
    notes = checkout / "docs/model-card-notes.md"
    written = notes.read_text(encoding="utf-8")
    notes.write_text(written + "\n[gone](no-such-page.md)\n", encoding="utf-8")
    broken = execute("make docs", checkout, env)
    notes.write_text(written, encoding="utf-8")
    assert broken.returncode != 0
    assert "no-such-page.md" in broken.stdout + broken.stderr
    assert "Aborted with 1 warnings in strict mode" in broken.stdout + broken.stderr

    (checkout / "reports").rename(checkout / "reports-aside")  # as in a fresh clone
    unrun = execute("make docs", checkout, env)
    (checkout / "reports-aside").rename(checkout / "reports")
    assert unrun.returncode != 0
    assert "reports/model_card.md not found: run `make run` first" in unrun.stdout + unrun.stderr


def check_scheduled_drift_check(project: Path, scratch: Path, env: dict[str, str]) -> None:
    """drift.yml, in a repository with no secrets set yet: skipped with a notice, not red."""
    scheduled = load(project / ".github/workflows/drift.yml")
    (job_run,) = run_job(scheduled, "drift", project, scratch, env)
    print(report({"drift": [job_run]}))
    assert (
        "::notice::Drift check skipped"
        in job_run.outputs["Are the prediction log and the tracking server set?"]
    )
    assert not job_run.not_run
    assert len(job_run.skipped) == len(scheduled["jobs"]["drift"]["steps"]) - 2


def check_release_steps(project: Path, checkout: Path, scratch: Path, env: dict[str, str]) -> None:
    """release.yml refuses a tag that is not the project's version, and a missing uv.lock.

    Its steps up to the registry login run here; the rest need Docker and GitHub's registry.
    """
    release = load(project / ".github/workflows/release.yml")
    steps = {step_name(step): step for step in release["jobs"]["image"]["steps"]}
    tag = {"GITHUB_REF": "refs/tags/v0.1.0", "GITHUB_REF_NAME": "v0.1.0"}

    # As baked, nothing has written uv.lock yet: a release is refused, with what to do.
    refused = execute(steps["uv.lock is committed"]["run"], project, env)
    assert refused.returncode == 1
    assert "Run make install, commit uv.lock" in refused.stdout

    # After `make install` (which CI ran in the checkout) the user commits uv.lock and tags.
    commit_all(checkout, "Lock the dependencies")
    (job_run,) = run_job(release, "image", checkout, scratch, env, event=tag)
    print(report({"release": [job_run]}))
    assert set(job_run.outputs) == {
        "The tag names the version in pyproject.toml",
        "uv.lock is committed",
    }
    assert job_run.not_run[0][0] == "Log in to GitHub Container Registry"

    mismatch = env | {"GITHUB_REF_NAME": "v9.9.9", "GITHUB_ENV": str(scratch / "env")}
    wrong = execute(steps["The tag names the version in pyproject.toml"]["run"], checkout, mismatch)
    assert wrong.returncode == 1
    assert "tag v9.9.9 does not match version 0.1.0" in wrong.stdout


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
    assert (site_packages[0] / "customer_churn" / "cli" / "main.py").is_file(), (
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
    assert "seed:" in info.stdout

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
