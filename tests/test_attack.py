"""The baked attack suite holds, and `--readme` writes its table into the README.

The default project is baked and installed, then `benchmarks/attack.py` attacks a scratch copy
of it (bad CLI inputs, hostile HTTP requests against a live server, kill -9 and concurrent
runs) and exits non-zero if any attack was not refused or survived as promised.
"""

from __future__ import annotations

from typing import Any

import pytest
from test_baked_project import installable

from conftest import DEFAULTS, FAST, run

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(FAST, reason="TEMPLATE_TESTS_FAST=1: baked projects are not installed"),
]


def test_every_attack_of_the_baked_attack_suite_is_held(bake: Any) -> None:
    answers, env = installable(DEFAULTS)
    project = bake(**answers)
    run(["uv", "sync", "--all-extras"], cwd=project, env=env)

    readme = project / "README.md"
    before = readme.read_text(encoding="utf-8")

    output = run(
        ["uv", "run", "python", "benchmarks/attack.py", "--readme"],
        cwd=project,
        env=env,
        timeout=900,
    )

    print(output)  # the table, as the README now shows it
    assert "| category | tried | held | failed | seconds |" in output
    for category in ("bad CLI inputs", "HTTP attacks", "faults"):
        row = next(line for line in output.splitlines() if line.startswith(f"| {category} |"))
        tried, held, failed = row.split("|")[2:5]
        assert int(tried) > 0, row
        assert tried == held, row
        assert failed.strip() == "0", row
    assert not (project / "mlflow.db").exists()  # the project's own state was left alone
    # `--readme` put the table in the README's attack block, and changed nothing else.
    start, end = "<!-- bench:attack:start -->", "<!-- bench:attack:end -->"
    head, tail = before.partition(start)[0], before.partition(end)[2]
    after = readme.read_text(encoding="utf-8")
    block = after.removeprefix(head).removesuffix(tail)
    assert after == head + block + tail
    assert block.startswith(f"{start}\nMeasured by `make bench` on ")
    assert "| bad CLI inputs |" in block
    assert block.endswith(end)
