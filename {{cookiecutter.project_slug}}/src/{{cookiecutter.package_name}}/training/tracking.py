"""MLflow behind one small module: where runs go, how models are logged, loaded and registered.

Every stage tracks through these functions, so moving from the local SQLite store to a team's
tracking server is one setting (`MLFLOW_TRACKING_URI`), and tests point it at a temporary folder.
"""

import logging
import os
import re
import socket
import tempfile
from importlib.metadata import version
from pathlib import Path
from typing import Any

import mlflow
import mlflow.sklearn
import pandas as pd
from mlflow.entities import Run
from mlflow.exceptions import MlflowException
from mlflow.models import infer_signature

from {{ cookiecutter.package_name }}.errors import ConfigError
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.training.models import (
    TRUSTED_MODULES,
    load_saved,
    saved_example,
)
{%- if cookiecutter.task == "classification" %}
from {{ cookiecutter.package_name }}.training.predictions import threshold_of
{%- endif %}

logger = logging.getLogger(__name__)

CHAMPION = "champion"
#: The alias of a version that passed the gate to be tried beside the champion, not in its place.
CHALLENGER = "challenger"
{%- if cookiecutter.include_spark and cookiecutter.data_source == "csv" %}
#: The run parameter that says how the training data was sampled (`ingest --engine spark`).
SAMPLE_PARAM = "data.sample"
{%- endif %}
#: MLflow's error codes for a model, an alias or a run that is not there (any other error, such
#: as a server that does not answer, is raised).
NOT_FOUND = frozenset({"RESOURCE_DOES_NOT_EXIST", "INVALID_PARAMETER_VALUE"})
#: What a logged model needs installed, pinned to the versions it was trained with: exact, and
#: milliseconds, where MLflow's inference takes seconds and picks up whatever is installed.
MODEL_REQUIREMENTS = ("scikit-learn", "pandas", "numpy", "scipy", "pyarrow", "skops", "mlflow")
#: What MLflow refuses in a metric name on some system (its rule, Windows' stricter one).
NOT_IN_A_METRIC_NAME = re.compile(r"[^\w.\- ]")


def metric_name(prefix: str, column: str) -> str:
    """`prefix.column` as MLflow accepts it: a column's `(`, `%`, `/`... become `_`."""
    return f"{prefix}.{NOT_IN_A_METRIC_NAME.sub('_', column)}"


def connect(settings: Settings) -> None:
    """Point MLflow at the tracking store from the settings."""
    # The CLI shows its own progress; MLflow's download bars would only add noise.
    os.environ.setdefault("MLFLOW_ENABLE_ARTIFACTS_PROGRESS_BAR", "false")
    # A tracking server that does not answer fails a command in seconds, not after MLflow's
    # default 7 retries of up to 120 s each (minutes). Either variable can still be set.
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_MAX_RETRIES", "2")
    os.environ.setdefault("MLFLOW_HTTP_REQUEST_TIMEOUT", "30")
    mlflow.set_tracking_uri(settings.tracking_uri)


def configure(settings: Settings, experiment: str) -> None:
    """Point MLflow at the tracking store, select the experiment, and mark its killed runs.

    Every stage that starts runs starts here, so a run whose process was killed is marked
    `KILLED` the next time any of them starts.
    """
    connect(settings)
    killed = _mark_killed_runs(mlflow.set_experiment(experiment).experiment_id)
    if killed:
        logger.warning(
            "marked %d run(s) KILLED, their process is gone: %s", len(killed), ", ".join(killed)
        )


def process_tags() -> dict[str, str]:
    """Tags naming the host and process of a run, for `configure` to find it if it is killed."""
    return {"host": socket.gethostname(), "pid": str(os.getpid())}


def _mark_killed_runs(experiment_id: str) -> list[str]:
    """Mark `KILLED` (and return) the `RUNNING` runs tagged with this host and a dead process.

    A run of a live process (a concurrent run) or of another host stays as it is.
    """
    # Imported here: datasets may need SQLAlchemy (the train extra); serving imports this module.
    from {{ cookiecutter.package_name }}.errors import process_alive

    client = mlflow.MlflowClient()
    running = client.search_runs(
        [experiment_id],
        f"attributes.status = 'RUNNING' and tags.host = '{socket.gethostname()}'",
    )
    killed = [
        run.info.run_id
        for run in running
        if run.data.tags.get("pid", "").isdigit() and not process_alive(int(run.data.tags["pid"]))
    ]
    for run_id in killed:
        client.set_terminated(run_id, "KILLED")
    return killed


