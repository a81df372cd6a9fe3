"""Bring your own data: a table no one here has seen goes from `data adopt` to a green test suite.

Each table (tests/byod.py) has other column names, another size and label type, and two have
no id column. The baked project takes it in with one command and no file edited by hand, runs
its pipeline, serves and explains one of its rows, and its quick test loop (`make test`)
passes unchanged. Every test (`make test-all`) runs in the first-push checks instead, on
generated data: running it here too took CI past its 45 minutes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from byod import Table, tables
from live_service import assert_explanation_adds_up, http, sample_records, serving
from test_baked_project import installable

from conftest import DEFAULTS, FAST, commit_all, run

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(FAST, reason="TEMPLATE_TESTS_FAST=1: baked projects are not installed"),
]

SLUG = "customer-churn"
PREFIX = "CUSTOMER_CHURN_"


@pytest.mark.parametrize("table", tables(), ids=lambda table: table.name)
def test_own_table_is_adopted_trained_served_and_keeps_every_baked_test_green(
    bake: Any, table: Table, postgresql_server: Path | None, tmp_path: Path
) -> None:
    answers, env = installable(DEFAULTS | {"task": table.task})
    project = bake(**answers)
    source = table.write(tmp_path / f"{table.name}.csv")
    run(["make", "install"], cwd=project, env=env)

    adopted = run(["uv", "run", SLUG, *table.adopt_args(source)], cwd=project, env=env)

    assert f"Adopted data/raw/{table.name}.csv: {len(table.rows):,} rows" in adopted
    assert ("no id column" in adopted) == (table.id_column is None)
    assert "features.custom emptied" in adopted
    readme = (project / "data" / "README.md").read_text(encoding="utf-8")
    assert f"`{table.target}`" in readme
    assert "synthetic" not in readme
    commit_all(project, "Adopt my own data")

    pipeline = run(["make", "run"], cwd=project, env=env)
    assert f"Champion: {SLUG} version 1" in pipeline
    assert "Traceback" not in pipeline

    record = sample_records(project, 1)[0]
    with serving(project, SLUG, PREFIX, env) as url:
        status, body = http("POST", f"{url}/predict", record)
        explained_status, explained = http("POST", f"{url}/explain", record, timeout=60)
    assert status == 200, body
    assert explained_status == 200, explained
    assert_explanation_adds_up(body, explained)
    target = table.columns.index(table.target)
    if table.task == "classification":
        labels = {row[target] for row in table.rows}
        assert body["prediction"] in labels  # integer labels come back as integers
        assert set(body["probabilities"]) == {str(label) for label in labels}
    else:
        assert isinstance(body["prediction"], float)

    before = run(["git", "status", "--porcelain"], cwd=project, env=env)
    tests = run(["make", table.suite], cwd=project, env=env, timeout=1500)
    summary = tests.strip().splitlines()[-1]
    print(f"{table.name}: make {table.suite}: {summary}")
    assert " passed" in summary
    assert " failed" not in summary
    assert " error" not in summary
    assert ("Required test coverage of 90" in tests) == (table.suite == "test-all")
    if postgresql_server is not None:  # the tests against a real PostgreSQL server ran
        skipped = [line for line in tests.splitlines() if line.startswith("SKIPPED")]
        assert not [line for line in skipped if "PostgreSQL" in line], skipped
    # A test run changes no file of the project.
    assert run(["git", "status", "--porcelain"], cwd=project, env=env) == before
