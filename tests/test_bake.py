"""Bake every combination of options and check the result without installing it."""

from __future__ import annotations

import json
import re
import tomllib
from pathlib import Path
from typing import Any

import jinja2
import pytest
import yaml
from workflows import PINNED_USES, lint_workflows, load

from conftest import (
    COMBINATIONS,
    CYCLING,
    DEFAULTS,
    INTERACTING,
    all_combinations,
    bake_with,
    baked_files,
    choices,
    combination_id,
    run,
    tool,
)

JINJA_LEFTOVER = re.compile(r"\{\{|\}\}|\{%|%\}")
#: Sample databases: copied as they are, never rendered.
BINARY_SUFFIXES = {".db"}
#: The baked project's own Jinja templates (the model card): their Jinja is meant to survive.
TEMPLATE_SUFFIX = ".j2"
#: GitHub Actions expressions are not Jinja: they must survive baking.
ACTIONS_EXPRESSION = re.compile(r"\$\{\{.*?\}\}")


#: The Spark folders, in the package and its tests: only a project with Spark has them.
SPARK_MODULES = ("__init__.py", "jobs.py", "session.py", "validation.py")
SPARK_TESTS = ("conftest.py", "test_jobs.py", "test_validation.py")
#: Modules (and their tests) that only a project with monitoring has: the folders the
#: post-generation hook removes without it (the monitoring folders whole).
MONITORING_MODULES = (
    "cli/monitoring.py",
    "monitoring/__init__.py",
    "monitoring/drift.py",
    "monitoring/drift_check.py",
    "monitoring/drift_report.html.j2",
    "monitoring/experiment.py",
    "monitoring/performance.py",
    "monitoring/prediction_log.py",
    "monitoring/retrain.py",
    "serving/rollout.py",
)
MONITORING_TESTS = (
    "monitoring/conftest.py",
    "monitoring/test_drift.py",
    "monitoring/test_drift_check.py",
    "monitoring/test_experiment.py",
    "monitoring/test_performance.py",
    "monitoring/test_prediction_log.py",
    "monitoring/test_retrain.py",
    "monitoring/test_rollout_story.py",
    "serving/test_prediction_logging.py",
    "serving/test_rollout.py",
)
SOURCE_MODULES = (
    "__init__.py",
    "__main__.py",
    "cli/__init__.py",
    "cli/data.py",
    "cli/main.py",
    "cli/ui.py",
    "config.py",
    "data/__init__.py",
    "data/adopt.py",
    "data/contract.py",
    "data/data_readme.md.j2",
    "data/datasets.py",
    "data/features.py",
    "data/ingest.py",
    "data/profile.py",
    "data/splits.py",
    "data/validation.py",
    "governance/__init__.py",
    "governance/explain.py",
    "governance/fairness.py",
    "errors.py",
    "py.typed",
    "serving/__init__.py",
    "serving/batch.py",
    "serving/batching.py",
    "serving/dependencies.py",
    "serving/limits.py",
    "serving/main.py",
    "serving/model.py",
    "serving/observability.py",
    "serving/routers/__init__.py",
    "serving/routers/health.py",
    "serving/routers/predict.py",
    "serving/schemas.py",
    "settings.py",
    "training/__init__.py",
    "training/evaluate.py",
    "training/gate.py",
    "training/inputs.py",
    "training/metrics.py",
    "training/metrics_table.md.j2",
    "training/model_card.md.j2",
    "training/models.py",
    "training/predictions.py",
    "training/promote.py",
    "training/reports.py",
    "training/run.py",
    "training/tracking.py",
    "training/train.py",
    "training/tune.py",
)
TEST_MODULES = (
    "conftest.py",
    "data/test_adopt.py",
    "data/test_contract.py",
    "data/test_datasets.py",
    "data/test_features.py",
    "data/test_ingest.py",
    "data/test_profile.py",
    "data/test_splits.py",
    "data/test_validation.py",
    "governance/test_explain.py",
    "governance/test_fairness.py",
    "serving/conftest.py",
    "serving/test_batch.py",
    "serving/test_batching.py",
    "serving/test_limits.py",
    "serving/test_main.py",
    "serving/test_model.py",
    "serving/test_observability.py",
    "serving/test_schemas.py",
    "test_benchmarks.py",
    "test_cli.py",
    "test_config.py",
    "test_settings.py",
    "training/test_evaluate.py",
    "training/test_metrics.py",
    "training/test_models.py",
    "training/test_promote.py",
    "training/test_reports.py",
    "training/test_run.py",
    "training/test_tracking.py",
    "training/test_train.py",
    "training/test_tune.py",
)

