"""Check a data set against the contract: give each column its type, then validate it with pandera.

Every problem becomes one line that names the column, says what is wrong, and counts the
offending rows, so a person can fix the data (or the contract) without reading a traceback.
The rules and their lines are defined once here{% if cookiecutter.include_spark %}: `spark/validation.py` checks a Spark
DataFrame against the same ones{% endif %}.
"""

import reprlib
from collections.abc import Callable, Iterable
from string import Template
from typing import Any, Literal, NamedTuple

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from {{ cookiecutter.package_name }}.data.contract import (
    Column,
    DataContract,
    plain,
    to_type,
)
from {{ cookiecutter.package_name }}.errors import DataValidationError

# A value quoted in a message is cut to 80 characters: a 50 MB cell is not echoed whole.
SHORT = reprlib.Repr()
SHORT.maxstring = SHORT.maxlong = SHORT.maxother = 80
# What the values of each type are called in a message.
KINDS = {"numeric": "numbers", "boolean": "true/false", "datetime": "dates", "categorical": "text"}
NO_ROWS = "the data has no rows"
#: The line for IDs that are not unique (pandera's own check, not a rule).
NOT_UNIQUE = "$rows that share their ID with another row$example"


class Rule(NamedTuple):
    """One check of the contract on a typed column: what it tests, against what, and its line."""

    kind: Literal["ge", "le", "isin", "length", "varies"]
    value: Any
    message: str


#: Each rule as a pandera check; the message is the check's error, so a failure names its line.
PANDERA: dict[str, Callable[[Any, str], pa.Check]] = {
    "ge": lambda value, error: pa.Check.ge(value, error=error),
    "le": lambda value, error: pa.Check.le(value, error=error),
    "isin": lambda value, error: pa.Check.isin(value, error=error),
    "length": lambda value, error: pa.Check.str_length(max_value=value, error=error),
    "varies": lambda _, error: pa.Check(
        lambda values: values.nunique() > 1, element_wise=False, error=error
    ),
}


def validate(
    frame: pd.DataFrame, contract: DataContract, *, require_target: bool = True
) -> pd.DataFrame:
    """Return the data with every column typed as the contract says, or raise with every problem.

    The target must be present in training data; data to score may lack it (`require_target`).

    Raises:
        DataValidationError: one or more problems, each one line.
    """
    if frame.empty:
        raise DataValidationError([NO_ROWS])
    problems = column_problems(list(frame.columns), contract, require_target=require_target)
    typed = pd.DataFrame(index=frame.index)
    for name in id_columns(contract):
        if name in frame.columns:
            typed[name] = frame[name].astype("string")
    for column in contract.columns:
        if column.name in frame.columns:
            raw = frame[column.name]
            typed[column.name] = to_type(raw, column.type)
            failed = typed[column.name].isna() & raw.notna()
            if failed.any():
                problems.append(not_of_type(column, int(failed.sum()), raw[failed].iloc[0]))
    # Counted in the raw data: a value that could not be converted is reported once, above,
    # not again as empty.
    for name in required(contract, typed.columns):
        if empty := int(frame[name].isna().sum()):
            problems.append(no_value(name, empty))
    problems += _check(typed, contract)
    if problems:
        raise DataValidationError(problems)
    return typed


def id_columns(contract: DataContract) -> list[str]:
    """The id column's name in a list, or an empty list when the data has none."""
    return [contract.id_column] if contract.id_column else []


def column_problems(
    columns: list[str], contract: DataContract, *, require_target: bool = True
) -> list[str]:
    """One line per column the contract expects but the data lacks, or the other way round."""
    expected = [*id_columns(contract), *(c.name for c in contract.columns)]
    optional = set() if require_target else {contract.target.name}
    missing = [
        f"column {name!r}: missing (the contract expects it)"
        for name in expected
        if name not in columns and name not in optional
    ]
    return missing + [
        f"column {shown(name)}: not in the contract (add it to the contract or drop it from the data)"
        for name in columns
        if name not in expected
    ]


