"""`data adopt`: a table of your own becomes the project's data, or nothing changes at all.

Every table here is built in the test: none of it is the shipped sample.
"""

{% if cookiecutter.data_source == "csv" -%}
import functools
import http.server
{% endif -%}
import re
import shutil
{%- if cookiecutter.data_source == "csv" %}
import threading
from collections.abc import Callable, Iterator
{%- else %}
from collections.abc import Callable
{%- endif %}
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
{%- if cookiecutter.data_source == "sql" %}
import sqlalchemy as sa
{%- endif %}
import yaml
from click.testing import Result
from typer.testing import CliRunner

from {{ cookiecutter.package_name }}.cli import app
from {{ cookiecutter.package_name }}.config import load_config
from {{ cookiecutter.package_name }}.data.adopt import Adopted, adopt
from {{ cookiecutter.package_name }}.data.contract import DataContract, load_contract
from {{ cookiecutter.package_name }}.data.datasets import read_source
from {{ cookiecutter.package_name }}.data.profile import infer_contract
from {{ cookiecutter.package_name }}.data.validation import validate
from {{ cookiecutter.package_name }}.errors import ConfigError
{%- if cookiecutter.data_source == "sql" %}
from {{ cookiecutter.package_name }}.settings import ENV_PREFIX
{%- endif %}

PROJECT_ROOT = Path(__file__).resolve().parents[2]
CONFIG = Path("configs/project.yaml")
CONTRACT = Path("configs/contract.yaml")
README = Path("data/README.md")
ROWS = 120
{%- if cookiecutter.task == "classification" %}
#: Labels of a target the project's task can learn.
FITS: list[object] = ["a", "b"]
{%- else %}
#: Values of a target the project's task can learn.
FITS: list[object] = [1.5, 2.5]
{%- endif %}


# --- a project folder and tables of our own ----------------------------------------


@pytest.fixture
def project(isolated: Path) -> Path:
    """A project folder (the working directory) with a copy of the shipped configs/."""
    shutil.copytree(PROJECT_ROOT / "configs", isolated / "configs")
    (isolated / "data" / "raw").mkdir(parents=True)
    README.write_text("# Data\n\nThe old data.\n", encoding="utf-8")
    return isolated


def set_config(**sections: dict[str, object]) -> None:
    """Change some keys of the project config (comments are lost: only tests do this)."""
    values = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    for section, changes in sections.items():
        values[section] = (values.get(section) or {}) | changes
    CONFIG.write_text(yaml.safe_dump(values, sort_keys=False), encoding="utf-8")


def state(folder: Path) -> dict[str, bytes]:
    """Every file of the project folder that adopt may write, with its content."""
    watched = [folder / "configs", folder / "data"]
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for root in watched
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def table(target: list[object], *, rows: int = ROWS, seed: int = 0) -> pd.DataFrame:
    """Rows with an id, names with spaces, a date, missing values, and the given target."""
    rng = np.random.default_rng(seed)
    labels = [target[number % len(target)] for number in range(rows)]
    return pd.DataFrame(
        {
            "row id": [f"id-{number:05d}" for number in range(rows)],
            "unit price": np.where(rng.random(rows) < 0.1, np.nan, rng.uniform(1, 50, rows)),
            "colour | shade": rng.choice(["red", "green", "blue"], rows),
            "sold on": pd.date_range("2024-01-01", periods=rows, freq="D").strftime("%Y-%m-%d"),
            "the target": labels,
        }
    )
{%- if cookiecutter.data_source == "sql" %}


@pytest.fixture
def database_url(isolated: Path) -> str:
    """A SQLite database of the test's own, where tables to adopt are put."""
    return f"sqlite:///{isolated / 'source.db'}"


@pytest.fixture
def bring(database_url: str) -> Callable[..., str]:
    """Put a table in the database; returns its name, the source to adopt."""

    def put(frame: pd.DataFrame, name: str = "incoming") -> str:
        with sa.create_engine(database_url).begin() as connection:
            frame.to_sql(name, connection, index=False, if_exists="replace")
        return name

    return put


@pytest.fixture
def run(database_url: str) -> Callable[..., Adopted]:
    """`adopt` on the project config, reading the test's database."""

    def call(source: str, **options: str | None) -> Adopted:
        return adopt(CONFIG, source, database_url=database_url, **options)  # type: ignore[arg-type]

    return call


