"""Bring your own table in: one command writes the contract, points the config at the data, and describes it.

Nothing is lost: the data is checked and every file is prepared before any is written; a file
already in `data/raw/` is never overwritten; each file is replaced whole (written beside it,
then renamed), and the previous contract and config stay in git.
"""

{% if cookiecutter.data_source == "csv" -%}
import filecmp
import glob
{% endif -%}
import io
import shlex
{%- if cookiecutter.data_source == "csv" %}
import shutil
{%- endif %}
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from {{ cookiecutter.package_name }}.config import ProjectConfig, load_config, parse_config
from {{ cookiecutter.package_name }}.data.contract import TASK, DataContract, dump_contract
from {{ cookiecutter.package_name }}.data.datasets import {% if cookiecutter.data_source == "sql" %}read_sql, {% endif %}read_table, write_whole
from {{ cookiecutter.package_name }}.data.profile import infer_contract, name_for
from {{ cookiecutter.package_name }}.data.splits import check_splittable
from {{ cookiecutter.package_name }}.data.validation import validate
from {{ cookiecutter.package_name }}.errors import {% if cookiecutter.data_source == "csv" %}ConfigError, {% endif %}mask

RAW_DIR = Path("data/raw")
DATA_README = Path("data/README.md")


@dataclass(frozen=True)
class Adopted:
    """What `adopt` wrote, and what a person should look at next."""

    contract: DataContract
    rows: int
    data: str
    notes: list[str]


def adopt(
    config_file: Path,
    source: str,
    *,
    target: str,
    id_column: str | None = None,
    positive: str | None = None,
{%- if cookiecutter.data_source == "sql" %}
    database_url: str,
{%- endif %}
) -> Adopted:
    """Make a table the project's data: contract, config, and `data/README.md`.

    Args:
        config_file: the project config, usually `configs/project.yaml`.
{%- if cookiecutter.data_source == "sql" %}
        source: a table name, or a query (`SELECT ...`), in the database at `database_url`.
{%- else %}
        source: a CSV or Parquet file (copied into `data/raw/`), or a glob or URL (read in place).
{%- endif %}
        target: the column to predict.
        id_column: the column that identifies a row, if the table has one.
        positive: a two-class target's positive class (a "yes"-like label, else the rarer one).
{%- if cookiecutter.data_source == "sql" %}
        database_url: the database to read.
{%- endif %}

    Raises:
        ConfigError: the table does not fit the task, its id is not unique, or a file in
            `data/raw/` would be overwritten.
        DataSourceError: the table cannot be read.
        DataValidationError: the table breaks the contract written from it.
    """
    config = load_config(config_file)
{%- if cookiecutter.data_source == "sql" %}
    is_query = source.lstrip().lower().startswith(("select", "with"))
    frame = read_sql(database_url, **{"query" if is_query else "table": source})
    name = "query" if is_query else source
    location = {"query" if is_query else "table": source}
{%- else %}
    copy_from, literal, location = _raw_location(source)
    frame = read_table(literal)
    name = source
{%- endif %}
    contract = infer_contract(
        frame,
        name=name_for(name),
        target=target,
        task=TASK,
        id_column=id_column,
        positive=positive,
    )
    check_splittable(validate(frame, contract), contract, config.split)
    settings_text, notes = _updated_config(config_file, config, contract, location)
    # Everything is checked: now write, data first, each file replaced whole.
{%- if cookiecutter.data_source == "csv" %}
    if copy_from is not None:
        _copy_new(copy_from, RAW_DIR / copy_from.name)
{%- endif %}
    header = review_header(f"Written by `data adopt` from {source} on {datetime.now(UTC):%Y-%m-%d}")
    _replace(config.data.contract, dump_contract(contract, header))
    _replace(config_file, settings_text)
    _replace(DATA_README, describe_data(frame, contract, next(iter(location.values()))))
    if contract.id_column is None:
        notes.append(
            "no id column: rows are identified by their position (predict writes a `row` "
            "column); pass --id COLUMN if the table has one"
        )
        notes += [
            f"{name!r} holds a different value in every row: if it identifies rows, adopt "
            f"again with --id {shlex.quote(name)} (as a feature it teaches the model nothing)"
            for name in _id_like(frame, contract)
        ]
    if contract.positive_class is not None:
        notes.append(
            f"positive class: {contract.positive_class!r} (precision, recall and the decision "
            "threshold are about it); pass --positive LABEL to choose the other"
        )
    return Adopted(contract, len(frame), next(iter(location.values())), notes)


