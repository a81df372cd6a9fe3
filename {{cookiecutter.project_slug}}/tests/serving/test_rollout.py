"""A challenger beside the champion: shadow scoring, a sticky canary share, and fallbacks."""

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
{%- if cookiecutter.task == "classification" %}
from sklearn.dummy import DummyClassifier
{%- else %}
from sklearn.dummy import DummyRegressor
{%- endif %}

from {{ cookiecutter.package_name }}.data.contract import DataContract
from {{ cookiecutter.package_name }}.data.features import build_pipeline
from {{ cookiecutter.package_name }}.data.validation import validate
from {{ cookiecutter.package_name }}.serving import rollout
from {{ cookiecutter.package_name }}.serving.main import create_app
from {{ cookiecutter.package_name }}.serving.model import Model
from {{ cookiecutter.package_name }}.serving.rollout import VARIANT_HEADER, bucket
from {{ cookiecutter.package_name }}.settings import Settings


class Broken:
    """A model that fails on every call, as a challenger with a bug would."""

    def __getattr__(self, name: str) -> Any:
        raise RuntimeError(f"broken model: no {name}")


@pytest.fixture
def challenger(model: Model, contract: DataContract, raw_data: pd.DataFrame) -> Model:
    """Another model of the same contract, as version 4: it predicts what the training rows hold."""
    rows = validate(raw_data, contract)
{%- if cookiecutter.task == "classification" %}
    pipeline = build_pipeline(contract, DummyClassifier())
{%- else %}
    pipeline = build_pipeline(contract, DummyRegressor())
{%- endif %}
    pipeline.fit(rows[contract.feature_names], rows[contract.target.name])
    return Model(pipeline, model.metadata.model_copy(update={"version": "4"}), model.background)


def counted(app: FastAPI, name: str, **labels: str) -> float:
    """A metric's value in the app's registry (0 when never counted)."""
    return app.state.service.metrics.registry.get_sample_value(name, labels) or 0.0


def test_keys_fall_evenly_and_always_in_the_same_place() -> None:
    places = [bucket(f"customer-{number}") for number in range(10_000)]
    assert places == [bucket(f"customer-{number}") for number in range(10_000)]
    assert all(0 <= place < 1 for place in places)
    assert 0.09 < sum(place < 0.1 for place in places) / len(places) < 0.11


def test_a_canary_answers_its_share_and_a_key_always_meets_the_same_model(
    logged: Callable[[Settings], pd.DataFrame],
    service_settings: Callable[..., Settings],
    model: Model,
    challenger: Model,
    records: list[dict[str, Any]],
    tmp_path: Path,
) -> None:
    settings = service_settings(
        rollout="canary", canary_share=0.5, prediction_log_dir=tmp_path / "log"
    )
    app = create_app(settings, model=model, challenger=challenger)
    variants = {}
    with TestClient(app) as client:
        for number in range(30):
            key = {VARIANT_HEADER: f"customer-{number}"}
            first = client.post("/predict", json=records[number], headers=key).json()
            again = client.post("/predict/batch", json={"records": records[:3]}, headers=key)
            expected = "challenger" if bucket(f"customer-{number}") < 0.5 else "champion"
            assert first["variant"] == again.json()["variant"] == expected
            assert first["model_version"] == {"challenger": "4", "champion": "3"}[expected]
            variants[number] = expected
        unkeyed = client.post("/predict", json=records[0]).json()  # placed by its request ID
        assert unkeyed["variant"] == (
            "challenger" if bucket(unkeyed["request_id"]) < 0.5 else "champion"
        )
    assert set(variants.values()) == {"champion", "challenger"}
    answered = [v for v in variants.values() for _ in range(2)] + [unkeyed["variant"]]
    assert sorted(logged(settings).groupby("request_id")["variant"].first()) == sorted(answered)
    for variant in ("champion", "challenger"):
        requests = answered.count(variant)
        assert counted(app, "variant_requests_total", variant=variant) == requests
        assert counted(app, "variant_latency_seconds_count", variant=variant) == requests


