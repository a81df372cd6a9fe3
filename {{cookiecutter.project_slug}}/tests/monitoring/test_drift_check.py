"""The drift check against a real champion: its reference, files and the prediction log, the command."""

import shutil
from collections.abc import Callable
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from {{ cookiecutter.package_name }}.cli import app
from {{ cookiecutter.package_name }}.cli.monitoring import DRIFT_FOUND
from {{ cookiecutter.package_name }}.config import ProjectConfig
from {{ cookiecutter.package_name }}.data.contract import Column, DataContract
from {{ cookiecutter.package_name }}.errors import ConfigError
from {{ cookiecutter.package_name }}.monitoring import monitoring_experiment
from {{ cookiecutter.package_name }}.monitoring.drift_check import (
    champion_reference,
    check_drift,
    current_rows,
)
from {{ cookiecutter.package_name }}.monitoring.prediction_log import (
    PredictionLogger,
    open_log,
)
from {{ cookiecutter.package_name }}.settings import Settings
from {{ cookiecutter.package_name }}.training.tracking import (
    CHAMPION,
    load_with_example,
    metric_name,
)

#: Slow (`make test-all` and CI only): most tests promote a champion first.
pytestmark = pytest.mark.slow

Champion = Callable[[DataContract, pd.DataFrame], ProjectConfig]


def move(
    rows: pd.DataFrame,
    contract: DataContract,
    name: str,
    moved_up: Callable[[pd.DataFrame, str], pd.DataFrame],
) -> pd.DataFrame:
    """Valid rows with one feature drifted.

    Numbers are redrawn from their top 30%; categories or flags, a rare value fills 90% of rows.
    """
    if name in contract.features_of_type("numeric"):
        return moved_up(rows, name)
    moved = rows.copy()
    rarest = moved[name].value_counts().index[-1]
    moved.loc[moved.index[: int(0.9 * len(moved))], name] = rarest
    return moved


def with_categorical(
    contract: DataContract, rows: pd.DataFrame
) -> tuple[DataContract, pd.DataFrame]:
    """The contract and rows if a feature lists categories, else copies with one such added."""
    if any(c.type == "categorical" and c.categories for c in contract.features):
        return contract, rows
    taken = {contract.target.name, contract.id_column, *contract.feature_names}
    name = next(
        f"added category {n}" for n in range(len(taken) + 1) if f"added category {n}" not in taken
    )
    categories = ("p", "q", "r", "s")
    column = Column(name=name, type="categorical", categories=categories)
    own = DataContract(
        name=contract.name,
        id_column=contract.id_column,
        target=contract.target,
        features=(*contract.features, column),
    )
    values = np.random.default_rng(0).choice(np.array(categories, dtype=object), len(rows))
    return own, rows.assign(**{name: values})


def test_training_saves_a_reference_with_the_models_predictions(
    shared_champion: tuple[ProjectConfig, Settings], contract: DataContract
) -> None:
    champion, settings = shared_champion
    reference, version = champion_reference(settings)

    assert version == "1"
    kept = [column.name for column in contract.features if not column.sensitive]
    assert list(reference.columns) == [*kept, "prediction"]
    assert 0 < len(reference) <= champion.monitoring.reference_rows
    assert reference["prediction"].notna().all()


def test_nothing_kept_with_a_model_holds_a_sensitive_value(
    champion_of: Champion, contract: DataContract, raw_data: pd.DataFrame, settings: Settings
) -> None:
    """Every feature marked sensitive: the reference keeps none of them, and the example rows
    (the served model's explanation background) hold one stand-in value per feature."""
    marked = tuple(column.model_copy(update={"sensitive": True}) for column in contract.features)
    champion_of(contract.model_copy(update={"features": marked}), raw_data)

    reference, _ = champion_reference(settings)
    _, example = load_with_example(f"models:/{settings.model_name}@{CHAMPION}")

    assert list(reference.columns) == ["prediction"]
    assert example is not None
    assert len(example) > 1
    for column in contract.features:
        assert example[column.name].nunique(dropna=False) == 1, column.name


def test_a_champion_without_a_reference_says_what_to_do(
    champion: ProjectConfig, settings: Settings
) -> None:
    run = mlflow.get_run(mlflow.MlflowClient().get_model_version(settings.model_name, "1").run_id)
    reference = Path(run.info.artifact_uri.removeprefix("file://")) / "reference"
    shutil.rmtree(reference)  # as for a model trained before monitoring was added

    with pytest.raises(ConfigError, match="version 1 has no drift reference: retrain it"):
        champion_reference(settings)


def test_unseen_rows_of_the_same_data_show_no_drift(
    shared_champion: tuple[ProjectConfig, Settings],
    raw_data: pd.DataFrame,
    tmp_path: Path,
    unseen: Callable[..., pd.DataFrame],
    write: Callable[..., str],
) -> None:
    champion, settings = shared_champion
    result = check_drift(champion, settings, write(unseen(raw_data), tmp_path / "new.csv"))

    assert not result.report.drifted, result.report.drifted_features
    assert result.json_path.is_file()
    assert result.html_path.is_file()
    run = mlflow.get_run(result.run_id)
    assert run.data.tags["drifted"] == "false"
    assert run.data.tags["model_version"] == "1"
    experiment = mlflow.get_experiment(run.info.experiment_id)
    assert experiment.name == monitoring_experiment(settings)


