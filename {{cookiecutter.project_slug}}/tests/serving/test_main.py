"""The API through a test client: every endpoint, and every kind of bad input, answered cleanly."""

import importlib.util
import json
import logging
import math
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx2
import pytest
from fastapi.testclient import TestClient

from {{ cookiecutter.package_name }}.data.contract import Column, DataContract
from {{ cookiecutter.package_name }}.serving.main import create_app
from {{ cookiecutter.package_name }}.serving.model import Model
from {{ cookiecutter.package_name }}.serving.routers import predict as predict_router
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.training.predictions import predict_rows{% if cookiecutter.task == "classification" %}, threshold_of{% endif %}


def post_text(
    client: TestClient, path: str, text: str, content_type: str = "application/json"
) -> httpx2.Response:
    """POST a raw body: JSON the json module would not write (NaN), or no JSON at all."""
    return client.post(path, content=text.encode(), headers={"content-type": content_type})


def assert_clean_error(response: httpx2.Response, status: int) -> dict[str, Any]:
    """The error shape every failure shares, and no trace of the server's insides."""
    assert response.status_code == status, response.text
    body: dict[str, Any] = response.json()
    assert set(body) == {"error", "problems", "request_id"}
    assert body["request_id"] == response.headers["x-request-id"]
    assert "Traceback" not in response.text
    assert 'File "' not in response.text
    return body


def problem_fields(response: httpx2.Response) -> list[str]:
    return [problem["field"] for problem in response.json()["problems"]]


# Kinds of feature a test may need; `api_with` finds an app whose contract has them.


def numeric(column: Column) -> bool:
    return column.type == "numeric"


def boolean(column: Column) -> bool:
    return column.type == "boolean"


def dated(column: Column) -> bool:
    return column.type == "datetime"


def required(column: Column) -> bool:
    return not column.nullable


def nullable(column: Column) -> bool:
    return column.nullable


def bounded(column: Column) -> bool:
    return column.type == "numeric" and (column.min is not None or column.max is not None)


def rejecting(column: Column) -> bool:
    return column.categories is not None and column.unknown_categories == "reject"


def accepting(column: Column) -> bool:
    return column.unknown_categories == "accept"


def not_a_feature(contract: DataContract) -> str:
    """A field name that is none of the contract's features."""
    return next(
        f"surprise{n}"
        for n in range(len(contract.features) + 1)
        if f"surprise{n}" not in contract.feature_names
    )


# --- health, readiness, metadata, metrics ---------------------------------------


