"""The model behind the API, loaded once: from the MLflow registry or an exported directory.

A registry URI (`models:/NAME@ALIAS` or `models:/NAME/VERSION`) needs the tracking store. A
directory written by `export` holds the model file and its metadata and needs nothing else,
not even MLflow, which keeps a serving image small and its start fast.
"""

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from {{ cookiecutter.package_name }}.data.contract import DataContract
from {{ cookiecutter.package_name }}.errors import ConfigError, mask
from {{ cookiecutter.package_name }}.serving.schemas import ModelMetadata
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.training.models import MLMODEL_FILE, load_saved

REGISTRY_PREFIX = "models:/"
METADATA_FILE = "metadata.json"


@dataclass(frozen=True)
class Model:
    """A loaded pipeline and what is known about it."""

    pipeline: Any
    metadata: ModelMetadata


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
        model = _load_registered(settings, contract)
    else:
        model = _load_directory(Path(uri))
    if model.metadata.features != contract.feature_names:
        raise ConfigError(
            f"{uri} was trained on {', '.join(model.metadata.features)}, but the data contract "
            f"lists {', '.join(contract.feature_names)}: serve a model trained on this contract"
        )
    return model


def check_model_source(settings: Settings) -> None:
    """Fail fast, before the server starts, when there is plainly no model to load.

    Raises:
        ConfigError: the directory is missing or incomplete, or the registry has no such model.
    """
    uri = settings.model_uri
    if not is_registry_uri(uri):
        _check_directory(Path(uri))
        return
    _registered_version(settings, uri)


def _check_directory(path: Path) -> None:
    for name in (METADATA_FILE, MLMODEL_FILE):
        if not (path / name).is_file():
            raise ConfigError(
                f"{path} holds no exported model ({name} missing): write one with "
                "`{{ cookiecutter.project_slug }} export`, or set {{ cookiecutter.package_name | upper }}_MODEL_URI to a registry URI"
            )


def _registered_version(settings: Settings, uri: str) -> Any:
    """The registered version (an MLflow ModelVersion) a registry URI resolves to now."""
    try:
        import mlflow
        from mlflow.exceptions import MlflowException
    except ModuleNotFoundError:  # the serve image: only what serving an exported model needs
        raise ConfigError(
            f"{uri} is in a registry, and MLflow is not installed here: serve a folder written "
            "by `export` (or install the train extra)"
        ) from None

    from {{ cookiecutter.package_name }}.training import tracking

    tracking.connect(settings)
    reference = uri.removeprefix(REGISTRY_PREFIX)
    client = mlflow.MlflowClient()
    missing = ConfigError(
        f"{uri} is not in the registry at {mask(settings.tracking_uri)}: run `run` or `promote` "
        "first, or set MLFLOW_TRACKING_URI"
    )
    try:
        if "@" in reference:
            name, alias = reference.split("@", 1)
            return client.get_model_version_by_alias(name, alias)
        name, version = reference.rsplit("/", 1)
        return client.get_model_version(name, version)
    except ValueError:
        raise missing from None
    except MlflowException as error:
        if error.error_code not in tracking.NOT_FOUND:
            raise  # a server that does not answer is not a missing model: say that instead
        raise missing from None


def registered_metadata(
    settings: Settings, contract: DataContract, uri: str
) -> tuple[ModelMetadata, str]:
    """What the registry knows about the version `uri` names, and that version's own URI."""
    found = _registered_version(settings, uri)
    import mlflow  # installed: _registered_version checked

    name, version, run_id = found.name, str(found.version), found.run_id or ""
    metrics = mlflow.MlflowClient().get_run(run_id).data.metrics if run_id else {}
    metadata = ModelMetadata(
        name=name,
        version=version,
        run_id=run_id,
        source=uri,
        metrics=dict(sorted(metrics.items())),
        features=contract.feature_names,
    )
    return metadata, f"{REGISTRY_PREFIX}{name}/{version}"


def _load_registered(settings: Settings, contract: DataContract) -> Model:
    metadata, pinned = registered_metadata(settings, contract, settings.model_uri)
    # Imported once registered_metadata has found MLflow installed.
    from {{ cookiecutter.package_name }}.training import tracking

    # The version, not the alias: a promotion while loading cannot mix two models.
    pipeline = tracking.load_model(pinned)
    return Model(pipeline, metadata.model_copy(update={"features": _features_of(pipeline)}))


def _load_directory(path: Path) -> Model:
    """Load an exported model with skops, trusting only the classes the project allows."""
    metadata = _read_metadata(path)
    pipeline = load_saved(path)
    return Model(pipeline, metadata.model_copy(update={"source": str(path)}))


def _read_metadata(path: Path) -> ModelMetadata:
    """The metadata of a directory written by `export`.

    Raises:
        ConfigError: the directory holds no exported model.
    """
    _check_directory(path)
    try:
        return ModelMetadata.model_validate_json((path / METADATA_FILE).read_text("utf-8"))
    except ValueError as error:
        raise ConfigError(f"{path}: not a model written by `export` ({error})") from None


def _features_of(pipeline: Any) -> list[str]:
    """The raw features a pipeline reads, from its input step."""
    return list(pipeline.named_steps["input"].types)


def export_model(
    settings: Settings, contract: DataContract, output: Path, *, force: bool = False
) -> ModelMetadata:
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

    _check_replaceable(output, force=force)
    metadata, pinned = registered_metadata(settings, contract, settings.model_uri)

    def write(staging: Path) -> None:
        nonlocal metadata
        mlflow.artifacts.download_artifacts(artifact_uri=pinned, dst_path=str(staging))
        signature = yaml.safe_load((staging / MLMODEL_FILE).read_text("utf-8"))["signature"]
        features = [column["name"] for column in json.loads(signature["inputs"])]
        metadata = metadata.model_copy(update={"features": features})
        (staging / METADATA_FILE).write_text(metadata.model_dump_json(indent=2), "utf-8")
        _check_directory(staging)

    write_whole(output.resolve(), write)
    return metadata


def _check_replaceable(output: Path, *, force: bool) -> None:
    """Refuse to write over anything but a new or empty directory, or an export with `force`.

    Raises:
        ConfigError: `output` holds the current directory, or is not an export.
        FileExistsError: `output` is an export and `force` is not set.
    """
    if Path.cwd().is_relative_to(output.resolve()):
        raise ConfigError(f"{output} holds the current directory; choose an empty or new directory")
    if not output.exists() or (output.is_dir() and not any(output.iterdir())):
        return
    if not _is_export(output):
        raise ConfigError(f"{output} is not an exported model; choose an empty or new directory")
    if not force:
        raise FileExistsError(f"{output} exists: pass --force to replace it, or choose another")


def _is_export(path: Path) -> bool:
    """Whether `path` is a directory `export` wrote: an MLmodel file beside our metadata."""
    try:
        _read_metadata(path)
    except (ConfigError, OSError):
        return False
    return True
