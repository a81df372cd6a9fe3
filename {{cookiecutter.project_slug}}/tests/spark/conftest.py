"""Spark runs where Java 17 or newer is installed; without it, each Spark test skips and says why."""

import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
from pyspark.sql import SparkSession

from {{ cookiecutter.package_name }}.spark.session import session


def missing_java() -> str | None:
    """Why Spark cannot start here, or None when a Java 17 or newer is on PATH."""
    java = shutil.which("java")
    if java is None:
        return "Spark needs Java 17 or newer, and there is no `java` on PATH (README, Spark)"
    shown = subprocess.run([java, "-version"], capture_output=True, text=True, check=False)
    found = re.search(r'version "(\d+)', shown.stderr + shown.stdout)
    if found is None or int(found.group(1)) < 17:
        return f"Spark needs Java 17 or newer; `java -version` says: {shown.stderr.strip()[:80]}"
    return None


@pytest.fixture(scope="session")
def spark() -> SparkSession:
    """One local Spark session (two cores) for every Spark test."""
    if (reason := missing_java()) is not None:
        pytest.skip(reason)
    return session("local[2]")


@pytest.fixture
def in_both(tmp_path: Path) -> Callable[[pd.DataFrame], Path]:
    """`in_both(frame)`: the rows as a CSV file, for the pandas and the Spark path to read."""

    def write(frame: pd.DataFrame) -> Path:
        path = tmp_path / f"rows-{len(list(tmp_path.glob('rows-*')))}.csv"
        frame.to_csv(path, index=False)
        return path

    return write