def test_a_shifted_feature_is_reported_and_only_that_one(
    shared_champion: tuple[ProjectConfig, Settings],
    raw_data: pd.DataFrame,
    contract: DataContract,
    moved_feature: str,
    moved_up: Callable[[pd.DataFrame, str], pd.DataFrame],
    tmp_path: Path,
    unseen: Callable[..., pd.DataFrame],
    write: Callable[..., str],
) -> None:
    champion, settings = shared_champion
    name = moved_feature
    path = write(move(unseen(raw_data), contract, name, moved_up), tmp_path / "shifted.csv")

    result = check_drift(champion, settings, path)

    assert result.report.drifted_features == [name]
    assert mlflow.get_run(result.run_id).data.tags["drifted_features"] == name
    assert metric_name("psi", name) in mlflow.get_run(result.run_id).data.metrics


def test_a_new_dominant_category_is_reported(
    champion_of: Champion,
    settings: Settings,
    raw_data: pd.DataFrame,
    contract: DataContract,
    tmp_path: Path,
    unseen: Callable[..., pd.DataFrame],
    write: Callable[..., str],
) -> None:
    own, rows = with_categorical(contract, raw_data)
    name = next(c.name for c in own.features if c.type == "categorical" and c.categories)
    config = champion_of(own, rows)
    rows = unseen(rows)
    rarest = rows[name].value_counts().index[-1]
    rows.loc[rows.index[: int(0.9 * len(rows))], name] = rarest

    result = check_drift(config, settings, write(rows, tmp_path / "category.csv"))

    assert result.report.drifted_features == [name]


def test_the_answered_predictions_are_checked_by_default_without_sensitive_columns(
    shared_champion: tuple[ProjectConfig, Settings],
    raw_data: pd.DataFrame,
    contract: DataContract,
    tmp_path: Path,
    unseen: Callable[..., pd.DataFrame],
    write: Callable[..., str],
) -> None:
    champion, settings = shared_champion
    logging = settings.model_copy(update={"prediction_log_dir": tmp_path / "log"})
    log = open_log(logging)
    assert log is not None
    writer = PredictionLogger(log, contract)
    path = write(unseen(raw_data), tmp_path / "requests.csv")
    # Typed as the service types a request (a missing value is None), with the champion's answers.
    rows, _ = current_rows(champion, settings, contract, path, None, None)
    features = rows[contract.feature_names].astype(object)
    records = features.where(features.notna(), None).to_dict(orient="records")
    outputs = [{"prediction": value} for value in rows["prediction"]]
    for index, (record, output) in enumerate(zip(records, outputs, strict=True)):
        writer.submit(f"request-{index}", "model", "1", [record], [output])
    # A challenger in shadow scored some again: nobody was answered with those, so not counted.
    writer.submit("request-0", "model", "2", records[:10], outputs[:10], "shadow")
    writer.close()

    result = check_drift(champion, logging)

    assert result.source.startswith("prediction log")
    assert result.report.current_rows == len(rows)
    assert not result.report.drifted, result.report.drifted_features
    for column in contract.features:
        if column.sensitive:
            assert column.name in result.report.skipped


def test_a_window_with_too_few_rows_is_an_error_not_a_verdict(
    shared_champion: tuple[ProjectConfig, Settings],
    raw_data: pd.DataFrame,
    tmp_path: Path,
    unseen: Callable[..., pd.DataFrame],
    write: Callable[..., str],
) -> None:
    champion, settings = shared_champion
    path = write(unseen(raw_data, 20), tmp_path / "few.csv")

    with pytest.raises(ConfigError, match="at least 100 are needed"):
        check_drift(champion, settings, path)


def test_drift_needs_a_champion(trained_config: ProjectConfig, settings: Settings) -> None:
    with pytest.raises(ConfigError, match="no champion yet: run `run` first"):
        check_drift(trained_config, settings, "anything.csv")


# --- the command ---------------------------------------------------------------


def test_drift_exits_0_without_drift_and_3_with_it(
    runner: CliRunner,
    cli_env: dict[str, str],
    raw_data: pd.DataFrame,
    contract: DataContract,
    moved_feature: str,
    moved_up: Callable[[pd.DataFrame, str], pd.DataFrame],
    tmp_path: Path,
    unseen: Callable[..., pd.DataFrame],
    write: Callable[..., str],
) -> None:
    name = moved_feature
    calm = write(unseen(raw_data), tmp_path / "calm.csv")
    moved = write(move(unseen(raw_data), contract, name, moved_up), tmp_path / "moved.csv")

    without = runner.invoke(app, ["drift", calm], env=cli_env)
    found = runner.invoke(app, ["drift", moved], env=cli_env)

    assert without.exit_code == 0, without.output
    assert "No drift found" in without.stdout
    assert found.exit_code == DRIFT_FOUND, found.output
    assert f"drift found: {name}" in found.stderr
    assert "reports/drift/drift.html" in found.stdout


def test_drift_that_cannot_run_says_why_in_one_line(
    runner: CliRunner,
    cli_env: dict[str, str],
    raw_data: pd.DataFrame,
    tmp_path: Path,
    unseen: Callable[..., pd.DataFrame],
    write: Callable[..., str],
) -> None:
    result = runner.invoke(
        app, ["drift", write(unseen(raw_data, 20), tmp_path / "few.csv")], env=cli_env
    )

    assert result.exit_code == 1
    assert result.stderr.count("\n") == 1
    assert "at least 100 are needed" in result.stderr
