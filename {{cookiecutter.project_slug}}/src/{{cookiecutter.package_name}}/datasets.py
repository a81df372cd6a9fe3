"""Reading raw data from where the config says, and writing processed data safely.

This module is the only one that touches data storage: files, URLs{% if cookiecutter.data_source == "sql" %}, databases{% endif %}.
"""

import glob
import io
import os
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pandas as pd
{%- if cookiecutter.data_source == "sql" %}
import sqlalchemy as sa
{%- endif %}

from {{ cookiecutter.package_name }}.config import DataConfig
from {{ cookiecutter.package_name }}.errors import DataSourceError

URL_TIMEOUT_SECONDS = 60
{%- if cookiecutter.data_source == "sql" %}


def read_source(data: DataConfig, database_url: str) -> pd.DataFrame:
    """Read the raw data the config names: a query or a table from the database."""
    return read_sql(database_url, query=data.query, table=data.table)


def read_sql(url: str, *, query: str | None = None, table: str | None = None) -> pd.DataFrame:
    """Run a query, or read a whole table, through SQLAlchemy.

    Args:
        url: a SQLAlchemy URL, e.g. `sqlite:///data/raw/{{ cookiecutter.__sample }}.db` or
            `postgresql+psycopg://user:password@host:5432/db`.
        query: the SQL to run; or
        table: the table to read whole.

    Raises:
        DataSourceError: the database cannot be reached, or the query or table fails.
    """
    try:
        engine = sa.create_engine(url)
    except (sa.exc.ArgumentError, ImportError) as error:
        raise DataSourceError(f"database URL is not usable: {error}") from None
    try:
        with engine.connect() as connection:
            if table is not None:
                return pd.read_sql_table(table, connection)
            return pd.read_sql_query(sa.text(query or ""), connection)
    except (sa.exc.SQLAlchemyError, pd.errors.DatabaseError, ValueError) as error:
        reason = str(error).splitlines()[0]
        raise DataSourceError(
            f"{engine.url.render_as_string(hide_password=True)}: {reason}"
        ) from None
    finally:
        engine.dispose()
{%- else %}


def read_source(data: DataConfig) -> pd.DataFrame:
    """Read the raw data the config names: a file, a glob of files, or a URL."""
    return read_table(data.path)
{%- endif %}


def read_table(location: str) -> pd.DataFrame:
    """Read a CSV or Parquet file, every file a glob matches (stacked), or an http(s) URL.

    Raises:
        DataSourceError: nothing is found there, the file is empty, or it is not CSV or Parquet.
    """
    if location.startswith(("http://", "https://")):
        return _read_bytes(_download(location), location)
    paths = sorted(glob.glob(location)) if glob.has_magic(location) else [location]
    if not paths:
        raise DataSourceError(f"{location}: no file matches")
    frames = []
    for path in paths:
        try:
            frames.append(_read_bytes(Path(path).read_bytes(), path))
        except FileNotFoundError:
            raise DataSourceError(f"{path}: file not found") from None
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


def _download(url: str) -> bytes:
    try:
        with urllib.request.urlopen(url, timeout=URL_TIMEOUT_SECONDS) as response:  # noqa: S310 - http(s) only, checked above
            return bytes(response.read())
    except (urllib.error.URLError, TimeoutError) as error:
        raise DataSourceError(f"{url}: could not download ({error})") from None


def _read_bytes(content: bytes, name: str) -> pd.DataFrame:
    """Parse CSV or Parquet content, chosen by the name's suffix."""
    if not content.strip():
        raise DataSourceError(f"{name}: the file is empty")
    suffix = Path(name.split("?")[0]).suffix.lower()
    try:
        if suffix == ".parquet":
            return pd.read_parquet(io.BytesIO(content))
        if suffix in {".csv", ".txt", ""}:
            return pd.read_csv(io.BytesIO(content))
    except (ValueError, OSError, pd.errors.ParserError) as error:
        raise DataSourceError(f"{name}: cannot be read ({str(error).splitlines()[0]})") from None
    raise DataSourceError(f"{name}: unknown file type {suffix!r}: use .csv or .parquet")


def write_parquet(frame: pd.DataFrame, path: Path) -> None:
    """Write Parquet all at once (see `write_whole`)."""
    write_whole(path, lambda temporary: frame.to_parquet(temporary, index=False))


def write_whole(path: Path, write: Callable[[Path], object]) -> None:
    """Write a file all at once: `write` fills a temporary file beside `path`, renamed over it.

    A run that fails part-way leaves whatever was at `path` untouched.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        write(temporary)
        temporary.replace(path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
