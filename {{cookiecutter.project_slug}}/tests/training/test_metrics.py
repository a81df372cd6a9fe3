"""Evaluation: task metrics beside a baseline, slices that flag weak groups, importances, figures."""

import math
import re
from collections.abc import Callable
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
{%- if cookiecutter.task == "classification" %}
from sklearn.dummy import DummyClassifier
from sklearn.linear_model import LogisticRegression
{%- else %}
from sklearn.dummy import DummyRegressor
from sklearn.linear_model import Ridge
{%- endif %}
from sklearn.pipeline import Pipeline

from {{ cookiecutter.package_name }}.config import SplitConfig
from {{ cookiecutter.package_name }}.data.contract import {% if cookiecutter.task == "classification" %}Column, {% endif %}DataContract
from {{ cookiecutter.package_name }}.data.features import build_pipeline
from {{ cookiecutter.package_name }}.data.splits import (
    Splits,
    split,
)
from {{ cookiecutter.package_name }}.data.validation import validate
from {{ cookiecutter.package_name }}.governance import explain as explaining
from {{ cookiecutter.package_name }}.training import metrics as evaluation
from {{ cookiecutter.package_name }}.training.metrics import (
    MIN_SLICE_ROWS,
    SLICE_METRICS,
    Evaluation,
{%- if cookiecutter.task == "classification" %}
    choose_threshold,
{%- endif %}
    evaluate,
    feature_importances,
    score,
    slice_scores,
    slice_warnings,
)
from {{ cookiecutter.package_name }}.training.models import PRIMARY_METRIC
{%- if cookiecutter.task == "classification" %}

METRICS = {"accuracy", "precision", "recall", "f1", "roc_auc", "pr_auc", "log_loss"}
FIGURES = {
    "confusion_matrix",
    "roc_curve",
    "precision_recall_curve",
    "calibration_curve",
    "permutation_importance",
}


def estimators() -> tuple[Any, Any]:
    """A quick model and the baseline it must beat."""
    return LogisticRegression(max_iter=1000), DummyClassifier()
{%- else %}

METRICS = {"rmse", "mae", "r2", "mape"}
FIGURES = {"predicted_vs_actual", "residuals", "permutation_importance"}


def estimators() -> tuple[Any, Any]:
    """A quick model and the baseline it must beat."""
    return Ridge(), DummyRegressor()
{%- endif %}


@pytest.fixture(scope="module")
def parts(generate: Callable[..., pd.DataFrame], contract: DataContract) -> Splits:
    """Enough generated rows that categories have test rows to slice by."""
    rows = validate(generate(contract, 3000, seed=1), contract)
    return split(rows, contract, SplitConfig(), seed=0)


def fit(contract: DataContract, train: pd.DataFrame) -> tuple[Pipeline, Pipeline]:
    features, target = train[contract.feature_names], train[contract.target.name]
    model, baseline = estimators()
    return (
        build_pipeline(contract, model).fit(features, target),
        build_pipeline(contract, baseline).fit(features, target),
    )


@pytest.fixture(scope="module")
def models(parts: Splits, contract: DataContract) -> tuple[Pipeline, Pipeline]:
    return fit(contract, parts.train)


@pytest.fixture(scope="module")
def evaluated(
    models: tuple[Pipeline, Pipeline], parts: Splits, contract: DataContract
) -> Evaluation:
    return evaluate(*models, parts.test, contract)


def sliceable(test: pd.DataFrame, contract: DataContract) -> str:
    """A categorical feature with two or more categories that have enough test rows to slice."""
    for feature in contract.features_of_type("categorical"):
        if (test[feature].value_counts() >= MIN_SLICE_ROWS).sum() >= 2:
            return feature
    pytest.skip("no categorical feature has two categories with enough test rows to slice")


