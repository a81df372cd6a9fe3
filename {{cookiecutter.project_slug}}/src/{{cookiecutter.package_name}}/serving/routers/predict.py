"""Predictions for one record or a batch, and explanations of one record.

Requests are in the schema generated from the contract.
"""

import asyncio
{%- if cookiecutter.include_monitoring %}
import logging
import time
{%- endif %}
from collections.abc import Awaitable
from typing import Any

{% if cookiecutter.task == "regression" -%}
import numpy as np
{% endif -%}
import pandas as pd
from asgi_correlation_id import correlation_id
from fastapi import APIRouter, HTTPException{% if cookiecutter.include_monitoring %}, Request{% endif %}
from fastapi.responses import JSONResponse

from {{ cookiecutter.package_name }}.data.contract import DataContract{% if cookiecutter.task == "classification" %}, plain{% endif %}
from {{ cookiecutter.package_name }}.errors import ConfigError
from {{ cookiecutter.package_name }}.governance.explain import (
    NO_BACKGROUND,
    NO_SHAP,
    Explainer,
    explainer,
)
from {{ cookiecutter.package_name }}.serving.batching import MicroBatcher
from {{ cookiecutter.package_name }}.serving.dependencies import (
    BatcherDep,
    ModelDep,
    ServiceState,
    StateDep,
)
from {{ cookiecutter.package_name }}.serving.model import Model
{%- if cookiecutter.include_monitoring %}
from {{ cookiecutter.package_name }}.serving.rollout import VARIANT_HEADER, Variant
{%- endif %}
from {{ cookiecutter.package_name }}.serving.schemas import (
    BatchResponse,
    ErrorResponse,
    ExplanationResponse,
    PredictionResponse,
    batch_model,
    record_model,
)
from {{ cookiecutter.package_name }}.training.predictions import predict_rows

{% if cookiecutter.include_monitoring -%}
logger = logging.getLogger(__name__)
{% endif -%}
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
    model: Model,
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
        {"prediction": plain(label), "probabilities": dict(zip(names, row, strict=True))}
        for label, row in zip(outputs.predictions, outputs.probabilities.tolist(), strict=True)
    ]
{%- else %}
    outputs = predict_rows(model.pipeline, frame, contract)
    if not np.isfinite(outputs.predictions).all():
        raise ValueError("the model predicted a value that is not a finite number")
    return [{"prediction": value} for value in outputs.predictions.tolist()]
{%- endif %}


def build_router(contract: DataContract, max_batch_size: int) -> APIRouter:
    """The prediction routes, with request models generated from `contract`."""
    record_type = record_model(contract)
    batch_type = batch_model(record_type, contract, max_batch_size)
    router = APIRouter(tags=["predictions"])

    @router.post("/predict", response_model=PredictionResponse, responses=ERRORS)
    async def predict(
        record: record_type,  # type: ignore[valid-type]
        model: ModelDep,
        batcher: BatcherDep,
        state: StateDep,
{%- if cookiecutter.include_monitoring %}
        request: Request,
{%- endif %}
    ) -> JSONResponse:
        """Predict for one record."""
        row = record.model_dump(by_alias=True)  # type: ignore[attr-defined]
        predictions, answered = await _answer(state, model, batcher, [row]{% if cookiecutter.include_monitoring %}, request{% endif %})
        return JSONResponse(predictions[0] | answered)

    @router.post("/predict/batch", response_model=BatchResponse, responses=ERRORS)
    async def predict_batch(
        batch: batch_type,  # type: ignore[valid-type]
        model: ModelDep,
        batcher: BatcherDep,
        state: StateDep,
{%- if cookiecutter.include_monitoring %}
        request: Request,
{%- endif %}
    ) -> JSONResponse:
        """Predict for a list of records, answered in the same order."""
        rows = [record.model_dump(by_alias=True) for record in batch.records]  # type: ignore[attr-defined]
        predictions, answered = await _answer(state, model, batcher, rows{% if cookiecutter.include_monitoring %}, request{% endif %})
        return JSONResponse({"predictions": predictions} | answered)

    explain_errors = ERRORS | {
        501: {"model": ErrorResponse, "description": f"{NO_SHAP}; or {NO_BACKGROUND}."}
    }

    @router.post("/explain", response_model=ExplanationResponse, responses=explain_errors)
    async def explain(
        record: record_type,  # type: ignore[valid-type]
        model: ModelDep,
        batcher: BatcherDep,
        state: StateDep,
    ) -> JSONResponse:
        """Predict for one record, and say how much each column moved the prediction (SHAP).

        The prediction is counted{% if cookiecutter.include_monitoring %} and logged{% endif %} as /predict's is: call one or the other.
        """
        row = record.model_dump(by_alias=True)  # type: ignore[attr-defined]
        explainer = await _explainer(state, model)
        predictions, answered = await _answer(state, model, batcher, [row])
        frame = pd.DataFrame({name: [row[name]] for name in contract.feature_names})
        explained = await _scored(asyncio.to_thread(explainer, frame))
        outputs = [
            {
                "output": output,
                "base_value": explained.base[0, position].item(),
                "contributions": explained.contributions(0, position),
            }
            for position, output in enumerate(explained.outputs)
        ]
        body = predictions[0] | {"space": explained.space, "explanations": outputs}
        return JSONResponse(body | answered)

    return router


