"""Predictions for one record or a batch, in the request schema generated from the contract."""

from typing import Any

import numpy as np
import pandas as pd
from fastapi import APIRouter, HTTPException
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from {{ cookiecutter.package_name }}.data.contract import DataContract
from {{ cookiecutter.package_name }}.serving.dependencies import (
    Batcher,
    Model,
    RequestId,
{%- if cookiecutter.include_monitoring %}
    ServiceState,
{%- endif %}
    State,
)
from {{ cookiecutter.package_name }}.serving.model import ServedModel
from {{ cookiecutter.package_name }}.serving.observability import Metrics
from {{ cookiecutter.package_name }}.serving.schemas import (
    BatchResponse,
    ErrorResponse,
    PredictionResponse,
    batch_model,
    record_model,
)
from {{ cookiecutter.package_name }}.training.predictions import predict_rows

ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "The body cannot be read as text."},
    413: {"model": ErrorResponse, "description": "Too many records, or too large a body."},
    415: {"model": ErrorResponse, "description": "The body is not sent as application/json."},
    422: {
        "model": ErrorResponse,
        "description": (
            "A field is missing, of the wrong type, out of range or too long; or the JSON is "
            "nested too deeply or holds a number too long to read."
        ),
    },
    503: {"model": ErrorResponse, "description": "The model is not loaded yet."},
}


def predict_records(
    model: ServedModel,
    contract: DataContract,
    records: list[dict[str, Any]],
{%- if cookiecutter.task == "classification" %}
    *,
    threshold: float,
{%- endif %}
) -> list[dict[str, Any]]:
    """Score validated records (column name to value): the whole prediction path but HTTP.

    Raises:
        ValueError: the model cannot score the records.
    """
    frame = pd.DataFrame(
        {name: [record[name] for record in records] for name in contract.feature_names}
    )
{%- if cookiecutter.task == "classification" %}
    outputs = predict_rows(model.pipeline, frame, contract, threshold=threshold)
    names = [str(label) for label in outputs.classes]
    return [
        {"prediction": _plain(label), "probabilities": dict(zip(names, row, strict=True))}
        for label, row in zip(outputs.predictions, outputs.probabilities.tolist(), strict=True)
    ]
{%- else %}
    outputs = predict_rows(model.pipeline, frame, contract)
    if not np.isfinite(outputs.predictions).all():
        raise ValueError("the model predicted a value that is not a finite number")
    return [{"prediction": value} for value in outputs.predictions.tolist()]
{%- endif %}
{%- if cookiecutter.task == "classification" %}


def _plain(label: Any) -> Any:
    """A class as a JSON-ready Python value (NumPy scalars become str, int, float or bool)."""
    return label.item() if isinstance(label, np.generic) else label
{%- endif %}


def record_metrics(metrics: Metrics, predictions: list[dict[str, Any]]) -> None:
    """Count the predictions into the metrics that show their distribution."""
    for prediction in predictions:
{%- if cookiecutter.task == "classification" %}
        metrics.classes.labels(str(prediction["prediction"])).inc()
        metrics.confidence.observe(max(prediction["probabilities"].values()))
{%- else %}
        metrics.values.observe(prediction["prediction"])
{%- endif %}


{%- if cookiecutter.include_monitoring %}


def log_predictions(
    state: ServiceState,
    model: ServedModel,
    request_id: str,
    rows: list[dict[str, Any]],
    predictions: list[dict[str, Any]],
) -> None:
    """Queue the records and answers for the prediction log, when it is on."""
    if state.prediction_log is not None:
        meta = model.metadata
        state.prediction_log.submit(request_id, meta.name, meta.version, rows, predictions)
{%- endif %}


def build_router(contract: DataContract, max_batch_size: int) -> APIRouter:
    """The prediction routes, with request models generated from `contract`."""
    record_type = record_model(contract)
    batch_type = batch_model(record_type, contract, max_batch_size)
    router = APIRouter(tags=["predictions"])

    def unscorable(error: ValueError) -> HTTPException:
        problem = str(error).splitlines()[0] if str(error) else type(error).__name__
        return HTTPException(422, detail=f"the model cannot score this input: {problem}")

    def served(model: ServedModel, request_id: str) -> dict[str, str]:
        return {
            "model_name": model.metadata.name,
            "model_version": model.metadata.version,
            "request_id": request_id,
        }

    @router.post("/predict", response_model=PredictionResponse, responses=ERRORS)
    async def predict(
        record: record_type,  # type: ignore[valid-type]
        model: Model,
        scorer: Batcher,
        state: State,
        request_id: RequestId,
    ) -> JSONResponse:
        """Predict for one record."""
        validated: BaseModel = record
        row = validated.model_dump(by_alias=True)
        try:
            prediction = await scorer.predict_one(row)
        except ValueError as error:
            raise unscorable(error) from None
        record_metrics(state.metrics, [prediction])
{%- if cookiecutter.include_monitoring %}
        log_predictions(state, model, request_id, [row], [prediction])
{%- endif %}
        return JSONResponse(prediction | served(model, request_id))

    @router.post("/predict/batch", response_model=BatchResponse, responses=ERRORS)
    async def predict_batch(
        batch: batch_type,  # type: ignore[valid-type]
        model: Model,
        scorer: Batcher,
        state: State,
        request_id: RequestId,
    ) -> JSONResponse:
        """Predict for a list of records, answered in the same order."""
        rows = [record.model_dump(by_alias=True) for record in batch.records]  # type: ignore[attr-defined]
        try:
            predictions = await scorer.predict_many(rows)
        except ValueError as error:
            raise unscorable(error) from None
        record_metrics(state.metrics, predictions)
{%- if cookiecutter.include_monitoring %}
        log_predictions(state, model, request_id, rows, predictions)
{%- endif %}
        return JSONResponse({"predictions": predictions} | served(model, request_id))

    return router