def test_health_answers(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_once_the_model_is_loaded(client: TestClient) -> None:
    response = client.get("/ready")
    assert response.status_code == 200
    assert response.json()["status"] == "ready"


def test_not_ready_and_no_predictions_while_the_model_cannot_load(
    service_settings: Callable[..., Settings], records: list[dict[str, Any]], tmp_path: Path
) -> None:
    app = create_app(service_settings(model_uri=str(tmp_path / "missing")))
    with TestClient(app) as client:
        assert client.get("/health").status_code == 200
        ready = wait_for_readiness(client, "failed")
        assert ready.status_code == 503
        assert "export" in ready.json()["detail"]
        assert_clean_error(client.post("/predict", json=records[0]), 503)
        assert_clean_error(client.post("/explain", json=records[0]), 503)
        assert_clean_error(client.get("/metadata"), 503)


def wait_for_readiness(client: TestClient, status: str, seconds: float = 60) -> httpx2.Response:
    """Poll /ready until it reports `status` (the model loads in the background)."""
    deadline = time.monotonic() + seconds
    while True:
        ready = client.get("/ready")
        if ready.json()["status"] == status or time.monotonic() > deadline:
            return ready
        time.sleep(0.05)


def test_metadata_names_the_model_and_its_features(
    client: TestClient, model: Model, contract: DataContract
) -> None:
    body = client.get("/metadata").json()
    assert body["name"] == model.metadata.name
    assert body["version"] == model.metadata.version
    assert body["run_id"] == model.metadata.run_id
    assert body["features"] == contract.feature_names
    assert body["metrics"] == model.metadata.metrics
    assert body["task"] == "{{ cookiecutter.task }}"


def test_metrics_count_requests_latency_and_predictions(
    client: TestClient, records: list[dict[str, Any]]
) -> None:
    client.post("/predict", json=records[0])
    client.post("/predict/batch", json={"records": records[:3]})
    client.post("/predict", json={})
    text = client.get("/metrics").text
    assert 'http_requests_total{handler="/predict",method="POST",status="200"} 1.0' in text
    assert 'http_requests_total{handler="/predict",method="POST",status="422"} 1.0' in text
    assert 'http_request_duration_seconds_count{handler="/predict/batch",method="POST"} 1.0' in text
    assert 'model_info{name="test-model",version="3"} 1.0' in text
{%- if cookiecutter.task == "classification" %}
    counted = [
        float(line.rsplit(" ", 1)[1])
        for line in text.splitlines()
        if line.startswith("predictions_total{")
    ]
    assert sum(counted) == 4
{%- if cookiecutter.include_monitoring %}
    assert 'prediction_confidence_count{variant="champion"} 4.0' in text
{%- else %}
    assert "prediction_confidence_count 4.0" in text
{%- endif %}
{%- else %}
{%- if cookiecutter.include_monitoring %}
    assert 'prediction_value_count{variant="champion"} 4.0' in text
{%- else %}
    assert "prediction_value_count 4.0" in text
{%- endif %}
{%- endif %}


# --- predictions ---------------------------------------------------------------


def test_one_record_gets_the_models_prediction(
    client: TestClient, model: Model, records: list[dict[str, Any]], contract: DataContract
) -> None:
    response = client.post("/predict", json=records[0])
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["model_name"] == "test-model"
    assert body["model_version"] == "3"
    assert body["request_id"] == response.headers["x-request-id"]
    expected = expected_outputs(model, records[:1], contract)[0]
{%- if cookiecutter.task == "classification" %}
    assert body["prediction"] == expected["prediction"]
    assert is_a_class(body["prediction"], contract)
    assert body["probabilities"] == pytest.approx(expected["probabilities"])
    assert sorted(body["probabilities"]) == sorted(str(label) for label in contract.classes)
    assert sum(body["probabilities"].values()) == pytest.approx(1.0)
{%- else %}
    assert body["prediction"] == pytest.approx(expected["prediction"])
{%- endif %}


def test_a_batch_is_answered_in_order(
    client: TestClient, model: Model, records: list[dict[str, Any]], contract: DataContract
) -> None:
    response = client.post("/predict/batch", json={"records": records[:5]})
    assert response.status_code == 200, response.text
    predictions = response.json()["predictions"]
    expected = expected_outputs(model, records[:5], contract)
{%- if cookiecutter.task == "classification" %}
    assert [p["prediction"] for p in predictions] == [e["prediction"] for e in expected]
    assert all(is_a_class(p["prediction"], contract) for p in predictions)
{%- else %}
    assert [p["prediction"] for p in predictions] == pytest.approx(
        [e["prediction"] for e in expected]
    )
{%- endif %}


def expected_outputs(
    model: Model, records: list[dict[str, Any]], contract: DataContract
) -> list[dict[str, Any]]:
    """What the model itself says for the records, outside the service."""
    import pandas as pd

    frame = pd.DataFrame(records)[contract.feature_names]
{%- if cookiecutter.task == "classification" %}
    threshold = threshold_of(model.metadata.metrics)
    outputs = predict_rows(model.pipeline, frame, contract, threshold=threshold)
    return [
        {
            "prediction": label,
            "probabilities": dict(zip(map(str, outputs.classes), row, strict=True)),
        }
        for label, row in zip(outputs.predictions, outputs.probabilities.tolist(), strict=True)
    ]
{%- else %}
    outputs = predict_rows(model.pipeline, frame, contract)
    return [{"prediction": value} for value in outputs.predictions.tolist()]
{%- endif %}
{%- if cookiecutter.task == "classification" %}


def is_a_class(label: Any, contract: DataContract) -> bool:
    """Whether `label` is one of the contract's classes, of the same type (1, not "1")."""
    return any(label == c and type(label) is type(c) for c in contract.classes)


def test_integer_classes_come_back_as_integers(
    app_for: Callable[[DataContract], Any], every_kind: Callable[..., DataContract]
) -> None:
    graded = Column(name="grade", type="categorical", categories=(1, 2, 3))
    api = app_for(every_kind(graded))
    one = api.client.post("/predict", json=api.records[0])
    assert one.status_code == 200, one.text
    assert type(one.json()["prediction"]) is int
    assert one.json()["prediction"] in (1, 2, 3)
    assert sorted(one.json()["probabilities"]) == ["1", "2", "3"]
    batch = api.client.post("/predict/batch", json={"records": api.records[:5]})
    assert batch.status_code == 200, batch.text
    labels = [p["prediction"] for p in batch.json()["predictions"]]
    assert labels == [
        e["prediction"] for e in expected_outputs(api.model, api.records[:5], api.contract)
    ]
    assert all(type(label) is int and label in (1, 2, 3) for label in labels)
{%- endif %}


def test_a_contract_without_an_id_column_is_served(own_api: Any) -> None:
    assert own_api.contract.id_column is None
    response = own_api.client.post("/predict/batch", json={"records": own_api.records[:5]})
    assert response.status_code == 200, response.text
    expected = expected_outputs(own_api.model, own_api.records[:5], own_api.contract)
    assert [p["prediction"] for p in response.json()["predictions"]] == pytest.approx(
        [e["prediction"] for e in expected]
    )
    schema = own_api.client.get("/openapi.json").json()["components"]["schemas"]["Record"]
    assert list(schema["properties"]) == own_api.contract.feature_names


def test_a_callers_request_id_is_kept_and_a_bad_one_replaced(
    client: TestClient, records: list[dict[str, Any]]
) -> None:
    kept = client.post("/predict", json=records[0], headers={"x-request-id": "trace-42"})
    assert kept.json()["request_id"] == "trace-42"
    assert kept.headers["x-request-id"] == "trace-42"
    replaced = client.get("/health", headers={"x-request-id": "bad id <script>"})
    assert replaced.headers["x-request-id"] != "bad id <script>"
    assert len(replaced.headers["x-request-id"]) == 32


def test_a_nullable_feature_may_be_left_out_or_null(api_with: Callable[..., Any]) -> None:
    api = api_with(nullable)
    names = [f.name for f in api.contract.features if f.nullable]
    left_out = {k: v for k, v in api.records[0].items() if k not in names}
    assert api.client.post("/predict", json=left_out).status_code == 200
    as_null = api.records[0] | dict.fromkeys(names)
    assert api.client.post("/predict", json=as_null).status_code == 200


def test_an_unknown_category_passes_where_the_contract_accepts_it(
    api_with: Callable[..., Any],
) -> None:
    api = api_with(accepting)
    column = api.feature(accepting).name
    response = api.client.post("/predict", json=api.records[0] | {column: "never-seen-before"})
    assert response.status_code == 200, response.text


# --- explanations ---------------------------------------------------------------


def test_an_explanation_adds_up_to_the_prediction_it_explains(
    client: TestClient, records: list[dict[str, Any]]
) -> None:
    for record in records[:3]:
        predicted = client.post("/predict", json=record).json()
        response = client.post("/explain", json=record)
        assert response.status_code == 200, response.text
        body = response.json()
        assert body["request_id"] == response.headers["x-request-id"]
        explained = body["explanations"]
        totals = [
            output["base_value"] + sum(output["contributions"].values()) for output in explained
        ]
{%- if cookiecutter.task == "classification" %}
        assert body["prediction"] == predicted["prediction"]
        assert body["space"] == "log-odds"
        wanted = [predicted["probabilities"][output["output"]] for output in explained]
        if len(totals) == 1:  # the positive class's log-odds
            probabilities = [1 / (1 + math.exp(-totals[0]))]
        else:  # each class's score: the probabilities are their softmax
            exps = [math.exp(total - max(totals)) for total in totals]
            probabilities = [e / sum(exps) for e in exps]
        assert probabilities == pytest.approx(wanted, abs=1e-6)
{%- else %}
        assert body["space"] == "units"
        assert totals == pytest.approx([predicted["prediction"]], abs=1e-6)
        assert math.isclose(body["prediction"], predicted["prediction"], rel_tol=1e-9)
{%- endif %}


def test_an_explanation_names_each_contract_column_once_largest_first(own_api: Any) -> None:
    response = own_api.client.post("/explain", json=own_api.records[0])
    assert response.status_code == 200, response.text
    for output in response.json()["explanations"]:
        contributions = output["contributions"]  # a category's one-hot columns summed into it
        assert sorted(contributions) == sorted(own_api.contract.feature_names)
        sizes = [abs(value) for value in contributions.values()]
        assert sizes == sorted(sizes, reverse=True)


@pytest.mark.parametrize("body", ["{}", "[]", '{"records": ', "3"])
def test_explain_refuses_bad_input_as_predict_does(client: TestClient, body: str) -> None:
    predicted = post_text(client, "/predict", body)
    explained = assert_clean_error(post_text(client, "/explain", body), predicted.status_code)
    assert explained["problems"] == predicted.json()["problems"]


def test_an_unknown_field_is_refused_by_explain_too(
    client: TestClient, records: list[dict[str, Any]], contract: DataContract
) -> None:
    extra = not_a_feature(contract)
    response = client.post("/explain", json=records[0] | {extra: 1})
    assert_clean_error(response, 422)
    assert extra in problem_fields(response)


def test_explain_says_what_is_missing_where_it_cannot_explain(
    service_settings: Callable[..., Settings],
    model: Model,
    records: list[dict[str, Any]],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    without_rows = Model(model.pipeline, model.metadata)  # logged before models carried them
    with TestClient(create_app(service_settings(), model=without_rows)) as client:
        body = assert_clean_error(client.post("/explain", json=records[0]), 501)
        assert body["error"] == predict_router.NO_BACKGROUND
        assert client.post("/predict", json=records[0]).status_code == 200
    find_spec = importlib.util.find_spec
    monkeypatch.setattr(  # a service installed without the explain extra
        importlib.util,
        "find_spec",
        lambda name, *args: None if name == "shap" else find_spec(name, *args),
    )
    with TestClient(create_app(service_settings(), model=model)) as client:
        body = assert_clean_error(client.post("/explain", json=records[0]), 501)
        assert body["error"] == predict_router.NO_SHAP


# --- bad input: never a 500, always the field and the problem -------------------


def test_wrong_type_names_the_field(api_with: Callable[..., Any]) -> None:
    api = api_with(numeric, boolean)
    number, flag = api.feature(numeric).name, api.feature(boolean).name
    response = api.client.post("/predict", json=api.records[0] | {number: "12", flag: "yes"})
    assert_clean_error(response, 422)
    assert set(problem_fields(response)) == {number, flag}


def test_a_missing_field_names_the_field(api_with: Callable[..., Any]) -> None:
    api = api_with(required)
    name = api.feature(required).name
    record = {k: v for k, v in api.records[0].items() if k != name}
    response = api.client.post("/predict", json=record)
    assert_clean_error(response, 422)
    assert response.json()["problems"] == [{"field": name, "problem": "required"}]


def test_null_for_a_required_field_is_refused(api_with: Callable[..., Any]) -> None:
    api = api_with(required)
    name = api.feature(required).name
    response = api.client.post("/predict", json=api.records[0] | {name: None})
    assert_clean_error(response, 422)
    assert problem_fields(response) == [name]


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
def test_nan_and_infinity_are_refused(api_with: Callable[..., Any], value: str) -> None:
    api = api_with(numeric)
    name = api.feature(numeric).name
    body = api.records[0] | {name: "PLACEHOLDER"}
    text = json.dumps(body).replace('"PLACEHOLDER"', value)
    response = post_text(api.client, "/predict", text)
    assert_clean_error(response, 422)
    assert problem_fields(response) == [name]


def test_out_of_range_is_refused_with_the_limit(api_with: Callable[..., Any]) -> None:
    api = api_with(bounded)
    column = api.feature(bounded)
    limit, value = (
        (column.max, column.max + 1) if column.max is not None else (column.min, column.min - 1)
    )
    response = api.client.post("/predict", json=api.records[0] | {column.name: value})
    assert_clean_error(response, 422)
    assert problem_fields(response) == [column.name]
    assert f"{limit:g}" in response.json()["problems"][0]["problem"]


def test_an_unknown_category_is_refused_where_the_contract_rejects_it(
    api_with: Callable[..., Any],
) -> None:
    api = api_with(rejecting)
    column = api.feature(rejecting)
    response = api.client.post("/predict", json=api.records[0] | {column.name: "never-seen-before"})
    assert_clean_error(response, 422)
    assert problem_fields(response) == [column.name]
    assert str(column.categories[0]) in response.json()["problems"][0]["problem"]


def test_an_unknown_field_is_refused(
    client: TestClient, records: list[dict[str, Any]], contract: DataContract
) -> None:
    extra = not_a_feature(contract)
    response = client.post("/predict", json=records[0] | {extra: 1})
    assert_clean_error(response, 422)
    assert response.json()["problems"] == [
        {"field": extra, "problem": "not a feature of the data contract"}
    ]


def test_a_date_is_text_and_one_the_model_cannot_read_counts_as_unknown(
    api_with: Callable[..., Any],
) -> None:
    api = api_with(dated)
    name = api.feature(dated).name
    as_number = api.client.post("/predict", json=api.records[0] | {name: 0})
    assert_clean_error(as_number, 422)
    assert problem_fields(as_number) == [name]
    unreadable = api.client.post(
        "/predict", json=api.records[0] | {name: "0335-10-22T01:59:20-23:27"}
    )
    assert unreadable.status_code == 200, unreadable.text


@pytest.mark.parametrize("moment", ["0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"])
def test_a_moment_out_of_the_models_range_is_answered(
    api_with: Callable[..., Any], moment: str
) -> None:
    api = api_with(dated)
    response = api.client.post("/predict", json=api.records[0] | {api.feature(dated).name: moment})
    assert response.status_code == 200, response.text


def test_digits_in_a_string_are_not_a_date(api_with: Callable[..., Any]) -> None:
    api = api_with(dated)
    name = api.feature(dated).name
    response = api.client.post("/predict", json=api.records[0] | {name: "1700000000"})
    assert_clean_error(response, 422)
    assert problem_fields(response) == [name]
    assert "ISO 8601" in response.json()["problems"][0]["problem"]


def test_text_longer_than_the_contract_allows_names_the_field_and_limit(
    api_with: Callable[..., Any],
) -> None:
    def open_text(column: Column) -> bool:
        return column.type == "categorical" and not rejecting(column)

    api = api_with(open_text)
    column = api.feature(open_text)
    limit = api.contract.max_length_of(column)
    response = api.client.post("/predict", json=api.records[0] | {column.name: "x" * (limit + 1)})
    assert_clean_error(response, 422)
    assert problem_fields(response)[0].startswith(column.name)
    assert f"at most {limit} characters" in response.json()["problems"][0]["problem"]


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (
            '{"records": [' + "9" * 5_000 + "]}",
            f"more than {sys.get_int_max_str_digits():,} digits",
        ),
        ("[" * 5_000 + "]" * 5_000, "nested too deeply"),
    ],
)
def test_json_too_deep_or_a_number_too_long_to_read_says_so(
    client: TestClient, body: str, problem: str
) -> None:
    response = post_text(client, "/predict/batch", body)
    found = assert_clean_error(response, 422)
    assert found["problems"] == [{"field": "body", "problem": found["problems"][0]["problem"]}]
    assert problem in found["problems"][0]["problem"]


