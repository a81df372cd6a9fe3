"""Reading raw data where the config says (files, globs, URLs{% if cookiecutter.data_source == "sql" %}, databases{% endif %}), and writing files whole."""

import glob
import io
import os
import shutil
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

import pandas as pd
{%- if cookiecutter.data_source == "sql" %}
import sqlalchemy as sa
{%- endif %}

from {{ cookiecutter.package_name }}.config import DataConfig
from {{ cookiecutter.package_name }}.errors import DataSourceError, {% if cookiecutter.data_source == "sql" %}mask, {% endif %}process_alive

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
        raise DataSourceError(f"database URL is not usable: {mask(str(error))}") from None
    except ValueError:  # SQLAlchemy reads the port with int()
        raise DataSourceError(
            f"database URL is not usable: {mask(url)}: the port must be a number"
        ) from None
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
        DataSourceError: nothing is found there, it is a folder or cannot be read, the file is
            empty, or it is not CSV or Parquet.
    """
    if location.startswith(("http://", "https://")):
        try:
            with urllib.request.urlopen(location, timeout=URL_TIMEOUT_SECONDS) as response:  # noqa: S310 - http(s) only, checked above
                content = response.read()
        except (urllib.error.URLError, TimeoutError) as error:
            raise DataSourceError(f"{location}: could not download ({error})") from None
        return _read_bytes(content, location)
    paths = sorted(glob.glob(location)) if glob.has_magic(location) else [location]
    if not paths:
        raise DataSourceError(f"{location}: no file matches")
    frames = []
    for path in paths:
        try:
            frames.append(_read_bytes(Path(path).read_bytes(), path))
        except FileNotFoundError:
            raise DataSourceError(f"{path}: file not found") from None
        except IsADirectoryError:
            raise DataSourceError(
                f"{path}: is a folder: give a CSV or Parquet file, or a glob such as {path}/*.csv"
            ) from None
        except OSError as error:
            raise DataSourceError(f"{path}: cannot be read ({error.strerror})") from None
    return pd.concat(frames, ignore_index=True) if len(frames) > 1 else frames[0]


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
    """Write a file or a directory all at once: `write` fills a temporary that replaces `path`.

    The temporary sits beside `path` and is named after it and this process's ID, so a run that
    fails part-way, or is killed, leaves whatever was at `path` untouched. The temporaries that
    killed runs left behind are removed here; a live process's (a concurrent writer's) are not.
    A directory replaces (or is replaced by) a file or a directory by two renames.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    for stale in path.parent.glob(f".{glob.escape(path.name)}.*.tmp"):
        pid = stale.name.removeprefix(f".{path.name}.").split(".")[0]
        if pid.isdigit() and not process_alive(int(pid)):
            _remove(stale)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    _remove(temporary)
    try:
        write(temporary)
        if path.exists() and (temporary.is_dir() or path.is_dir()):
            # A rename cannot replace a directory, nor put one over a file: the old steps aside.
            old = path.with_name(f".{path.name}.{os.getpid()}.old.tmp")
            path.rename(old)
            temporary.rename(path)
            _remove(old)
        else:
            temporary.replace(path)
    finally:
        _remove(temporary)


def _remove(path: Path) -> None:
    """Delete a file or a directory tree, if there is one."""
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)
