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
from {{ cookiecutter.package_name }}.serving.routers import health, metadata, predict
from {{ cookiecutter.package_name }}.settings import Settings, load_settings
{%- if cookiecutter.task == "classification" %}
from {{ cookiecutter.package_name }}.training.predictions import threshold_of
{%- endif %}

logger = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, *, model: Model | None = None) -> FastAPI:
    """The app for `settings` (read from the environment by default).

    Args:
        settings: where the config and the model are; from the environment when None.
        model: an already loaded model (tests pass one); loaded at start-up when None.

    Raises:
        ConfigError: the config or the data contract is missing or invalid.
    """
    settings = settings or load_settings()
    config = load_config(settings.config_file)
    contract = load_contract(config.data.contract)
    state = ServiceState(
        settings=settings,
        config=config,
        contract=contract,
        metrics=Metrics({% if cookiecutter.task == "regression" %}contract.target{% endif %}),
    )
    if model is not None:
        use_model(state, model)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Load in the background: /health answers at once, /ready once the model is in.
        task = None if state.model is not None else asyncio.create_task(load_in_background(state))
{%- if cookiecutter.include_monitoring %}
        state.prediction_log = start_prediction_log(state)
{%- endif %}
        yield
        if task is not None:
            task.cancel()
        if state.batcher is not None:
            state.batcher.close()
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
    app.include_router(metadata.router)
    app.include_router(health.router)
    app.exception_handler(RequestValidationError)(invalid_request)
    app.exception_handler(HTTPException)(http_error)
    app.exception_handler(Exception)(unexpected_error)
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


async def load_in_background(state: ServiceState) -> None:
    """Load the model in a worker thread, recording either the model or why it failed."""
    started = time.perf_counter()
    try:
        model = await asyncio.to_thread(load_configured_model, state.settings, state.contract)
    except ConfigError as error:
        state.load_error = str(error)
        logger.error("model not loaded: %s", error)
        return
    except Exception as error:
        state.load_error = f"{type(error).__name__}: {error}"
        logger.exception("model not loaded")
        return
    use_model(state, model)
    logger.info(
        "model loaded",
        extra={
            "model_name": model.metadata.name,
            "model_version": model.metadata.version,
            "source": model.metadata.source,
            "seconds": round(time.perf_counter() - started, 3),
        },
    )


{%- if cookiecutter.include_monitoring %}


def start_prediction_log(state: ServiceState) -> PredictionLogger | None:
    """The prediction log the settings ask for; without it (off, or failing) the service serves.

    A log that cannot be opened is an error in the service's log, not a reason to stop
    answering predictions.
    """
    try:
        log = open_log(state.settings)
    except Exception:
        logger.exception("prediction log not opened: predictions are served but not logged")
        return None
    return None if log is None else PredictionLogger(log, state.contract)
{%- endif %}


def use_model(state: ServiceState, model: Model) -> None:
    """Make `model` the one that answers, with a batcher that scores for it."""
    score = partial(
        predict.predict_records,
        model,
        state.contract,
{%- if cookiecutter.task == "classification" %}
        threshold=threshold_of(model.metadata.metrics),
{%- endif %}
    )
    state.batcher = MicroBatcher(score, observe=state.metrics.batch_size.observe)
    state.model = model
    state.load_error = None
    state.metrics.model.labels(model.metadata.name, model.metadata.version).set(1)


def error_body(error: str, problems: list[dict[str, str]]) -> dict[str, Any]:
    """The body of every error answer."""
    return {"error": error, "problems": problems, "request_id": correlation_id.get()}


async def invalid_request(request: Request, exc: RequestValidationError) -> JSONResponse:
    """422 naming each field and its problem; 413 when a batch holds too many records."""
    errors = exc.errors()
    problems = [
        {
            "field": "body" if e["type"] == "json_invalid" else field_path(e["loc"]),
            "problem": problem_of(e),
        }
        for e in errors
    ]
    if any(e["type"] == "too_long" and tuple(e["loc"]) == ("body", "records") for e in errors):
        return JSONResponse(error_body("too many records", problems), status_code=413)
    return JSONResponse(error_body("invalid request", problems), status_code=422)


def field_path(location: tuple[Any, ...] | list[Any]) -> str:
    """`records.3.tenure_months` from pydantic's location (which starts with `body`)."""
    parts = [str(part) for part in location]
    if parts and parts[0] == "body":
        parts = parts[1:]
    return ".".join(parts) or "body"


def problem_of(error: dict[str, Any]) -> str:
    """Pydantic's message, made specific for the errors clients meet most."""
    if error["type"] == "json_invalid":
        return f"the body is not valid JSON ({error.get('ctx', {}).get('error', 'parse error')})"
    if error["type"] == "extra_forbidden":
        return "not a feature of the data contract"
    if error["type"] == "missing":
        return "required"
    return str(error["msg"])


async def http_error(request: Request, exc: HTTPException) -> JSONResponse:
    """Errors raised on purpose (404, 405, 503, ...) in the same shape as the others."""
    if exc.status_code == 400:  # FastAPI's only 400: a body its JSON parser raised on
        return unreadable(exc.__cause__)
    return JSONResponse(
        error_body(str(exc.detail), []), status_code=exc.status_code, headers=exc.headers
    )


def unreadable(cause: BaseException | None) -> JSONResponse:
    """Why the JSON parser could not read a body, from the error it raised.

    Valid JSON that Python will not read (too deeply nested, or an integer with more digits
    than `sys.get_int_max_str_digits()`) is a 422 on the body; bytes that are not text, a 400.
    """
    if isinstance(cause, RecursionError):
        problem = "the JSON is nested too deeply to read: a record is one flat object"
    elif isinstance(cause, ValueError) and not isinstance(cause, UnicodeDecodeError):
        digits = sys.get_int_max_str_digits()
        problem = f"a number has more than {digits:,} digits: too large to read"
    else:
        body = error_body("the body cannot be read: send UTF-8 JSON", [])
        return JSONResponse(body, status_code=400)
    body = error_body("invalid request", [{"field": "body", "problem": problem}])
    return JSONResponse(body, status_code=422)


async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    """A bug: logged with its traceback here, never sent to the client."""
    logger.error("unexpected error", exc_info=exc, extra={"request_id": correlation_id.get()})
    body = error_body("internal error: quote the request_id when you report it", [])
    # Answered outside the request-ID middleware, which cannot add its header here.
    return JSONResponse(body, status_code=500, headers={REQUEST_ID_HEADER: body["request_id"]})
