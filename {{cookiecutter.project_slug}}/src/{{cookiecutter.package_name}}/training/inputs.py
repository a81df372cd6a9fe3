"""What every training stage starts from: the processed data, split, and the baseline to beat."""

from pathlib import Path

import pandas as pd
from sklearn.pipeline import Pipeline

from {{ cookiecutter.package_name }}.config import ProjectConfig
from {{ cookiecutter.package_name }}.data.contract import (
    TASK,
    DataContract,
    check_task,
    load_contract,
)
from {{ cookiecutter.package_name }}.data.features import build_pipeline
from {{ cookiecutter.package_name }}.data.ingest import processed_path
from {{ cookiecutter.package_name }}.data.splits import Splits, split
from {{ cookiecutter.package_name }}.errors import ConfigError
from {{ cookiecutter.package_name }}.training.models import make_estimator

#: What `load_splits` returns: the contract, the split data, and the data's path.
Loaded = tuple[DataContract, Splits, Path]


def load_splits(config: ProjectConfig) -> Loaded:
    """The contract, the processed data split as the config says, and the data's path.

    Raises:
        ConfigError: there is no processed data yet, or the contract is for another task.
    """
    contract = load_contract(config.data.contract)
    check_task(contract, TASK)
    path = processed_path(config, contract)
    if not path.exists():
        raise ConfigError(f"{path} not found: run `ingest` first")
    frame = pd.read_parquet(path)
    return contract, split(frame, contract, config.split, seed=config.seed), path


def fit_baseline(contract: DataContract, parts: Splits, *, seed: int) -> Pipeline:
    """The dummy model every trained model must beat, fitted on the training split (cheaply)."""
    baseline = build_pipeline(contract, make_estimator("baseline", {}, seed=seed))
    return baseline.fit(parts.train[contract.feature_names], parts.train[contract.target.name])
