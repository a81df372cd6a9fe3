"""Which model is served."""

from fastapi import APIRouter

from {{ cookiecutter.package_name }}.serving.dependencies import ModelDep
from {{ cookiecutter.package_name }}.serving.schemas import ErrorResponse, ModelMetadata

router = APIRouter(tags=["model"])
NOT_LOADED = {"model": ErrorResponse, "description": "The model is not loaded."}


@router.get(
    "/metadata",
    response_model=ModelMetadata,
    responses={503: NOT_LOADED},
)
async def metadata(model: ModelDep) -> ModelMetadata:
    """The model's name, version, training run, metrics and the features it reads."""
    return model.metadata