@pytest.fixture
def env(database_url: str) -> dict[str, str]:
    """The CLI's environment: the test's database."""
    return {f"{ENV_PREFIX}DATABASE_URL": database_url}


def configured_rows(database_url: str) -> pd.DataFrame:
    """The data the project config now reads."""
    return read_source(load_config(CONFIG).data, database_url)
{%- else %}


@pytest.fixture
def bring() -> Callable[..., str]:
    """Write a table as a CSV file outside data/raw/; returns its path, the source to adopt."""

    def put(frame: pd.DataFrame, name: str = "incoming") -> str:
        path = Path("downloads") / f"{name}.csv"
        path.parent.mkdir(exist_ok=True)
        frame.to_csv(path, index=False)
        return str(path)

    return put


@pytest.fixture
def run() -> Callable[..., Adopted]:
    """`adopt` on the project config."""

    def call(source: str, **options: str | None) -> Adopted:
        return adopt(CONFIG, source, **options)  # type: ignore[arg-type]

    return call


@pytest.fixture
def env() -> dict[str, str]:
    """The CLI's environment: nothing beyond the working directory."""
    return {}


@pytest.fixture
def database_url() -> str:
    """No database for a CSV project."""
    return ""


def configured_rows(database_url: str) -> pd.DataFrame:
    """The data the project config now reads."""
    return read_source(load_config(CONFIG).data)
{%- endif %}


def refused(result: Result, message: str) -> None:
    """The CLI's refusal: exit code 1 and one line on stderr that says what is wrong."""
    assert result.exit_code == 1
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert message in result.stderr


def adopt_cli(runner: CliRunner, env: dict[str, str], source: str, *options: str):  # type: ignore[no-untyped-def]
    """`data adopt SOURCE OPTIONS...` through the CLI."""
    return runner.invoke(app, ["data", "adopt", source, *options], env=env)


# --- what adopt writes -------------------------------------------------------------
{%- if cookiecutter.task == "classification" %}


def test_adopt_writes_a_contract_that_validates_its_table(
    project: Path,
    runner: CliRunner,
    env: dict[str, str],
    bring: Callable[..., str],
    database_url: str,
) -> None:
    frame = table(["low", "mid", "high"])
    source = bring(frame, "My Table")

    result = adopt_cli(runner, env, source, "--target", "the target", "--id", "row id")

    assert result.exit_code == 0, result.output
    contract = load_contract(CONTRACT)
    rows = configured_rows(database_url)
    assert len(validate(rows, contract)) == len(frame)
    assert contract.id_column == "row id"
    assert contract.feature_names == ["unit price", "colour | shade", "sold on"]
    assert [f.type for f in contract.features] == ["numeric", "categorical", "datetime"]
    assert (contract.target.type, contract.classes) == ("categorical", ["high", "low", "mid"])
    assert contract.positive_class is None
    assert contract.name == "my_table"
    assert f"{len(frame):,} rows" in result.stdout
{%- if cookiecutter.data_source == "csv" %}
    assert load_config(CONFIG).data.path == "data/raw/My Table.csv"
    assert Path("data/raw/My Table.csv").read_bytes() == Path(source).read_bytes()
{%- else %}
    assert (load_config(CONFIG).data.table, load_config(CONFIG).data.query) == ("My Table", None)
{%- endif %}


def test_integer_labels_stay_integers(
    project: Path, run: Callable[..., Adopted], bring: Callable[..., str]
) -> None:
    adopted = run(bring(table([3, 1, 2])), target="the target", id_column="row id")

    written = load_contract(CONTRACT)
    assert written.classes == adopted.contract.classes == [1, 2, 3]
    assert all(type(label) is int for label in written.classes)
    assert written.positive_class is None


def test_a_zero_one_target_is_categorical_with_positive_class_one(
    project: Path, run: Callable[..., Adopted], bring: Callable[..., str]
) -> None:
    # 1 is the more common class: "1" means yes, whatever the balance.
    adopted = run(bring(table([1, 1, 0])), target="the target", id_column="row id")

    written = load_contract(CONTRACT)
    assert (written.target.type, written.classes) == ("categorical", [0, 1])
    assert written.positive_class == 1
    assert type(written.positive_class) is int
    assert any("positive class: 1" in note for note in adopted.notes)


