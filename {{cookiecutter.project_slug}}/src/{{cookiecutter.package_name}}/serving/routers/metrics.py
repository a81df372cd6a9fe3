"""Prometheus metrics: request counts, latencies and the distribution of predictions."""

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from {{ cookiecutter.package_name }}.serving.dependencies import State

router = APIRouter(tags=["metrics"])
TEXT = {"schema": {"type": "string"}, "example": "http_requests_total 1.0"}
CONTENT = {"text/plain": TEXT}
PROMETHEUS_TEXT = {"description": "Prometheus text format.", "content": CONTENT}


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: PROMETHEUS_TEXT},
)
async def metrics(state: State) -> Response:
    """The metrics, in Prometheus' text format."""
    return Response(generate_latest(state.metrics.registry), media_type=CONTENT_TYPE_LATEST)
