"""What the service tells its operators: JSON log lines with the request ID, and Prometheus metrics.

The middleware is plain ASGI (no per-request task), so it costs microseconds. A prediction
request's body is read here, up to the size limit and no further, whatever its transfer encoding.
"""

import json
import logging
import re
import time
import uuid
from datetime import UTC, datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REQUEST_ID_HEADER = "x-request-id"
# A caller's own request ID is kept when it is short and plain; anything else is replaced.
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
#: Paths reported by name in the metrics; any other path counts as "other" (bounded labels).
ROUTES = ("/predict", "/predict/batch", "/health", "/ready", "/metadata", "/metrics")
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
# The largest JSON body accepted, per record of the largest batch (a record is a few hundred
# bytes); a larger body is refused as soon as that many bytes have arrived, before parsing.
BYTES_PER_RECORD = 4096


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message and any fields passed in `extra`."""

    # A record's own attributes, and uvicorn's coloured copy of the message.
    RESERVED = frozenset([*vars(logging.makeLogRecord({})), "color_message"])

    def format(self, record: logging.LogRecord) -> str:
        """Format a record as a JSON line."""
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        entry.update({k: v for k, v in vars(record).items() if k not in self.RESERVED})
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str)


def log_config(level: str) -> dict[str, Any]:
    """A logging configuration for uvicorn and the app: JSON lines on stderr.

    Uvicorn's own access log is off; the middleware logs each request once, with its ID.
    """
    json_lines = {"()": JsonFormatter}
    stderr = {"class": "logging.StreamHandler", "formatter": "json"}
    ours = {"handlers": ["stderr"], "level": level, "propagate": False}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"json": json_lines},
        "handlers": {"stderr": stderr},
        "loggers": {
            "uvicorn": {"handlers": ["stderr"], "level": level, "propagate": False},
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            "{{ cookiecutter.package_name }}": ours,
        },
    }


class Metrics:
    """The service's Prometheus metrics, in a registry of its own."""

    def __init__(self, target_bounds: tuple[float | None, float | None] = (None, None)) -> None:
        """Create the metrics; regression buckets follow the target's range when it is known."""
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "http_requests",
            "HTTP requests answered, by route, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "http_request_duration_seconds",
            "Time to answer a request, by route.",
            ["route"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "prediction_batch_size",
            "Records scored per model call (single requests that arrive together share one).",
            buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024),
            registry=self.registry,
        )
        self.model = Gauge(
            "model_info", "The model served (value 1).", ["name", "version"], registry=self.registry
        )
{%- if cookiecutter.task == "classification" %}
        self.classes = Counter(
            "predictions",
            "Predictions made, by predicted class.",
            ["predicted_class"],
            registry=self.registry,
        )
        self.confidence = Histogram(
            "prediction_confidence",
            "Probability of the predicted class.",
            buckets=tuple(round(0.1 * step, 1) for step in range(1, 11)),
            registry=self.registry,
        )
{%- else %}
        low, high = target_bounds
        buckets: tuple[float, ...] = Histogram.DEFAULT_BUCKETS
        if low is not None and high is not None and high > low:
            buckets = tuple(low + (high - low) * step / 10 for step in range(1, 11))
        self.values = Histogram(
            "prediction_value",
            "Predicted values.",
            buckets=buckets,
            registry=self.registry,
        )
{%- endif %}


class RequestMiddleware:
    """Per request: an ID, the content-type and size checks, a log line, and the metrics."""

    def __init__(self, app: ASGIApp, *, metrics: Metrics, max_body_bytes: int) -> None:
        """Wrap the app."""
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        self.logger = logging.getLogger("{{ cookiecutter.package_name }}.serving.requests")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one request."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        headers = dict(scope["headers"])
        given = headers.get(REQUEST_ID_HEADER.encode(), b"").decode("latin-1")
        request_id = given if REQUEST_ID.match(given) else uuid.uuid4().hex
        scope.setdefault("state", {})["request_id"] = request_id
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [
                    *message["headers"],
                    (REQUEST_ID_HEADER.encode(), request_id.encode()),
                ]
            await send(message)

        try:
            refusal = self.refuse(scope, headers)
            if refusal is None and is_prediction(scope):
                body = await read_body(receive, self.max_body_bytes)
                if body is None:
                    refusal = too_large(self.max_body_bytes)
                else:
                    receive = replay(body, receive)
            if refusal is None:
                await self.app(scope, receive, send_with_id)
            else:
                await refusal(scope, receive, send_with_id)
        finally:
            path = scope["path"]
            route = path if path in ROUTES else "other"
            seconds = time.perf_counter() - started
            self.metrics.requests.labels(route, scope["method"], str(status)).inc()
            self.metrics.latency.labels(route).observe(seconds)
            self.logger.info(
                "request",
                extra={
                    "request_id": request_id,
                    "method": scope["method"],
                    "path": path,
                    "status": status,
                    "duration_ms": round(seconds * 1000, 3),
                },
            )

    def refuse(self, scope: Scope, headers: dict[bytes, bytes]) -> ASGIApp | None:
        """An error answer for a prediction request with the wrong type or size of body."""
        if not is_prediction(scope):
            return None
        content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if content_type != b"application/json":
            return error_app(
                415, "the body must be JSON: send the header Content-Type: application/json"
            )
        length = headers.get(b"content-length", b"0")
        if length.isdigit() and int(length) > self.max_body_bytes:
            return too_large(self.max_body_bytes)  # said up front: refused before a byte is read
        return None


def is_prediction(scope: Scope) -> bool:
    """Whether a request posts records to score: the requests whose body is checked."""
    return bool(scope["method"] == "POST" and scope["path"].startswith("/predict"))


async def read_body(receive: Receive, limit: int) -> bytes | None:
    """The whole body, read as it arrives; None as soon as it passes `limit` bytes.

    A `Content-Length` header can be left out (chunked transfer encoding) or lie: only the
    bytes that arrive count, and no more than `limit` of them are ever held.
    """
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":  # the client went away
            return b"".join(chunks)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Receive:
    """A `receive` that hands the app the body already read, then listens for a disconnect."""
    sent = False

    async def again() -> Message:
        nonlocal sent
        if sent:
            return await receive()
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    return again


def too_large(limit: int) -> ASGIApp:
    """The answer to a body over the limit."""
    return error_app(413, f"the body is larger than {limit:,} bytes: send fewer records")


def error_app(status: int, error: str) -> ASGIApp:
    """A tiny ASGI app answering one JSON error, with the request's ID."""

    async def answer(scope: Scope, receive: Receive, send: Send) -> None:
        request_id = scope["state"]["request_id"]
        body = json.dumps({"error": error, "problems": [], "request_id": request_id}).encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})

    return answer
