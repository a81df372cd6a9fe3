"""Monitoring fixtures: a champion with its drift reference, rows it never saw, and the CLI's environment."""

import contextlib
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import yaml

from {{ cookiecutter.package_name }}.config import ProjectConfig
from {{ cookiecutter.package_name }}.data.contract import DataContract, dump_contract
from {{ cookiecutter.package_name }}.data.datasets import write_parquet
from {{ cookiecutter.package_name }}.data.ingest import processed_path
from {{ cookiecutter.package_name }}.data.validation import validate
from {{ cookiecutter.package_name }}.settings import ENV_PREFIX, Settings
from {{ cookiecutter.package_name }}.training.evaluate import evaluate_run
from {{ cookiecutter.package_name }}.training.promote import promote
from {{ cookiecutter.package_name }}.training.train import train

#: The share of the generated rows a champion learns from; the others it never saw.
TRAINED = 0.6

Champion = Callable[[DataContract, pd.DataFrame], ProjectConfig]


@pytest.fixture
def champion_of(
    trained_config: ProjectConfig, settings: Settings, contract: DataContract, tmp_path: Path
) -> Champion:
    """Train, evaluate and promote a champion on the first rows, under a contract; its config.

    The configured contract, or one of the test's own (written beside the test's files).
    """

    def make(own: DataContract, rows: pd.DataFrame) -> ProjectConfig:
        config = trained_config
        if own != contract:
            path = tmp_path / "own-contract.yaml"
            path.write_text(dump_contract(own), encoding="utf-8")
            data = config.data.model_copy(update={"contract": path})
            config = config.model_copy(update={"data": data})
        crown(config, settings, own, rows)
        return config

    return make


def unexplained(config: ProjectConfig) -> ProjectConfig:
    """`config` without SHAP explanations: monitoring never reads them, and they cost a second
    or more per evaluation (tests/training/test_evaluate.py and tests/governance keep them)."""
    evaluate = config.evaluate.model_copy(update={"explanations": False})
    return config.model_copy(update={"evaluate": evaluate})


@pytest.fixture
def trained_config(trained_config: ProjectConfig) -> ProjectConfig:
    """The quick config, `unexplained`, for every monitoring test."""
    return unexplained(trained_config)


def crown(config: ProjectConfig, settings: Settings, own: DataContract, rows: pd.DataFrame) -> None:
    """Train, evaluate and promote a champion on the first TRAINED share of `rows`."""
    seen = rows.iloc[: int(TRAINED * len(rows))]
    write_parquet(validate(seen, own), processed_path(config, own))
    run_id = train(config, settings).run_id
    evaluate_run(config, settings, run_id)
    promote(config, settings, run_id)


@pytest.fixture(scope="module")
def shared_champion(
    new_project: Callable[[str], tuple[ProjectConfig, Settings, Path]],
    contract: DataContract,
    raw_data: pd.DataFrame,
) -> tuple[ProjectConfig, Settings]:
    """A champion as `champion` makes it, once per module, for the tests that only read it."""
    config, settings, folder = new_project("shared champion")
    config = unexplained(config)
    with contextlib.chdir(folder):  # MLflow keeps artifacts under the working directory
        crown(config, settings, contract, raw_data)
    return config, settings


@pytest.fixture
def champion(
    champion_of: Champion, contract: DataContract, raw_data: pd.DataFrame
) -> ProjectConfig:
    """The config of a champion trained, evaluated and promoted on the first generated rows."""
    return champion_of(contract, raw_data)


@pytest.fixture
def unseen() -> Callable[..., pd.DataFrame]:
    """Rows the champion was not trained on (it saw the first TRAINED share): all, or `count`."""

    def rows_after(rows: pd.DataFrame, count: int | None = None) -> pd.DataFrame:
        rest = rows.iloc[int(TRAINED * len(rows)) :].reset_index(drop=True)
        assert count is None or count <= len(rest), "too few generated rows"
        return rest if count is None else rest.head(count)

    return rows_after


@pytest.fixture
def write() -> Callable[[pd.DataFrame, Path], str]:
    """Writes rows to a CSV file; returns its path as the CLI takes it."""

    def to_csv(rows: pd.DataFrame, path: Path) -> str:
        rows.to_csv(path, index=False)
        return str(path)

    return to_csv


@pytest.fixture
def cli_env(
    champion: ProjectConfig, settings: Settings, project_env: dict[str, str], tmp_path: Path
) -> dict[str, str]:
    """The environment that points the CLI at the champion's config and tracking store."""
    path = tmp_path / "monitored.yaml"
    path.write_text(yaml.safe_dump(champion.model_dump(mode="json")), encoding="utf-8")
    return project_env | {
        f"{ENV_PREFIX}CONFIG_FILE": str(path),
        f"{ENV_PREFIX}MODEL_NAME": settings.model_name,
        "MLFLOW_TRACKING_URI": settings.tracking_uri,
    }
