"""What every command shares: the console, errors as one line each, the config, tables."""

from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table

from {{ cookiecutter.package_name }}.config import ProjectConfig, load_config
from {{ cookiecutter.package_name }}.errors import (
    ConfigError,
    DataSourceError,
    DataValidationError,
    PromotionRefusedError,
    mask,
    unreachable,
)
from {{ cookiecutter.package_name }}.settings import Settings, load_settings

if TYPE_CHECKING:
    from {{ cookiecutter.package_name }}.training.metrics import Evaluation
    from {{ cookiecutter.package_name }}.training.train import TrainResult

PROG = "{{ cookiecutter.project_slug }}"
#: The most data problems printed one per line; the rest are counted.
MAX_PROBLEMS = 20

#: Commands print through `ui.console` (tests swap it for a plain, wide one).
console = Console()


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn errors a user can fix into one line each and exit code 1, never a traceback.

    At most MAX_PROBLEMS lines of data problems are shown, then how many more there are.
    """
    try:
        yield
    except DataValidationError as error:
        problems = error.problems
        more = len(problems) - MAX_PROBLEMS
        fail(
            *problems[:MAX_PROBLEMS],
            *([f"... and {more} more problem(s)"] if more > 0 else []),
            f"{len(problems)} problem(s) with the data; nothing was written",
        )
    except (ConfigError, DataSourceError, FileExistsError, PromotionRefusedError) as error:
        fail(str(error))
    except Exception as error:
        line = unreachable(error)
        if line is None:
            raise
        fail(line)


def fail(*lines: str) -> NoReturn:
    """Print each line as an error, its URLs' passwords masked, and exit with code 1."""
    for line in lines:
        typer.secho(f"error: {mask(line)}", fg=typer.colors.RED, err=True)
    raise typer.Exit(code=1) from None


def load() -> tuple[Settings, ProjectConfig]:
    """The settings and the project config, validated."""
    settings = load_settings()
    return settings, load_config(settings.config_file)


def call(stage: Callable[..., Any], *args: object, status: str, **options: object) -> Any:
    """Run a stage with the config and settings, a spinner showing `status`, errors in one line.

    It returns what the stage returns (`Any`: a generic would need two spellings, 3.11 and 3.12+).
    """
    with user_errors():
        settings, config = load()
        with console.status(status):
            return stage(config, settings, *args, **options)


def show(title: str, rows: Iterable[Sequence[object]], header: Sequence[str] = ()) -> None:
    """Print rows as a table; without a header, as `name  value` pairs."""
    table = Table(*(header or ("", "")), title=title, show_header=bool(header))
    for row in rows:
        table.add_row(*map(str, row))
    console.print(table)


def show_training(result: "TrainResult") -> None:
    """Print what a training run produced."""
    from {{ cookiecutter.package_name }}.training.models import PRIMARY_METRIC

    rows = [
        ("registered version", result.model_version or "-"),
        (f"validation {PRIMARY_METRIC}", f"{result.validation_score:.4f}"),
        (f"baseline validation {PRIMARY_METRIC}", f"{result.baseline_validation_score:.4f}"),
        ("training time", f"{result.seconds:.1f} s"),
    ]
    show(f"Training run {result.run_id}", rows)


def show_metrics(evaluation: "Evaluation", title: str) -> None:
    """Print the model's test metrics beside the baseline's."""
    baseline = evaluation.baseline_metrics
    rows = [
        (name, f"{value:.4f}", f"{baseline.get(name, float('nan')):.4f}")
        for name, value in evaluation.metrics.items()
    ]
    show(title, rows, ("metric", "model", "baseline"))
{%- if cookiecutter.task == "classification" %}
    if evaluation.threshold is not None:
        console.print(f"Decision threshold: {evaluation.threshold:.3f} (evaluate.threshold)")
    if len(evaluation.per_class) > 2:
        per_class = evaluation.per_class.round(4)
        show("Per class", per_class.itertuples(index=False), list(per_class.columns))
{%- endif %}