#: The candidate's notes for the model card, the decision records every project gets (0004,
#: the drift test, comes with monitoring only), and the documentation site's build hooks.
DOCS = (
    "decisions/0001-one-data-contract.md",
    "decisions/0002-champion-alias-and-quality-gate.md",
    "decisions/0003-micro-batching-in-the-service.md",
    "decisions/0005-skops-not-pickle.md",
    "decisions/0006-explanations-served-on-request.md",
    "decisions/README.md",
    "decisions/template.md",
    "hooks.py",
    "model-card-notes.md",
)


def expected_files(answers: dict[str, Any], package: str = "customer_churn") -> set[str]:
    """The exact file tree a combination of answers must bake."""
    sample = "customers" if answers["task"] == "classification" else "houses"
    data_file = f"data/raw/{sample}." + ("db" if answers["data_source"] == "sql" else "csv")
    files = {
        ".cookiecutter.json",
        ".env.example",
        ".gitignore",
        ".pre-commit-config.yaml",
        ".python-version",
        "Makefile",
        "mkdocs.yml",
        "benchmarks/attack.py",
        "benchmarks/figures.py",
        "benchmarks/pipeline.py",
        "benchmarks/scale.py",
        "benchmarks/serving.py",
        "README.md",
        "configs/contract.yaml",
        "configs/project.yaml",
        "data/README.md",
        data_file,
        *(f"docs/{name}" for name in DOCS),
        "pyproject.toml",
        *(f"src/{package}/{name}" for name in SOURCE_MODULES),
        *(f"tests/{name}" for name in TEST_MODULES),
    }
    if answers["license"] != "none":
        files.add("LICENSE")
    if answers["include_docker"]:
        files |= {"Dockerfile", ".dockerignore", "docker-compose.yml"}
        files |= {
            f"deploy/k8s/{name}.yaml"
            for name in ("configmap", "deployment", "service", "hpa", "kustomization", "tune-job")
        }
    if answers["include_ci"]:
        files |= {
            ".github/workflows/ci.yml",
            ".github/dependabot.yml",
            ".github/pull_request_template.md",
        }
        if answers["include_docker"]:
            files.add(".github/workflows/release.yml")
        if answers["include_monitoring"]:
            files.add(".github/workflows/drift.yml")
    if answers["include_spark"]:
        files |= {f"src/{package}/spark/{name}" for name in SPARK_MODULES}
        files |= {f"tests/spark/{name}" for name in SPARK_TESTS}
    if answers["include_monitoring"]:
        files |= {f"src/{package}/{name}" for name in MONITORING_MODULES}
        files |= {f"tests/{name}" for name in MONITORING_TESTS}
        files.add("docs/decisions/0004-drift-test.md")
    return files


@pytest.fixture(scope="module", params=COMBINATIONS, ids=combination_id)
def combination(
    request: pytest.FixtureRequest, cookies_session: Any
) -> tuple[dict[str, Any], Path]:
    """One combination of answers and the project it baked, baked once for all its checks."""
    return request.param, bake_with(cookies_session, request.param)


# --- every combination -----------------------------------------------------------


def test_bakes_the_exact_file_tree(combination: tuple[dict[str, Any], Path]) -> None:
    answers, project = combination

    assert baked_files(project) == expected_files(answers)


def test_no_jinja_survives_in_names_or_contents(combination: tuple[dict[str, Any], Path]) -> None:
    _, project = combination

    for path in project.rglob("*"):
        assert not JINJA_LEFTOVER.search(path.name), path
        if path.is_file() and path.suffix not in BINARY_SUFFIXES:
            text = ACTIONS_EXPRESSION.sub("", path.read_text(encoding="utf-8"))
            if path.suffix == TEMPLATE_SUFFIX:  # Jinja meant to survive: it must parse
                jinja2.Environment(autoescape=False).parse(text)  # noqa: S701 - Markdown, not HTML
                continue
            assert not JINJA_LEFTOVER.search(text), f"Jinja left in {path.relative_to(project)}"


def test_every_python_file_compiles(combination: tuple[dict[str, Any], Path]) -> None:
    _, project = combination

    for path in project.rglob("*.py"):
        compile(path.read_text(encoding="utf-8"), str(path), "exec")


