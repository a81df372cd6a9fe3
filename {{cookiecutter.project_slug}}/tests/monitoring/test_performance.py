"""The champion's performance on newly labelled rows, recorded over time."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import pytest
from typer.testing import CliRunner

from {{ cookiecutter.package_name }}.cli import app
from {{ cookiecutter.package_name }}.config import ProjectConfig
from {{ cookiecutter.package_name }}.monitoring.performance import (
    performance_history,
    record_performance,
)
from {{ cookiecutter.package_name }}.settings import Settings

#: Slow (`make test-all` and CI only): each test promotes a champion first.
pytestmark = pytest.mark.slow


def test_performance_on_labelled_data_is_recorded_over_time(
    champion: ProjectConfig,
    settings: Settings,
    raw_data: pd.DataFrame,
    tmp_path: Path,
    unseen: Callable[..., pd.DataFrame],
    write: Callable[..., str],
) -> None:
    start = datetime(2025, 1, 1, tzinfo=UTC)
    rows = unseen(raw_data)
    size = len(rows) // 3
    for week in range(3):
        batch = rows.iloc[size * week : size * (week + 1)]
        path = write(batch, tmp_path / f"week-{week}.csv")
        record = record_performance(champion, settings, path, start + timedelta(weeks=week))
        assert record.rows == size

    history = performance_history(settings)

    assert list(history["as_of"]) == [
        pd.Timestamp(start + timedelta(weeks=week)) for week in range(3)
    ]
    assert set(history["model_version"]) == {"1"}
    assert history.iloc[:, -1].notna().all()
    assert record.figure.is_file()
    assert record.figure.stat().st_size > 0


def test_performance_on_labelled_data_records_the_champions_metrics(
    runner: CliRunner,
    cli_env: dict[str, str],
    raw_data: pd.DataFrame,
    tmp_path: Path,
    unseen: Callable[..., pd.DataFrame],
    write: Callable[..., str],
) -> None:
    rows = unseen(raw_data)
    path = write(rows, tmp_path / "labelled.csv")

    result = runner.invoke(app, ["performance", path, "--as-of", "2025-03-01"], env=cli_env)

    assert result.exit_code == 0, result.output
    recorded = f"version 1 on {len(rows):,} labelled rows, recorded as of 2025-03-01 00:00"
    assert recorded in result.stdout
    assert "performance.png" in result.stdout
