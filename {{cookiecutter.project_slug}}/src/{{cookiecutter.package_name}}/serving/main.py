"""Build the FastAPI app: settings and contract in; routers, middleware and error handlers on.

Run it with `{{ cookiecutter.project_slug }} serve` (or `make serve`), which starts uvicorn with
`create_app` as its factory and the options of `server_options`.
"""

import asyncio
import logging
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from functools import partial
from typing import Any

from asgi_correlation_id import correlation_id
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException

from {{ cookiecutter.package_name }} import __version__
from {{ cookiecutter.package_name }}.config import load_config
from {{ cookiecutter.package_name }}.data.contract import load_contract
from {{ cookiecutter.package_name }}.errors import ConfigError
{%- if cookiecutter.include_monitoring %}
from {{ cookiecutter.package_name }}.monitoring.prediction_log import (
    PredictionLogger,
    open_log,
)
{%- endif %}
from {{ cookiecutter.package_name }}.serving.batching import MicroBatcher
from {{ cookiecutter.package_name }}.serving.dependencies import ServiceState
from {{ cookiecutter.package_name }}.serving.limits import (
    BYTES_PER_RECORD,
    BodyLimit,
    HeaderTimeoutProtocol,
)
from {{ cookiecutter.package_name }}.serving.model import Model, load_configured_model
from {{ cookiecutter.package_name }}.serving.observability import (
    REQUEST_ID_HEADER,
    Metrics,
    instrument,
    log_config,
)
{%- if cookiecutter.include_monitoring %}
from {{ cookiecutter.package_name }}.serving.rollout import Challenger, RolloutMetrics
{%- endif %}
from {{ cookiecutter.package_name }}.serving.routers import health, predict
from {{ cookiecutter.package_name }}.settings import Settings, load_settings
{%- if cookiecutter.task == "classification" %}
from {{ cookiecutter.package_name }}.training.predictions import threshold_of
{%- endif %}

logger = logging.getLogger(__name__)
# Pydantic's messages, made specific for the errors clients meet most.
PROBLEMS = {"extra_forbidden": "not a feature of the data contract", "missing": "required"}


def create_app(
    settings: Settings | None = None,
    *,
    model: Model | None = None,
{%- if cookiecutter.include_monitoring %}
    challenger: Model | None = None,
{%- endif %}
) -> FastAPI:
    """The app for `settings` (read from the environment by default).

    The model is loaded at start-up, unless an already loaded `model` is given (tests do{% if cookiecutter.include_monitoring %}, and
    may give a `challenger` for the rollout the settings choose{% endif %}).

    Raises:
        ConfigError: the config or the data contract is missing or invalid.
    """
    settings = settings or load_settings()
    contract = load_contract(load_config(settings.config_file).data.contract)
    metrics = Metrics({% if cookiecutter.task == "regression" %}contract.target{% endif %})
{%- if cookiecutter.include_monitoring %}
    state = ServiceState(settings, contract, metrics, RolloutMetrics(metrics.registry))
    if challenger is not None:
        _use_challenger(state, challenger)
{%- else %}
    state = ServiceState(settings, contract, metrics)
{%- endif %}
    if model is not None:
        _use_model(state, model)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Load in the background: /health answers at once, /ready once the model is in.
        task = None if state.model is not None else asyncio.create_task(_load(state))
{%- if cookiecutter.include_monitoring %}
        try:
            log = open_log(settings)
            state.prediction_log = None if log is None else PredictionLogger(log, contract)
        except Exception:  # a log that cannot be opened is no reason to stop answering
            logger.exception("prediction log not opened: predictions are served but not logged")
{%- endif %}
        yield
        if task is not None:
            task.cancel()
        if state.batcher is not None:
            state.batcher.close()
{%- if cookiecutter.include_monitoring %}
        if state.challenger is not None:
            await state.challenger.close()  # shadow predictions are logged before the log closes
{%- endif %}
{%- if cookiecutter.include_monitoring %}
        if state.prediction_log is not None:
            state.prediction_log.close()  # what is queued is written before the process ends
{%- endif %}

    app = FastAPI(
        title="{{ cookiecutter.project_name }}",
        version=__version__,
        summary="{{ cookiecutter.description }}",
        lifespan=lifespan,
    )
    app.state.service = state
    app.include_router(predict.build_router(contract, settings.max_batch_size))
    app.include_router(health.router)
    app.exception_handler(RequestValidationError)(_invalid_request)
    app.exception_handler(HTTPException)(_http_error)
    app.exception_handler(Exception)(_unexpected_error)
    # Middleware added later runs earlier: request IDs, then metrics, then CORS, then this.
    app.add_middleware(BodyLimit, max_bytes=settings.max_batch_size * BYTES_PER_RECORD)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", REQUEST_ID_HEADER],
            expose_headers=[REQUEST_ID_HEADER],
        )
    instrument(app, state.metrics.registry)
    return app


def server_options(settings: Settings) -> dict[str, Any]:
    """Uvicorn's options for `settings`: the server limits, JSON logs, no server header."""
    return {
        "http": partial(HeaderTimeoutProtocol, header_timeout=settings.header_timeout),
        "timeout_keep_alive": settings.keep_alive_timeout,
        "limit_concurrency": settings.max_connections,
        "log_config": log_config(settings.log_level),
        "access_log": False,
        "server_header": False,
    }