def test_no_module_outgrows_an_evenings_read(combination: tuple[dict[str, Any], Path]) -> None:
    """Issue 14's limits: no module of the package over 300 lines, each CLI module under 250."""
    _, project = combination

    for path in (project / "src").rglob("*.py"):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        limit = 250 if path.parent.name == "cli" else 300
        assert lines <= limit, f"{path.relative_to(project)}: {lines} lines, over {limit}"


def test_every_toml_yaml_and_json_file_parses(combination: tuple[dict[str, Any], Path]) -> None:
    _, project = combination

    parsed = 0
    for path in project.rglob("*"):
        if path.suffix == ".toml":
            tomllib.loads(path.read_text(encoding="utf-8"))
        elif path.suffix in {".yaml", ".yml"}:
            yaml.safe_load(path.read_text(encoding="utf-8"))
        elif path.suffix == ".json":
            json.loads(path.read_text(encoding="utf-8"))
        else:
            continue
        parsed += 1
    assert parsed >= 4  # pyproject.toml, project.yaml, .pre-commit-config.yaml, .cookiecutter.json


def test_baked_python_is_lint_clean_and_formatted(combination: tuple[dict[str, Any], Path]) -> None:
    _, project = combination

    run([tool("ruff"), "check", "--no-cache", "."], cwd=project)
    run([tool("ruff"), "format", "--no-cache", "--check", "."], cwd=project)


@pytest.mark.parametrize("task", choices("task"))
@pytest.mark.parametrize("data_source", choices("data_source"))
def test_longest_allowed_name_is_still_formatted(bake: Any, task: str, data_source: str) -> None:
    # Lines holding the package name grow with it; long imports are written so that the
    # formatter keeps them as they are at any allowed length.
    answers = DEFAULTS | {"task": task, "data_source": data_source}
    project = bake(**answers, project_name="Abcdefghij " * 3 + "Abcdefg")

    assert len(project.name) == 40
    run([tool("ruff"), "check", "--no-cache", "."], cwd=project)
    run([tool("ruff"), "format", "--no-cache", "--check", "."], cwd=project)


def test_answers_are_recorded_for_cruft(combination: tuple[dict[str, Any], Path]) -> None:
    answers, project = combination

    recorded = json.loads((project / ".cookiecutter.json").read_text(encoding="utf-8"))

    assert recorded | answers == recorded  # every answer is there, with its value
    assert not [key for key in recorded if key.startswith("_")]  # no local paths or private keys


def test_python_version_is_used_everywhere_it_matters(
    combination: tuple[dict[str, Any], Path],
) -> None:
    answers, project = combination
    version = answers["python_version"]
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))

    assert pyproject["project"]["requires-python"] == f">={version}"
    assert pyproject["tool"]["ruff"]["target-version"] == "py" + version.replace(".", "")
    assert pyproject["tool"]["mypy"]["python_version"] == version
    assert (project / ".python-version").read_text(encoding="utf-8").strip() == version
    if answers["include_docker"]:
        dockerfile = (project / "Dockerfile").read_text(encoding="utf-8")
        assert f"FROM python:{version}-slim-bookworm AS base\n" in dockerfile
    if answers["include_ci"]:
        workflow = yaml.safe_load(
            (project / ".github/workflows/ci.yml").read_text(encoding="utf-8")
        )
        assert workflow["env"]["UV_PYTHON"] == version


def test_task_and_data_source_select_config_and_dependencies(
    combination: tuple[dict[str, Any], Path],
) -> None:
    answers, project = combination
    config = yaml.safe_load((project / "configs/project.yaml").read_text(encoding="utf-8"))
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))
    extras = pyproject["project"].get("optional-dependencies", {})
    settings = (project / "src/customer_churn/settings.py").read_text(encoding="utf-8")

    # Only a two-class model has a decision threshold to choose.
    assert ("threshold" in config["evaluate"]) is (answers["task"] == "classification")
    if answers["data_source"] == "sql":
        assert "query" in config["data"]
        assert any(requirement.startswith("sqlalchemy") for requirement in extras["train"])
        assert "database_url: SecretStr" in settings
    else:
        assert "path" in config["data"]
        declared = pyproject["project"]["dependencies"] + extras.get("train", [])
        assert not [requirement for requirement in declared if requirement.startswith("sqlalchemy")]
        assert "database_url" not in settings


