"""Errors a user can fix, each with a one-line message that says what to change."""

from pydantic import ValidationError


class ConfigError(ValueError):
    """A setting or config value is missing or not allowed."""


def describe(error: ValidationError, *, source: str, prefix: str = "") -> str:
    """Fold a pydantic error into one line: `source: FIELD: problem; FIELD: problem`.

    Args:
        error: the validation error to describe.
        source: where the values came from (a file name, or "environment or .env").
        prefix: put in front of each field name, e.g. an environment variable prefix.
    """
    problems = []
    for item in error.errors(include_url=False):
        field = ".".join(str(part) for part in item["loc"]) or "(top level)"
        if prefix:
            field = f"{prefix}{field}".upper()
        problems.append(f"{field}: {item['msg']}")
    return f"{source}: " + "; ".join(problems)


class DataSourceError(ValueError):
    """The data cannot be read: a missing or empty file, an unreachable URL, a failed query."""


class DataValidationError(ValueError):
    """The data breaks the contract; each problem is one line naming the column."""

    def __init__(self, problems: list[str]) -> None:
        """Keep every problem, so that all of them can be fixed in one pass."""
        super().__init__("; ".join(problems))
        self.problems = problems


class PromotionRefusedError(RuntimeError):
    """A candidate model failed the quality gate; the champion stays where it was."""