def test_a_body_that_is_not_text_is_refused(client: TestClient) -> None:
    headers = {"content-type": "application/json"}
    response = client.post("/predict", content=b"\xc3\x28", headers=headers)
    body = assert_clean_error(response, 400)
    assert "UTF-8" in body["error"]


def test_malformed_json_is_refused(client: TestClient) -> None:
    response = post_text(client, "/predict", '{"records": ')
    body = assert_clean_error(response, 422)
    assert body["problems"][0]["field"] == "body"
    assert "not valid JSON" in body["problems"][0]["problem"]


@pytest.mark.parametrize("body", ["[]", "3", '"text"', "null"])
def test_a_body_that_is_not_a_record_is_refused(client: TestClient, body: str) -> None:
    assert_clean_error(post_text(client, "/predict", body), 422)


def test_the_wrong_content_type_is_refused(
    client: TestClient, records: list[dict[str, Any]]
) -> None:
    response = post_text(client, "/predict", json.dumps(records[0]), content_type="text/plain")
    body = assert_clean_error(response, 415)
    assert "application/json" in body["error"]


def test_an_empty_batch_is_refused(client: TestClient) -> None:
    response = client.post("/predict/batch", json={"records": []})
    assert_clean_error(response, 422)
    assert problem_fields(response) == ["records"]