def test_monitoring_selects_its_config_and_settings(
    combination: tuple[dict[str, Any], Path],
) -> None:
    answers, project = combination
    config = yaml.safe_load((project / "configs/project.yaml").read_text(encoding="utf-8"))
    settings = (project / "src/customer_churn/settings.py").read_text(encoding="utf-8")
    gitignore = (project / ".gitignore").read_text(encoding="utf-8").splitlines()

    assert ("monitoring" in config) is answers["include_monitoring"]
    assert ("prediction_log_dir" in settings) is answers["include_monitoring"]
    assert ("logs/" in gitignore) is answers["include_monitoring"]
    if not answers["include_monitoring"]:
        # Nothing of monitoring is left: no module, command, setting, workflow or mention.
        # (Fairlearn's `sensitive_features` argument belongs to the fairness audit.)
        leftovers = re.compile(r"drift|retrain|prediction.log|sensitive(?!_features)", re.I)
        for path in project.rglob("*"):
            if path.is_file() and path.suffix not in BINARY_SUFFIXES:
                if path.relative_to(project).as_posix() == "data/README.md":
                    continue  # "prices drift up": the sample data's story, not monitoring
                found = leftovers.search(path.read_text(encoding="utf-8"))
                assert found is None, f"{path.relative_to(project)}: {found and found.group(0)}"


def test_sample_data_is_small_and_documented_for_the_answers(
    combination: tuple[dict[str, Any], Path],
) -> None:
    answers, project = combination
    [data_file] = (project / "data/raw").iterdir()
    readme = (project / "data/README.md").read_text(encoding="utf-8")

    assert data_file.stat().st_size < 1_000_000
    assert f"`data/raw/{data_file.name}`" in readme
    other = "houses" if answers["task"] == "classification" else "customers"
    assert other not in readme


def test_licence_matches_the_answer(combination: tuple[dict[str, Any], Path]) -> None:
    answers, project = combination
    pyproject = tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    first_line = {
        "MIT": "MIT License",
        "BSD-3-Clause": "BSD 3-Clause License",
        "Apache-2.0": "Apache License",
    }

    if answers["license"] == "none":
        assert "license" not in pyproject
        assert "Private :: Do Not Upload" in pyproject["classifiers"]
    else:
        assert pyproject["license"] == answers["license"]
        text = (project / "LICENSE").read_text(encoding="utf-8")
        assert text.lstrip().startswith(first_line[answers["license"]])
        assert "[yyyy]" not in text.split("APPENDIX")[0]  # the licence itself is complete


def test_docs_site_lists_every_page_and_no_other(combination: tuple[dict[str, Any], Path]) -> None:
    """mkdocs.yml's nav names each baked page and the ones docs/hooks.py makes, and no other."""
    _, project = combination
    config = yaml.safe_load((project / "mkdocs.yml").read_text(encoding="utf-8"))

    def pages(nav: Any) -> list[str]:
        if isinstance(nav, str):
            return [nav]
        items = nav.values() if isinstance(nav, dict) else nav
        return [page for item in items for page in pages(item)]

    generated = {"index.md", "model-card.md", "contract.md", "api.md"}
    baked = {path.relative_to(project / "docs").as_posix() for path in project.glob("docs/**/*.md")}
    assert set(pages(config["nav"])) == generated | (baked - {config["not_in_nav"].lstrip("/")})


def test_readme_describes_only_what_was_baked(combination: tuple[dict[str, Any], Path]) -> None:
    answers, project = combination
    readme = (project / "README.md").read_text(encoding="utf-8")

    assert readme.startswith("# Customer Churn\n")
    assert ("## Container" in readme) is answers["include_docker"]
    assert ("Dockerfile" in readme) is answers["include_docker"]
    assert ("actions/workflows/ci.yml/badge.svg" in readme) is answers["include_ci"]
    assert ("DATABASE_URL" in readme) is (answers["data_source"] == "sql")
    assert ("PREDICTION_LOG_DIR" in readme) is answers["include_monitoring"]
    assert ("## Licence" in readme) is (answers["license"] != "none")
    assert ("## Spark" in readme) is answers["include_spark"]


def test_without_spark_no_word_of_it_remains(combination: tuple[dict[str, Any], Path]) -> None:
    answers, project = combination
    if answers["include_spark"]:
        return

    for name in baked_files(project) - {".cookiecutter.json"}:  # the answers, for cruft
        if Path(name).suffix not in BINARY_SUFFIXES:
            text = (project / name).read_text(encoding="utf-8")
            assert "spark" not in text.lower(), name


