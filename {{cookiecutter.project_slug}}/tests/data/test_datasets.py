"""Reading every kind of source, and writing processed data without ever half-writing it."""

import functools
import os
import threading
from collections.abc import Iterator
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pandas as pd
import pytest

{%- if cookiecutter.data_source == "sql" %}
import sqlalchemy as sa

from {{ cookiecutter.package_name }}.data.datasets import (
    read_sql,
    read_table,
    write_parquet,
    write_whole,
)
{%- else %}

from {{ cookiecutter.package_name }}.data.datasets import (
    read_table,
    write_parquet,
    write_whole,
)
{%- endif %}
from {{ cookiecutter.package_name }}.errors import DataSourceError


@pytest.fixture
def csv_file(sample: pd.DataFrame, tmp_path: Path) -> Path:
    path = tmp_path / "sample.csv"
    sample.to_csv(path, index=False)
    return path


@pytest.fixture
def http_folder(tmp_path: Path) -> Iterator[tuple[str, Path]]:
    """A local HTTP server on 127.0.0.1 serving a folder; yields its base URL and the folder."""
    folder = tmp_path / "served"
    folder.mkdir()
    handler = functools.partial(SimpleHTTPRequestHandler, directory=str(folder))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", folder
    finally:
        server.shutdown()
        server.server_close()


def test_reads_a_csv_file(csv_file: Path, sample: pd.DataFrame) -> None:
    assert read_table(str(csv_file)).shape == sample.shape


def test_reads_a_parquet_file(sample: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "sample.parquet"
    sample.to_parquet(path, index=False)

    assert read_table(str(path)).shape == sample.shape


def test_stacks_every_file_a_glob_matches(sample: pd.DataFrame, tmp_path: Path) -> None:
    sample.head(100).to_csv(tmp_path / "part-1.csv", index=False)
    sample.tail(50).to_csv(tmp_path / "part-2.csv", index=False)

    assert len(read_table(str(tmp_path / "part-*.csv"))) == 150


def test_reads_csv_and_parquet_over_http(
    http_folder: tuple[str, Path], sample: pd.DataFrame
) -> None:
    url, folder = http_folder
    sample.to_csv(folder / "sample.csv", index=False)
    sample.to_parquet(folder / "sample.parquet", index=False)

    assert read_table(f"{url}/sample.csv").shape == sample.shape
    assert read_table(f"{url}/sample.parquet").shape == sample.shape


def test_unreachable_url_is_one_line(http_folder: tuple[str, Path]) -> None:
    url, _ = http_folder

    with pytest.raises(DataSourceError, match=r"/absent.csv: could not download \(HTTP Error 404"):
        read_table(f"{url}/absent.csv")


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("empty.csv", "", "the file is empty"),
        ("data.xlsx", "a,b\n1,2\n", "unknown file type '.xlsx'"),
        ("broken.parquet", "not parquet", "cannot be read"),
    ],
)
def test_unreadable_file_is_one_line(tmp_path: Path, name: str, content: str, message: str) -> None:
    (tmp_path / name).write_text(content, encoding="utf-8")

    with pytest.raises(DataSourceError, match=message):
        read_table(str(tmp_path / name))


def test_missing_file_and_empty_glob_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(DataSourceError, match="file not found"):
        read_table(str(tmp_path / "absent.csv"))
    with pytest.raises(DataSourceError, match="no file matches"):
        read_table(str(tmp_path / "*.csv"))


