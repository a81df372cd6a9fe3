"""Tracking: a run whose process was killed is marked KILLED when the next stage starts."""

import logging

import mlflow
import pytest

from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.training.tracking import (
    configure,
    logger,
    metric_name,
    process_tags,
)


def test_runs_of_dead_processes_on_this_host_are_marked_killed_and_no_others(
    settings: Settings, caplog: pytest.LogCaptureFixture, finished_pid: str
) -> None:
    configure(settings, settings.model_name)
    client = mlflow.MlflowClient()
    experiment = client.get_experiment_by_name(settings.model_name)
    assert experiment is not None
    dead = process_tags() | {"pid": finished_pid}
    runs = {
        "killed": dead,
        "live": process_tags(),  # this process: a concurrent run
        "elsewhere": dead | {"host": "another-host"},
        "untagged": {},
    }
    ids = {
        name: client.create_run(experiment.experiment_id, tags=tags).info.run_id
        for name, tags in runs.items()
    }

    caplog.clear()
    with caplog.at_level(logging.WARNING, logger=logger.name):
        configure(settings, settings.model_name)

    status = {name: client.get_run(run_id).info.status for name, run_id in ids.items()}
    assert status == {
        "killed": "KILLED",
        "live": "RUNNING",
        "elsewhere": "RUNNING",
        "untagged": "RUNNING",
    }
    assert [(r.name, r.getMessage()) for r in caplog.records] == [
        (logger.name, f"marked 1 run(s) KILLED, their process is gone: {ids['killed']}")
    ]
    caplog.clear()
    configure(settings, settings.model_name)  # nothing more to mark: nothing said
    assert not [r for r in caplog.records if r.name == logger.name]


def test_a_metric_named_after_any_column_is_one_mlflow_accepts(settings: Settings) -> None:
    columns = ["Parcel Weight (kg)", "rate %", "km/h", "a//b", "..", "naïve: yes?"]
    names = [metric_name("psi", column) for column in columns]

    configure(settings, experiment=settings.model_name)
    with mlflow.start_run() as run:
        mlflow.log_metrics(dict.fromkeys(names, 0.5))

    assert set(mlflow.get_run(run.info.run_id).data.metrics) == set(names)
    assert metric_name("psi", "Parcel Weight (kg)") == "psi.Parcel Weight _kg_"
