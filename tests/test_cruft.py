"""Baked projects can take template updates later: cruft creates, checks and links them."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run, tool

GIT = ["git", "-c", "user.name=Baked", "-c", "user.email=baked@example.com"]


def test_cruft_create_bakes_a_project_that_is_up_to_date(
    template_repo: Path, tmp_path: Path
) -> None:
    run(
        [tool("cruft"), "create", str(template_repo), "--no-input", "--output-dir", str(tmp_path)],
        cwd=tmp_path,
    )
    project = tmp_path / "customer-churn"

    recorded = json.loads((project / ".cruft.json").read_text(encoding="utf-8"))
    assert recorded["template"] == str(template_repo)
    assert recorded["context"]["cookiecutter"]["task"] == "classification"
    assert "up to date" in run([tool("cruft"), "check"], cwd=project)


def test_plain_cookiecutter_bake_links_to_cruft_from_its_recorded_answers(
    template_repo: Path, tmp_path: Path
) -> None:
    answers = ["task=regression", "data_source=sql", "license=Apache-2.0", "include_docker=no"]
    run(
        [
            tool("cookiecutter"),
            str(template_repo),
            "--no-input",
            "--output-dir",
            str(tmp_path),
            *answers,
        ],
        cwd=tmp_path,
    )
    project = tmp_path / "customer-churn"
    run(["git", "init", "--quiet", "--initial-branch=main"], cwd=project)
    run(["git", "add", "--all"], cwd=project)
    run([*GIT, "commit", "--quiet", "--message", "Bake"], cwd=project)
    recorded = (project / ".cookiecutter.json").read_text(encoding="utf-8")

    run(
        [tool("cruft"), "link", str(template_repo), "--no-input", "--extra-context", recorded],
        cwd=project,
    )

    # Re-baking from the recorded answers reproduces the project exactly: nothing to update.
    run([tool("cruft"), "diff", "--exit-code"], cwd=project)
    assert "up to date" in run([tool("cruft"), "check"], cwd=project)
