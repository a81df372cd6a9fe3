"""The estimators a project can train, their search spaces, and how a saved one is loaded."""

import json
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
{%- if cookiecutter.task == "classification" %}
from sklearn.dummy import DummyClassifier
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression
{%- else %}
from sklearn.dummy import DummyRegressor
from sklearn.ensemble import HistGradientBoostingRegressor
from sklearn.linear_model import Ridge
{%- endif %}

from {{ cookiecutter.package_name }}.config import ModelName, ParamValue
from {{ cookiecutter.package_name }}.errors import ConfigError

if TYPE_CHECKING:
    import optuna  # training only: the service imports this module without it

{%- if cookiecutter.task == "classification" %}

#: The metric that decides tuning, the quality gate and the champion.
PRIMARY_METRIC = "roc_auc"
GREATER_IS_BETTER = True
{%- else %}

#: The metric that decides tuning, the quality gate and the champion.
PRIMARY_METRIC = "rmse"
GREATER_IS_BETTER = False
{%- endif %}


# ============================================================================================
# YOUR MODEL: return any scikit-learn compatible estimator (fit/predict{% if cookiecutter.task == "classification" %}/predict_proba{% endif %}), then set
# `train.model: custom` in configs/project.yaml; `train.params` arrive here as keywords. It is
# trained, tracked, evaluated and promoted like the built-in models. A class from another
# library (XGBoost, LightGBM, ...) must also be added to TRUSTED_MODULES below.
# ============================================================================================
def custom_estimator(seed: int, **params: Any) -> Any:
    """Your estimator; this example is a random forest."""
{%- if cookiecutter.task == "classification" %}
    from sklearn.ensemble import RandomForestClassifier

    return RandomForestClassifier(n_estimators=200, random_state=seed, n_jobs=-1, **params)
{%- else %}
    from sklearn.ensemble import RandomForestRegressor

    return RandomForestRegressor(n_estimators=200, random_state=seed, n_jobs=-1, **params)
{%- endif %}


#: Only classes from these packages may be loaded back from a saved model (skops refuses
#: anything else, so a tampered model file cannot run arbitrary code).
TRUSTED_MODULES = ("{{ cookiecutter.package_name }}", "sklearn", "numpy", "scipy")


#: MLflow's description of a saved model: which file holds it, and which classes it may load.
MLMODEL_FILE = "MLmodel"
#: How many training rows a model is logged with as its input example (see saved_example).
EXAMPLE_ROWS = 100


def saved_example(folder: Path) -> pd.DataFrame | None:
    """The input example MLflow saved beside a model in `folder` (raw rows), if it saved one.

    `train` logs up to EXAMPLE_ROWS training rows as the example: the rows a served model's
    explanations compare with. None when there is none to read: the model still serves.
    """
    import yaml

    try:
        described = yaml.safe_load((folder / MLMODEL_FILE).read_text("utf-8"))
        info = described.get("saved_input_example_info") or {}
        example = folder / str(info["artifact_path"])
        if info.get("type") != "dataframe" or example.resolve().parent != folder.resolve():
            return None
        split = json.loads(example.read_text("utf-8"))
        return pd.DataFrame(split["data"], columns=split["columns"])
    except (OSError, ValueError, KeyError, TypeError, AttributeError, yaml.YAMLError):
        return None