def log_model(
    model: Any, example: pd.DataFrame, *, name: str, registered_name: str | None
) -> str | None:
    """Log a fitted pipeline with its signature and input example; register it if named.

    Returns:
        The registered version, or None when the model was not registered.

    Raises:
        ConfigError: the model holds a class from a package not in TRUSTED_MODULES.
    """
    import skops.io  # seconds to import: only when logging

    untrusted = skops.io.get_untrusted_types(data=skops.io.dumps(model))
    foreign = [name for name in untrusted if name.split(".")[0] not in TRUSTED_MODULES]
    if foreign:
        raise ConfigError(
            f"the model uses {', '.join(foreign)}: add its package to TRUSTED_MODULES in models.py"
        )
    info = mlflow.sklearn.log_model(
        model,
        name=name,
        signature=infer_signature(example, model.{% if cookiecutter.task == "classification" %}predict_proba{% else %}predict{% endif %}(example)),
        input_example=example,
        pip_requirements=[f"{package}=={version(package)}" for package in MODEL_REQUIREMENTS],
        registered_model_name=registered_name,
        skops_trusted_types=untrusted,
    )
    return None if info.registered_model_version is None else str(info.registered_model_version)


def load_model(uri: str) -> Any:
    """Load a logged pipeline from `runs:/...` or `models:/NAME@ALIAS` with `models.load_saved`.

    Raises:
        ConfigError: the artifact is not a model saved that way.
    """
    return load_with_example(uri)[0]


def load_with_example(uri: str) -> tuple[Any, pd.DataFrame | None]:
    """A logged pipeline (see `load_model`) and the rows it was logged with as its example."""
    with tempfile.TemporaryDirectory() as folder:
        local = Path(mlflow.artifacts.download_artifacts(artifact_uri=uri, dst_path=folder))
        return load_saved(local), saved_example(local)


def champion_version(model_name: str, alias: str = CHAMPION) -> str | None:
    """The registered version that holds the champion alias (or `alias`), if any."""
    client = mlflow.MlflowClient()
    try:
        return str(client.get_model_version_by_alias(model_name, alias).version)
    except MlflowException as error:
        if error.error_code in NOT_FOUND:
            return None
        raise


def version_of_run(model_name: str, run_id: str) -> str | None:
    """The registered version a training run produced, if it registered one."""
    found = mlflow.MlflowClient().search_model_versions(
        f"name = '{model_name}' and run_id = '{run_id}'"
    )
    return str(found[0].version) if found else None


def run_of_version(model_name: str, model_version: str) -> Run:
    """The training run that produced a registered version."""
    client = mlflow.MlflowClient()
    run_id = client.get_model_version(model_name, model_version).run_id
    if run_id is None:
        raise ConfigError(f"{model_name} version {model_version} has no training run")
    return client.get_run(run_id)


{%- if cookiecutter.task == "classification" %}


def decision_threshold(model_name: str, model_version: str) -> float:
    """The decision threshold a registered two-class model was trained with."""
    return threshold_of(run_of_version(model_name, model_version).data.metrics)
{%- endif %}


def training_run(experiment: str, run_id: str | None = None) -> Run:
    """A training run: the one named, else the most recent finished one of the experiment.

    Raises:
        ConfigError: no run has that id, or nothing has been trained yet.
    """
    if run_id is not None:
        try:
            return mlflow.get_run(run_id)
        except MlflowException as error:
            if error.error_code in NOT_FOUND:
                raise ConfigError(
                    f"no run {run_id!r} in the tracking store: leave out --run-id for the latest "
                    "training run, or copy an id from `mlflow ui`"
                ) from None
            raise
    runs = mlflow.search_runs(
        experiment_names=[experiment],
        filter_string="tags.stage = 'train' and attributes.status = 'FINISHED'",
        order_by=["attributes.start_time DESC"],
        max_results=1,
        output_format="list",
    )
    if not runs:
        raise ConfigError(
            f"no finished training run in experiment {experiment!r}: run `train` first"
        )
    return runs[0]


def run_link(run: Run) -> str | None:
    """A browser link to the run when the tracking store is a server, else None."""
    uri = mlflow.get_tracking_uri().rstrip("/")
    link = f"{uri}/#/experiments/{run.info.experiment_id}/runs/{run.info.run_id}"
    return link if uri.startswith(("http://", "https://")) else None
