"""The tune stage: search hyperparameters with Optuna, each trial a nested MLflow run.

Optuna rather than scikit-learn's search: it bounds the search by time as well as by trials,
its TPE sampler spends trials where results are good, and it is seeded, so a search repeats.
The best parameters are handed straight to `train`.

Workers share one search through Optuna's storage (`TUNE_STORAGE`): `tune --workers N` runs N
processes here, and `tune --join STUDY` adds one from any machine that reaches the storage and
the tracking server (deploy/k8s/tune-job.yaml runs several). Each worker samples with its own
seed, so a search over several workers does not repeat exactly.
"""

import multiprocessing
from dataclasses import dataclass
from typing import Literal

import mlflow
import optuna
from optuna.exceptions import StorageInternalError
from optuna.storages import RDBStorage
from optuna.study import MaxTrialsCallback
from pydantic import SecretStr
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.pool import NullPool

from {{ cookiecutter.package_name }}.config import ParamValue, ProjectConfig
from {{ cookiecutter.package_name }}.data.features import build_pipeline
from {{ cookiecutter.package_name }}.errors import ConfigError, mask
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.training import tracking
from {{ cookiecutter.package_name }}.training.inputs import Loaded, load_splits
from {{ cookiecutter.package_name }}.training.metrics import score
from {{ cookiecutter.package_name }}.training.models import (
    GREATER_IS_BETTER,
    PRIMARY_METRIC,
    check_tunable,
    make_estimator,
    suggest_params,
)

#: Where `tune --workers N` keeps the search when the TUNE_STORAGE setting names none.
LOCAL_STORAGE = "sqlite:///optuna.db"
#: The study's attribute that names the MLflow run every trial nests under.
PARENT_RUN = "mlflow_parent_run_id"


@dataclass(frozen=True)
class TuneResult:
    """The best trial of a search."""

    run_id: str
    best_params: dict[str, ParamValue]
    best_score: float
    trials: int
    study: str


def tune(
    config: ProjectConfig, settings: Settings, *, workers: int = 1, study: str | None = None
) -> TuneResult:
    """Search the configured model's hyperparameters on the validation set.

    Args:
        config: the project config; `tune` bounds the search, over every worker.
        settings: where to track.
        workers: processes to search in; one searches in this process (in memory, unless
            TUNE_STORAGE or a study is named).
        study: a name for the search, for `tune --join` to find it; a new one by default.

    Raises:
        ConfigError: no processed data yet, the model has no search space, the storage cannot
            be used, or no trial finished.
    """
    # Read once, before any worker starts: missing data is refused at once.
    loaded = load_splits(config)
    check_tunable(config.train.model)
    tracking.configure(settings, experiment=settings.model_name)
    shared = workers > 1 or study is not None or settings.tune_storage is not None
    storage = _storage(settings) if shared else None
    tags = {"stage": "tune"} | tracking.process_tags()
    with mlflow.start_run(run_name=f"tune-{config.train.model}", tags=tags) as parent:
        name = study or f"{settings.model_name}-{parent.info.run_id[:12]}"
        mlflow.log_params({"model": config.train.model, "workers": workers, "study": name})
        mlflow.log_params(config.tune.model_dump())
        search = _open(name, storage, create=True)
        search.set_user_attr(PARENT_RUN, parent.info.run_id)
        if workers == 1:
            _search(search, config, loaded, seed=config.seed)
        else:
            _in_processes(workers, config, settings, name, storage or LOCAL_STORAGE)
        try:
            best_params, best_score = dict(search.best_params), float(search.best_value)
        except ValueError:  # no trial finished
            raise ConfigError(f"no trial of {name} finished: see its runs in MLflow") from None
        mlflow.log_metric(f"best_validation_{PRIMARY_METRIC}", best_score)
        mlflow.log_dict(best_params, "best_params.json")
    trials = len(search.get_trials(deepcopy=False))
    return TuneResult(parent.info.run_id, best_params, best_score, trials, name)