def test_an_oversize_batch_is_refused_with_413(
    client: TestClient, records: list[dict[str, Any]]
) -> None:
    response = client.post("/predict/batch", json={"records": records[:6]})
    body = assert_clean_error(response, 413)
    assert "5" in body["problems"][0]["problem"]


def test_an_oversize_body_is_refused_before_it_is_read(client: TestClient) -> None:
    response = post_text(client, "/predict/batch", '{"records": [' + " " * 30_000 + "]}")
    body = assert_clean_error(response, 413)
    assert "bytes" in body["error"]


def test_a_chunked_body_over_the_limit_is_refused(
    client: TestClient, records: list[dict[str, Any]]
) -> None:
    def chunks() -> Iterator[bytes]:  # no Content-Length: sent with chunked transfer encoding
        yield b'{"records": [' + json.dumps(records[0]).encode()
        for _ in range(100):
            yield b" " * 1024
        yield b"]}"

    response = client.post(
        "/predict/batch", content=chunks(), headers={"content-type": "application/json"}
    )

    body = assert_clean_error(response, 413)
    assert "bytes" in body["error"]


def test_a_chunked_body_within_the_limit_is_answered(
    client: TestClient, records: list[dict[str, Any]]
) -> None:
    payload = json.dumps({"records": records[:2]}).encode()

    response = client.post(
        "/predict/batch",
        content=iter([payload[:10], payload[10:]]),
        headers={"content-type": "application/json"},
    )

    assert response.status_code == 200, response.text
    assert len(response.json()["predictions"]) == 2


