"""What the service tells its operators: JSON log lines with the request ID, and Prometheus metrics.

HTTP metrics come from prometheus-fastapi-instrumentator and request IDs from
asgi-correlation-id; the model's own metrics (which model, batch sizes, the predictions'
distribution) are defined here.
"""

import json
import logging
import re
from datetime import UTC, datetime
from typing import Any

from asgi_correlation_id import CorrelationIdMiddleware, correlation_id
from fastapi import FastAPI, Response
from prometheus_client import CollectorRegistry, {% if cookiecutter.task == "classification" %}Counter, {% endif %}Gauge, Histogram
from prometheus_fastapi_instrumentator import Instrumentator, metrics
{%- if cookiecutter.task == "regression" %}

from {{ cookiecutter.package_name }}.data.contract import Column
{%- endif %}

REQUEST_ID_HEADER = "X-Request-ID"
# A caller's own request ID is kept when it is short and plain; anything else is replaced.
REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")
PROMETHEUS_TEXT = {
    "description": "Prometheus text format.",
    "content": {
        "text/plain": {"schema": {"type": "string"}, "example": "http_requests_total 1.0"},
    },
}
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
requests_logger = logging.getLogger("{{ cookiecutter.package_name }}.serving.requests")


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

    Uvicorn's own access log is off; `log_request` logs each request once, with its ID.
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
            "uvicorn": ours,
            "uvicorn.access": {"handlers": [], "level": "WARNING", "propagate": False},
            "asgi_correlation_id": ours,
            "{{ cookiecutter.package_name }}": ours,
        },
    }


class Metrics:
    """The model's Prometheus metrics, in the app's own registry (beside the HTTP metrics)."""

{%- if cookiecutter.task == "classification" %}

    def __init__(self) -> None:
        """Create the metrics."""
{%- else %}

    def __init__(self, target: Column) -> None:
        """Create the metrics; predicted values are bucketed over the target's range if known."""
{%- endif %}
        self.registry = CollectorRegistry()
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
            "Predictions made, by predicted class{% if cookiecutter.include_monitoring %} and variant{% endif %}.",
            ["predicted_class"{% if cookiecutter.include_monitoring %}, "variant"{% endif %}],
            registry=self.registry,
        )
        self.confidence = Histogram(
            "prediction_confidence",
            "Probability of the predicted class{% if cookiecutter.include_monitoring %}, by variant{% endif %}.",
{%- if cookiecutter.include_monitoring %}
            ["variant"],
{%- endif %}
            buckets=tuple(round(0.1 * step, 1) for step in range(1, 11)),
            registry=self.registry,
        )
{%- else %}
        low, high = target.min, target.max
        buckets: tuple[float, ...] = Histogram.DEFAULT_BUCKETS
        if low is not None and high is not None and high > low:
            buckets = tuple(low + (high - low) * step / 10 for step in range(1, 11))
        self.values = Histogram(
            "prediction_value",
            "Predicted values{% if cookiecutter.include_monitoring %}, by variant{% endif %}.",
{%- if cookiecutter.include_monitoring %}
            ["variant"],
{%- endif %}
            buckets=buckets,
            registry=self.registry,
        )
{%- endif %}

    def count(self, predictions: list[dict[str, Any]]{% if cookiecutter.include_monitoring %}, variant: str{% endif %}) -> None:
        """Count predictions{% if cookiecutter.include_monitoring %} of one variant{% endif %} into the metrics that show their distribution."""
{%- if cookiecutter.task == "classification" %}
        confidence = self.confidence{% if cookiecutter.include_monitoring %}.labels(variant){% endif %}
        for prediction in predictions:
            self.classes.labels(str(prediction["prediction"]){% if cookiecutter.include_monitoring %}, variant{% endif %}).inc()
            confidence.observe(max(prediction["probabilities"].values()))
{%- else %}
        values = self.values{% if cookiecutter.include_monitoring %}.labels(variant){% endif %}
        for prediction in predictions:
            values.observe(prediction["prediction"])
{%- endif %}


def instrument(app: FastAPI, registry: CollectorRegistry) -> None:
    """Add request IDs, HTTP metrics, a log line per request, and the /metrics route.

    HTTP metrics are counted by route, method and status. The ID middleware is added last, so it runs first: the ID is known when a request is logged.
    """
    instrumentator = Instrumentator(should_group_status_codes=False, registry=registry)
    instrumentator.add(
        metrics.requests(registry=registry),
        metrics.latency(should_include_status=False, buckets=LATENCY_BUCKETS, registry=registry),
        log_request,
    )
    instrumentator.instrument(app).expose(
        app, tags=["metrics"], response_class=Response, responses={200: PROMETHEUS_TEXT}
    )
    app.add_middleware(
        CorrelationIdMiddleware,
        header_name=REQUEST_ID_HEADER,
        validator=lambda given: REQUEST_ID.match(given) is not None,
    )


def log_request(info: metrics.Info) -> None:
    """Log one line per request: its ID, method, path, status and duration."""
    requests_logger.info(
        "request",
        extra={
            "request_id": correlation_id.get(),
            "method": info.method,
            "path": info.request.scope["path"],
            "status": info.response.status_code if info.response is not None else 500,
            "duration_ms": round(info.modified_duration * 1000, 3),
        },
    )
