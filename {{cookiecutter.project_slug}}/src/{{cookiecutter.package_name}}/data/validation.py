"""Check a data set against the contract: give each column its type, then validate it with pandera.

Every problem becomes one line that names the column, says what is wrong, and counts the
offending rows, so a person can fix the data (or the contract) without reading a traceback.
"""

import reprlib
from string import Template

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors

from {{ cookiecutter.package_name }}.data.contract import DataContract, plain, to_type
from {{ cookiecutter.package_name }}.errors import DataValidationError

# A value quoted in a message is cut to 80 characters: a 50 MB cell is not echoed whole.
SHORT = reprlib.Repr()
SHORT.maxstring = SHORT.maxlong = SHORT.maxother = 80
# What the values of each type are called in a message.
KINDS = {"numeric": "numbers", "boolean": "true/false", "datetime": "dates", "categorical": "text"}


def validate(
    frame: pd.DataFrame, contract: DataContract, *, require_target: bool = True
) -> pd.DataFrame:
    """Return the data with every column typed as the contract says, or raise with every problem.

    The target must be present in training data; data to score may lack it (`require_target`).

    Raises:
        DataValidationError: one or more problems, each one line.
    """
    if frame.empty:
        raise DataValidationError(["the data has no rows"])
    expected = [*id_columns(contract), *(c.name for c in contract.columns)]
    optional = set() if require_target else {contract.target.name}
    problems = [
        f"column {name!r}: missing (the contract expects it)"
        for name in expected
        if name not in frame.columns and name not in optional
    ]
    problems += [
        f"column {_shown(name)}: not in the contract (add it to the contract or drop it from the data)"
        for name in frame.columns
        if name not in expected
    ]
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
                problems.append(
                    f"column {column.name!r}: {_rows(int(failed.sum()))} that are not "
                    f"{KINDS[column.type]} (e.g. {_shown(raw[failed].iloc[0])})"
                )
    # Counted in the raw data: a value that could not be converted is reported once, above,
    # not again as empty.
    required = [*id_columns(contract), *(c.name for c in contract.columns if not c.nullable)]
    for name in typed.columns.intersection(required):
        if empty := int(frame[name].isna().sum()):
            problems.append(
                f"column {name!r}: {_rows(empty)} with no value, but the contract says nullable: false"
            )
    problems += _check(typed, contract)
    if problems:
        raise DataValidationError(problems)
    return typed


def id_columns(contract: DataContract) -> list[str]:
    """The id column's name in a list, or an empty list when the data has none."""
    return [contract.id_column] if contract.id_column else []


def _shown(value: object) -> str:
    """A value as a message quotes it: at most 80 characters, and `73.0`, not `np.float64(73.0)`."""
    return SHORT.repr(plain(value))


def _check(typed: pd.DataFrame, contract: DataContract) -> list[str]:
    """Run the contract's checks, as a pandera schema, on typed data: one line per failure.

    Each check's error is its message, in which `$rows` (the failing rows), `$all` (every row)
    and `$example` are filled in; a `$` in a category is doubled to stay text.
    """
    messages = {"field_uniqueness": "$rows that share their ID with another row$example"}
    schema = {
        name: pa.Column(checks=[_length(contract.max_string_length)], unique=True, nullable=True)
        for name in id_columns(contract)
    }
    for column in contract.columns:
        checks = []
        if column.min is not None:
            below = f"$rows below the minimum {column.min:g}$example"
            checks.append(pa.Check.ge(column.min, error=below))
        if column.max is not None:
            above = f"$rows above the maximum {column.max:g}$example"
            checks.append(pa.Check.le(column.max, error=above))
        if column.categories is not None and column.unknown_categories == "reject":
            allowed = ", ".join(map(str, column.categories)).replace("$", "$$")
            unknown = f"$rows with unknown categories$example; allowed: {allowed}"
            checks.append(pa.Check.isin(list(map(str, column.categories)), error=unknown))
        elif column.type == "categorical":  # open text: only its length is bounded
            checks.append(_length(contract.max_length_of(column)))
        if column is contract.target:
            constant = "all $all hold the same value or none: nothing to learn"
            checks.append(pa.Check(lambda s: s.nunique() > 1, element_wise=False, error=constant))
        schema[column.name] = pa.Column(checks=checks, nullable=True)
    # Emptiness is counted by `validate`, in the raw data: here every column may be empty.
    present = {name: column for name, column in schema.items() if name in typed.columns}
    try:
        pa.DataFrameSchema(present).validate(typed, lazy=True)
    except SchemaErrors as errors:
        groups = errors.failure_cases.groupby(["column", "check"], sort=False)
        return [
            f"column {name!r}: "
            + Template(messages.get(str(check), str(check))).substitute(
                rows=_rows(len(cases)), all=_rows(len(typed)), example=_example(cases)
            )
            for (name, check), cases in groups
        ]
    return []


def _length(limit: int) -> pa.Check:
    """A check that text is at most `limit` characters long."""
    return pa.Check.str_length(max_value=limit, error=f"$rows longer than {limit:,} characters")


def _example(cases: pd.DataFrame) -> str:
    """` (e.g. VALUE)`: the first failing value, quoted, or nothing when none is known."""
    present = cases["failure_case"].dropna()
    return f" (e.g. {_shown(present.iloc[0])})" if len(present) else ""


def _rows(count: int) -> str:
    """`1 row`, `2 rows`, `1,024 rows`."""
    return f"{count:,} row{'' if count == 1 else 's'}"
