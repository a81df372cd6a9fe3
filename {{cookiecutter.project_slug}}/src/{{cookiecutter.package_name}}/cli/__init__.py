"""The project's one command-line interface: it parses arguments, calls a stage, prints the result.

`main` holds the pipeline's commands, `data` the data contract's{% if cookiecutter.include_monitoring %}, `monitoring` the drift and
retraining loop's{% endif %}; `ui` is what they share: one console, one-line errors, tables.
"""

from {{ cookiecutter.package_name }}.cli.main import app

__all__ = ["app"]
