"""Liveness, readiness and which model is served: what load balancers and operators ask."""

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from {{ cookiecutter.package_name }}.serving.dependencies import ModelDep, StateDep
from {{ cookiecutter.package_name }}.serving.schemas import (
    ErrorResponse,
    Health,
    ModelMetadata,
    Readiness,
)

router = APIRouter()
NOT_READY = {"model": Readiness, "description": "The model is not loaded."}
NOT_LOADED = {"model": ErrorResponse, "description": "The model is not loaded."}


@router.get("/health", response_model=Health, tags=["health"])
async def health() -> Health:
    """The process is alive (whether or not the model is loaded yet)."""
    return Health()


@router.get(
    "/ready",
    response_model=Readiness,
    responses={503: NOT_READY},
    tags=["health"],
)
async def ready(state: StateDep) -> Readiness | JSONResponse:
    """The model is loaded and predictions can be served; 503 while loading or if it failed."""
    if state.model is not None:
        return Readiness(status="ready")
    body = Readiness(status="failed" if state.load_error else "loading", detail=state.load_error)
    return JSONResponse(body.model_dump(), status_code=503)


@router.get(
    "/metadata",
    response_model=ModelMetadata,
    responses={503: NOT_LOADED},
    tags=["model"],
)
async def metadata(model: ModelDep) -> ModelMetadata:
    """The model's name, version, training run, metrics and the features it reads."""
    return model.metadata
