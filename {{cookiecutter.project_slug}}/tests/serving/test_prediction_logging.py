"""The service logs every prediction it answers, never a sensitive feature, and nothing when off."""

import json
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from fastapi.testclient import TestClient

from {{ cookiecutter.package_name }}.data.contract import DataContract, dump_contract
from {{ cookiecutter.package_name }}.serving.main import create_app
from {{ cookiecutter.package_name }}.serving.model import Model
from {{ cookiecutter.package_name }}.settings import Settings


def test_every_answered_prediction_is_logged_once(
    logged: Callable[[Settings], pd.DataFrame],
    service_settings: Callable[..., Settings],
    model: Model,
    records: list[dict[str, Any]],
    tmp_path: Path,
) -> None:
    settings = service_settings(prediction_log_dir=tmp_path / "log", max_batch_size=5)
    answers = []
    with TestClient(create_app(settings, model=model)) as client:
        for record in records[:10]:
            answers.append(client.post("/predict", json=record).json())
        batch = client.post("/predict/batch", json={"records": records[10:15]}).json()
        assert client.post("/predict", json={}).status_code == 422  # refused: not logged
    # Leaving the client stops the app, which writes whatever is still queued.

    rows = logged(settings)

    assert len(rows) == 15
    answered = [a["request_id"] for a in answers] + [batch["request_id"]] * 5
    assert list(rows["request_id"]) == answered
    assert list(rows["row"]) == [0] * 10 + list(range(5))
    assert set(rows["model_version"]) == {"3"}
    predicted = [a["prediction"] for a in answers + batch["predictions"]]
    assert list(rows["prediction"]) == predicted


def test_concurrent_requests_lose_no_row(
    logged: Callable[[Settings], pd.DataFrame],
    service_settings: Callable[..., Settings],
    model: Model,
    records: list[dict[str, Any]],
    tmp_path: Path,
) -> None:
    settings = service_settings(prediction_log_dir=tmp_path / "log")
    with TestClient(create_app(settings, model=model)) as client:

        def send(index: int) -> str:
            response = client.post("/predict", json=records[index % len(records)])
            assert response.status_code == 200
            identifier: str = response.json()["request_id"]
            return identifier

        with ThreadPoolExecutor(max_workers=8) as pool:
            sent = set(pool.map(send, range(200)))

    rows = logged(settings)

    assert len(rows) == 200
    assert set(rows["request_id"]) == sent


def test_sensitive_features_are_never_logged(
    logged: Callable[[Settings], pd.DataFrame],
    service_settings: Callable[..., Settings],
    model: Model,
    records: list[dict[str, Any]],
    contract: DataContract,
    tmp_path: Path,
) -> None:
    # Mark a feature sensitive, beside any the contract already marks.
    private = next(column.name for column in contract.features if not column.sensitive)
    features = tuple(
        column.model_copy(update={"sensitive": column.sensitive or column.name == private})
        for column in contract.features
    )
    marked = contract.model_copy(update={"features": features})
    contract_file = tmp_path / "contract.yaml"
    contract_file.write_text(dump_contract(marked), encoding="utf-8")
    config_file = Path(service_settings().config_file)
    config = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    config["data"]["contract"] = str(contract_file)
    config_file = tmp_path / "private.yaml"
    config_file.write_text(yaml.safe_dump(config), encoding="utf-8")
    settings = Settings(config_file=config_file, prediction_log_dir=tmp_path / "log")

    with TestClient(create_app(settings, model=model)) as client:
        for record in records[:5]:
            assert client.post("/predict", json=record).status_code == 200

    rows = logged(settings)
    sensitive = {column.name for column in features if column.sensitive}
    assert private in sensitive
    assert len(rows) == 5
    assert not sensitive & set(rows.columns)
    assert {column.name for column in features} - sensitive <= set(rows.columns)
    stored = b"".join(path.read_bytes() for path in (tmp_path / "log").iterdir())
    for name in sensitive:  # not even as a key of the stored JSON
        assert json.dumps(name, ensure_ascii=False).encode() + b":" not in stored


def test_the_log_can_be_turned_off(
    service_settings: Callable[..., Settings],
    model: Model,
    records: list[dict[str, Any]],
    tmp_path: Path,
) -> None:
    settings = service_settings(prediction_log=False, prediction_log_dir=tmp_path / "log")
    app = create_app(settings, model=model)

    with TestClient(app) as client:
        assert client.post("/predict", json=records[0]).status_code == 200
        assert app.state.service.prediction_log is None

    assert not (tmp_path / "log").exists()
