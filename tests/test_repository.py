"""The template repository itself: lint-clean, valid workflows, CI running the README's command."""

from __future__ import annotations

import re

from workflows import lint_workflows

from conftest import TEMPLATE_DIR, run, tool


def test_template_code_is_lint_clean_and_formatted() -> None:
    run([tool("ruff"), "check", "."], cwd=TEMPLATE_DIR)
    run([tool("ruff"), "format", "--check", "."], cwd=TEMPLATE_DIR)


def test_template_workflows_pass_actionlint_and_the_schema() -> None:
    workflows = sorted(str(path) for path in (TEMPLATE_DIR / ".github/workflows").glob("*.yml"))
    assert workflows

    lint_workflows(TEMPLATE_DIR, workflows)
    dependabot = ["--builtin-schema", "vendor.dependabot", ".github/dependabot.yml"]
    run([tool("check-jsonschema"), *dependabot], cwd=TEMPLATE_DIR)


def test_ci_runs_exactly_the_readme_test_command() -> None:
    readme = (TEMPLATE_DIR / "README.md").read_text(encoding="utf-8")
    ci = (TEMPLATE_DIR / ".ci/run").read_text(encoding="utf-8")
    setup = ("#", "set ", "cd ")
    commands = [line for line in ci.splitlines() if line and not line.startswith(setup)]

    assert len(commands) == 1, commands
    test_block = re.search(r"# 2\. Run the template's tests.*?\n(.+?)\n```", readme, re.DOTALL)
    assert test_block, "the README's second command block is missing"
    assert test_block.group(1).strip() == commands[0]


def test_readme_starts_with_the_two_commands() -> None:
    readme = (TEMPLATE_DIR / "README.md").read_text(encoding="utf-8")
    first_block = readme[readme.index("```") : readme.index("```", readme.index("```") + 3)]

    assert "cookiecutter" in first_block
    assert "# 1. Bake a project" in first_block
    assert "# 2. Run the template's tests" in first_block