def test_a_yes_no_target_has_yes_as_its_positive_class(
    project: Path, run: Callable[..., Adopted], bring: Callable[..., str]
) -> None:
    run(bring(table(["yes", "yes", "no"])), target="the target", id_column="row id")

    assert load_contract(CONTRACT).positive_class == "yes"


def test_otherwise_the_rarer_class_is_positive(
    project: Path, run: Callable[..., Adopted], bring: Callable[..., str]
) -> None:
    # The rarer class is listed first: it is chosen for being rare, not for its place.
    run(bring(table(["cat", "dog", "dog"])), target="the target", id_column="row id")

    assert load_contract(CONTRACT).positive_class == "cat"


def test_positive_overrides_the_choice(
    project: Path,
    runner: CliRunner,
    env: dict[str, str],
    bring: Callable[..., str],
) -> None:
    source = bring(table(["yes", "no"]))

    result = adopt_cli(runner, env, source, "--target", "the target", "--positive", "no")

    assert result.exit_code == 0, result.output
    assert load_contract(CONTRACT).positive_class == "no"


def test_a_positive_that_is_not_a_label_is_one_line_and_writes_nothing(
    project: Path,
    runner: CliRunner,
    env: dict[str, str],
    bring: Callable[..., str],
) -> None:
    source = bring(table(["yes", "no"]))
    before = state(project)

    result = adopt_cli(runner, env, source, "--target", "the target", "--positive", "maybe")

    refused(result, "--positive 'maybe' is not a label")
    assert state(project) == before


def test_positive_on_more_than_two_classes_is_refused(
    project: Path, run: Callable[..., Adopted], bring: Callable[..., str]
) -> None:
    with pytest.raises(ConfigError, match="two classes only"):
        run(bring(table(["a", "b", "c"])), target="the target", positive="a")


def test_a_target_with_more_than_fifty_values_is_refused(
    project: Path,
    runner: CliRunner,
    env: dict[str, str],
    bring: Callable[..., str],
) -> None:
    source = bring(table([f"label {number}" for number in range(51)], rows=51 * 14))
    before = state(project)

    result = adopt_cli(runner, env, source, "--target", "the target")

    assert result.exit_code == 1
    assert "has 51 distinct values" in result.stderr
    assert "bake a regression project" in result.stderr
    assert state(project) == before


def test_too_few_rows_of_a_class_is_refused_before_anything_is_written(
    project: Path, run: Callable[..., Adopted], bring: Callable[..., str]
) -> None:
    frame = table(["common"])
    frame.loc[frame.index[:3], "the target"] = "rare"
    before = state(project)

    with pytest.raises(ConfigError, match=r"too few rows of some classes.*'rare' \(3\)"):
        run(bring(frame), target="the target")

    assert state(project) == before
{%- else %}


def test_adopt_writes_a_contract_that_validates_its_table(
    project: Path,
    runner: CliRunner,
    env: dict[str, str],
    bring: Callable[..., str],
    database_url: str,
) -> None:
    frame = table([120.5, 99.0, 310.25, 87.0])
    source = bring(frame, "My Table")

    result = adopt_cli(runner, env, source, "--target", "the target", "--id", "row id")

    assert result.exit_code == 0, result.output
    contract = load_contract(CONTRACT)
    rows = configured_rows(database_url)
    assert len(validate(rows, contract)) == len(frame)
    assert contract.id_column == "row id"
    assert contract.feature_names == ["unit price", "colour | shade", "sold on"]
    assert [f.type for f in contract.features] == ["numeric", "categorical", "datetime"]
    assert (contract.target.type, contract.target.min, contract.classes) == ("numeric", 0.0, [])
    assert contract.positive_class is None
    assert contract.name == "my_table"
    assert f"{len(frame):,} rows" in result.stdout
{%- if cookiecutter.data_source == "csv" %}
    assert load_config(CONFIG).data.path == "data/raw/My Table.csv"
    assert Path("data/raw/My Table.csv").read_bytes() == Path(source).read_bytes()
{%- else %}
    assert (load_config(CONFIG).data.table, load_config(CONFIG).data.query) == ("My Table", None)
{%- endif %}


def test_a_text_target_is_refused_in_one_line(
    project: Path,
    runner: CliRunner,
    env: dict[str, str],
    bring: Callable[..., str],
) -> None:
    source = bring(table(["cheap", "dear"]))
    before = state(project)

    result = adopt_cli(runner, env, source, "--target", "the target")

    refused(result, "target 'the target' is not numeric")
    assert state(project) == before


