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

import jinja2
import yaml
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from {{ cookiecutter.package_name }}.config import ProjectConfig, load_config, parse_config
from {{ cookiecutter.package_name }}.data.contract import DataContract, dump_contract
from {{ cookiecutter.package_name }}.data.datasets import {% if cookiecutter.data_source == "sql" %}read_sql, {% endif %}read_table, write_whole
from {{ cookiecutter.package_name }}.data.profile import infer_contract, name_for
from {{ cookiecutter.package_name }}.data.splits import check_splittable
from {{ cookiecutter.package_name }}.data.validation import validate
from {{ cookiecutter.package_name }}.errors import {% if cookiecutter.data_source == "csv" %}ConfigError, {% endif %}mask

RAW_DIR = Path("data/raw")
DATA_README = Path("data/README.md")
#: The comment under a written contract's origin.
REVIEW = (
    "Review it: tighten min/max, check the categories, add descriptions, mark nullable\n"
    "columns. Validation, features{% if cookiecutter.include_monitoring %}, the API schema and drift checks{% else %} and the API schema{% endif %} all follow it."
)
#: `data/README.md`, a Jinja2 template beside this module: edit it to change what is written.
README_TEMPLATE = jinja2.Template(
    (Path(__file__).parent / "data_readme.md.j2").read_text(encoding="utf-8"),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
)


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
    """Make a table the project's data: contract, config (`config_file`), and `data/README.md`.
{% if cookiecutter.data_source == "sql" %}
    `source` is a table name, or a query (`SELECT ...`), in the database at `database_url`.
{%- else %}
    `source` is a CSV or Parquet file (copied into `data/raw/`), or a glob or URL (read in place).
{%- endif %}

    Raises:
        ConfigError: the table does not fit the task, its id is not unique{% if cookiecutter.data_source == "csv" %}, or a
            file in `data/raw/` would be overwritten{% endif %}.
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
    data = next(iter(location.values()))
    contract = infer_contract(frame, name_for(name), target, id_column=id_column, positive=positive)
    check_splittable(validate(frame, contract), contract, config.split)
    settings_text, notes = _updated_config(config_file, config, contract, location)
    # Everything is checked: now write, data first, each file replaced whole.
{%- if cookiecutter.data_source == "csv" %}
    if copy_from is not None:
        _copy_new(copy_from, RAW_DIR / copy_from.name)
{%- endif %}
    today = f"{datetime.now(UTC):%Y-%m-%d}"
    header = f"Written by `data adopt` from {source} on {today}.\n{REVIEW}"
    _replace(config.data.contract, dump_contract(contract, header))
    _replace(config_file, settings_text)
    readme = README_TEMPLATE.render(frame=frame, contract=contract, location=data, today=today)
    _replace(DATA_README, readme)
    if contract.id_column is None:
        notes.append(
            "no id column: rows are identified by their position (predict writes a `row` "
            "column); pass --id COLUMN if the table has one"
        )
        notes += [
            f"{column.name!r} holds a different value in every row: if it identifies rows, adopt "
            f"again with --id {shlex.quote(column.name)} (as a feature it teaches the model nothing)"
            for column in contract.features
            if column.type == "categorical" and column.categories is None
            if frame[column.name].notna().all() and frame[column.name].is_unique
        ]
    if contract.positive_class is not None:
        notes.append(
            f"positive class: {contract.positive_class!r} (precision, recall and the decision "
            "threshold are about it); pass --positive LABEL to choose the other"
        )
    return Adopted(contract, len(frame), data, notes)


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
    contract = infer_contract(
        read_table(source), name_for(source), target, id_column=id_column, positive=positive
    )
    header = f"Inferred by `schema infer` from {mask(source)}.\n{REVIEW}"
    _replace(output, dump_contract(contract, header))
    return contract

{%- if cookiecutter.data_source == "csv" %}


def _raw_location(source: str) -> tuple[Path | None, str, dict[str, str]]:
    """The file to copy into `data/raw/` (None: read in place), what to read now, and `data.path`.

    A file is copied; a URL or a glob is read where it is. `data.path` is read as a glob, so a
    file whose name holds `*`, `?` or `[` is written there escaped (`[[]`), to mean itself.
    """
    path = Path(source)
    if "://" in source or not path.is_file():
        return None, source, {"path": source}
    copy = None if path.resolve().parent == RAW_DIR.resolve() else path
    return copy, glob.escape(source), {"path": glob.escape((RAW_DIR / path.name).as_posix())}


def _copy_new(source: Path, destination: Path) -> None:
    """Copy a file into place, but never over another file (the same bytes are kept as they are)."""
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


def _replace(path: Path, text: str) -> None:
    """Write a text file whole (see `datasets.write_whole`)."""
    write_whole(path, lambda temporary: temporary.write_text(text, encoding="utf-8"))