def join(config: ProjectConfig, settings: Settings, study: str, seed: int | None = None) -> int:
    """Run trials of a search another `tune` started, until it has `tune.n_trials` in all.

    Returns how many trials this worker ran.

    Raises:
        ConfigError: no such study in the tune storage, or no processed data.
    """
    tracking.configure(settings, experiment=settings.model_name)
    search = _open(study, _storage(settings), create=False)
    return _search(search, config, load_splits(config), seed=seed)


def _storage(settings: Settings) -> str:
    """The shared storage's URL: the TUNE_STORAGE setting, else a SQLite file here."""
    return settings.tune_storage.get_secret_value() if settings.tune_storage else LOCAL_STORAGE


def _open(name: str, storage: str | None, *, create: bool) -> optuna.Study:
    """A study in `storage` (in memory when None): a new or existing one, or only an existing one.

    The storage opens a database connection for each call and closes it after (no pool), so
    that many workers do not hold idle connections.
    """
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        backend = RDBStorage(storage, engine_kwargs={"poolclass": NullPool}) if storage else None
        if create:
            direction: Literal["maximize", "minimize"] = (
                "maximize" if GREATER_IS_BETTER else "minimize"
            )
            return optuna.create_study(
                study_name=name, storage=backend, direction=direction, load_if_exists=True
            )
        return optuna.load_study(study_name=name, storage=backend or LOCAL_STORAGE)
    except KeyError:
        raise ConfigError(
            f"no study {name!r} in the tune storage: start it with `tune --study {name}` first"
        ) from None
    except (ValueError, ImportError, SQLAlchemyError, StorageInternalError) as error:
        reason = mask(str(error).splitlines()[0])
        raise ConfigError(f"the tune storage cannot be used ({reason})") from None


def _search(study: optuna.Study, config: ProjectConfig, loaded: Loaded, *, seed: int | None) -> int:
    """Run trials in this process until the study has `tune.n_trials` or time is up."""
    contract, parts, _ = loaded
    features, target = parts.train[contract.feature_names], parts.train[contract.target.name]
    name, parent = config.train.model, study.user_attrs.get(PARENT_RUN)
    ran = 0

    def objective(trial: optuna.Trial) -> float:
        nonlocal ran
        ran += 1
        params = suggest_params(trial, name)
        tags = {"stage": "trial"} | tracking.process_tags()
        with mlflow.start_run(
            run_name=f"trial-{trial.number}", parent_run_id=parent, nested=True, tags=tags
        ):
            mlflow.log_params(params)
            model = build_pipeline(
                contract, make_estimator(name, params, seed=config.seed), config.features.custom
            )
            value = score(model.fit(features, target), parts.validation, contract)[PRIMARY_METRIC]
            mlflow.log_metric(f"validation_{PRIMARY_METRIC}", value)
        return value

    study.sampler = optuna.samplers.TPESampler(seed=seed)
    limits = config.tune
    # Counting every worker's trials, before each one: a worker that joins a full search runs none.
    if (left := limits.n_trials - len(study.get_trials(deepcopy=False))) > 0:
        every = MaxTrialsCallback(limits.n_trials, states=None)
        study.optimize(objective, n_trials=left, timeout=limits.timeout_seconds, callbacks=[every])
    return ran


def _in_processes(
    workers: int, config: ProjectConfig, settings: Settings, study: str, storage: str
) -> None:
    """Run `workers` processes of `join` on one study, each with its own seed; wait for all."""
    shared = settings.model_copy(update={"tune_storage": SecretStr(storage)})
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no forked threads
    started = [
        context.Process(target=join, args=(config, shared, study, config.seed + number))
        for number in range(workers)
    ]
    for process in started:
        process.start()
    for process in started:
        process.join()
    if failed := sum(process.exitcode != 0 for process in started):
        raise ConfigError(f"{failed} of {workers} tuning workers failed: see their output above")
