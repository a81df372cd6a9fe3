"""Typed dependencies the routers ask for: the app's state, the model and its batcher.

They are `async` although they do not wait for anything: FastAPI runs a plain `def` dependency
in a thread pool, and that hop costs more than the dependency itself.
"""

from dataclasses import dataclass
from typing import TYPE_CHECKING, Annotated

from fastapi import Depends, HTTPException, Request

from {{ cookiecutter.package_name }}.data.contract import DataContract
{%- if cookiecutter.include_monitoring %}
from {{ cookiecutter.package_name }}.monitoring.prediction_log import PredictionLogger
{%- endif %}
from {{ cookiecutter.package_name }}.serving.batching import MicroBatcher
from {{ cookiecutter.package_name }}.serving.model import Model
from {{ cookiecutter.package_name }}.serving.observability import Metrics
{%- if cookiecutter.include_monitoring %}
from {{ cookiecutter.package_name }}.serving.rollout import Challenger, RolloutMetrics
{%- endif %}
from {{ cookiecutter.package_name }}.settings import Settings

if TYPE_CHECKING:  # built on the first POST /explain, where SHAP is installed
    from {{ cookiecutter.package_name }}.governance.explain import Explainer

NOT_LOADED = "the model is not loaded yet: see GET /ready"


@dataclass
class ServiceState:
    """Everything the app holds for its lifetime; the model and its batcher arrive together."""

    settings: Settings
    contract: DataContract
    metrics: Metrics
{%- if cookiecutter.include_monitoring %}
    variants: RolloutMetrics
{%- endif %}
    model: Model | None = None
    batcher: MicroBatcher | None = None
    load_error: str | None = None
    explainer: "Explainer | None" = None
{%- if cookiecutter.include_monitoring %}
    prediction_log: PredictionLogger | None = None
    challenger: Challenger | None = None  # loaded when a rollout is on
{%- endif %}


async def _state(request: Request) -> ServiceState:
    """The app's state."""
    state: ServiceState = request.app.state.service
    return state


StateDep = Annotated[ServiceState, Depends(_state)]


async def _model(state: StateDep) -> Model:
    """The model; 503 until it is loaded."""
    if state.model is None:
        raise HTTPException(503, detail=NOT_LOADED)
    return state.model


async def _batcher(state: StateDep) -> MicroBatcher:
    """What scores records for the model; 503 until the model is loaded."""
    if state.batcher is None:
        raise HTTPException(503, detail=NOT_LOADED)
    return state.batcher


ModelDep = Annotated[Model, Depends(_model)]
BatcherDep = Annotated[MicroBatcher, Depends(_batcher)]