def planted(test: pd.DataFrame, contract: DataContract) -> tuple[str, str, pd.DataFrame]:
    """The most common category of the first categorical feature, and the test set with the
    targets of its rows made wrong, so that the model does badly there."""
    feature = sliceable(test, contract)
    value = str(test[feature].mode()[0])
    rows = test[feature].isin([value])
    corrupted = test.copy()
    target = contract.target.name
{%- if cookiecutter.task == "classification" %}
    labels = sorted(test[target].unique())
    wrong = dict(zip(labels, labels[1:] + labels[:1], strict=True))  # each class to the next
    corrupted.loc[rows, target] = test.loc[rows, target].map(wrong)
{%- else %}
    corrupted.loc[rows, target] = test.loc[rows, target] * 3
{%- endif %}
    return feature, value, corrupted


def test_model_and_baseline_get_every_metric_of_the_task(evaluated: Evaluation) -> None:
    assert set(evaluated.metrics) == METRICS
    assert set(evaluated.baseline_metrics) == METRICS
    assert all(math.isfinite(value) for value in evaluated.metrics.values())


def test_model_beats_the_baseline_on_learnable_data(evaluated: Evaluation) -> None:
{%- if cookiecutter.task == "classification" %}
    assert evaluated.baseline_metrics["roc_auc"] == pytest.approx(0.5)
    assert evaluated.metrics["roc_auc"] > 0.75
    assert evaluated.metrics["log_loss"] < evaluated.baseline_metrics["log_loss"]
{%- else %}
    assert evaluated.metrics["rmse"] < 0.6 * evaluated.baseline_metrics["rmse"]
    assert evaluated.metrics["r2"] > 0.6 > evaluated.baseline_metrics["r2"]
{%- endif %}


def test_every_categorical_and_boolean_feature_is_sliced_by_category(
    evaluated: Evaluation, parts: Splits, contract: DataContract
) -> None:
    slices = evaluated.slices
    sliceable = contract.features_of_type("categorical") + contract.features_of_type("boolean")

    assert list(slices.columns) == ["feature", "value", "rows", *SLICE_METRICS]
    assert set(slices["feature"]) == {
        name for name in sliceable if parts.test[name].value_counts().max() >= MIN_SLICE_ROWS
    }
    for row in slices.itertuples():
        assert row.rows == parts.test[row.feature].isin([row.value]).sum() >= MIN_SLICE_ROWS


def test_a_category_with_too_few_test_rows_is_not_sliced(
    models: tuple[Pipeline, Pipeline], parts: Splits, contract: DataContract
) -> None:
    feature = sliceable(parts.test, contract)
    value = parts.test[feature].mode()[0]
    rows = parts.test[feature].isin([value])
    test = pd.concat([parts.test[~rows], parts.test[rows].head(MIN_SLICE_ROWS - 1)])

    sliced = slice_scores(models[0], test, contract, threshold=0.5)

    values = set(sliced.loc[sliced["feature"] == feature, "value"])
    assert value not in values
    assert values  # the other categories of the feature still are


def test_a_slice_much_worse_than_the_whole_is_warned_about(
    evaluated: Evaluation, models: tuple[Pipeline, Pipeline], contract: DataContract, parts: Splits
) -> None:
    feature, value, corrupted = planted(parts.test, contract)
    pattern = re.compile(
        rf"slice {re.escape(feature)}={re.escape(value)} \([\d,]+ rows\): "
        rf"{PRIMARY_METRIC} [\d.,]+ vs [\d.,]+ overall"
    )

    warnings = evaluate(*models, corrupted, contract).warnings

    assert not any(pattern.fullmatch(line) for line in evaluated.warnings)
    assert any(pattern.fullmatch(line) for line in warnings)


def test_slice_warnings_respect_the_tolerance_and_skip_unscored_slices() -> None:
{%- if cookiecutter.task == "classification" %}
    overall, bad, close = 0.86, 0.71, 0.80
{%- else %}
    overall, bad, close = 50.0, 60.0, 54.0
{%- endif %}
    slices = pd.DataFrame(
        {
            "feature": ["plan", "plan", "plan"],
            "value": ["monthly", "yearly", "lifetime"],
            "rows": [1412, 300, 40],
            PRIMARY_METRIC: [bad, close, np.nan],
        }
    )

    warnings = slice_warnings(slices, overall, tolerance=0.1)

    assert warnings == [
        f"slice plan=monthly (1,412 rows): {PRIMARY_METRIC} {bad:.3f} vs {overall:.3f} overall"
    ]
    assert slice_warnings(slices, overall, tolerance=0.5) == []


