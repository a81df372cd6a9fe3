"""The monitoring loop's commands: drift, performance over time, retraining, the A/B readout."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

import typer

from {{ cookiecutter.package_name }}.cli import ui
from {{ cookiecutter.package_name }}.cli.ui import call, show
from {{ cookiecutter.package_name }}.errors import mask

#: `drift`'s exit code when it finds drift (1 means the check itself failed).
DRIFT_FOUND = 3
#: `experiment`'s exit code by verdict: 0 lets `experiment F && promote --challenger` run.
VERDICT_EXIT = {"promote": 0, "keep": 4, "collect": 5}


def aware(moment: datetime | None) -> datetime | None:
    """A date or time given on the command line, read as UTC unless it names its zone."""
    return moment if moment is None or moment.tzinfo else moment.replace(tzinfo=UTC)


def drift(
    data: Annotated[
        str | None,
        typer.Argument(help="A CSV or Parquet file to check [default: the prediction log]."),
    ] = None,
    since: Annotated[
        datetime | None, typer.Option(help="Start of the log window [window_days ago].")
    ] = None,
    until: Annotated[datetime | None, typer.Option(help="End of the log window [now].")] = None,
) -> None:
    """Compare recent inputs and predictions with the champion's training data.

    Exit code 0: no drift. 3: drift found. 1: the check could not run.
    """
    from {{ cookiecutter.package_name }}.monitoring.drift_check import check_drift

    result = call(check_drift, data, aware(since), aware(until), status="Checking for drift")
    report = result.report
    rows = [
        (
            f.name,
            f.test,
            f"{f.p_value:.3g}",
            f"{f.psi:.3f}",
            f.reference_summary,
            f.current_summary,
            "[red]yes[/]" if f.drifted else "no",
        )
        for f in report.tested
    ] + [(name, "-", "", "", "", why, "") for name, why in report.skipped.items()]
    title = (
        f"Drift: {mask(result.source)} ({report.current_rows:,} rows) vs version "
        f"{result.model_version}'s training data ({report.reference_rows:,} rows)"
    )
    show(title, rows, ("feature", "test", "p-value", "PSI", "reference", "current", "drifted"))
    ui.console.print(
        f"Reports: {result.json_path}, {result.html_path} (MLflow run {result.run_id})"
    )
    if report.drifted:
        drifted = ", ".join(feature.name for feature in report.tested if feature.drifted)
        typer.secho(f"drift found: {drifted}", fg=typer.colors.YELLOW, err=True)
        raise typer.Exit(code=DRIFT_FOUND)
    ui.console.print("No drift found.")


def performance(
    data: Annotated[
        str, typer.Argument(help="Newly labelled rows: a CSV or Parquet file, a glob or a URL.")
    ],
    as_of: Annotated[datetime | None, typer.Option(help="When the labels are from [now].")] = None,
) -> None:
    """Score the champion on newly labelled rows and track its metrics over time.

    `evaluate` judges a new model on the held-out test set; this follows the champion in use.
    """
    from {{ cookiecutter.package_name }}.monitoring.performance import record_performance

    record = call(record_performance, data, aware(as_of), status="Scoring the champion")
    ui.console.print(
        f"Champion version {record.model_version} on {record.rows:,} labelled rows, "
        f"recorded as of {record.as_of:%Y-%m-%d %H:%M}:"
    )
    show(
        "", ((name, f"{value:.4f}") for name, value in record.metrics.items()), ("metric", "value")
    )
    ui.console.print(f"Over time: {record.figure} (MLflow run {record.run_id})")


def retrain(
    data: Annotated[
        str, typer.Argument(help="Newly labelled rows (CSV or Parquet) to learn from.")
    ],
    force: Annotated[bool, typer.Option(help="Retrain even when no drift is found.")] = False,
) -> None:
    """On drift (or --force): ingest the new rows, train, evaluate, and promote through the gate.

    The champion stays if the new model is not better.
    """
    from {{ cookiecutter.package_name }}.monitoring.retrain import retrain as run_retrain

    retrained = call(run_retrain, data, force=force, console=ui.console, status="Retraining")
    ui.console.print(retrained.reason)


def experiment(
    labels: Annotated[
        str,
        typer.Argument(
            help="Labels of answered records: request_id, row (0 if absent) and the target."
        ),
    ],
    since: Annotated[datetime | None, typer.Option(help="Start of the log window [all].")] = None,
    until: Annotated[datetime | None, typer.Option(help="End of the log window [now].")] = None,
) -> None:
    """Compare the challenger with the champion on the traffic they served, once labels arrive.

    Exit code 0: promote the challenger. 4: keep the champion. 5: keep collecting. 1: no readout.
    """
    from {{ cookiecutter.package_name }}.monitoring.experiment import read_experiment

    readout = call(read_experiment, labels, aware(since), aware(until), status="Reading")
    rows = [
        (name, f"{readout.rows[name]:,}", f"{e.value:.4f}", f"{e.low:.4f} to {e.high:.4f}")
        for name, e in readout.scores.items()
    ]
    d = readout.difference
    rows.append(("difference", "", f"{d.value:+.4f}", f"{d.low:+.4f} to {d.high:+.4f}"))
    title = (
        f"{readout.mode.capitalize()}: version {readout.challenger_version} against the "
        f"champion, version {readout.champion_version}"
    )
    show(title, rows, ("variant", "labelled", readout.metric, "95% interval"))
    if readout.agreement is not None:
        ui.console.print(f"Agreement on the shared records: {readout.agreement:.3f}")
    ui.console.print(
        f"p-value {readout.p_value:.3g}; {readout.needed_rows:,} rows per variant see the "
        f"minimum effect. Verdict: {readout.verdict}: {readout.reason}."
    )
    ui.console.print(
        f"Reports: {readout.json_path}, {readout.figure} (MLflow run {readout.run_id})"
    )
    raise typer.Exit(code=VERDICT_EXIT[readout.verdict])


#: What `main` adds to the command line.
COMMANDS: list[Callable[..., None]] = [drift, performance, retrain, experiment]