def test_too_few_rows_are_refused_before_anything_is_written(
    project: Path, run: Callable[..., Adopted], bring: Callable[..., str]
) -> None:
    before = state(project)

    with pytest.raises(ConfigError, match="20 rows are too few to split"):
        run(bring(table([1.0, 2.5, 4.0], rows=20)), target="the target")

    assert state(project) == before
{%- endif %}


def test_without_an_id_rows_are_identified_by_position_and_it_says_so(
    project: Path,
    runner: CliRunner,
    env: dict[str, str],
    bring: Callable[..., str],
) -> None:
    source = bring(table(FITS).drop(columns="row id"))

    result = adopt_cli(runner, env, source, "--target", "the target")

    assert result.exit_code == 0, result.output
    assert load_contract(CONTRACT).id_column is None
    assert "no id column" in result.stdout
    assert "identified by their position" in README.read_text(encoding="utf-8")


def test_a_text_column_unique_in_every_row_is_suggested_as_the_id(
    project: Path, run: Callable[..., Adopted], bring: Callable[..., str]
) -> None:
    adopted = run(bring(table(FITS)), target="the target")

    assert any("--id 'row id'" in note for note in adopted.notes)


def test_a_repeated_id_is_refused_in_one_line_and_nothing_is_written(
    project: Path,
    runner: CliRunner,
    env: dict[str, str],
    bring: Callable[..., str],
) -> None:
    frame = table(FITS)
    frame.loc[5, "row id"] = frame.loc[4, "row id"]
    source = bring(frame)
    before = state(project)

    result = adopt_cli(runner, env, source, "--target", "the target", "--id", "row id")

    refused(result, "id column 'row id' does not identify each row: 2 repeated")
    assert state(project) == before


def test_custom_features_are_emptied_with_a_note(
    project: Path, run: Callable[..., Adopted], bring: Callable[..., str]
) -> None:
    set_config(features={"custom": ["reads_old_columns", "another"]})

    adopted = run(bring(table(FITS)), target="the target", id_column="row id")

    assert load_config(CONFIG).features.custom == ()
    assert any(
        "features.custom emptied" in note and "reads_old_columns, another" in note
        for note in adopted.notes
    )


def test_custom_features_in_a_block_list_are_emptied_too(
    project: Path, run: Callable[..., Adopted], bring: Callable[..., str]
) -> None:
    text = CONFIG.read_text(encoding="utf-8")
    block = "  custom:\n    # the old ones\n    - one\n\n    - two\n"
    CONFIG.write_text(re.sub(r"^  custom:.*\n", block, text, flags=re.MULTILINE), encoding="utf-8")
    assert load_config(CONFIG).features.custom == ("one", "two")

    run(bring(table(FITS)), target="the target", id_column="row id")

    assert load_config(CONFIG).features.custom == ()


def test_a_time_column_the_new_data_lacks_is_cleared(
    project: Path, run: Callable[..., Adopted], bring: Callable[..., str]
) -> None:
    set_config(split={"time_column": "some old date"})

    adopted = run(bring(table(FITS)), target="the target", id_column="row id")

    assert load_config(CONFIG).split.time_column is None
    assert any("split.time_column 'some old date' cleared" in note for note in adopted.notes)


def test_a_time_column_the_new_data_has_is_kept(
    project: Path, run: Callable[..., Adopted], bring: Callable[..., str]
) -> None:
    set_config(split={"time_column": "sold on"})

    adopted = run(bring(table(FITS)), target="the target", id_column="row id")

    assert load_config(CONFIG).split.time_column == "sold on"
    assert not any("time_column" in note for note in adopted.notes)


def test_the_config_keeps_its_comments_and_every_other_value(
    project: Path, run: Callable[..., Adopted], bring: Callable[..., str]
) -> None:
    before = CONFIG.read_text(encoding="utf-8")
    old = load_config(CONFIG)

    run(bring(table(FITS)), target="the target", id_column="row id")

    after = CONFIG.read_text(encoding="utf-8")
    comments = [line.strip() for line in before.splitlines() if line.strip().startswith("#")]
    assert comments
    assert all(comment in after for comment in comments)
    new = load_config(CONFIG)
    unchanged = {"data", "features", "split"}
    assert {k: v for k, v in new.model_dump().items() if k not in unchanged} == {
        k: v for k, v in old.model_dump().items() if k not in unchanged
    }
    assert new.data.contract == old.data.contract


