"""The train stage: everything about a run is tracked, the model is registered, runs repeat."""

import os
import socket

import mlflow
import numpy as np
import pytest

from {{ cookiecutter.package_name }}.config import ProjectConfig, TrainConfig
from {{ cookiecutter.package_name }}.data.contract import DataContract
from {{ cookiecutter.package_name }}.data.splits import SEEN_ROWS, row_keys
from {{ cookiecutter.package_name }}.errors import ConfigError
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.training.inputs import load_splits
from {{ cookiecutter.package_name }}.training.models import PRIMARY_METRIC, is_better
{%- if cookiecutter.task == "classification" %}
from {{ cookiecutter.package_name }}.training.predictions import THRESHOLD_METRIC
{%- endif %}
from {{ cookiecutter.package_name }}.training.tracking import load_model
from {{ cookiecutter.package_name }}.training.train import TrainResult, train


def with_model(config: ProjectConfig, model: str) -> ProjectConfig:
    return config.model_copy(update={"train": TrainConfig(model=model)})  # type: ignore[arg-type]


@pytest.mark.parametrize("model", ["baseline", "linear"])  # gradient boosting: `trained`
def test_each_model_family_trains_and_registers(
    trained_config: ProjectConfig, settings: Settings, model: str
) -> None:
    result = train(with_model(trained_config, model), settings)

    assert result.model_version == "1"
    assert result.validation_score > 0


def test_run_records_params_metrics_data_and_the_model(
    trained: TrainResult,
    trained_settings: Settings,
    trained_config: ProjectConfig,
    contract: DataContract,
) -> None:
    result = trained
    run = mlflow.get_run(result.run_id)

    assert run.data.params["model"] == "gradient_boosting"
    assert run.data.params["model.max_iter"] == "30"
    assert run.data.params["seed"] == str(trained_config.seed)
    assert {"git_commit", "data_sha256"} <= set(run.data.tags)
    assert len(run.data.tags["data_sha256"]) == 64
    assert {
        f"validation_{PRIMARY_METRIC}",
        f"baseline_validation_{PRIMARY_METRIC}",
        "training_seconds",
    } <= set(run.data.metrics)
    contexts = {inp.tags[0].value for inp in run.inputs.dataset_inputs}
    assert contexts == {"train", "validation", "test"}
    assert is_better(result.validation_score, result.baseline_validation_score)

    logged = mlflow.models.get_model_info(f"runs:/{result.run_id}/model")
    assert logged.signature is not None
    assert [spec.name for spec in logged.signature.inputs] == contract.feature_names
    assert logged.saved_input_example_info is not None
    version = mlflow.MlflowClient().get_model_version(trained_settings.model_name, "1")
    assert version.run_id == result.run_id


def test_logged_model_predicts_like_the_trained_one(
    trained: TrainResult, trained_settings: Settings, contract: DataContract, raw_data
) -> None:  # type: ignore[no-untyped-def]
    rows = raw_data[contract.feature_names].head(20)

    model = load_model(f"models:/{trained_settings.model_name}/{trained.model_version}")

    assert len(model.predict(rows)) == 20


def test_same_config_and_data_give_the_same_scores(
    trained: TrainResult, trained_config: ProjectConfig, settings: Settings
) -> None:
    again = train(trained_config, settings)  # as `trained` was, in a folder of its own

    assert again.validation_score == trained.validation_score


def test_training_before_ingest_says_what_to_run(
    project_config: ProjectConfig, settings: Settings, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    config = project_config.model_copy(
        update={
            "data": project_config.data.model_copy(update={"processed_dir": tmp_path / "empty"})
        }
    )

    with pytest.raises(ConfigError, match="run `ingest` first"):
        train(config, settings)


def test_run_records_which_rows_the_model_has_seen(
    trained_config: ProjectConfig, settings: Settings, tmp_path
) -> None:  # type: ignore[no-untyped-def]
    result = train(trained_config, settings)

    path = mlflow.artifacts.download_artifacts(
        run_id=result.run_id, artifact_path=SEEN_ROWS, dst_path=str(tmp_path)
    )

    contract, parts, _ = load_splits(trained_config)
    seen = np.load(path)
    assert len(seen) == len(parts.train) + len(parts.validation)
    assert not np.isin(row_keys(parts.test, contract), seen).any()
{%- if cookiecutter.task == "classification" %}


def test_a_two_class_model_records_the_threshold_it_decides_at(
    trained: TrainResult, trained_config: ProjectConfig, settings: Settings, contract: DataContract
) -> None:
    fixed = trained_config.model_copy(
        update={"evaluate": trained_config.evaluate.model_copy(update={"threshold": 0.42})}
    )

    chosen = mlflow.get_run(trained.run_id).data.metrics
    pinned = mlflow.get_run(train(fixed, settings).run_id).data.metrics

    if len(contract.classes) == 2:
        assert 0 < chosen[THRESHOLD_METRIC] < 1  # max_f1, on the validation set
        assert pinned[THRESHOLD_METRIC] == 0.42
    else:  # the most probable class wins: there is no threshold to record
        assert THRESHOLD_METRIC not in chosen
        assert THRESHOLD_METRIC not in pinned
{%- endif %}


def test_a_training_run_names_its_process_and_marks_a_killed_one(
    trained_config: ProjectConfig, settings: Settings, finished_pid: str
) -> None:
    first = train(trained_config, settings)
    client = mlflow.MlflowClient()
    tags = client.get_run(first.run_id).data.tags
    assert tags["host"] == socket.gethostname()
    assert tags["pid"] == str(os.getpid())
    # As if the first run's process had been killed mid-training, and then trained again.
    client.update_run(first.run_id, status="RUNNING")
    client.set_tag(first.run_id, "pid", finished_pid)

    second = train(trained_config, settings)

    assert client.get_run(first.run_id).info.status == "KILLED"
    assert (first.model_version, second.model_version) == ("1", "2")