def write_contract(
    source: str,
    output: Path,
    *,
    target: str,
    id_column: str | None = None,
    positive: str | None = None,
    force: bool = False,
) -> DataContract:
    """Infer a contract from a data file and write it for review, and nothing else (`schema infer`).

    Raises:
        FileExistsError: `output` exists and `force` is not set.
        ConfigError, DataSourceError: as `infer_contract` and `read_table` raise them.
    """
    if output.exists() and not force:
        raise FileExistsError(f"{output} exists: pass --force to replace it, or --output elsewhere")
    frame = read_table(source)
    contract = infer_contract(
        frame,
        name=name_for(source),
        target=target,
        task=TASK,
        id_column=id_column,
        positive=positive,
    )
    _replace(
        output,
        dump_contract(contract, review_header(f"Inferred by `schema infer` from {mask(source)}")),
    )
    return contract


def review_header(origin: str) -> str:
    """The comment above a written contract: where it came from, and what to review."""
    return (
        f"{origin}.\n"
        "Review it: tighten min/max, check the categories, add descriptions, mark nullable\n"
        "columns. Validation, features{% if cookiecutter.include_monitoring %}, the API schema and drift checks{% else %} and the API schema{% endif %} all follow it."
    )
{%- if cookiecutter.data_source == "csv" %}


def _raw_location(source: str) -> tuple[Path | None, str, dict[str, str]]:
    """The file to copy into `data/raw/` (None: read in place), what to read now, and `data.path`.

    A file is copied; a URL or a glob is read where it is. `data.path` is read as a glob, so a
    file whose name holds `*`, `?` or `[` is written there escaped (`[[]`), to mean itself.
    """
    path = Path(source)
    if "://" in source or not path.is_file():
        return None, source, {"path": source}
    literal = glob.escape(source)
    destination = glob.escape((RAW_DIR / path.name).as_posix())
    if path.resolve().parent == RAW_DIR.resolve():
        return None, literal, {"path": destination}
    return path, literal, {"path": destination}


def _copy_new(source: Path, destination: Path) -> None:
    """Copy a file into place, refusing to overwrite one that is already there.

    A destination that already holds the same bytes is kept as it is.

    Raises:
        ConfigError: the destination exists, with other content.
    """
    if destination.exists():
        if filecmp.cmp(source, destination, shallow=False):
            return  # the same data, adopted again (say, with another --positive)
        raise ConfigError(
            f"{destination} exists: data in data/raw/ is never overwritten; rename your file "
            "or remove the old one first"
        )
    write_whole(destination, lambda temporary: shutil.copyfile(source, temporary))
{%- endif %}