def test_a_config_in_flow_style_is_edited_too(
    project: Path, run: Callable[..., Adopted], bring: Callable[..., str]
) -> None:
    values = yaml.safe_load(CONFIG.read_text(encoding="utf-8"))
    flow = yaml.safe_dump({"data": values.pop("data")}, default_flow_style=None, width=1000)
    CONFIG.write_text(yaml.safe_dump(values, sort_keys=False) + flow, encoding="utf-8")

    adopted = run(bring(table(FITS)), target="the target", id_column="row id")

    config = load_config(CONFIG)
    assert adopted.data in {str(getattr(config.data, key, "")) for key in ("path", "table")}


def test_data_readme_describes_the_new_table(
    project: Path, run: Callable[..., Adopted], bring: Callable[..., str]
) -> None:
    frame = table(FITS)

    adopted = run(bring(frame), target="the target", id_column="row id")

    readme = README.read_text(encoding="utf-8")
    assert "The old data" not in readme
    assert f"`{adopted.data}`: {len(frame):,} rows and {frame.shape[1]} columns" in readme
    assert "The target is `the target`" in readme
    assert "`row id` identifies each row" in readme
    for column in adopted.contract.features:
        escaped = column.name.replace("|", "\\|")  # a pipe would split the table's row
        assert f"| `{escaped}` | {column.type} |" in readme
{%- if cookiecutter.task == "classification" %}
    assert "`a` 50.0%, `b` 50.0%; the positive class is `b`" in readme
{%- else %}
    assert "a number from 1.5 to 2.5" in readme
{%- endif %}
{%- if cookiecutter.data_source == "csv" %}


# --- files: copied, never overwritten --------------------------------------------


def test_a_file_in_data_raw_is_never_overwritten(
    project: Path,
    runner: CliRunner,
    env: dict[str, str],
    bring: Callable[..., str],
) -> None:
    existing = Path("data/raw/incoming.csv")
    existing.write_text("someone's data\n", encoding="utf-8")
    source = bring(table(FITS))
    before = state(project)

    result = adopt_cli(runner, env, source, "--target", "the target")

    refused(result, "data/raw/incoming.csv exists: data in data/raw/ is never overwritten")
    assert state(project) == before


def test_the_same_file_can_be_adopted_again(
    project: Path, run: Callable[..., Adopted], bring: Callable[..., str]
) -> None:
    source = bring(table(FITS))
    run(source, target="the target")

    again = run(source, target="the target", id_column="row id")

    assert again.contract.id_column == load_contract(CONTRACT).id_column == "row id"
    assert Path("data/raw/incoming.csv").read_bytes() == Path(source).read_bytes()


def test_a_file_already_in_data_raw_is_used_where_it_is(
    project: Path, run: Callable[..., Adopted]
) -> None:
    frame = table(FITS)
    frame.to_parquet("data/raw/mine.parquet", index=False)

    run(str(Path("data/raw/mine.parquet").resolve()), target="the target", id_column="row id")

    assert load_config(CONFIG).data.path == "data/raw/mine.parquet"
    assert sorted(p.name for p in Path("data/raw").iterdir()) == ["mine.parquet"]
    assert len(configured_rows("")) == len(frame)


def test_a_file_whose_name_looks_like_a_glob_is_read_as_itself(
    project: Path, run: Callable[..., Adopted], bring: Callable[..., str]
) -> None:
    frame = table(FITS)
    source = bring(frame, 'it\'s "sales" [2024] é\u00a0😀')

    run(source, target="the target", id_column="row id")

    assert Path('data/raw/it\'s "sales" [2024] é\u00a0😀.csv').exists()
    assert len(validate(configured_rows(""), load_contract(CONTRACT))) == len(frame)


def test_a_glob_is_read_in_place(project: Path, run: Callable[..., Adopted]) -> None:
    frame = table(FITS)
    Path("parts").mkdir()
    frame.iloc[:60].to_csv("parts/one.csv", index=False)
    frame.iloc[60:].to_csv("parts/two.csv", index=False)

    adopted = run("parts/*.csv", target="the target", id_column="row id")

    assert (adopted.rows, adopted.data) == (len(frame), "parts/*.csv")
    assert load_config(CONFIG).data.path == "parts/*.csv"
    assert list(Path("data/raw").iterdir()) == []


