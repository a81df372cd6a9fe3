"""Liveness and readiness, for load balancers and Kubernetes probes."""

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from {{ cookiecutter.package_name }}.serving.dependencies import StateDep
from {{ cookiecutter.package_name }}.serving.schemas import Health, Readiness

router = APIRouter(tags=["health"])
NOT_READY = {"model": Readiness, "description": "The model is not loaded."}


@router.get("/health", response_model=Health)
async def health() -> Health:
    """The process is alive (whether or not the model is loaded yet)."""
    return Health()


@router.get(
    "/ready",
    response_model=Readiness,
    responses={503: NOT_READY},
)
async def ready(state: StateDep) -> Readiness | JSONResponse:
    """The model is loaded and predictions can be served; 503 while loading or if it failed."""
    if state.model is not None:
        return Readiness(status="ready")
    status = "failed" if state.load_error else "loading"
    body = Readiness(status=status, detail=state.load_error)
    return JSONResponse(body.model_dump(), status_code=503)
