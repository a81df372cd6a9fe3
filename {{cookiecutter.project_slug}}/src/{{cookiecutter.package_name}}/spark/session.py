"""Start Spark, read a table into it, and write one out whole."""

import os
import re
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from py4j.protocol import Py4JJavaError
from pyspark.errors import PySparkException
from pyspark.sql import DataFrame, SparkSession

from {{ cookiecutter.package_name }}.data.datasets import write_whole
from {{ cookiecutter.package_name }}.errors import ConfigError, DataSourceError

FORMATS = {".csv": "csv", ".txt": "csv", ".parquet": "parquet"}


def session(master: str) -> SparkSession:
    """The Spark session of this process, on `master` (SPARK_MASTER: `local[*]` by default)."""
    # Python workers run this interpreter, so they import what it does (pandas, the model's
    # code). On a cluster, set PYSPARK_PYTHON to the executors' own Python.
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    builder = (
        SparkSession.builder.master(master)
        .appName("{{ cookiecutter.project_slug }}")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.showConsoleProgress", "false")
    )
    try:
        spark = builder.getOrCreate()
    except PySparkException as error:  # most often: no Java
        raise ConfigError(
            f"Spark could not start on {master} ({_first_line(error)}): it needs Java 17 or "
            "newer on PATH or in JAVA_HOME (README, Spark)"
        ) from None
    spark.sparkContext.setLogLevel("ERROR")
    return spark


def read(spark: SparkSession, location: str) -> DataFrame:
    """Read a CSV or Parquet file, a folder of them, or a glob, with every CSV value as text.

    CSV values stay text here: `validate` types them as the pandas path does.

    Raises:
        DataSourceError: nothing is found there, it cannot be read, or the type is unknown.
    """
    suffix = Path(location.rstrip("/")).suffix.lower()
    if "://" not in location:  # a local path: Spark's JVM has a working directory of its own
        location = str(Path(location).absolute())
    if suffix not in FORMATS:
        raise DataSourceError(f"{location}: unknown file type {suffix!r}: use .csv or .parquet")
    try:
        if FORMATS[suffix] == "csv":
            return spark.read.csv(location, header=True)
        return spark.read.parquet(location)
    except PySparkException as error:
        raise DataSourceError(f"{location}: cannot be read ({_first_line(error)})") from None


def write_parquet(frame: DataFrame, path: Path, sidecar: Mapping[str, str] | None = None) -> None:
    """Write Parquet (a folder of part files) whole: a failed run leaves what was at `path`.

    `sidecar` maps file names to text written in the folder too (readers of the data skip
    names that start with `_`).
    """

    def write(temporary: Path) -> None:
        frame.write.parquet(str(temporary.absolute()))
        for name, text in (sidecar or {}).items():
            (temporary / name).write_text(text, encoding="utf-8")

    write_whole(path, write)


@contextmanager
def failures() -> Iterator[None]:
    """A Spark job that fails raises one line naming its Java error, not the JVM's stack trace.

    Raises:
        ConfigError: the job failed, most often for memory.
    """
    try:
        yield
    except (Py4JJavaError, PySparkException) as error:
        try:
            text = str(error)
        except Exception:  # str() itself fails once the JVM has gone
            text = ""
        found = re.search(r"java\.lang\.\w+: [^\n]*", text)
        reason = found.group(0) if found else (_first_line(error) if text else "the JVM stopped")
        raise ConfigError(
            f"Spark failed ({reason}): give it more memory (SPARK_DRIVER_MEMORY, e.g. 4g, for "
            "local[*]) or a cluster (SPARK_MASTER)"
        ) from None


def _first_line(error: Exception) -> str:
    """An error's first line, without Spark's `[ERROR_CLASS]` prefix."""
    line = str(error).strip().splitlines()[0]
    return line.split("] ", 1)[-1] if line.startswith("[") else line