async def _explainer(state: ServiceState, model: Model) -> Explainer:
    """The model's explainer, built on the first call: importing SHAP takes seconds.

    501 where SHAP is not installed, or the model carries no training rows.
    """
    if state.explainer is None:
        try:
            built = await asyncio.to_thread(
                explainer, model.pipeline, model.background, state.contract
            )
        except ConfigError as error:
            raise HTTPException(501, detail=str(error)) from None
        state.explainer = built
    return state.explainer


async def _scored(prediction: Awaitable[Any]) -> Any:
    """The batcher's answer; 422 when the model cannot score the input."""
    try:
        return await prediction
    except ValueError as error:
        problem = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise HTTPException(422, detail=f"the model cannot score this input: {problem}") from None


async def _answer(
    state: ServiceState,
    model: Model,
    batcher: MicroBatcher,
    rows: list[dict[str, Any]],
{%- if cookiecutter.include_monitoring %}
    request: Request | None = None,
{%- endif %}
) -> tuple[list[dict[str, Any]], dict[str, str]]:
{%- if cookiecutter.include_monitoring %}
    """Score the rows; count and log them; what every answer carries besides.

    A canary challenger answers the requests its share holds (only champions explain: no
    `request` is given then); in shadow, it scores the rows after the champion's answer.
    """
{%- else %}
    """Score the rows and count them; what every answer carries besides."""
{%- endif %}
    request_id = correlation_id.get() or ""
{%- if cookiecutter.include_monitoring %}
    challenger = state.challenger
    variant: Variant = "champion"
    key = request_id if request is None else request.headers.get(VARIANT_HEADER, request_id)
    if request is not None and challenger is not None and challenger.answers(key):
        try:
            predictions = await _timed(state, "challenger", challenger.batcher.predict(rows))
            model, variant = challenger.model, "challenger"
        except Exception as error:  # the champion answers instead
            state.variants.fallbacks.labels("challenger_error").inc()
            logger.warning("challenger failed, the champion answers: %s", error)
    if variant == "champion":
        predictions = await _scored(_timed(state, "champion", batcher.predict(rows)))
    _record(state, request_id, model, rows, predictions, variant)
    if request is not None and challenger is not None and challenger.mode == "shadow":
        shadow = challenger.model
        challenger.shadow(
            rows, lambda scored: _record(state, request_id, shadow, rows, scored, "shadow")
        )
    name, version = model.metadata.name, model.metadata.version
    return predictions, {
        "model_name": name,
        "model_version": version,
        "variant": variant,
        "request_id": request_id,
    }


async def _timed(state: ServiceState, variant: Variant, scoring: Awaitable[Any]) -> Any:
    """Await the scoring; once it has answered, count the request and its time under `variant`.

    A failed attempt counts nowhere here: a challenger's counts as a fallback.
    """
    started = time.perf_counter()
    answer = await scoring
    state.variants.latency.labels(variant).observe(time.perf_counter() - started)
    state.variants.requests.labels(variant).inc()
    return answer


def _record(
    state: ServiceState,
    request_id: str,
    model: Model,
    rows: list[dict[str, Any]],
    predictions: list[dict[str, Any]],
    variant: Variant,
) -> None:
    """Count and log predictions under the variant that made them."""
    state.metrics.count(predictions, variant)
    if state.prediction_log is not None:
        metadata = model.metadata
        state.prediction_log.submit(
            request_id, metadata.name, metadata.version, rows, predictions, variant
        )
{%- else %}
    predictions = await _scored(batcher.predict(rows))
    state.metrics.count(predictions)
    name, version = model.metadata.name, model.metadata.version
    return predictions, {"model_name": name, "model_version": version, "request_id": request_id}
{%- endif %}
