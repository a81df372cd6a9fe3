"""The model catalogue: every named model builds, scores, and compares the right way round."""

import optuna
import pandas as pd
import pytest

from {{ cookiecutter.package_name }}.config import ModelName, SplitConfig
from {{ cookiecutter.package_name }}.data.contract import DataContract
from {{ cookiecutter.package_name }}.data.features import build_pipeline
from {{ cookiecutter.package_name }}.data.splits import split
from {{ cookiecutter.package_name }}.data.validation import validate
from {{ cookiecutter.package_name }}.errors import ConfigError
from {{ cookiecutter.package_name }}.training.metrics import score
from {{ cookiecutter.package_name }}.training.models import (
    GREATER_IS_BETTER,
    PRIMARY_METRIC,
    TUNABLE,
    is_better,
    make_estimator,
    suggest_params,
)


@pytest.mark.parametrize("name", ["baseline", "linear", "gradient_boosting", "custom"])
def test_every_model_fits_and_scores(
    name: ModelName, raw_data: pd.DataFrame, contract: DataContract
) -> None:
    parts = split(validate(raw_data.head(1000), contract), contract, SplitConfig(), seed=0)
    model = build_pipeline(contract, make_estimator(name, {}, seed=0))

    model.fit(parts.train[contract.feature_names], parts.train[contract.target.name])

    assert score(model, parts.test, contract)[PRIMARY_METRIC] > 0


def test_the_trained_model_beats_the_baseline(
    raw_data: pd.DataFrame, contract: DataContract
) -> None:
    parts = split(validate(raw_data, contract), contract, SplitConfig(), seed=0)
    scores = {}
    for name in ("baseline", "gradient_boosting"):
        model = build_pipeline(contract, make_estimator(name, {}, seed=0))
        model.fit(parts.train[contract.feature_names], parts.train[contract.target.name])
        scores[name] = score(model, parts.test, contract)[PRIMARY_METRIC]

    assert is_better(scores["gradient_boosting"], scores["baseline"], margin=0.05)


def test_parameters_that_do_not_fit_are_one_line() -> None:
    with pytest.raises(ConfigError, match=r"train\.params do not fit the linear model"):
        make_estimator("linear", {"no_such_parameter": 1}, seed=0)


def test_is_better_follows_the_metric_direction() -> None:
    better, worse = (0.9, 0.8) if GREATER_IS_BETTER else (0.8, 0.9)

    assert is_better(better, worse)
    assert not is_better(worse, better)
    assert is_better(better, better)  # a tie does no worse
    assert not is_better(better, worse, margin=0.2)


@pytest.mark.parametrize("name", TUNABLE)
def test_search_spaces_suggest_parameters_the_model_accepts(name: ModelName) -> None:
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))

    params = suggest_params(study.ask(), name)

    assert params
    make_estimator(name, params, seed=0)


def test_models_without_a_search_space_are_refused() -> None:
    study = optuna.create_study()

    with pytest.raises(ConfigError, match="the baseline model has no search space"):
        suggest_params(study.ask(), "baseline")
