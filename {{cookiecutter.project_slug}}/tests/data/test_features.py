"""Features: built from the contract, fitted on training data, robust to what serving will see."""

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
{%- if cookiecutter.task == "classification" %}
from sklearn.ensemble import HistGradientBoostingClassifier as DenseOnly
from sklearn.linear_model import LogisticRegression as Estimator
{%- else %}
from sklearn.ensemble import HistGradientBoostingRegressor as DenseOnly
from sklearn.linear_model import Ridge as Estimator
{%- endif %}

from {{ cookiecutter.package_name }}.config import SplitConfig, load_config
from {{ cookiecutter.package_name }}.data import features
from {{ cookiecutter.package_name }}.data.contract import Column, DataContract, to_type
from {{ cookiecutter.package_name }}.data.features import (
    MAX_CATEGORIES,
    CustomFeature,
    ModelInput,
    build_pipeline,
    custom_features,
)
from {{ cookiecutter.package_name }}.data.splits import Splits, split
from {{ cookiecutter.package_name }}.data.validation import validate
from {{ cookiecutter.package_name }}.errors import ConfigError

PROJECT_ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def parts(raw_data: pd.DataFrame, contract: DataContract) -> Splits:
    return split(validate(raw_data, contract), contract, SplitConfig(), seed=0)


def fitted(contract: DataContract, train: pd.DataFrame, custom: tuple[str, ...] = ()):  # type: ignore[no-untyped-def]
    pipeline = build_pipeline(contract, Estimator(), custom)
    return pipeline.fit(train[contract.feature_names], train[contract.target.name])


def test_pipeline_fits_and_predicts_every_row(parts: Splits, contract: DataContract) -> None:
    pipeline = fitted(contract, parts.train)

    predictions = pipeline.predict(parts.test[contract.feature_names])

    assert len(predictions) == len(parts.test)
    assert not pd.isna(predictions).any()


def test_a_category_of_many_values_reaches_a_model_that_needs_dense_input_in_few_columns(
    contract: DataContract,
) -> None:
    """One-hot columns of 200 values are mostly zeros: they must not arrive as a sparse matrix,
    which the default model (gradient boosting) refuses, nor as 200 dense columns."""
    many = DataContract(
        name="many",
        target=contract.target,
        features=(
            Column(name="number", type="numeric"),
            Column(name="many values", type="categorical"),
        ),
    )
    rows = 1000
    frame = pd.DataFrame(
        {
            "number": np.arange(rows, dtype=float),
            "many values": [f"v{i % 200}" for i in range(rows)],
        }
    )
    target = contract.target.categories or (0.0, 1.0)  # two classes, or two values
    labels = pd.Series([target[i % 2] for i in range(rows)])

    pipeline = build_pipeline(many, DenseOnly(max_iter=5)).fit(frame, labels)

    assert len(pipeline.predict(frame)) == rows
    assert pipeline[:-1].transform(frame).shape == (rows, 1 + MAX_CATEGORIES)


def test_unseen_categories_and_nulls_do_not_break_the_transform(
    parts: Splits, contract: DataContract
) -> None:
    pipeline = fitted(contract, parts.train)
    unseen = parts.validation[contract.feature_names].head(20).copy()
    for name in contract.features_of_type("categorical"):
        unseen[name] = "never-seen-before"
    for feature in contract.features:
        unseen.loc[unseen.index[:5], feature.name] = None

    transformed = pipeline[:-1].transform(unseen)

    assert transformed.shape[0] == 20
    assert not np.isnan(np.asarray(transformed, dtype=float)).any()


def test_records_as_an_api_sends_them_predict_like_typed_frames(
    parts: Splits, contract: DataContract
) -> None:
    pipeline = fitted(contract, parts.train)
    typed = parts.test[contract.feature_names].head(50)

    np.testing.assert_array_equal(pipeline.predict(as_api_records(typed)), pipeline.predict(typed))