def test_write_parquet_replaces_the_file_whole(sample: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "processed" / "data.parquet"

    write_parquet(sample, path)
    write_parquet(sample.head(10), path)

    assert len(pd.read_parquet(path)) == 10
    assert [p.name for p in path.parent.iterdir()] == ["data.parquet"]


def test_failed_write_leaves_the_old_file_and_no_debris(
    sample: pd.DataFrame, tmp_path: Path
) -> None:
    path = tmp_path / "data.parquet"
    write_parquet(sample, path)
    before = path.read_bytes()
    unwritable = pd.DataFrame({"mixed": [1, "two", 3.0]})  # pyarrow refuses mixed types

    with pytest.raises(Exception, match="two"):
        write_parquet(unwritable, path)

    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["data.parquet"]
{%- if cookiecutter.data_source == "sql" %}


def load_into(url: str, frame: pd.DataFrame, table: str) -> None:
    engine = sa.create_engine(url)
    with engine.begin() as connection:
        frame.to_sql(table, connection, if_exists="replace", index=False)
    engine.dispose()


def test_reads_a_table_and_a_query_from_sqlite(sample: pd.DataFrame, tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'source.db'}"
    load_into(url, sample, "rows")

    assert read_sql(url, table="rows").shape == sample.shape
    assert len(read_sql(url, query="SELECT * FROM rows LIMIT 7")) == 7


def test_reads_a_table_and_a_query_from_postgresql(postgres_url: str, sample: pd.DataFrame) -> None:
    load_into(postgres_url, sample, "rows")

    from_table = read_sql(postgres_url, table="rows")
    from_query = read_sql(postgres_url, query="SELECT * FROM rows ORDER BY 1 LIMIT 7")

    assert from_table.shape == sample.shape
    assert list(from_table.columns) == list(sample.columns)
    assert len(from_query) == 7


def test_failed_query_hides_the_password(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'source.db'}"

    with pytest.raises(DataSourceError, match="no such table: absent"):
        read_sql(url, query="SELECT * FROM absent")
    with pytest.raises(DataSourceError) as caught:
        read_sql("postgresql+psycopg://ml:hunter2@127.0.0.1:1/db", table="rows")
    assert "hunter2" not in str(caught.value)
    assert "***" in str(caught.value)
{%- endif %}


def test_a_write_removes_what_killed_writers_left_never_a_live_writers(
    tmp_path: Path, finished_pid: str
) -> None:
    finished = finished_pid
    path = tmp_path / "data.parquet"
    stale_file = tmp_path / f".data.parquet.{finished}.tmp"
    stale_directory = tmp_path / f".data.parquet.{finished}.old.tmp"
    live = tmp_path / f".data.parquet.{os.getppid()}.tmp"  # pytest's parent: alive
    other_target = tmp_path / f".other.parquet.{finished}.tmp"
    for planted in (stale_file, live, other_target):
        planted.write_bytes(b"half written")
    stale_directory.mkdir()
    (stale_directory / "MLmodel").write_text("old", encoding="utf-8")

    write_whole(path, lambda temporary: temporary.write_text("whole", encoding="utf-8"))

    assert path.read_text(encoding="utf-8") == "whole"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [path.name, live.name, other_target.name]
    )


def test_a_directory_is_replaced_whole(tmp_path: Path) -> None:
    path = tmp_path / "exported"
    path.mkdir()
    (path / "old").write_text("old", encoding="utf-8")

    def fill(temporary: Path) -> None:
        temporary.mkdir()
        (temporary / "new").write_text("new", encoding="utf-8")

    write_whole(path, fill)

    assert [p.name for p in path.iterdir()] == ["new"]
    assert [p.name for p in tmp_path.iterdir()] == ["exported"]


def test_a_file_and_a_folder_replace_each_other_whole(tmp_path: Path) -> None:
    path = tmp_path / "data.parquet"
    path.write_text("a file", encoding="utf-8")

    def fill(temporary: Path) -> None:  # a folder of part files
        temporary.mkdir()
        (temporary / "part-0").write_text("a part", encoding="utf-8")

    write_whole(path, fill)
    assert [p.name for p in path.iterdir()] == ["part-0"]

    write_whole(path, lambda temporary: temporary.write_text("a file again", encoding="utf-8"))
    assert path.read_text(encoding="utf-8") == "a file again"
    assert [p.name for p in tmp_path.iterdir()] == ["data.parquet"]


def test_a_folder_is_one_line_that_says_what_to_give(tmp_path: Path) -> None:
    with pytest.raises(DataSourceError) as caught:
        read_table(str(tmp_path))

    assert str(caught.value) == (
        f"{tmp_path}: is a folder: give a CSV or Parquet file, or a glob such as {tmp_path}/*.csv"
    )


def test_a_path_that_cannot_be_read_is_one_line(csv_file: Path) -> None:
    with pytest.raises(DataSourceError, match=r"cannot be read \(Not a directory\)"):
        read_table(f"{csv_file}/more.csv")
{%- if cookiecutter.data_source == "sql" %}


def test_a_port_that_is_not_a_number_is_one_line_without_the_password() -> None:
    with pytest.raises(DataSourceError, match="the port must be a number") as caught:
        read_sql("postgresql+psycopg://ml:hunter2@db.example:abc/ml", table="rows")

    assert "hunter2" not in str(caught.value)
    assert "ml:***@db.example:abc" in str(caught.value)
{%- endif %}
