"""Start Spark, read a table into it, and write one out whole."""

import os
import sys
from pathlib import Path

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


def write_parquet(frame: DataFrame, path: Path) -> None:
    """Write Parquet (a folder of part files) whole: a failed run leaves what was at `path`."""
    write_whole(path, lambda temporary: frame.write.parquet(str(temporary.absolute())))


def _first_line(error: Exception) -> str:
    """An error's first line, without Spark's `[ERROR_CLASS]` prefix."""
    line = str(error).strip().splitlines()[0]
    return line.split("] ", 1)[-1] if line.startswith("[") else line