def as_api_records(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame as JSON would bring it: plain values, ISO date strings, None for missing."""

    def plain(value: object) -> object:
        if isinstance(value, pd.Timestamp):
            return value.date().isoformat()
        return None if pd.isna(value) else value  # type: ignore[call-overload]

    records = [
        {name: plain(value) for name, value in row.items()}
        for row in frame.to_dict(orient="records")
    ]
    return pd.DataFrame.from_records(records)


@pytest.fixture
def filled_in(contract: DataContract, monkeypatch: pytest.MonkeyPatch) -> CustomFeature:
    """A custom feature of the test's own, over the contract's first feature, in CUSTOM_FEATURES."""
    first = contract.feature_names[0]
    feature = CustomFeature(
        name="first_is_filled_in",
        type="numeric",
        inputs=(first,),
        function=lambda frame: frame[first].notna().astype(float),
    )
    monkeypatch.setattr(features, "CUSTOM_FEATURES", [*features.CUSTOM_FEATURES, feature])
    return feature


def test_custom_features_are_computed_inside_the_pipeline(
    parts: Splits, contract: DataContract, filled_in: CustomFeature
) -> None:
    pipeline = fitted(contract, parts.train, (filled_in.name,))
    derived = pipeline.named_steps["input"].transform(parts.test[contract.feature_names])

    expected = parts.test[contract.feature_names[0]].notna().astype(float)
    np.testing.assert_array_equal(derived[filled_in.name], expected)
    names = pipeline.named_steps["preprocess"].get_feature_names_out()
    assert f"numeric__{filled_in.name}" in names


def test_a_custom_feature_not_named_in_the_config_is_not_added(
    parts: Splits, contract: DataContract, filled_in: CustomFeature
) -> None:
    pipeline = fitted(contract, parts.train)
    derived = pipeline.named_steps["input"].transform(parts.test[contract.feature_names])

    assert filled_in.name not in derived.columns
    dates = contract.features_of_type("datetime")  # each becomes three numbers
    assert len(derived.columns) == len(contract.feature_names) + 2 * len(dates)


def test_custom_feature_reading_an_unknown_column_is_named(
    contract: DataContract, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = CustomFeature(
        name="ratio", type="numeric", inputs=("no_such_column",), function=lambda f: f.iloc[:, 0]
    )
    monkeypatch.setattr(features, "CUSTOM_FEATURES", [broken])

    with pytest.raises(ConfigError, match="custom feature 'ratio' reads no_such_column"):
        build_pipeline(contract, Estimator(), ("ratio",))


def test_a_custom_feature_that_is_not_defined_is_named(contract: DataContract) -> None:
    with pytest.raises(ConfigError, match=r"features\.custom names no_such_feature, which"):
        build_pipeline(contract, Estimator(), ("no_such_feature",))


def test_the_configured_custom_features_read_columns_of_the_contract(
    contract: DataContract,
) -> None:
    """`features.custom` fits the configured contract (`data adopt` empties it for new data)."""
    config = load_config(PROJECT_ROOT / "configs" / "project.yaml")

    chosen = custom_features(contract, config.features.custom)

    assert [feature.name for feature in chosen] == list(config.features.custom)


def test_a_date_reaches_the_model_as_numbers_with_names() -> None:
    frame = pd.DataFrame({"day": ["2024-03-05", None]})

    parts = ModelInput({"day": "datetime"}).transform(frame)

    assert list(parts.columns) == ["day_year", "day_month", "day_day_of_week"]
    assert parts.iloc[0].tolist() == [2024.0, 3.0, 1.0]
    assert parts.iloc[1].isna().all()


def test_a_custom_date_feature_reaches_the_model_as_numbers_with_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    later = CustomFeature(
        name="later",
        type="datetime",
        inputs=("day",),
        function=lambda frame: frame["day"] + pd.Timedelta(days=1),
    )
    monkeypatch.setattr(features, "CUSTOM_FEATURES", [later])
    frame = pd.DataFrame({"day": ["2024-03-05"]})

    parts = ModelInput({"day": "datetime"}, ("later",)).transform(frame)

    assert list(parts.columns) == [
        *(f"day_{part}" for part in features.DATE_PARTS),
        *(f"later_{part}" for part in features.DATE_PARTS),
    ]
    assert parts.iloc[0].tolist()[3:] == [2024.0, 3.0, 2.0]


def test_the_model_reads_true_and_false_as_validation_does() -> None:
    words = pd.Series(["yes", "No", " TRUE", "0", True, None], name="flag")

    validated = to_type(words, "boolean")  # as validation reads it
    model_input = ModelInput({"flag": "boolean"}).transform(words.to_frame())

    assert validated.notna().sum() == 5
    assert model_input["flag"].tolist()[:5] == [1.0, 0.0, 1.0, 0.0, 1.0]
    pd.testing.assert_series_equal(model_input["flag"], validated.astype("float64"))