async def _load(state: ServiceState) -> None:
    """Load the model in a worker thread, recording either the model or why it failed."""
    started = time.perf_counter()
    try:
        model = await asyncio.to_thread(load_configured_model, state.settings, state.contract)
    except Exception as error:
        expected = isinstance(error, ConfigError)  # one line to act on; anything else is a bug
        state.load_error = str(error) if expected else f"{type(error).__name__}: {error}"
        logger.error("model not loaded: %s", state.load_error, exc_info=not expected)
        return
{%- if cookiecutter.include_monitoring %}
    if state.settings.rollout != "off":  # before the champion answers: /ready waits for both
        await _load_challenger(state)
{%- endif %}
    _use_model(state, model)
    loaded = model.metadata
    logger.info(
        "model loaded",
        extra={
            "model_name": loaded.name,
            "model_version": loaded.version,
            "source": loaded.source,
            "seconds": round(time.perf_counter() - started, 3),
        },
    )


{%- if cookiecutter.include_monitoring %}


async def _load_challenger(state: ServiceState) -> None:
    """Load the challenger the settings name; if it fails, the champion answers alone."""
    settings = state.settings.model_copy(update={"model_uri": state.settings.challenger_uri})
    try:
        model = await asyncio.to_thread(load_configured_model, settings, state.contract)
    except Exception as error:
        state.variants.fallbacks.labels("load").inc()
        logger.error("challenger not loaded, the champion answers alone: %s", error)
        return
    _use_challenger(state, model)
    loaded = model.metadata
    logger.info(
        "challenger loaded",
        extra={"rollout": state.settings.rollout, "model_version": loaded.version},
    )


def _use_challenger(state: ServiceState, model: Model) -> None:
    """Put `model` beside the champion, with its own scoring thread, as the settings say."""
    state.challenger = Challenger(model, _batcher(state, model), state.settings, state.variants)
{%- endif %}


def _batcher(state: ServiceState, model: Model) -> MicroBatcher:
    """A scoring thread for `model`, with the decision threshold it was promoted with."""
    score = partial(
        predict.predict_records,
        model,
        state.contract,
{%- if cookiecutter.task == "classification" %}
        threshold=threshold_of(model.metadata.metrics),
{%- endif %}
    )
    return MicroBatcher(score, observe=state.metrics.batch_size.observe)


def _use_model(state: ServiceState, model: Model) -> None:
    """Make `model` the one that answers, with a batcher that scores for it."""
    state.batcher = _batcher(state, model)
    state.model, state.explainer = model, None
    state.load_error = None
    state.metrics.model.labels(model.metadata.name, model.metadata.version).set(1)


def _error(status: int, error: str, *problems: dict[str, str], headers: Any = None) -> JSONResponse:
    """Every error answer: a summary, each problem, and the request ID to quote."""
    body = {"error": error, "problems": problems, "request_id": correlation_id.get()}
    return JSONResponse(body, status_code=status, headers=headers)


async def _invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
    """422 naming each field and its problem; 413 when a batch holds too many records."""
    problems = []
    for e in exc.errors():
        if e["type"] == "json_invalid":
            reason = e.get("ctx", {}).get("error", "parse error")
            problems.append({"field": "body", "problem": f"the body is not valid JSON ({reason})"})
        else:  # `records.3.tenure_months` from a location that starts with `body`
            field = ".".join(str(part) for part in e["loc"][1:]) or "body"
            problems.append({"field": field, "problem": PROBLEMS.get(e["type"], str(e["msg"]))})
    if any(
        e["type"] == "too_long" and tuple(e["loc"]) == ("body", "records") for e in exc.errors()
    ):
        return _error(413, "too many records", *problems)
    return _error(422, "invalid request", *problems)


async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    """Errors raised on purpose (404, 405, 503, ...) in the same shape as the others.

    FastAPI's only 400 is a body its JSON parser raised on. Valid JSON that Python will not
    read (too deeply nested, or an integer with more digits than `sys.get_int_max_str_digits()`)
    is a 422 on the body; bytes that are not text, a 400.
    """
    cause = exc.__cause__
    if exc.status_code != 400:
        return _error(exc.status_code, str(exc.detail), headers=exc.headers)
    if isinstance(cause, RecursionError):
        problem = "the JSON is nested too deeply to read: a record is one flat object"
    elif isinstance(cause, ValueError) and not isinstance(cause, UnicodeDecodeError):
        digits = sys.get_int_max_str_digits()
        problem = f"a number has more than {digits:,} digits: too large to read"
    else:
        return _error(400, "the body cannot be read: send UTF-8 JSON")
    return _error(422, "invalid request", {"field": "body", "problem": problem})


async def _unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    """A bug: logged with its traceback here, never sent to the client."""
    request_id = correlation_id.get()
    logger.error("unexpected error", exc_info=exc, extra={"request_id": request_id})
    # Answered outside the request-ID middleware, which cannot add its header here.
    return _error(
        500,
        "internal error: quote the request_id when you report it",
        headers={REQUEST_ID_HEADER: request_id},
    )
