"""Fixtures for the service: an app around a quickly fitted model, and JSON records to send."""

from collections.abc import Callable, Iterator
from typing import Any

import pandas as pd
import pytest
from fastapi.testclient import TestClient

from {{ cookiecutter.package_name }}.contract import DataContract
from {{ cookiecutter.package_name }}.serving.main import create_app
from {{ cookiecutter.package_name }}.serving.model import ServedModel
from {{ cookiecutter.package_name }}.serving.schemas import (
    ModelMetadata,
    request_records,
)
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.validation import validate


@pytest.fixture(scope="session")
def records(raw_data: pd.DataFrame, contract: DataContract) -> list[dict[str, Any]]:
    """The first 50 sample rows as API records: features only, typed as JSON."""
    return request_records(validate(raw_data.head(50), contract), contract)


@pytest.fixture
def served(fitted_model: Any, contract: DataContract) -> ServedModel:
    """The fitted model as the service holds it."""
    metadata = ModelMetadata(
        name="test-model",
        version="3",
        run_id="run-123",
        source="models:/test-model@champion",
        metrics={"validation_score": 0.9},
        features=contract.feature_names,
    )
    return ServedModel(fitted_model, metadata)


@pytest.fixture
def service_settings(project_env: dict[str, str]) -> Callable[..., Settings]:
    """Settings for the app over the shipped config and contract, with any field changed."""

    def make(**changes: Any) -> Settings:
        config_file = project_env["{{ cookiecutter.package_name | upper }}_CONFIG_FILE"]
        return Settings(config_file=config_file, **changes)

    return make


@pytest.fixture
def client(service_settings: Callable[..., Settings], served: ServedModel) -> Iterator[TestClient]:
    """A client of the running app with the model loaded and a batch limit of 5 records."""
    app = create_app(service_settings(max_batch_size=5), model=served)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client