def test_a_bad_record_in_a_batch_is_named_by_its_position(api_with: Callable[..., Any]) -> None:
    api = api_with(numeric)
    name = api.feature(numeric).name
    batch = [api.records[0], api.records[1] | {name: "x"}]
    response = api.client.post("/predict/batch", json={"records": batch})
    assert_clean_error(response, 422)
    assert problem_fields(response) == [f"records.1.{name}"]


def test_unknown_paths_and_methods_answer_in_the_same_shape(client: TestClient) -> None:
    assert_clean_error(client.get("/nowhere"), 404)
    assert_clean_error(client.get("/predict"), 405)


def test_a_model_that_cannot_score_answers_422(
    client: TestClient, records: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise ValueError("Input contains infinity")

    monkeypatch.setattr(predict_router, "predict_rows", refuse)
    body = assert_clean_error(client.post("/predict", json=records[0]), 422)
    assert "Input contains infinity" in body["error"]


def test_a_bug_answers_500_without_a_trace(
    client: TestClient, records: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("secret internal detail")

    monkeypatch.setattr(predict_router, "predict_rows", crash)
    response = client.post("/predict", json=records[0])
    assert response.status_code == 500
    assert "secret internal detail" not in response.text
    assert "RuntimeError" not in response.text
    assert response.json()["request_id"] == response.headers["x-request-id"]


# --- CORS, logs and the schema --------------------------------------------------


def test_cors_is_off_unless_configured(
    client: TestClient, service_settings: Callable[..., Settings], model: Model
) -> None:
    preflight = {"origin": "https://app.example", "access-control-request-method": "POST"}
    assert (
        "access-control-allow-origin" not in client.options("/predict", headers=preflight).headers
    )
    allowed = TestClient(
        create_app(service_settings(cors_origins=["https://app.example"]), model=model)
    )
    answer = allowed.options("/predict", headers=preflight)
    assert answer.headers["access-control-allow-origin"] == "https://app.example"


def test_each_request_is_logged_once_with_its_id(
    client: TestClient, records: list[dict[str, Any]], caplog: pytest.LogCaptureFixture
) -> None:
    requests = "{{ cookiecutter.package_name }}.serving.requests"
    with caplog.at_level(logging.INFO, logger=requests):
        response = client.post("/predict", json=records[0], headers={"x-request-id": "log-me"})
    logged = [r for r in caplog.records if getattr(r, "request_id", None) == "log-me"]
    assert len(logged) == 1
    assert logged[0].status == response.status_code  # type: ignore[attr-defined]
    assert logged[0].path == "/predict"  # type: ignore[attr-defined]


@pytest.mark.parametrize("which", ["configured", "every kind"])
def test_the_schema_documents_every_feature_from_the_contract(
    api: Any, own_api: Any, which: str
) -> None:
    chosen = api if which == "configured" else own_api
    contract = chosen.contract
    schema = chosen.client.get("/openapi.json").json()
    record = schema["components"]["schemas"]["Record"]
    assert list(record["properties"]) == contract.feature_names
    assert sorted(record.get("required", [])) == sorted(
        f.name for f in contract.features if not f.nullable
    )
    assert record["additionalProperties"] is False
    assert record["examples"]
    for feature in contract.features:
        documented = record["properties"][feature.name]
        assert documented.get("description", "") == feature.description
        assert documented["examples"]
        limits = constraints(documented)
        if feature.min is not None:
            assert limits["minimum"] == [feature.min]
        if feature.max is not None:
            assert limits["maximum"] == [feature.max]
        if feature.categories and feature.unknown_categories == "reject":
            listed = list(feature.categories)
            assert limits["enum"] == [listed] or limits["const"] == listed  # one category: const
    batch = schema["components"]["schemas"]["BatchRequest"]["properties"]["records"]
    assert batch["maxItems"] == 5
    assert batch["minItems"] == 1
    for code in ("413", "415", "422"):
        assert code in schema["paths"]["/predict"]["post"]["responses"]


def constraints(schema: Any) -> dict[str, list[Any]]:
    """Every `minimum`, `maximum` and `enum` in a field's JSON schema, however nested."""
    found: dict[str, list[Any]] = {"minimum": [], "maximum": [], "enum": [], "const": []}
    if isinstance(schema, dict):
        for key, value in schema.items():
            if key in found:
                found[key].append(value)
            else:
                for name, values in constraints(value).items():
                    found[name] += values
    elif isinstance(schema, list):
        for item in schema:
            for name, values in constraints(item).items():
                found[name] += values
    return found
