"""Loading the model from the registry or an exported directory, and exporting it."""

import contextlib
import pickle
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import mlflow
import mlflow.sklearn
import pandas as pd
import pytest
import yaml
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from {{ cookiecutter.package_name }} import cli
from {{ cookiecutter.package_name }}.config import ProjectConfig
from {{ cookiecutter.package_name }}.data.contract import DataContract
from {{ cookiecutter.package_name }}.errors import ConfigError
from {{ cookiecutter.package_name }}.serving.main import create_app
from {{ cookiecutter.package_name }}.serving.model import (
    METADATA_FILE,
    MLMODEL_FILE,
    check_model_source,
    export_model,
    load_configured_model,
)
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.training.models import EXAMPLE_ROWS
from {{ cookiecutter.package_name }}.training.tracking import (
    CHALLENGER,
    CHAMPION,
    load_model,
)
from {{ cookiecutter.package_name }}.training.train import TrainResult, train


@pytest.fixture
def champion(trained_config: ProjectConfig, settings: Settings) -> str:
    """A champion of this test's own, for a test that tampers with it; returns its run ID."""
    result = train(trained_config, settings)
    mlflow.MlflowClient().set_registered_model_alias(
        settings.model_name, CHAMPION, str(result.model_version)
    )
    return result.run_id


def test_the_champion_loads_from_the_registry_with_its_run(
    trained: TrainResult, trained_settings: Settings, contract: DataContract, raw_data: pd.DataFrame
) -> None:
    model = load_configured_model(trained_settings, contract)
    assert model.metadata.name == trained_settings.model_name
    assert model.metadata.version == "1"
    assert model.metadata.run_id == trained.run_id
    assert model.metadata.features == contract.feature_names
    assert any(name.startswith("validation_") for name in model.metadata.metrics)
    assert len(model.pipeline.predict(raw_data.head(3)[contract.feature_names])) == 3


def test_a_challenger_is_served_by_its_alias(
    champion: str, settings: Settings, contract: DataContract
) -> None:
    client = mlflow.MlflowClient()
    client.set_registered_model_alias(settings.model_name, CHALLENGER, "1")
    client.delete_registered_model_alias(settings.model_name, CHAMPION)  # the alias alone names it
    uri = f"models:/{settings.model_name}@{CHALLENGER}"

    model = load_configured_model(settings.model_copy(update={"model_uri": uri}), contract)

    assert (model.metadata.version, model.metadata.run_id) == ("1", champion)


def test_an_exported_directory_serves_the_same_model_without_the_registry(
    exported: Path, trained_settings: Settings, contract: DataContract, raw_data: pd.DataFrame
) -> None:
    from_registry = load_configured_model(trained_settings, contract)
    offline = trained_settings.model_copy(
        update={"model_uri": str(exported), "tracking_uri": "sqlite:///nowhere/at/all.db"}
    )
    from_directory = load_configured_model(offline, contract)
    assert from_directory.metadata.version == from_registry.metadata.version
    assert from_directory.metadata.run_id == from_registry.metadata.run_id
    assert from_directory.metadata.source == str(exported)
    rows = raw_data.head(20)[contract.feature_names]
    pd.testing.assert_series_equal(
        pd.Series(from_directory.pipeline.predict(rows)),
        pd.Series(from_registry.pipeline.predict(rows)),
    )
    # The training rows explanations compare with travel with the export.
    assert from_registry.background is not None
    assert list(from_registry.background.columns) == contract.feature_names
    assert 0 < len(from_registry.background) <= EXAMPLE_ROWS
    pd.testing.assert_frame_equal(from_directory.background, from_registry.background)


