"""Errors a user can fix, each with a one-line message that says what to change.

And `process_alive`, which tells what a killed process left behind from a live one's work.
"""

import os
import re
import sys

from pydantic import ValidationError

#: `scheme://user:password@`, anywhere in a text: `mask` hides the password.
CREDENTIALS = re.compile(r"(?P<user>\b[a-z][a-z0-9+.-]*://[^\s:/@]*:)[^\s/]*@", re.IGNORECASE)


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


def mask(text: str) -> str:
    """Hide the password of every `scheme://user:password@host` URL in a text: `user:***@host`.

    Every setting, message and report that may hold a URL passes through here before it is
    shown: a tracking server's or a database's password never reaches the screen or a file.
    """
    return CREDENTIALS.sub(r"\g<user>***@", text)


def unreachable(error: BaseException) -> str | None:
    """One line for an error raised because a server did not answer; None for any other error.

    MLflow raises its own exception with the `requests` error behind it when the tracking server
    is down{% if cookiecutter.include_monitoring %}; the prediction log raises psycopg's `OperationalError` when its database is{% endif %}.
    """
    chain = [error]
    while (cause := chain[-1].__cause__ or chain[-1].__context__) and cause not in chain:
        chain.append(cause)
    requests = sys.modules.get("requests")  # MLflow's HTTP client: loaded whenever it failed
    if requests is not None and any(isinstance(link, requests.RequestException) for link in chain):
        import mlflow

        reason = str(chain[-1]) or type(chain[-1]).__name__  # the deepest: "Connection refused"
        return mask(
            f"cannot reach the MLflow tracking server at {mlflow.get_tracking_uri()}: {reason}; "
            "start it or set MLFLOW_TRACKING_URI"
        )
{%- if cookiecutter.include_monitoring %}
    psycopg = sys.modules.get("psycopg")  # loaded only when the prediction log used it
    if psycopg is not None and isinstance(error, psycopg.OperationalError):
        reason = str(error).splitlines()[0]
        return mask(
            f"cannot reach the prediction log's database: {reason}; start it or set "
            "{{ cookiecutter.package_name | upper }}_PREDICTION_LOG_URL"
        )
{%- endif %}
    return None


def process_alive(pid: int) -> bool:
    """Whether a process with this ID runs on this machine: a crashed run's leftovers are not.

    On Windows every process counts as alive (`os.kill` would end it, not probe it), so
    nothing that may be in use is ever taken for a leftover.
    """
    if os.name == "nt":
        return True
    if pid <= 0:  # not a process: kill() would signal a whole group
        return False
    try:
        os.kill(pid, 0)  # signal 0 sends nothing, it only checks
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process: alive all the same
        return True
    return True
