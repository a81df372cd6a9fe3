"""The model behind the API, loaded once: from the MLflow registry or an exported directory.

A registry URI (`models:/NAME@ALIAS` or `models:/NAME/VERSION`) needs the tracking store. A
directory written by `export` holds the model file and its metadata and needs nothing else,
not even MLflow, which keeps a serving image small and its start fast.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from {{ cookiecutter.package_name }}.data.contract import DataContract
from {{ cookiecutter.package_name }}.errors import ConfigError, mask
from {{ cookiecutter.package_name }}.serving.schemas import ModelMetadata
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.training.models import (
    MLMODEL_FILE,
    load_saved,
    saved_example,
)

REGISTRY_PREFIX = "models:/"
METADATA_FILE = "metadata.json"


@dataclass(frozen=True)
class Model:
    """A loaded pipeline, what is known about it, and the training rows it was logged with.

    Explanations compare a record with `background`: None for a model logged without them.
    """

    pipeline: Any
    metadata: ModelMetadata
    background: pd.DataFrame | None = None


def is_registry_uri(uri: str) -> bool:
    """Whether the model URI names a registered model rather than a directory."""
    return uri.startswith(REGISTRY_PREFIX)


def load_configured_model(settings: Settings, contract: DataContract) -> Model:
    """Load the model that `model_uri` names and check it reads the contract's features.

    Raises:
        ConfigError: the model cannot be found, is not a trusted model, or was trained on
            other features than the contract lists.
    """
    uri = settings.model_uri
    if is_registry_uri(uri):
        metadata, pinned = registered_metadata(settings)  # which found MLflow installed
        from {{ cookiecutter.package_name }}.training import tracking

        # The version, not the alias: a promotion while loading cannot mix two models.
        pipeline, background = tracking.load_with_example(pinned)
        features = list(pipeline.named_steps["input"].types)  # what its input step reads
        metadata = metadata.model_copy(update={"features": features})
    else:
        path = Path(uri)
        metadata = _read_metadata(path).model_copy(update={"source": str(path)})
        pipeline = load_saved(path)  # with skops, trusting only the classes the project allows
        background = saved_example(path)
    if metadata.features != contract.feature_names:
        raise ConfigError(
            f"{uri} was trained on {', '.join(metadata.features)}, but the data contract "
            f"lists {', '.join(contract.feature_names)}: serve a model trained on this contract"
        )
    return Model(pipeline, metadata, background)


def check_model_source(settings: Settings) -> None:
    """Fail fast, before the server starts, when there is plainly no model to load.

    Raises:
        ConfigError: the directory is missing or incomplete, or the registry has no such model.
    """
    if is_registry_uri(settings.model_uri):
        registered_metadata(settings)
    else:
        _read_metadata(Path(settings.model_uri))


def registered_metadata(settings: Settings) -> tuple[ModelMetadata, str]:
    """What the registry knows about the version `model_uri` names, and that version's own URI.

    The features are left empty: they are known once the model itself is read.

    Raises:
        ConfigError: MLflow is not installed, or the registry has no such model.
    """
    try:
        import mlflow
        from mlflow.exceptions import MlflowException
    except ModuleNotFoundError:  # the serve image: only what serving an exported model needs
        raise ConfigError(
            f"{settings.model_uri} is in a registry, and MLflow is not installed here: serve a folder written "
            "by `export` (or install the train extra)"
        ) from None

    from {{ cookiecutter.package_name }}.training import tracking

    uri = settings.model_uri
    tracking.connect(settings)
    reference = uri.removeprefix(REGISTRY_PREFIX)
    client = mlflow.MlflowClient()
    missing = ConfigError(
        f"{uri} is not in the registry at {mask(settings.tracking_uri)}: run `run` or `promote` "
        "first, or set MLFLOW_TRACKING_URI"
    )
    try:
        if "@" in reference:
            found = client.get_model_version_by_alias(*reference.split("@", 1))
        else:
            found = client.get_model_version(*reference.rsplit("/", 1))
    except ValueError:
        raise missing from None
    except MlflowException as error:
        if error.error_code not in tracking.NOT_FOUND:
            raise  # a server that does not answer is not a missing model: say that instead
        raise missing from None
    name, version, run_id = found.name, str(found.version), found.run_id or ""
    metrics = client.get_run(run_id).data.metrics if run_id else {}
    metadata = ModelMetadata(
        name=name,
        version=version,
        run_id=run_id,
        source=uri,
        metrics=dict(sorted(metrics.items())),
        features=[],
    )
    return metadata, f"{REGISTRY_PREFIX}{name}/{version}"


def _read_metadata(path: Path) -> ModelMetadata:
    """The metadata of a directory written by `export`; ConfigError if it holds no export."""
    for name in (METADATA_FILE, MLMODEL_FILE):
        if not (path / name).is_file():
            raise ConfigError(
                f"{path} holds no exported model ({name} missing): write one with "
                "`{{ cookiecutter.project_slug }} export`, or set {{ cookiecutter.package_name | upper }}_MODEL_URI to a registry URI"
            )
    try:
        return ModelMetadata.model_validate_json((path / METADATA_FILE).read_text("utf-8"))
    except ValueError as error:
        raise ConfigError(f"{path}: not a model written by `export` ({error})") from None


def export_model(settings: Settings, output: Path, *, force: bool = False) -> ModelMetadata:
    """Copy a registered model and its metadata into a directory that `serve` can load alone.

    The directory is written whole (`datasets.write_whole`): a run that fails or is killed
    leaves what was at `output` as it was. `output` may be new or empty; an earlier export is
    replaced only with `force`, and nothing else ever is.

    Raises:
        ConfigError: `output` is not an export (or holds the current directory), or the
            registry has no such model.
        FileExistsError: `output` is an export and `force` is not set.
    """
    import mlflow

    # datasets is the training side's (and may need SQLAlchemy): not for `serve`.
    from {{ cookiecutter.package_name }}.data.datasets import write_whole

    if Path.cwd().is_relative_to(output.resolve()):
        raise ConfigError(f"{output} holds the current directory; choose an empty or new directory")
    if output.exists() and (not output.is_dir() or any(output.iterdir())):  # not new or empty
        try:
            _read_metadata(output)
        except (ConfigError, OSError):
            raise ConfigError(
                f"{output} is not an exported model; choose an empty or new directory"
            ) from None
        if not force:
            raise FileExistsError(f"{output} exists: pass --force to replace it, or choose another")
    metadata, pinned = registered_metadata(settings)

    def write(staging: Path) -> None:
        nonlocal metadata
        mlflow.artifacts.download_artifacts(artifact_uri=pinned, dst_path=str(staging))
        signature = yaml.safe_load((staging / MLMODEL_FILE).read_text("utf-8"))["signature"]
        features = [column["name"] for column in json.loads(signature["inputs"])]
        metadata = metadata.model_copy(update={"features": features})
        (staging / METADATA_FILE).write_text(metadata.model_dump_json(indent=2), "utf-8")
        _read_metadata(staging)

    write_whole(output.resolve(), write)
    return metadata