def test_in_shadow_the_champion_answers_and_the_challenger_scores_the_same_records(
    logged: Callable[[Settings], pd.DataFrame],
    service_settings: Callable[..., Settings],
    model: Model,
    challenger: Model,
    records: list[dict[str, Any]],
    tmp_path: Path,
) -> None:
    settings = service_settings(rollout="shadow", prediction_log_dir=tmp_path / "log")
    with TestClient(create_app(settings, model=model, challenger=challenger)) as client:
        single = client.post("/predict", json=records[0]).json()
        batch = client.post("/predict/batch", json={"records": records[1:4]}).json()
    # Leaving the client stops the app: it lets the shadow scoring finish, then writes the log.
    assert single["variant"] == batch["variant"] == "champion"
    assert single["model_version"] == batch["model_version"] == "3"

    rows = logged(settings).set_index(["request_id", "row"]).sort_index()
    served, shadow = rows[rows["variant"] == "champion"], rows[rows["variant"] == "shadow"]
    assert list(served.index) == list(shadow.index)
    assert len(served) == 4
    assert set(served["model_version"]) == {"3"}
    assert set(shadow["model_version"]) == {"4"}
    # What the challenger predicted in shadow is what it answers as a canary.
    canary = service_settings(rollout="canary", canary_share=1.0, prediction_log=False)
    with TestClient(create_app(canary, model=model, challenger=challenger)) as client:
        own = client.post("/predict/batch", json={"records": records[:4]}).json()["predictions"]
    expected = {(single["request_id"], 0): own[0]["prediction"]} | {
        (batch["request_id"], row): own[row + 1]["prediction"] for row in range(3)
    }
    assert shadow["prediction"].to_dict() == expected


def test_shadow_work_past_its_bound_is_dropped_and_counted_never_queued(
    logged: Callable[[Settings], pd.DataFrame],
    service_settings: Callable[..., Settings],
    model: Model,
    challenger: Model,
    records: list[dict[str, Any]],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(rollout, "MAX_SHADOW_QUEUED", 2)
    settings = service_settings(rollout="shadow", prediction_log_dir=tmp_path / "log")
    app = create_app(settings, model=model, challenger=challenger)
    with TestClient(app) as client:
        batch = client.post("/predict/batch", json={"records": records[:3]})  # past the bound
        single = client.post("/predict", json=records[0])  # within it
    assert batch.status_code == single.status_code == 200
    assert counted(app, "shadow_dropped_records_total") == 3
    shadowed = logged(settings).query("variant == 'shadow'")
    assert list(shadowed["request_id"]) == [single.json()["request_id"]]


@pytest.mark.parametrize("mode", ["canary", "shadow"])
def test_a_challenger_that_fails_leaves_every_answer_to_the_champion(
    mode: str,
    service_settings: Callable[..., Settings],
    model: Model,
    records: list[dict[str, Any]],
) -> None:
    broken = Model(Broken(), model.metadata.model_copy(update={"version": "4"}))
    settings = service_settings(rollout=mode, canary_share=1.0, prediction_log=False)
    app = create_app(settings, model=model, challenger=broken)
    with TestClient(app) as client:
        answers = [client.post("/predict", json=record) for record in records[:3]]
    assert [answer.status_code for answer in answers] == [200] * 3
    assert {answer.json()["variant"] for answer in answers} == {"champion"}
    reason = "challenger_error" if mode == "canary" else "shadow_error"
    assert counted(app, "rollout_fallbacks_total", reason=reason) == 3
    assert counted(app, "variant_requests_total", variant="champion") == 3
    assert counted(app, "variant_requests_total", variant="challenger") == 0


def test_the_service_loads_both_at_start_up_and_counts_a_challenger_it_cannot_load(
    exported: Path,
    service_settings: Callable[..., Settings],
    records: list[dict[str, Any]],
    tmp_path: Path,
) -> None:
    for challenger_uri, variant in ((exported, "challenger"), (tmp_path / "none", "champion")):
        settings = service_settings(
            model_uri=str(exported),
            rollout="canary",
            canary_share=1.0,
            challenger_uri=str(challenger_uri),
            prediction_log=False,
        )
        app = create_app(settings)
        with TestClient(app) as client:
            deadline = time.monotonic() + 60  # the models load in the background
            while client.get("/ready").status_code != 200 and time.monotonic() < deadline:
                time.sleep(0.05)
            answer = client.post("/predict", json=records[0])
        assert answer.status_code == 200, answer.text
        assert answer.json()["variant"] == variant
        assert counted(app, "rollout_fallbacks_total", reason="load") == (variant == "champion")
