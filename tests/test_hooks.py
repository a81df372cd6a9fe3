"""The hooks: impossible answers are refused before anything is written; pruning fails loudly."""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from cookiecutter.exceptions import FailedHookException
from cookiecutter.main import cookiecutter

from conftest import COOKIECUTTER_JSON, TEMPLATE_DIR, cookiecutter_context

INVALID_ANSWERS = [
    pytest.param(
        {"project_name": "1 bad"}, "project_slug '1-bad' must be", id="name-starts-with-digit"
    ),
    pytest.param(
        {"project_slug": "class"}, "'class' is a Python keyword or would shadow", id="slug-keyword"
    ),
    pytest.param({"project_slug": "match"}, "'match' is a Python keyword", id="slug-soft-keyword"),
    pytest.param(
        {"project_name": "Json"}, "'json' is a Python keyword or would shadow", id="shadows-stdlib"
    ),
    pytest.param(
        {"project_slug": "mlflow"}, "try project_slug='mlflow-project'", id="shadows-mlflow"
    ),
    pytest.param({"project_slug": "sklearn"}, "would shadow", id="shadows-sklearn"),
    pytest.param(
        {"project_name": "Test"}, "'test' is a Python keyword or would shadow", id="shadows-test"
    ),
    pytest.param(
        {"package_name": "fastapi"},
        "package_name 'fastapi' is a Python keyword",
        id="package-fastapi",
    ),
    pytest.param(
        {"package_name": "churn-model"},
        "package_name 'churn-model' is not a valid",
        id="package-hyphen",
    ),
    pytest.param({"project_slug": "Churn_Model"}, "try project_slug='churn-model'", id="slug-case"),
    pytest.param({"project_name": "x" * 41}, "at most 40 characters", id="name-too-long"),
    pytest.param(
        {"author_email": "me.example.com"},
        "author_email 'me.example.com' is not an email",
        id="email",
    ),
    pytest.param(
        {"github_username": "no spaces"}, "github_username 'no spaces' is not", id="github"
    ),
    pytest.param(
        {"description": 'say "hi"'}, "description must not contain double quotes", id="quote"
    ),
    pytest.param({"project_name": "   "}, "project_name is empty", id="empty-name"),
]


@pytest.mark.parametrize(("answers", "message"), INVALID_ANSWERS)
def test_invalid_answer_is_refused_with_one_line_and_nothing_written(
    tmp_path: Path, capfd: pytest.CaptureFixture[str], answers: dict[str, str], message: str
) -> None:
    with pytest.raises(FailedHookException):
        cookiecutter(
            str(TEMPLATE_DIR),
            no_input=True,
            extra_context=cookiecutter_context(answers),
            output_dir=str(tmp_path),
        )

    errors = [line for line in capfd.readouterr().err.splitlines() if line.startswith("ERROR:")]
    assert len(errors) == 1, errors
    assert message in errors[0]
    assert list(tmp_path.iterdir()) == [], "a refused bake left files behind"


@pytest.mark.parametrize(
    "answers",
    [
        pytest.param(["project_name=1 bad"], id="digit"),
        pytest.param(["project_slug=import"], id="keyword"),
    ],
)
def test_cookiecutter_cli_exits_nonzero_and_leaves_no_folder(
    tmp_path: Path, answers: list[str]
) -> None:
    cookiecutter = Path(sys.executable).parent / "cookiecutter"

    completed = subprocess.run(
        [
            str(cookiecutter),
            str(TEMPLATE_DIR),
            "--no-input",
            "--output-dir",
            str(tmp_path),
            *answers,
        ],
        capture_output=True,
        text=True,
        check=False,
    )

    assert completed.returncode != 0
    reasons = [line for line in completed.stderr.splitlines() if line.startswith("ERROR:")]
    assert len(reasons) == 1, completed.stderr
    assert "try project_slug=" in reasons[0]
    assert list(tmp_path.iterdir()) == []


def test_answer_that_bypassed_the_prompt_is_still_checked(
    tmp_path: Path, capfd: pytest.CaptureFixture[str]
) -> None:
    # Cookiecutter itself refuses an unoffered choice on the command line, but a replay file
    # (or a hand-edited .cruft.json) reaches the hook without that check.
    context = {
        key: value for key, value in COOKIECUTTER_JSON.items() if key != "_copy_without_render"
    }
    replay = tmp_path / "replay.json"
    answers = {
        key: value[0] if isinstance(value, list) else value for key, value in context.items()
    }
    answers |= {
        "project_slug": "customer-churn",
        "package_name": "customer_churn",
        "python_version": "3.10",
    }
    replay.write_text(json.dumps({"cookiecutter": answers}), encoding="utf-8")
    output = tmp_path / "out"
    output.mkdir()

    with pytest.raises(FailedHookException):
        cookiecutter(str(TEMPLATE_DIR), replay=str(replay), output_dir=str(output))

    assert (
        "python_version='3.10' is not offered: choose one of 3.11, 3.12, 3.13"
        in capfd.readouterr().err
    )
    assert list(output.iterdir()) == []


def test_default_answers_pass_the_checks(bake: Any) -> None:
    assert (bake() / "pyproject.toml").is_file()


def load_post_gen_hook() -> Any:
    """Import the unrendered post-generation hook (it is valid Python before rendering)."""
    spec = importlib.util.spec_from_file_location(
        "post_gen_project", TEMPLATE_DIR / "hooks/post_gen_project.py"
    )
    assert spec
    assert spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_post_gen_hook_fails_loudly_when_a_path_to_prune_is_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook = load_post_gen_hook()
    monkeypatch.chdir(tmp_path)

    with pytest.raises(FileNotFoundError, match="Dockerfile should exist"):
        hook.remove("Dockerfile")


def test_post_gen_hook_removes_files_and_folders(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    hook = load_post_gen_hook()
    monkeypatch.chdir(tmp_path)
    (tmp_path / "Dockerfile").write_text("FROM scratch\n")
    (tmp_path / ".github/workflows").mkdir(parents=True)

    hook.remove("Dockerfile")
    hook.remove(".github")

    assert list(tmp_path.iterdir()) == []


def test_bake_prints_the_next_commands(bake: Any, capfd: pytest.CaptureFixture[str]) -> None:
    bake()

    printed = capfd.readouterr().out
    assert "cd customer-churn" in printed
    assert "make install" in printed
    assert "make test" in printed
