"""What the service tells its operators: JSON log lines with the request ID, and Prometheus metrics.

The middleware is plain ASGI (no per-request task or body copy), so it costs microseconds.
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
# bytes); larger bodies are refused before they are read.
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
        if scope["method"] != "POST" or not scope["path"].startswith("/predict"):
            return None
        content_type = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if content_type != b"application/json":
            return error_app(
                415, "the body must be JSON: send the header Content-Type: application/json"
            )
        length = headers.get(b"content-length", b"0")
        if length.isdigit() and int(length) > self.max_body_bytes:
            return error_app(
                413, f"the body is larger than {self.max_body_bytes:,} bytes: send fewer records"
            )
        return None


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