def load_saved(folder: Path) -> Any:
    """Load a model that MLflow saved in `folder`, only as skops, trusting only TRUSTED_MODULES.

    Every way the project loads a model comes here (registry, run, export): a pickle, or a file
    that names a class from another package, is refused unread, since loading it could run code.

    Raises:
        ConfigError: the folder holds no model saved this way, or one that asks for more trust.
    """
    import skops.io  # seconds to import: only when loading
    import yaml

    try:
        flavor = yaml.safe_load((folder / MLMODEL_FILE).read_text("utf-8"))["flavors"]["sklearn"]
        serialization, file_name = flavor.get("serialization_format"), flavor["pickled_model"]
        types = [str(name) for name in flavor.get("skops_trusted_types") or []]
    except (OSError, ValueError, KeyError, TypeError, yaml.YAMLError) as error:
        raise ConfigError(f"{folder}: not a scikit-learn model saved by MLflow ({error})") from None
    model_file = folder / str(file_name)
    if serialization != "skops" or model_file.resolve().parent != folder.resolve():
        raise ConfigError(
            f"{folder} holds a model saved as {serialization!r} in {file_name!r}, not skops beside "
            "its MLmodel: refused, since loading it could run any code"
        )
    foreign = [name for name in types if name.split(".")[0] not in TRUSTED_MODULES]
    if foreign:
        raise ConfigError(
            f"{folder} asks to trust {', '.join(foreign)}: add the package to TRUSTED_MODULES in "
            "models.py only if you trust this model"
        )
    try:
        return skops.io.load(model_file, trusted=types)
    except (OSError, ValueError, TypeError, skops.io.exceptions.UntrustedTypesFoundException) as e:
        raise ConfigError(f"{model_file}: not loaded ({str(e).splitlines()[0]})") from None


# ============================================================================================


def make_estimator(name: ModelName, params: Mapping[str, ParamValue], *, seed: int) -> Any:
    """Build an untrained estimator by name.

    Raises:
        ConfigError: the parameters do not fit the estimator.
    """
    builders: dict[str, Callable[..., Any]] = {
{%- if cookiecutter.task == "classification" %}
        "baseline": lambda **p: DummyClassifier(strategy="prior", **p),
        "linear": lambda **p: LogisticRegression(max_iter=2000, **p),
        "gradient_boosting": lambda **p: HistGradientBoostingClassifier(random_state=seed, **p),
{%- else %}
        "baseline": lambda **p: DummyRegressor(strategy="mean", **p),
        "linear": lambda **p: Ridge(**p),
        "gradient_boosting": lambda **p: HistGradientBoostingRegressor(random_state=seed, **p),
{%- endif %}
        "custom": lambda **p: custom_estimator(seed, **p),
    }
    try:
        return builders[name](**params)
    except TypeError as error:
        raise ConfigError(f"train.params do not fit the {name} model: {error}") from None


#: The models `suggest_params` has a search space for.
TUNABLE: tuple[ModelName, ...] = ("linear", "gradient_boosting")


def check_tunable(name: ModelName) -> None:
    """Refuse to tune a model without a search space (the baseline, or your custom model).

    Raises:
        ConfigError: the model has no search space.
    """
    if name not in TUNABLE:
        raise ConfigError(f"the {name} model has no search space: add one in models.suggest_params")


def suggest_params(trial: "optuna.Trial", name: ModelName) -> dict[str, ParamValue]:
    """One point of the search space that `tune` explores for a model."""
    check_tunable(name)
    if name == "gradient_boosting":
        return {
            "learning_rate": trial.suggest_float("learning_rate", 0.02, 0.3, log=True),
            "max_leaf_nodes": trial.suggest_int("max_leaf_nodes", 8, 64, log=True),
            "min_samples_leaf": trial.suggest_int("min_samples_leaf", 10, 100, log=True),
            "l2_regularization": trial.suggest_float("l2_regularization", 1e-4, 10.0, log=True),
        }
    # The linear model: how strongly it is regularised.
{%- if cookiecutter.task == "classification" %}
    return {"C": trial.suggest_float("C", 1e-3, 100.0, log=True)}
{%- else %}
    return {"alpha": trial.suggest_float("alpha", 1e-3, 100.0, log=True)}
{%- endif %}


def is_better(candidate: float, reference: float, margin: float = 0.0) -> bool:
    """Whether `candidate` beats `reference` on the primary metric by at least `margin`."""
    gain = candidate - reference if GREATER_IS_BETTER else reference - candidate
    return bool(np.round(gain, 12) >= margin)  # rounded: 0.1 + 0.2 - 0.3 is no gain
