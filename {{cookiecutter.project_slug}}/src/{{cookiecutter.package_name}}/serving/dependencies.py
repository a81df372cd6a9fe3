"""Typed dependencies the routers ask for: the loaded model, the request ID, the app's state.

They are `async` although they do not wait for anything: FastAPI runs a plain `def` dependency
in a thread pool, and that hop costs more than the dependency itself.
"""

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, HTTPException, Request

from {{ cookiecutter.package_name }}.config import ProjectConfig
from {{ cookiecutter.package_name }}.data.contract import DataContract
{%- if cookiecutter.include_monitoring %}
from {{ cookiecutter.package_name }}.monitoring.prediction_log import PredictionLogger
{%- endif %}
from {{ cookiecutter.package_name }}.serving.batching import MicroBatcher
from {{ cookiecutter.package_name }}.serving.model import ServedModel
from {{ cookiecutter.package_name }}.serving.observability import Metrics
from {{ cookiecutter.package_name }}.settings import Settings


@dataclass
class ServiceState:
    """Everything the app holds for its lifetime; the model arrives once it is loaded."""

    settings: Settings
    config: ProjectConfig
    contract: DataContract
    metrics: Metrics
    model: ServedModel | None = None
    batcher: MicroBatcher | None = None
    load_error: str | None = None
{%- if cookiecutter.include_monitoring %}
    prediction_log: PredictionLogger | None = None
{%- endif %}


def service_state(request: Request) -> ServiceState:
    """The app's state."""
    state: ServiceState = request.app.state.service
    return state


async def served_model(request: Request) -> ServedModel:
    """The loaded model; 503 until it is loaded."""
    state = service_state(request)
    if state.model is None:
        raise HTTPException(503, detail="the model is not loaded yet: see GET /ready")
    return state.model


async def request_id(request: Request) -> str:
    """The request's ID, set by the middleware."""
    identifier: str = request.state.request_id
    return identifier


async def state_dependency(request: Request) -> ServiceState:
    """The app's state, as a dependency."""
    return service_state(request)


State = Annotated[ServiceState, Depends(state_dependency)]
Model = Annotated[ServedModel, Depends(served_model)]


async def batcher(request: Request, model: Model) -> MicroBatcher:
    """What scores records for the loaded model; 503 until it is loaded."""
    scorer = service_state(request).batcher
    assert scorer is not None  # noqa: S101 - set together with the model
    return scorer


Batcher = Annotated[MicroBatcher, Depends(batcher)]
RequestId = Annotated[str, Depends(request_id)]
