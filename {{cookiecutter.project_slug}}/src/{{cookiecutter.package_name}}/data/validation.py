"""Check a data set against the contract: give each column its type, then validate it with pandera.

Every problem becomes one line that names the column, says what is wrong, and counts the
offending rows, so a person can fix the data (or the contract) without reading a traceback.
"""

import reprlib
from collections.abc import Callable

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from {{ cookiecutter.package_name }}.data.contract import (
    Column,
    DataContract,
    booleans,
    plain,
)
from {{ cookiecutter.package_name }}.errors import DataValidationError

# A value quoted in a message is cut to 80 characters: a 50 MB cell is not echoed whole.
SHORT = reprlib.Repr()
SHORT.maxstring = SHORT.maxlong = SHORT.maxother = 80


def validate(
    frame: pd.DataFrame, contract: DataContract, *, require_target: bool = True
) -> pd.DataFrame:
    """Return the data with every column typed as the contract says, or raise with every problem.

    Args:
        frame: the data as read from its source.
        contract: what a valid row is.
        require_target: whether the target must be present (training data) or may be absent
            (data to score).

    Raises:
        DataValidationError: one or more problems, each one line.
    """
    problems: list[str] = []
    if frame.empty:
        raise DataValidationError(["the data has no rows"])

    expected = [*id_columns(contract), *(c.name for c in contract.columns)]
    optional = set() if require_target else {contract.target.name}
    for name in expected:
        if name not in frame.columns and name not in optional:
            problems.append(f"column {name!r}: missing (the contract expects it)")
    for name in frame.columns:
        if name not in expected:
            problems.append(
                f"column {shown(name)}: not in the contract (add it to the contract or drop it from the data)"
            )

    typed = pd.DataFrame(index=frame.index)
    unconvertible: dict[str, pd.Index] = {}
    for name in id_columns(contract):
        if name in frame.columns:
            typed[name] = frame[name].astype("string")
    for column in contract.columns:
        if column.name in frame.columns:
            typed[column.name], problem = coerce(frame[column.name], column)
            if problem:
                problems.append(problem)
                unconvertible[column.name] = typed.index[
                    typed[column.name].isna() & frame[column.name].notna()
                ]

    problems += check(typed, contract, already_reported=unconvertible)
    if problems:
        raise DataValidationError(problems)
    return typed


def id_columns(contract: DataContract) -> list[str]:
    """The id column's name in a list, or an empty list when the data has none."""
    return [contract.id_column] if contract.id_column else []


def coerce(values: pd.Series, column: Column) -> tuple[pd.Series, str | None]:
    """Give a column its contract type; values that cannot be converted become one problem line."""
    # Each type: how raw values become it, and what its values are called in a message.
    converters: dict[str, tuple[Callable[[pd.Series], pd.Series], str]] = {
        "numeric": (lambda s: pd.to_numeric(s, errors="coerce").astype("float64"), "numbers"),
        "boolean": (booleans, "true/false"),
        "datetime": (lambda s: pd.to_datetime(s, errors="coerce", format="ISO8601"), "dates"),
        "categorical": (_to_category_text, "text"),
    }
    convert, kind = converters[column.type]
    converted = convert(values)
    failed = converted.isna() & values.notna()
    if not failed.any():
        return converted, None
    example = shown(values[failed].iloc[0])
    return converted, (
        f"column {column.name!r}: {count_rows(int(failed.sum()))} that are not {kind} "
        f"(e.g. {example})"
    )


def shown(value: object) -> str:
    """A value as a message quotes it: at most 80 characters, the middle of a longer one cut.

    A NumPy scalar shows the Python value it holds: `73.0`, not `np.float64(73.0)`.
    """
    return SHORT.repr(plain(value))


def _to_category_text(values: pd.Series) -> pd.Series:
    """Categories compare as text; whole numbers read as floats (1.0) compare as 1."""
    if pd.api.types.is_float_dtype(values) and (values.dropna() % 1 == 0).all():
        values = values.astype("Int64")
    return values.astype("string")


