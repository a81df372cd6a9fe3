"""Features: built from the contract, fitted on training data, robust to what serving will see."""

import numpy as np
import pandas as pd
import pytest
{%- if cookiecutter.task == "classification" %}
from sklearn.linear_model import LogisticRegression as Estimator
{%- else %}
from sklearn.linear_model import Ridge as Estimator
{%- endif %}

from {{ cookiecutter.package_name }} import features
from {{ cookiecutter.package_name }}.config import SplitConfig
from {{ cookiecutter.package_name }}.contract import DataContract
from {{ cookiecutter.package_name }}.errors import ConfigError
from {{ cookiecutter.package_name }}.features import (
    CustomFeature,
    DateParts,
    build_pipeline,
)
from {{ cookiecutter.package_name }}.splits import Splits, split
from {{ cookiecutter.package_name }}.validation import validate


@pytest.fixture
def parts(raw_data: pd.DataFrame, contract: DataContract) -> Splits:
    return split(validate(raw_data, contract), contract, SplitConfig(), seed=0)


def fitted(contract: DataContract, train: pd.DataFrame):  # type: ignore[no-untyped-def]
    pipeline = build_pipeline(contract, Estimator())
    return pipeline.fit(train[contract.feature_names], train[contract.target.name])


def test_pipeline_fits_and_predicts_every_row(parts: Splits, contract: DataContract) -> None:
    pipeline = fitted(contract, parts.train)

    predictions = pipeline.predict(parts.test[contract.feature_names])

    assert len(predictions) == len(parts.test)
    assert not pd.isna(predictions).any()


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


def test_custom_features_are_computed_inside_the_pipeline(
    parts: Splits, contract: DataContract
) -> None:
    pipeline = fitted(contract, parts.train)
    inputs = pipeline.named_steps["input"].transform(parts.test[contract.feature_names])

    derived = pipeline.named_steps["derive"].transform(inputs)

    for feature in features.CUSTOM_FEATURES:
        assert feature.name in derived.columns
        assert derived[feature.name].notna().any()


def test_custom_feature_reading_an_unknown_column_is_named(
    contract: DataContract, monkeypatch: pytest.MonkeyPatch
) -> None:
    broken = CustomFeature(
        name="ratio", type="numeric", inputs=("no_such_column",), function=lambda f: f.iloc[:, 0]
    )
    monkeypatch.setattr(features, "CUSTOM_FEATURES", [broken])

    with pytest.raises(ConfigError, match="custom feature 'ratio' reads no_such_column"):
        build_pipeline(contract, Estimator())


def test_date_parts_are_numbers_with_names() -> None:
    frame = pd.DataFrame({"day": pd.to_datetime(["2024-03-05", None])})

    parts = DateParts().fit(frame)

    assert list(parts.get_feature_names_out()) == ["day_year", "day_month", "day_day_of_week"]
    assert parts.transform(frame).iloc[0].tolist() == [2024.0, 3.0, 1.0]
    assert parts.transform(frame).iloc[1].isna().all()