@pytest.mark.parametrize("damage", ["missing", "outside the folder"])
def test_a_model_without_readable_example_rows_still_serves(
    exported: Path, trained_settings: Settings, contract: DataContract, damage: str
) -> None:
    described = yaml.safe_load((exported / MLMODEL_FILE).read_text(encoding="utf-8"))
    example = described["saved_input_example_info"]["artifact_path"]
    if damage == "missing":
        (exported / example).unlink()
    else:  # a file beside the folder, not in it: never read
        (exported.parent / example).write_bytes((exported / example).read_bytes())
        described["saved_input_example_info"]["artifact_path"] = f"../{example}"
        (exported / MLMODEL_FILE).write_text(yaml.safe_dump(described), encoding="utf-8")
    offline = trained_settings.model_copy(update={"model_uri": str(exported)})
    model = load_configured_model(offline, contract)
    assert model.background is None  # /explain says so with a 501; /predict is untouched
    assert model.metadata.features == contract.feature_names


def test_export_never_replaces_a_directory_without_force(
    exported: Path, trained_settings: Settings, contract: DataContract
) -> None:
    marker = exported / METADATA_FILE
    before = marker.read_text(encoding="utf-8")
    with pytest.raises(FileExistsError, match="--force"):
        export_model(trained_settings, exported)
    assert marker.read_text(encoding="utf-8") == before
    export_model(trained_settings, exported, force=True)
    assert (exported / MLMODEL_FILE).is_file()
    assert not list(exported.parent.glob(".*.tmp")), "the staging directory was left behind"


def test_a_model_file_asking_to_trust_foreign_code_is_refused(
    exported: Path, trained_settings: Settings, contract: DataContract
) -> None:
    mlmodel = exported / MLMODEL_FILE
    description = yaml.safe_load(mlmodel.read_text(encoding="utf-8"))
    description["flavors"]["sklearn"]["skops_trusted_types"] = ["os.system"]
    mlmodel.write_text(yaml.safe_dump(description), encoding="utf-8")
    with pytest.raises(ConfigError, match=r"os\.system"):
        load_configured_model(
            trained_settings.model_copy(update={"model_uri": str(exported)}), contract
        )


class Planted:
    """A pickle that, when loaded, creates a file: proof that loading ran the attacker's code."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, tuple[Path]]:
        return (Path.touch, (self.marker,))


def plant_pickle(settings: Settings, marker: Path) -> None:
    """Replace version 1's saved model in the artifact store with a pickle that runs code."""
    location = mlflow.MlflowClient().get_model_version_download_uri(settings.model_name, "1")
    folder = Path(location.removeprefix("file://"))
    mlmodel = folder / MLMODEL_FILE
    description = yaml.safe_load(mlmodel.read_text(encoding="utf-8"))
    description["flavors"]["sklearn"] |= {
        "serialization_format": "cloudpickle",
        "pickled_model": "model.pkl",
    }
    mlmodel.write_text(yaml.safe_dump(description), encoding="utf-8")
    (folder / "model.pkl").write_bytes(pickle.dumps(Planted(marker)))


def test_a_pickle_planted_in_the_registry_is_refused_and_never_run(
    champion: str, settings: Settings, contract: DataContract, tmp_path: Path
) -> None:
    marker = tmp_path / "the planted code ran"
    plant_pickle(settings, marker)
    uri = f"models:/{settings.model_name}/1"

    with pytest.raises(ConfigError, match="refused, since loading it could run any code"):
        load_model(uri)
    with pytest.raises(ConfigError, match="refused, since loading it could run any code"):
        load_configured_model(settings, contract)
    with pytest.raises(ConfigError, match="refused"):
        load_model(f"runs:/{champion}/model")

    assert not marker.exists()
    # The plant is live: MLflow's own loader, which follows the MLmodel, runs it.
    with contextlib.suppress(Exception):
        mlflow.sklearn.load_model(uri)
    assert marker.exists()


def test_a_model_trained_on_other_features_is_refused(
    exported: Path, trained_settings: Settings, contract: DataContract
) -> None:
    fewer = contract.model_copy(update={"features": contract.features[:-1]})
    with pytest.raises(ConfigError, match="trained on"):
        load_configured_model(
            trained_settings.model_copy(update={"model_uri": str(exported)}), fewer
        )