def schema_for(contract: DataContract, columns: list[str]) -> pa.DataFrameSchema:
    """The pandera schema for the typed columns present, generated from the contract."""
    schema_columns: dict[str, pa.Column] = {
        name: pa.Column(
            checks=[pa.Check.str_length(max_value=contract.max_string_length)],
            nullable=False,
            unique=True,
            required=False,
        )
        for name in id_columns(contract)
    }
    for column in contract.columns:
        checks = []
        if column.min is not None:
            checks.append(pa.Check.ge(column.min))
        if column.max is not None:
            checks.append(pa.Check.le(column.max))
        if column.categories is not None and column.unknown_categories == "reject":
            checks.append(pa.Check.isin([str(category) for category in column.categories]))
        elif column.type == "categorical":  # open text: only its length is bounded
            checks.append(pa.Check.str_length(max_value=contract.max_length_of(column)))
        if column is contract.target:
            checks.append(
                pa.Check(
                    lambda s: s.nunique(dropna=True) > 1, element_wise=False, name="not_constant"
                )
            )
        schema_columns[column.name] = pa.Column(
            checks=checks, nullable=column.nullable, required=False
        )
    return pa.DataFrameSchema(
        {name: schema_columns[name] for name in columns if name in schema_columns}
    )


def check(
    typed: pd.DataFrame, contract: DataContract, already_reported: dict[str, pd.Index] | None = None
) -> list[str]:
    """Run the contract's checks on typed data; return one line per column and problem.

    Values that could not be converted to their type are empty after conversion; they are
    reported once, as unconvertible, not again as empty (`already_reported`).
    """
    try:
        schema_for(contract, list(typed.columns)).validate(typed, lazy=True)
    except SchemaErrors as errors:
        cases = errors.failure_cases
        for column, rows in (already_reported or {}).items():
            repeated = (
                (cases["column"] == column)
                & (cases["check"] == "not_nullable")
                & cases["index"].isin(rows)
            )
            cases = cases[~repeated]
        return [
            describe_failure(
                str(column), str(check_name), group["failure_case"], contract, len(typed)
            )
            for (column, check_name), group in cases.groupby(["column", "check"], sort=False)
        ]
    return []


def describe_failure(
    column: str, check_name: str, failures: pd.Series, contract: DataContract, rows: int
) -> str:
    """One line for one failed check on one column."""
    count = len(failures)
    present = failures.dropna()
    example = f" (e.g. {shown(present.iloc[0])})" if len(present) else ""
    spec = next((c for c in contract.columns if c.name == column), None)
    if check_name == "not_nullable":
        return f"column {column!r}: {count_rows(count)} with no value, but the contract says nullable: false"
    if check_name == "field_uniqueness":
        return (
            f"column {column!r}: {count_rows(count)} that share their ID with another row{example}"
        )
    if check_name.startswith("greater_than_or_equal_to") and spec is not None:
        return f"column {column!r}: {count_rows(count)} below the minimum {spec.min:g}{example}"
    if check_name.startswith("less_than_or_equal_to") and spec is not None:
        return f"column {column!r}: {count_rows(count)} above the maximum {spec.max:g}{example}"
    if check_name.startswith("isin") and spec is not None and spec.categories is not None:
        allowed = ", ".join(map(str, spec.categories))
        return f"column {column!r}: {count_rows(count)} with unknown categories{example}; allowed: {allowed}"
    if check_name.startswith("str_length"):
        limit = contract.max_length_of(spec) if spec is not None else contract.max_string_length
        return f"column {column!r}: {count_rows(count)} longer than {limit:,} characters"
    if check_name == "not_constant":
        return f"column {column!r}: all {count_rows(rows)} hold the same value or none: nothing to learn"
    return f"column {column!r}: {count_rows(count)} that fail {check_name}{example}"


def count_rows(count: int) -> str:
    """`1 row`, `2 rows`, `1,024 rows`."""
    return f"{count:,} row{'' if count == 1 else 's'}"