def test_figures_have_the_expected_stems_and_save(
    evaluated: Evaluation, contract: DataContract, tmp_path: Any
) -> None:
    audited = any(column.protected for column in contract.features)
    assert set(evaluated.figures) == FIGURES | ({"fairness"} if audited else set())
    for stem, figure in evaluated.figures.items():
        assert tuple(figure.get_size_inches()) == (6.0, 4.5)
        figure.savefig(tmp_path / f"{stem}.png", dpi=50)
        assert (tmp_path / f"{stem}.png").stat().st_size > 0


def test_an_explainer_that_fails_costs_the_explanations_only(
    models: tuple[Pipeline, Pipeline],
    parts: Splits,
    contract: DataContract,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    def fails(*_: object, **__: object) -> None:
        raise TypeError("this estimator cannot be explained")

    monkeypatch.setattr(explaining, "explain", fails)

    result = evaluate(*models, parts.test.head(200), contract, background=parts.train)

    assert result.explanation is None
    assert "shap_summary" not in result.figures
    assert "no SHAP explanations: TypeError: this estimator cannot be explained" in caplog.text


def test_evaluating_leaves_no_figure_open_in_pyplot(
    models: tuple[Pipeline, Pipeline], parts: Splits, contract: DataContract
) -> None:
    open_before = plt.get_fignums()

    evaluate(*models, parts.test.head(200), contract)

    assert plt.get_fignums() == open_before


def test_importances_cover_every_feature_most_important_first(
    evaluated: Evaluation, contract: DataContract
) -> None:
    importances = evaluated.importances

    assert list(importances.columns) == ["feature", "importance_mean", "importance_std"]
    assert sorted(importances["feature"]) == sorted(contract.feature_names)
    assert importances["importance_mean"].is_monotonic_decreasing
    assert importances["importance_mean"].iloc[0] > 0


def test_importances_run_on_a_bounded_sample_of_rows(
    models: tuple[Pipeline, Pipeline],
    parts: Splits,
    contract: DataContract,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[int] = []
    permutation_importance = evaluation.permutation_importance

    def counting(model: Any, features: pd.DataFrame, target: pd.Series, **options: Any) -> Any:
        seen.append(len(features))
        return permutation_importance(model, features, target, **options)

    monkeypatch.setattr(evaluation, "MAX_IMPORTANCE_ROWS", 100)
    monkeypatch.setattr(evaluation, "permutation_importance", counting)

    feature_importances(models[0], parts.test, contract, seed=0)

    assert seen == [100]
{%- if cookiecutter.task == "classification" %}


def shaped(classes: tuple[Any, ...], positive: Any = None) -> DataContract:
    """A small contract of a given task shape, independent of the project's own."""
    return DataContract(
        name="shaped",
        target=Column(name="label", type="categorical", categories=classes, positive=positive),
        features=(
            Column(name="x one", type="numeric", min=0, max=10),
            Column(name="x two", type="numeric"),
            Column(name="group", type="categorical", categories=("a", "b", "c")),
            Column(name="flag", type="boolean"),
        ),
    )


def shaped_parts(
    contract: DataContract, generate: Callable[..., pd.DataFrame], rows: int = 1200
) -> Splits:
    return split(validate(generate(contract, rows), contract), contract, SplitConfig(), seed=0)


def test_threshold_moves_the_thresholded_metrics_only(
    generate: Callable[..., pd.DataFrame],
) -> None:
    binary = shaped(("stay", "leave"), positive="leave")
    parts = shaped_parts(binary, generate)
    model, _ = fit(binary, parts.train)

    default = score(model, parts.test, binary, threshold=0.5)
    strict = score(model, parts.test, binary, threshold=0.9)

    assert set(default) == METRICS  # the threshold is the model's setting, not a metric
    assert strict["recall"] < default["recall"]
    assert strict["roc_auc"] == default["roc_auc"]


def test_the_chosen_threshold_has_the_best_f1_on_its_rows(
    generate: Callable[..., pd.DataFrame],
) -> None:
    rare = shaped((0, 1), positive=1)
    frame = validate(generate(rare, 3000, seed=4), rare)
    # Keep one positive row in twenty: at 0.5 a model predicts the rare class too seldom.
    positives = frame[frame["label"] == "1"]
    frame = pd.concat([frame[frame["label"] == "0"], positives.head(len(positives) // 6)])
    parts = split(frame, rare, SplitConfig(), seed=0)
    model, _ = fit(rare, parts.train)

    chosen = choose_threshold(model, parts.validation, rare)

    f1_at = {
        threshold: score(model, parts.validation, rare, threshold=threshold)["f1"]
        for threshold in (0.5, chosen, 0.3, 0.1)
    }
    assert 0 < chosen < 1
    assert f1_at[chosen] == max(f1_at.values())


def test_the_positive_class_is_the_contracts_not_the_last_label(
    generate: Callable[..., pd.DataFrame],
) -> None:
    first_is_positive = shaped(("yes", "no"), positive="yes")
    parts = shaped_parts(first_is_positive, generate)
    model, _ = fit(first_is_positive, parts.train)
    is_yes = (parts.test["label"] == "yes").to_numpy()
    probability = model.predict_proba(parts.test[first_is_positive.feature_names])
    said_yes = probability[:, list(model.classes_).index("yes")] >= 0.5

    recall = score(model, parts.test, first_is_positive, threshold=0.5)["recall"]

    assert recall == pytest.approx((said_yes & is_yes).sum() / is_yes.sum())
    assert recall != pytest.approx((~said_yes & ~is_yes).sum() / (~is_yes).sum())


def test_rows_of_one_class_have_no_ranking_metrics_but_an_accuracy(
    models: tuple[Pipeline, Pipeline], parts: Splits, contract: DataContract
) -> None:
    target = parts.test[contract.target.name]
    one_class = parts.test[target.isin([target.iloc[0]])]

    scores = score(models[0], one_class, contract, threshold=0.5)

    assert math.isnan(scores["roc_auc"])
    assert math.isnan(scores["pr_auc"])
    assert 0 <= scores["accuracy"] <= 1


def test_every_class_gets_its_own_precision_recall_and_f1(
    evaluated: Evaluation, parts: Splits, contract: DataContract
) -> None:
    per_class = evaluated.per_class

    assert list(per_class.columns) == ["class", "rows", "precision", "recall", "f1"]
    assert sorted(map(str, per_class["class"])) == sorted(map(str, contract.classes))
    assert per_class["rows"].sum() == len(parts.test)
    assert per_class[["precision", "recall", "f1"]].apply(lambda c: c.between(0, 1)).all().all()


@pytest.mark.parametrize("labels", [("low", "mid", "high"), (1, 2, 3, 4)])
def test_multiclass_targets_get_macro_metrics_and_a_curve_per_class(
    labels: tuple[Any, ...], generate: Callable[..., pd.DataFrame]
) -> None:
    multiclass = shaped(labels)
    parts = shaped_parts(multiclass, generate)

    result = evaluate(*fit(multiclass, parts.train), parts.test, multiclass)

    assert set(result.metrics) == METRICS
    assert result.threshold is None  # the most probable class wins: no threshold
    assert all(math.isfinite(value) for value in result.metrics.values())
    assert result.metrics["roc_auc"] > result.baseline_metrics["roc_auc"]
    assert len(result.per_class) == len(labels)
    legend = result.figures["roc_curve"].axes[0].get_legend()
    assert len(legend.get_texts()) == len(labels)
{%- else %}


def test_mape_is_left_out_when_a_true_value_is_zero(
    models: tuple[Pipeline, Pipeline], parts: Splits, contract: DataContract
) -> None:
    test = parts.test.copy()
    test.loc[test.index[0], contract.target.name] = 0.0

    scores = score(models[0], test, contract, threshold=0.5)

    assert set(scores) == METRICS - {"mape"}
{%- endif %}