def test_no_model_is_reported_before_the_server_starts(settings: Settings, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not in the registry"):
        check_model_source(settings)
    with pytest.raises(ConfigError, match="export"):
        check_model_source(settings.model_copy(update={"model_uri": str(tmp_path)}))


def test_a_registry_uri_where_mlflow_is_not_installed_says_to_serve_an_export(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "mlflow", None)  # `import mlflow` fails, as in the serve image

    with pytest.raises(ConfigError, match="MLflow is not installed here: serve a folder"):
        check_model_source(settings)


def test_the_app_loads_the_model_at_start_up(
    exported: Path, service_settings: Callable[..., Settings], records: list[dict[str, Any]]
) -> None:
    app = create_app(service_settings(model_uri=str(exported)))
    with TestClient(app) as client:
        deadline = time.monotonic() + 60  # the model loads in the background
        while client.get("/ready").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert client.get("/ready").json()["status"] == "ready"
        response = client.post("/predict", json=records[0])
        assert response.status_code == 200, response.text
        assert response.json()["model_version"] == "1"


def test_export_and_serve_commands_give_one_line_errors(
    runner: CliRunner, project_env: dict[str, str], settings: Settings, tmp_path: Path
) -> None:
    env = project_env | {
        "MLFLOW_TRACKING_URI": settings.tracking_uri,
        "{{ cookiecutter.package_name | upper }}_MODEL_NAME": settings.model_name,
    }
    for command in (["export", str(tmp_path / "out")], ["serve"]):
        result = runner.invoke(cli.app, command, env=env)
        assert result.exit_code == 1, result.output
        assert "Traceback" not in result.output
        assert "not in the registry" in result.output


@pytest.mark.usefixtures("trained")
def test_the_export_command_writes_a_servable_directory(
    runner: CliRunner,
    project_env: dict[str, str],
    trained_settings: Settings,
    tmp_path: Path,
) -> None:
    env = project_env | {
        "MLFLOW_TRACKING_URI": trained_settings.tracking_uri,
        "{{ cookiecutter.package_name | upper }}_MODEL_NAME": trained_settings.model_name,
    }
    output = tmp_path / "exported"
    result = runner.invoke(cli.app, ["export", str(output)], env=env)
    assert result.exit_code == 0, result.output
    assert f"version 1 to {output}" in result.output
    assert (output / METADATA_FILE).is_file()


def test_force_replaces_an_export_whole_and_nothing_else(
    exported: Path,
    trained_settings: Settings,
    contract: DataContract,
    tmp_path: Path,
    finished_pid: str,
) -> None:
    kept = tmp_path / "notes"
    kept.mkdir()
    (kept / "keep.txt").write_text("mine", encoding="utf-8")
    a_file = tmp_path / "notes.txt"
    a_file.write_text("mine", encoding="utf-8")
    for target in (kept, a_file):
        with pytest.raises(ConfigError, match="not an exported model; choose an empty or new"):
            export_model(trained_settings, target, force=True)
    the_tests_folder = exported.parent.parent
    with pytest.raises(ConfigError, match="holds the current directory"):
        export_model(trained_settings, the_tests_folder, force=True)
    assert (kept / "keep.txt").read_text(encoding="utf-8") == "mine"
    assert a_file.read_text(encoding="utf-8") == "mine"

    # An export killed part-way leaves its staging directory: the next export removes it.
    killed = exported.with_name(f".{exported.name}.{finished_pid}.tmp")
    killed.mkdir()
    (exported / "stale").write_text("from the old export", encoding="utf-8")
    export_model(trained_settings, exported, force=True)
    assert not (exported / "stale").exists()
    assert (exported / MLMODEL_FILE).is_file()
    assert [p.name for p in exported.parent.iterdir()] == [exported.name]

    empty = tmp_path / "empty"
    empty.mkdir()
    export_model(trained_settings, empty)  # an empty directory needs no --force
    assert (empty / METADATA_FILE).is_file()
