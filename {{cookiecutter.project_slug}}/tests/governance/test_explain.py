"""Explanations: SHAP values add up to each model's output, one value per contract column."""

from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import pytest
{%- if cookiecutter.task == "classification" %}
from sklearn.ensemble import RandomForestClassifier as Forest
from sklearn.neighbors import KNeighborsClassifier as Neighbours
{%- else %}
from sklearn.ensemble import RandomForestRegressor as Forest
from sklearn.neighbors import KNeighborsRegressor as Neighbours
{%- endif %}
from sklearn.pipeline import Pipeline

from {{ cookiecutter.package_name }}.data.contract import Column, DataContract
from {{ cookiecutter.package_name }}.data.features import build_pipeline
from {{ cookiecutter.package_name }}.data.validation import validate
from {{ cookiecutter.package_name }}.governance import explain as explaining
from {{ cookiecutter.package_name }}.governance.explain import (
    Explanation,
    explain,
    in_words,
    summary_figure,
)
from {{ cookiecutter.package_name }}.training.models import make_estimator

{%- if cookiecutter.task == "classification" %}

#: Two classes whose positive one sorts first (its log-odds are the model's, negated), and three.
TARGETS = {
    "binary": Column(
        name="label", type="categorical", categories=("stay", "leave"), positive="leave"
    ),
    "multiclass": Column(name="label", type="categorical", categories=("a", "b", "c")),
}
{%- else %}

TARGETS = {"regression": Column(name="label", type="numeric", min=0, max=1000)}
{%- endif %}
#: Each way a model is explained: a tree explainer (the built-in gradient boosting, and a forest
#: as a custom model may be), a linear one, and the model-agnostic fallback (nearest neighbours).
#: The gradient boosting's and the fallback's explainers compile code on first use (numba): slow.
FAMILIES = (
    "linear",
    "forest",
    pytest.param("gradient_boosting", marks=pytest.mark.slow),
    pytest.param("fallback", marks=pytest.mark.slow),
)


def fitted(family: str, contract: DataContract, rows: pd.DataFrame) -> Pipeline:
    estimators: dict[str, Callable[[], Any]] = {
        "gradient_boosting": lambda: make_estimator(family, {"max_iter": 20}, seed=0),  # type: ignore[arg-type]
        "linear": lambda: make_estimator(family, {}, seed=0),  # type: ignore[arg-type]
        "forest": lambda: Forest(n_estimators=10, max_depth=4, random_state=0),
        "fallback": lambda: Neighbours(n_neighbors=15),
    }
    model = build_pipeline(contract, estimators[family]())
    return model.fit(rows[contract.feature_names], rows[contract.target.name])


def model_output(model: Pipeline, rows: pd.DataFrame, explanation: Explanation) -> np.ndarray:
    """What the explanation says it explains, straight from the model: rows x outputs."""
    features = rows.loc[explanation.data.index]
{%- if cookiecutter.task == "classification" %}
    classes = [str(c) for c in model.classes_]
    wanted = [classes.index(output) for output in explanation.outputs]
    if explanation.space == "probability":
        return model.predict_proba(features)[:, wanted]
    raw = model.decision_function(features)
    if raw.ndim == 1:  # two classes: the log-odds of the model's last class
        raw = np.column_stack([-raw, raw])
    return raw[:, wanted]
{%- else %}
    return model.predict(features)[:, np.newaxis]
{%- endif %}


@pytest.fixture(scope="module")
def data(
    every_kind: Callable[..., DataContract], generate: Callable[..., pd.DataFrame]
) -> dict[str, tuple[DataContract, pd.DataFrame]]:
    """For each task shape: a contract with a column of every kind, and rows that fit it."""
    shapes = {}
    for shape, target in TARGETS.items():
        contract = every_kind(target)
        shapes[shape] = contract, validate(generate(contract, 600, seed=3), contract)
    return shapes


@pytest.mark.parametrize("shape", TARGETS)
@pytest.mark.parametrize("family", FAMILIES)
def test_explanations_add_up_to_the_models_output(
    data: dict[str, tuple[DataContract, pd.DataFrame]], shape: str, family: str
) -> None:
    contract, rows = data[shape]
    model = fitted(family, contract, rows)

    explanation = explain(model, rows.head(60), rows, contract)

    added = explanation.base + explanation.values.sum(axis=1)
    np.testing.assert_allclose(added, model_output(model, rows, explanation), atol=1e-6)


@pytest.mark.parametrize("shape", TARGETS)
def test_one_hot_columns_and_date_parts_fold_back_into_one_value_per_contract_column(
    data: dict[str, tuple[DataContract, pd.DataFrame]], shape: str
) -> None:
    contract, rows = data[shape]
    model = fitted("linear", contract, rows)

    explanation = explain(model, rows.head(40), rows, contract)

    assert sorted(explanation.columns) == sorted(contract.feature_names)
    assert explanation.values.shape[:2] == (40, len(contract.feature_names))
    importance = explanation.importance()
    assert list(importance["column"]) == sorted(
        explanation.columns, key=lambda c: -importance.set_index("column").loc[c, "mean_abs_shap"]
    )


@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # shap's import, if first
def test_the_background_is_a_bounded_sample_of_the_rows_given(
    data: dict[str, tuple[DataContract, pd.DataFrame]], monkeypatch: pytest.MonkeyPatch
) -> None:
    import shap

    contract, rows = next(iter(data.values()))
    seen: list[int] = []
    real = shap.LinearExplainer

    def spy(model: Any, background: Any, **options: Any) -> Any:
        seen.append(len(background))
        return real(model, background, **options)

    monkeypatch.setattr(shap, "LinearExplainer", spy)
    monkeypatch.setattr(explaining, "MAX_BACKGROUND", 7)

    explain(fitted("linear", contract, rows), rows.head(20), rows, contract)

    assert seen == [7]


@pytest.mark.slow
def test_the_fallback_explains_a_bounded_sample(
    data: dict[str, tuple[DataContract, pd.DataFrame]], monkeypatch: pytest.MonkeyPatch
) -> None:
    contract, rows = next(iter(data.values()))
    monkeypatch.setattr(explaining, "FALLBACK_ROWS", 7)

    explanation = explain(fitted("fallback", contract, rows), rows.head(50), rows, contract)

    assert explanation.values.shape[0] == len(explanation.data) == 7


def test_the_summary_and_the_words_name_the_most_important_columns(
    data: dict[str, tuple[DataContract, pd.DataFrame]],
) -> None:
    for contract, rows in data.values():
        explanation = explain(fitted("forest", contract, rows), rows.head(200), rows, contract)

        words = in_words(explanation, top=3)
        figure = summary_figure(explanation)

        top = explanation.importance()["column"].head(3).tolist()
        assert [line.split("`")[1] for line in words] == top
        assert all(f" {explanation.space} on average" in line for line in words)
        assert figure.axes[0].get_title() == f"SHAP values ({explanation.space})"
