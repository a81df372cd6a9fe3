"""Fixtures for the service: an app around a quickly fitted model, and JSON records to send.

Most tests use the configured contract. A test about a kind of column that contract may lack
(a bounded number, a date, a category it accepts unseen, ...) asks `api_with` for one: it gets
the configured app when the contract has such a column, else an app over a contract of its own
that has every kind. So each behaviour is proven whatever data the project was given.
"""

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml
from fastapi.testclient import TestClient
{%- if cookiecutter.task == "classification" %}
from sklearn.linear_model import LogisticRegression
{%- else %}
from sklearn.linear_model import Ridge
{%- endif %}

from {{ cookiecutter.package_name }}.data.contract import (
    Column,
    DataContract,
    dump_contract,
)
from {{ cookiecutter.package_name }}.data.features import build_pipeline
from {{ cookiecutter.package_name }}.data.validation import validate
{%- if cookiecutter.include_monitoring %}
from {{ cookiecutter.package_name }}.monitoring.prediction_log import open_log
{%- endif %}
from {{ cookiecutter.package_name }}.serving.main import create_app
from {{ cookiecutter.package_name }}.serving.model import Model, export_model
from {{ cookiecutter.package_name }}.serving.schemas import ModelMetadata
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.training.train import TrainResult

#: The most records a test app takes in one batch request.
MAX_BATCH = 5


@dataclass(frozen=True)
class Api:
    """A running app, the contract it serves, records to send it, and the model it holds."""

    client: TestClient
    contract: DataContract
    records: list[dict[str, Any]]
    model: Model

    def feature(self, matches: Callable[[Column], bool]) -> Column:
        """The first feature of the contract that `matches`."""
        return next(f for f in self.contract.features if matches(f))


def metadata_for(contract: DataContract) -> ModelMetadata:
    """What the service knows about a test model that reads `contract`'s features."""
    return ModelMetadata(
        name="test-model",
        version="3",
        run_id="run-123",
        source="models:/test-model@champion",
        metrics={"validation_score": 0.9},
        features=contract.feature_names,
    )


@pytest.fixture(scope="session")
def records(
    raw_data: pd.DataFrame,
    contract: DataContract,
    to_records: Callable[[pd.DataFrame, DataContract], list[dict[str, Any]]],
) -> list[dict[str, Any]]:
    """The first 50 generated rows as API records: features only, typed as JSON."""
    return to_records(validate(raw_data.head(50), contract), contract)


@pytest.fixture
def model(fitted_model: Any, contract: DataContract, raw_data: pd.DataFrame) -> Model:
    """The fitted model as the service holds it, with 100 training rows to explain against."""
    background = validate(raw_data.head(100), contract)[contract.feature_names]
    return Model(fitted_model, metadata_for(contract), background)


@pytest.fixture
def service_settings(project_env: dict[str, str]) -> Callable[..., Settings]:
    """Settings for the app over the project config and contract, with any field changed."""

    def make(**changes: Any) -> Settings:
        config_file = project_env["{{ cookiecutter.package_name | upper }}_CONFIG_FILE"]
        return Settings(config_file=config_file, **changes)

    return make


@pytest.fixture
def client(service_settings: Callable[..., Settings], model: Model) -> Iterator[TestClient]:
    """A client of the running app with the model loaded and a batch limit of 5 records."""
    app = create_app(service_settings(max_batch_size=MAX_BATCH), model=model)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield client


@pytest.fixture
def exported(
    trained: TrainResult, trained_settings: Settings, contract: DataContract, tmp_path: Path
) -> Path:
    """The session's champion exported to a directory of this test's own."""
    output = tmp_path / "models" / "champion"
    export_model(trained_settings, output)
    return output


{%- if cookiecutter.include_monitoring %}


@pytest.fixture(scope="session")
def logged() -> Callable[[Settings], pd.DataFrame]:
    """Read a service's whole prediction log, the one its settings name."""

    def read(settings: Settings) -> pd.DataFrame:
        log = open_log(settings)
        assert log is not None
        try:
            return log.read()
        finally:
            log.close()

    return read
{%- endif %}


@pytest.fixture
def api(
    client: TestClient,
    contract: DataContract,
    records: list[dict[str, Any]],
    model: Model,
) -> Api:
    """The app over the configured contract."""
    return Api(client, contract, records, model)


@pytest.fixture
def app_for(
    service_settings: Callable[..., Settings],
    generate: Callable[..., pd.DataFrame],
    to_records: Callable[[pd.DataFrame, DataContract], list[dict[str, Any]]],
    tmp_path: Path,
) -> Iterator[Callable[[DataContract], Api]]:
    """An app over any contract: a quick model fitted on rows generated from it, loaded."""
    base = yaml.safe_load(Path(service_settings().config_file).read_text(encoding="utf-8"))
    with ExitStack() as stack:

        def make(contract: DataContract) -> Api:
            folder = tmp_path / f"app-{len(list(tmp_path.glob('app-*')))}"
            folder.mkdir()
            contract_file = folder / "contract.yaml"
            contract_file.write_text(dump_contract(contract), encoding="utf-8")
            config_file = folder / "project.yaml"
            data = base["data"] | {"contract": str(contract_file)}
            config = base | {"data": data}
            config_file.write_text(yaml.safe_dump(config), encoding="utf-8")
            rows = validate(generate(contract, 300, seed=1), contract)
{%- if cookiecutter.task == "classification" %}
            pipeline = build_pipeline(contract, LogisticRegression(max_iter=1000))
{%- else %}
            pipeline = build_pipeline(contract, Ridge())
{%- endif %}
            pipeline.fit(rows[contract.feature_names], rows[contract.target.name])
            model = Model(pipeline, metadata_for(contract), rows[contract.feature_names])
            settings = Settings(config_file=config_file, max_batch_size=MAX_BATCH)
            app = create_app(settings, model=model)
            client = stack.enter_context(TestClient(app, raise_server_exceptions=False))
            return Api(client, contract, to_records(rows.head(50), contract), model)

        yield make


@pytest.fixture
def own_api(
    app_for: Callable[[DataContract], Api],
    contract: DataContract,
    every_kind: Callable[..., DataContract],
) -> Api:
    """An app over a contract of its own, with a feature of every kind and no id column."""
    return app_for(every_kind(contract.target))


@pytest.fixture
def api_with(
    api: Api, app_for: Callable[[DataContract], Api], every_kind: Callable[..., DataContract]
) -> Callable[..., Api]:
    """The configured app if its contract has a feature matching each test, else one that does."""

    def pick(*wanted: Callable[[Column], bool]) -> Api:
        features = api.contract.features
        if all(any(matches(f) for f in features) for matches in wanted):
            return api
        return app_for(every_kind(api.contract.target))

    return pick
