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

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

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
from {{ cookiecutter.package_name }}.serving.model import (
    ServedModel,
    load_served_model,
)
from {{ cookiecutter.package_name }}.serving.observability import (
    BYTES_PER_RECORD,
    Metrics,
    RequestMiddleware,
    log_config,
)
from {{ cookiecutter.package_name }}.serving.routers import (
    health,
    metadata,
    metrics,
    predict,
)
from {{ cookiecutter.package_name }}.settings import Settings, load_settings
{%- if cookiecutter.task == "classification" %}
from {{ cookiecutter.package_name }}.training.predictions import threshold_of
{%- endif %}

logger = logging.getLogger(__name__)


def create_app(settings: Settings | None = None, *, model: ServedModel | None = None) -> FastAPI:
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
        metrics=Metrics((contract.target.min, contract.target.max)),
    )
    if model is not None:
        loaded(state, model)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Load in the background: /health answers at once, /ready once the model is in.
        task = None if state.model is not None else asyncio.create_task(load(state))
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
    app.include_router(metrics.router)
    app.exception_handler(RequestValidationError)(invalid_request)
    app.exception_handler(HTTPException)(http_error)
    app.exception_handler(Exception)(unexpected_error)
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["GET", "POST"],
            allow_headers=["Content-Type", "X-Request-ID"],
        )
    app.add_middleware(
        RequestMiddleware,
        metrics=state.metrics,
        max_body_bytes=settings.max_batch_size * BYTES_PER_RECORD,
    )
    return app


#: The most bytes of headers one request may send (nginx allows 32 KiB by default).
MAX_HEADER_BYTES = 64 * 1024
HEADERS_TOO_LARGE = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"content-length: 0\r\nconnection: close\r\n\r\n"
)


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


class HeaderTimeoutProtocol(HttpToolsProtocol):
    """Uvicorn's HTTP protocol, with a deadline and a size limit for each request's headers.

    Uvicorn closes idle kept-alive connections only: a client that connects and then sends its
    headers a byte at a time (slowloris) would hold its connection open for ever. Here the
    clock starts when the connection opens, or at the first byte of a later request on it, and
    the connection is closed unless the headers are complete `header_timeout` seconds later.
    Headers larger than MAX_HEADER_BYTES (which uvicorn's httptools parser would keep in
    memory, however large) are answered 431 and the connection closed.
    """

    def __init__(self, *args: Any, header_timeout: float, **kwargs: Any) -> None:
        """Uvicorn's protocol, given how many seconds a request's headers may take."""
        super().__init__(*args, **kwargs)
        self.header_timeout = header_timeout
        self.header_deadline: asyncio.TimerHandle | None = None
        self.header_bytes = 0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """Start the clock as the connection opens."""
        super().connection_made(transport)
        self.start_clock()

    def on_message_begin(self) -> None:
        """Start the clock at a request's first byte, unless it runs already."""
        super().on_message_begin()
        if self.header_deadline is None:
            self.start_clock()

    def data_received(self, data: bytes) -> None:
        """Parse the bytes; refuse headers that have grown past MAX_HEADER_BYTES unfinished."""
        super().data_received(data)
        if self.header_deadline is None:  # no headers pending: a body, or nothing yet
            return
        self.header_bytes += len(data)
        if self.header_bytes > MAX_HEADER_BYTES and not self.transport.is_closing():
            self.transport.write(HEADERS_TOO_LARGE)
            self.transport.close()

    def on_headers_complete(self) -> None:
        """Stop the clock: the headers are in."""
        self.stop_clock()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        """Stop the clock of a connection that is gone."""
        self.stop_clock()
        super().connection_lost(exc)

    def start_clock(self) -> None:
        """Close the connection `header_timeout` seconds from now, unless stopped before."""
        self.header_bytes = 0
        self.header_deadline = self.loop.call_later(self.header_timeout, self.transport.close)

    def stop_clock(self) -> None:
        """Cancel the headers' deadline, if one is set."""
        if self.header_deadline is not None:
            self.header_deadline.cancel()
            self.header_deadline = None


async def load(state: ServiceState) -> None:
    """Load the model in a worker thread, recording either the model or why it failed."""
    started = time.perf_counter()
    try:
        model = await asyncio.to_thread(load_served_model, state.settings, state.contract)
    except ConfigError as error:
        state.load_error = str(error)
        logger.error("model not loaded: %s", error)
        return
    except Exception as error:
        state.load_error = f"{type(error).__name__}: {error}"
        logger.exception("model not loaded")
        return
    loaded(state, model)
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


def loaded(state: ServiceState, model: ServedModel) -> None:
    """Make a loaded model the one served, with a batcher that scores for it."""
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


def error_body(request: Request, error: str, problems: list[dict[str, str]]) -> dict[str, Any]:
    """The body of every error answer."""
    return {"error": error, "problems": problems, "request_id": request.state.request_id}


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
        return JSONResponse(error_body(request, "too many records", problems), status_code=413)
    return JSONResponse(error_body(request, "invalid request", problems), status_code=422)


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
        return unreadable(request, exc.__cause__)
    return JSONResponse(
        error_body(request, str(exc.detail), []), status_code=exc.status_code, headers=exc.headers
    )


def unreadable(request: Request, cause: BaseException | None) -> JSONResponse:
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
        body = error_body(request, "the body cannot be read: send UTF-8 JSON", [])
        return JSONResponse(body, status_code=400)
    body = error_body(request, "invalid request", [{"field": "body", "problem": problem}])
    return JSONResponse(body, status_code=422)


async def unexpected_error(request: Request, exc: Exception) -> JSONResponse:
    """A bug: logged with its traceback here, never sent to the client."""
    logger.error("unexpected error", exc_info=exc, extra={"request_id": request.state.request_id})
    body = error_body(request, "internal error: quote the request_id when you report it", [])
    return JSONResponse(body, status_code=500)