def test_workflows_pass_actionlint_and_the_schema(combination: tuple[dict[str, Any], Path]) -> None:
    answers, project = combination
    if not answers["include_ci"]:
        assert not (project / ".github").exists()
        return
    workflows = sorted(str(path) for path in (project / ".github/workflows").glob("*.yml"))

    lint_workflows(project, workflows)
    run(
        [
            tool("check-jsonschema"),
            "--builtin-schema",
            "vendor.dependabot",
            ".github/dependabot.yml",
        ],
        cwd=project,
    )


def test_ci_follows_the_answers(combination: tuple[dict[str, Any], Path]) -> None:
    """Jobs, Python versions, caches, pins and image names agree with the answers and each other."""
    answers, project = combination
    if not answers["include_ci"]:
        return
    version = answers["python_version"]
    workflows = {path.stem: path for path in (project / ".github/workflows").glob("*.yml")}
    assert set(workflows) == (
        {"ci"}
        | ({"release"} if answers["include_docker"] else set())
        | ({"drift"} if answers["include_monitoring"] else set())
    )
    makefile = (project / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-z-]+):", makefile, flags=re.MULTILINE))

    for path in workflows.values():
        text = path.read_text(encoding="utf-8")
        workflow = load(path)
        assert workflow["permissions"] == {"contents": "read"}, path.name
        assert "group" in workflow["concurrency"], path.name
        for line in text.splitlines():
            if "uses:" in line:
                assert PINNED_USES.match(line), f"not pinned to a SHA with its version: {line}"
        for name, job in workflow["jobs"].items():
            assert job["timeout-minutes"] <= 45, f"{path.name}: {name}"
            for step in job["steps"]:
                # One task vocabulary: every make target CI calls exists, for people too.
                for target in re.findall(r"\bmake ([a-z-]+)", step.get("run", "")):
                    assert target in targets, f"{path.name}: {name} runs make {target}"
                if step.get("uses", "").startswith("astral-sh/setup-uv@"):
                    assert step["with"]["enable-cache"] is True
                    assert set(step["with"]["cache-dependency-glob"].split()) == {
                        "pyproject.toml",
                        "uv.lock",
                    }

    ci = load(workflows["ci"])
    assert ci["on"]["push"] == {"branches": ["main"]}
    assert "pull_request" in ci["on"]
    assert ci["concurrency"]["cancel-in-progress"] is True
    expected_jobs = {"lint", "typecheck", "test", "pipeline", "pages"}
    assert set(ci["jobs"]) == expected_jobs | ({"image"} if answers["include_docker"] else set())
    assert ci["jobs"]["test"]["strategy"]["matrix"]["python-version"] == sorted({version, "3.13"})
    for name, job in ci["jobs"].items():
        if name == "pages":  # deploys what the pipeline job built: no Python
            continue
        (setup,) = [s for s in job["steps"] if s.get("uses", "").startswith("astral-sh/setup-uv@")]
        if name != "test":
            assert setup["with"]["python-version"] == version, name
    # Java, for Spark's tests, before they install and run: only where Spark was baked.
    java = [s for s in ci["jobs"]["test"]["steps"] if "actions/setup-java@" in s.get("uses", "")]
    assert len(java) == answers["include_spark"]
    if java:
        assert int(java[0]["with"]["java-version"]) >= 17
    pipeline = ci["jobs"]["pipeline"]["steps"]
    uploads = [s for s in pipeline if "upload-artifact" in s.get("uses", "")]
    assert uploads[0]["with"]["path"].split() == ["reports/model_card.md", "reports/figures/"]
    # The site is built from the pipeline's model card, and deployed from pushes to main only.
    runs = [s.get("run") for s in pipeline]
    assert runs.index("make docs") > runs.index("make run")
    assert pipeline[-1]["uses"].startswith("actions/upload-pages-artifact@")
    assert pipeline[-1]["with"]["path"] == "site/"
    pages = ci["jobs"]["pages"]
    assert pages["needs"] == "pipeline"
    assert pages["if"] == "github.event_name == 'push' && github.ref == 'refs/heads/main'"
    assert pages["permissions"] == {"pages": "write", "id-token": "write"}
    assert pages["environment"]["name"] == "github-pages"
    assert pages["steps"][-1]["uses"].startswith("actions/deploy-pages@")

    if answers["include_docker"]:
        dockerfile = (project / "Dockerfile").read_text(encoding="utf-8")
        assert f"FROM python:{version}-slim-bookworm AS base" in dockerfile
        assert "docker build --tag customer-churn:dev ." in makefile
        image_job = "\n".join(s.get("run", "") for s in ci["jobs"]["image"]["steps"])
        assert "customer-churn:dev" in image_job
        release = load(workflows["release"])
        assert release["on"] == {"push": {"tags": ["v*"]}}
        assert release["jobs"]["image"]["permissions"] == {"contents": "read", "packages": "write"}
        image = release["env"]["IMAGE"]
        owner = answers.get("github_username", "your-github-username").lower()
        assert image == f"ghcr.io/{owner}/customer-churn"
        build = next(
            s["run"] for s in release["jobs"]["image"]["steps"] if s.get("name") == "Build and push"
        )
        assert "--provenance=mode=max" in build
        assert '--tag "$IMAGE:$VERSION"' in build
        assert '--tag "$IMAGE:sha-$commit"' in build
        # The images the deployment files run are the ones a release pushes.
        compose = yaml.safe_load((project / "docker-compose.yml").read_text(encoding="utf-8"))
        assert compose["services"]["api"]["image"] == f"{image}:0.1.0"
        assert compose["x-train-image"]["image"] == f"{image}:0.1.0-train"
        deployment = yaml.safe_load(
            (project / "deploy/k8s/deployment.yaml").read_text(encoding="utf-8")
        )
        containers = deployment["spec"]["template"]["spec"]["containers"]
        assert containers[0]["image"] == f"{image}:0.1.0"

    if answers["include_monitoring"]:
        scheduled = load(workflows["drift"])
        assert set(scheduled["on"]) == {"schedule", "workflow_dispatch"}
        assert scheduled["jobs"]["drift"]["permissions"] == {"contents": "read", "issues": "write"}
        job_env = scheduled["jobs"]["drift"]["env"]
        assert set(job_env) == {"CUSTOMER_CHURN_PREDICTION_LOG_URL", "MLFLOW_TRACKING_URI"}

    dependabot = yaml.safe_load((project / ".github/dependabot.yml").read_text(encoding="utf-8"))
    ecosystems = {update["package-ecosystem"] for update in dependabot["updates"]}
    assert ecosystems == {"uv", "github-actions"} | (
        {"docker"} if answers["include_docker"] else set()
    )

    # pre-commit runs the same tools as `make lint` and `make typecheck`, from the same venv.
    hooks = yaml.safe_load((project / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    local = next(repo for repo in hooks["repos"] if repo["repo"] == "local")
    entries = {hook["entry"].split()[2] for hook in local["hooks"]}
    assert entries == {"ruff", "mypy"}
    assert all(f"uv run {tool_name}" in makefile for tool_name in entries)

    readme = (project / "README.md").read_text(encoding="utf-8")
    assert "actions/workflows/ci.yml/badge.svg" in readme
    assert ("img.shields.io/badge/license-" in readme) is (answers["license"] != "none")


def test_dockerfile_passes_hadolint(combination: tuple[dict[str, Any], Path]) -> None:
    answers, project = combination
    if not answers["include_docker"]:
        assert not (project / "Dockerfile").exists()
        return

    run([tool("hadolint"), "--failure-threshold", "info", "Dockerfile"], cwd=project)


# --- the option space itself -----------------------------------------------------


def test_combinations_cover_every_answer_and_every_interacting_pair() -> None:
    combinations = all_combinations()

    for option in INTERACTING + CYCLING:
        assert {c[option] for c in combinations} == set(choices(option)), option
    for cycling in CYCLING:
        for interacting in INTERACTING:
            pairs = {(c[cycling], c[interacting]) for c in combinations}
            assert len(pairs) == len(choices(cycling)) * len(choices(interacting)), (
                cycling,
                interacting,
            )


@pytest.mark.parametrize(
    ("option", "value"),
    [(option, value) for option in INTERACTING + CYCLING for value in choices(option)[1:]],
)
def test_every_answer_changes_the_baked_project(bake: Any, option: str, value: Any) -> None:
    def snapshot(project: Path) -> dict[str, bytes]:
        return {name: (project / name).read_bytes() for name in baked_files(project)}

    default = snapshot(bake(**DEFAULTS))
    changed = snapshot(bake(**(DEFAULTS | {option: value})))

    assert default != changed
