"""The tune stage: search hyperparameters with Optuna, each trial a nested MLflow run.

Optuna rather than scikit-learn's search: it bounds the search by time as well as by trials,
its TPE sampler spends trials where results are good, and it is seeded, so a search repeats.
The best parameters are handed straight to `train`.
"""

from dataclasses import dataclass

import mlflow
import optuna

from {{ cookiecutter.package_name }}.config import ParamValue, ProjectConfig
from {{ cookiecutter.package_name }}.data.features import build_pipeline
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.training import tracking
from {{ cookiecutter.package_name }}.training.inputs import load_splits
from {{ cookiecutter.package_name }}.training.metrics import score
from {{ cookiecutter.package_name }}.training.models import (
    GREATER_IS_BETTER,
    PRIMARY_METRIC,
    check_tunable,
    make_estimator,
    suggest_params,
)


@dataclass(frozen=True)
class TuneResult:
    """The best trial of a search."""

    run_id: str
    best_params: dict[str, ParamValue]
    best_score: float
    trials: int


def tune(config: ProjectConfig, settings: Settings) -> TuneResult:
    """Search the configured model's hyperparameters on the validation set.

    Raises:
        ConfigError: no processed data yet, or the model has no search space.
    """
    contract, parts, _ = load_splits(config)
    features, target = parts.train[contract.feature_names], parts.train[contract.target.name]
    tracking.configure(settings, experiment=settings.model_name)
    name = config.train.model
    check_tunable(name)

    def objective(trial: optuna.Trial) -> float:
        params = suggest_params(trial, name)
        tags = {"stage": "trial"} | tracking.process_tags()
        with mlflow.start_run(run_name=f"trial-{trial.number}", nested=True, tags=tags):
            mlflow.log_params(params)
            model = build_pipeline(
                contract, make_estimator(name, params, seed=config.seed), config.features.custom
            )
            value = score(model.fit(features, target), parts.validation, contract)[PRIMARY_METRIC]
            mlflow.log_metric(f"validation_{PRIMARY_METRIC}", value)
        return value

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        direction="maximize" if GREATER_IS_BETTER else "minimize",
        sampler=optuna.samplers.TPESampler(seed=config.seed),
    )
    tags = {"stage": "tune"} | tracking.process_tags()
    with mlflow.start_run(run_name=f"tune-{name}", tags=tags) as parent:
        mlflow.log_params({"model": name} | config.tune.model_dump())
        limits = config.tune
        study.optimize(objective, n_trials=limits.n_trials, timeout=limits.timeout_seconds)
        mlflow.log_metric(f"best_validation_{PRIMARY_METRIC}", study.best_value)
        mlflow.log_dict(study.best_params, "best_params.json")
    best = dict(study.best_params)
    return TuneResult(parent.info.run_id, best, float(study.best_value), len(study.trials))