def not_of_type(column: Column, count: int, example: object) -> str:
    """The line for `count` values that `to_type` could not read as the column's type."""
    kind = KINDS[column.type]
    return f"column {column.name!r}: {rows(count)} that are not {kind} (e.g. {shown(example)})"


def required(contract: DataContract, present: Iterable[str]) -> list[str]:
    """The columns of `present` that need a value in every row: the ID and non-nullable ones."""
    needed = {*id_columns(contract), *(c.name for c in contract.columns if not c.nullable)}
    return [name for name in present if name in needed]


def no_value(name: str, count: int) -> str:
    """The line for `count` empty values in a column that must not be empty."""
    return f"column {name!r}: {rows(count)} with no value, but the contract says nullable: false"


def rules(contract: DataContract) -> dict[str, list[Rule]]:
    """The contract's rules on typed data, column by column (IDs must also be unique).

    A rule's message holds `$rows` (the failing rows), `$all` (every row) and `$example`; a `$`
    in a category is doubled to stay text.
    """
    listed = {name: [_length(contract.max_string_length)] for name in id_columns(contract)}
    for column in contract.columns:
        checks = []
        if column.min is not None:
            checks.append(Rule("ge", column.min, f"$rows below the minimum {column.min:g}$example"))
        if column.max is not None:
            checks.append(Rule("le", column.max, f"$rows above the maximum {column.max:g}$example"))
        if column.categories is not None and column.unknown_categories == "reject":
            allowed = ", ".join(map(str, column.categories)).replace("$", "$$")
            unknown = f"$rows with unknown categories$example; allowed: {allowed}"
            checks.append(Rule("isin", list(map(str, column.categories)), unknown))
        elif column.type == "categorical":  # open text: only its length is bounded
            checks.append(_length(contract.max_length_of(column)))
        if column is contract.target:
            constant = "all $all hold the same value or none: nothing to learn"
            checks.append(Rule("varies", None, constant))
        listed[column.name] = checks
    return listed


def failure(name: str, message: str, count: int, total: int, example: object = None) -> str:
    """A failed rule's line: its message with the failing rows, every row and an example."""
    quoted = "" if example is None else f" (e.g. {shown(example)})"
    text = Template(message).substitute(rows=rows(count), all=rows(total), example=quoted)
    return f"column {name!r}: {text}"


def shown(value: object) -> str:
    """A value as a message quotes it: at most 80 characters, and `73.0`, not `np.float64(73.0)`."""
    return SHORT.repr(plain(value))


def rows(count: int) -> str:
    """`1 row`, `2 rows`, `1,024 rows`."""
    return f"{count:,} row{'' if count == 1 else 's'}"


def _length(limit: int) -> Rule:
    """A rule that text is at most `limit` characters long."""
    return Rule("length", limit, f"$rows longer than {limit:,} characters")


def _check(typed: pd.DataFrame, contract: DataContract) -> list[str]:
    """Run the contract's rules, as a pandera schema, on typed data: one line per failure."""
    schema = {
        name: pa.Column(
            checks=[PANDERA[rule.kind](rule.value, rule.message) for rule in checks],
            unique=name in id_columns(contract),
            nullable=True,  # emptiness is counted by `validate`, in the raw data
        )
        for name, checks in rules(contract).items()
        if name in typed.columns
    }
    try:
        pa.DataFrameSchema(schema).validate(typed, lazy=True)
    except SchemaErrors as errors:
        groups = errors.failure_cases.groupby(["column", "check"], sort=False)
        problems = []
        for (name, check), cases in groups:
            message = NOT_UNIQUE if check == "field_uniqueness" else str(check)
            problems.append(failure(str(name), message, len(cases), len(typed), _first(cases)))
        return problems
    return []


def _first(cases: pd.DataFrame) -> object:
    """The first failing value, or None when none is known."""
    present = cases["failure_case"].dropna()
    return present.iloc[0] if len(present) else None