@pytest.fixture
def served(isolated: Path) -> Iterator[str]:
    """An http server for the working directory, on 127.0.0.1; yields its base URL."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(isolated))
    handler.log_message = lambda *args: None  # type: ignore[attr-defined]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_a_url_is_read_in_place(
    project: Path, run: Callable[..., Adopted], bring: Callable[..., str], served: str
) -> None:
    frame = table(FITS)
    url = f"{served}/{bring(frame, 'remote')}?version=2"

    adopted = run(url, target="the target", id_column="row id")

    assert load_config(CONFIG).data.path == url
    assert (adopted.contract.name, adopted.rows) == ("remote", len(frame))
    assert list(Path("data/raw").iterdir()) == []
{%- else %}


# --- SQL: a table or a query -------------------------------------------------------


def test_a_query_is_adopted_and_written_to_the_config_as_it_was_given(
    project: Path, run: Callable[..., Adopted], bring: Callable[..., str], database_url: str
) -> None:
    frame = table(FITS)
    bring(frame, "it's here")
    query = 'SELECT *\n\tFROM "it\'s here"\n\tWHERE "row id" != \'\u00a0\' -- every row'

    adopted = run(query, target="the target", id_column="row id")

    data = load_config(CONFIG).data
    assert (data.query, data.table) == (query, None)
    assert adopted.contract.name == "query"
    assert len(validate(configured_rows(database_url), load_contract(CONTRACT))) == len(frame)


def test_a_table_replaces_the_query_and_back(
    project: Path, run: Callable[..., Adopted], bring: Callable[..., str]
) -> None:
    name = bring(table(FITS))

    run(name, target="the target", id_column="row id")
    as_table = load_config(CONFIG).data
    run(f"select * from {name}", target="the target", id_column="row id")  # noqa: S608
    as_query = load_config(CONFIG).data

    assert (as_table.table, as_table.query) == (name, None)
    assert (as_query.table, as_query.query) == (None, f"select * from {name}")  # noqa: S608
    assert list(Path("data/raw").iterdir()) == []
{%- endif %}


# --- schema infer follows the same rules -------------------------------------------


def test_schema_infer_shares_the_rules(project: Path, runner: CliRunner, isolated: Path) -> None:
    frame = table({{ "[1, 1, 0]" if cookiecutter.task == "classification" else '["cheap", "dear"]' }})
    frame.to_csv(isolated / "new.csv", index=False)
    args = ["schema", "infer", "new.csv", "--target", "the target", "--output", "new.yaml"]

    result = runner.invoke(app, args)
{%- if cookiecutter.task == "classification" %}

    assert result.exit_code == 0, result.output
    inferred = load_contract(isolated / "new.yaml")
    assert (inferred.target.type, inferred.classes, inferred.positive_class) == (
        "categorical",
        [0, 1],
        1,
    )
{%- else %}

    assert result.exit_code == 1
    assert "target 'the target' is not numeric" in result.stderr
    assert not (isolated / "new.yaml").exists()
{%- endif %}


@pytest.mark.parametrize(
    ("labels", "task", "problem"),
    [
        (["cheap", "dear"], "regression", "is not numeric"),
        ([True, False], "regression", "is not numeric"),
        ([f"v{n}" for n in range(51)], "classification", "has 51 distinct values"),
        (["only"], "classification", "has 1 distinct values"),
    ],
)
def test_a_target_that_does_not_fit_the_task_is_refused(
    labels: list[object], task: str, problem: str
) -> None:
    frame = table(labels, rows=len(labels) * 3)

    with pytest.raises(ConfigError, match=problem):
        infer_contract(frame, name="t", target="the target", task=task)


def test_an_empty_target_is_refused() -> None:
    frame = table([1.0, 2.0])
    frame.loc[3, "the target"] = None

    with pytest.raises(ConfigError, match="target 'the target' is empty in 1 rows"):
        infer_contract(frame, name="t", target="the target", task="regression")


def test_the_written_contract_is_the_one_returned(
    project: Path, run: Callable[..., Adopted], bring: Callable[..., str]
) -> None:
    adopted = run(bring(table(FITS)), target="the target", id_column="row id")

    contract: DataContract = load_contract(CONTRACT)
    assert contract == adopted.contract
    assert CONTRACT.read_text(encoding="utf-8").startswith("# Written by `data adopt`")