def _updated_config(
    config_file: Path, config: ProjectConfig, contract: DataContract, location: dict[str, str]
) -> tuple[str, list[str]]:
    """The project config's text with the data's location set, comments kept, and what changed.

    Raises:
        ConfigError: the result would not be a valid config (it is not written).
    """
    editor = YAML()  # round trip: comments, key order and quoting stay as the person wrote them
    document = editor.load(config_file.read_text(encoding="utf-8"))
    notes: list[str] = []
{%- if cookiecutter.data_source == "sql" %}
    data = document["data"]
    old = next(key for key in data if key in ("query", "table"))
    position = list(data).index(old)
    key, value = next(iter(location.items()))
    comments = data.ca.items.pop(old, None)  # the comments after it belong to the new key
    del data[old]
    data.insert(position, key, value)
    if comments is not None:
        data.ca.items[key] = comments
{%- else %}
    _set(document["data"], "path", location["path"])
{%- endif %}
    if config.features.custom:
        _set(document["features"], "custom", [])
        notes.append(
            f"features.custom emptied (it listed {', '.join(config.features.custom)}, which read "
            "the old columns): add your own in features.py and list them there"
        )
    time_column = config.split.time_column
    if time_column is not None and time_column not in contract.features_of_type("datetime"):
        _set(document["split"], "time_column", None)
        notes.append(f"split.time_column {time_column!r} cleared: the new data has no such date")
    text = io.StringIO()
    editor.dump(document, text)
    parse_config(yaml.safe_load(text.getvalue()), source=str(config_file))  # as it will be read
    return text.getvalue(), notes


def _set(section: CommentedMap, key: str, value: object) -> None:
    """Set one key of a config section, keeping its comments.

    All but a comment between the key and an old block value: ruamel.yaml would write it
    between the key and the new value, and break the file.
    """
    old = section.get(key)
    if isinstance(old, CommentedSeq | CommentedMap) and not old.fa.flow_style():
        section.ca.items.pop(key, None)
    section[key] = value


def _id_like(frame: pd.DataFrame, contract: DataContract) -> list[str]:
    """Text features with a different value in every row: ids, most likely."""
    return [
        column.name
        for column in contract.features
        if column.type == "categorical"
        and column.categories is None
        and bool(frame[column.name].notna().all())
        and frame[column.name].is_unique
    ]


def _replace(path: Path, text: str) -> None:
    """Write a text file whole (see `datasets.write_whole`)."""
    write_whole(path, lambda temporary: temporary.write_text(text, encoding="utf-8"))


def describe_data(frame: pd.DataFrame, contract: DataContract, location: str) -> str:
    """`data/README.md` for the configured data: where it is, its size, target and columns."""
    target = frame[contract.target.name]
    if contract.target.type == "numeric":
        balance = f"a number from {target.min():,.4g} to {target.max():,.4g} (median {target.median():,.4g})"
    else:
        shares = target.value_counts(normalize=True)
        balance = ", ".join(f"`{label}` {100 * share:.1f}%" for label, share in shares.items())
        if contract.positive_class is not None:
            balance += f"; the positive class is `{contract.positive_class}`"
    identity = (
        f"`{contract.id_column}` identifies each row (not a feature)."
        if contract.id_column
        else "The table has no id column: rows are identified by their position."
    )
    lines = [
        "# Data",
        "",
        f"The project trains on `{location}`: {len(frame):,} rows and {frame.shape[1]} columns,",
        f"adopted with `data adopt` on {datetime.now(UTC):%Y-%m-%d}. Describe here where the data",
        "comes from, who collected it and under which licence it may be used.",
        "",
        f"The target is `{contract.target.name}`: {balance}. {identity}",
        "",
        "## Columns",
        "",
        "| column | type | missing | range or categories | description |",
        "| --- | --- | --- | --- | --- |",
    ]
    for column in contract.columns:
        values = frame[column.name]
        if column.categories is not None:
            allowed = ", ".join(f"`{category}`" for category in column.categories)
        elif column.type == "numeric" and values.notna().any():
            allowed = f"{values.min():,.4g} to {values.max():,.4g}"
        else:
            allowed = ""
        missing = f"{100 * values.isna().mean():.1f}%"
        cells = [f"`{column.name}`", column.type, missing, allowed, column.description]
        lines.append("| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |")
    lines += [
        "",
        "The contract, `configs/contract.yaml`, is what every stage checks: edit its descriptions,",
        "bounds and categories there, not here.",
        "",
    ]
    return "\n".join(lines)
