"""The whole rollout, played against the live service: the readout picks the truly better model.

Three models learn from rows generated from the project's contract: a champion that learned
little (its training rows' features shuffled), a better challenger (the real rows) and a worse
one (rows labelled wrongly). Each challenger runs beside the champion in shadow and in a canary,
in `serve` on 127.0.0.1, under concurrent requests; the labels then arrive, and the readout must
promote the better one, keep the champion against the worse one, and ask for more rows when
only a few are labelled.
"""

import contextlib
import os
import re
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx2
import numpy as np
import pandas as pd
import pytest
import yaml

from {{ cookiecutter.package_name }}.config import ProjectConfig
from {{ cookiecutter.package_name }}.data.contract import DataContract
from {{ cookiecutter.package_name }}.data.datasets import write_parquet
from {{ cookiecutter.package_name }}.data.ingest import processed_path
from {{ cookiecutter.package_name }}.data.validation import validate
from {{ cookiecutter.package_name }}.monitoring.experiment import Readout, read_experiment
from {{ cookiecutter.package_name }}.serving.observability import REQUEST_ID_HEADER
from {{ cookiecutter.package_name }}.serving.rollout import VARIANT_HEADER
from {{ cookiecutter.package_name }}.settings import ENV_PREFIX, Settings
from {{ cookiecutter.package_name }}.training.train import train

pytestmark = pytest.mark.slow

#: Generated rows: the first TRAINING teach the models, the rest are the traffic.
ROWS, TRAINING = 3000, 1800
#: Records per request, requests in flight, and keys (each used by several requests).
RECORDS, IN_FLIGHT, KEYS = 5, 8, 60
CANARY_SHARE = 0.3
#: The fewest labelled rows per variant for a verdict (`monitoring.min_rows`).
MIN_ROWS = 100
Records = Callable[[pd.DataFrame, DataContract], list[dict[str, Any]]]


class Story:
    """The project the versions learn in, their numbers by name, and the traffic to send."""

    def __init__(
        self, config: ProjectConfig, settings: Settings, folder: Path, traffic: pd.DataFrame
    ) -> None:
        """Hold the project the story trains in, and the rows it sends."""
        self.config, self.settings, self.folder, self.traffic = config, settings, folder, traffic
        self.versions: dict[str, str] = {}

    def learn(self, name: str, rows: pd.DataFrame, contract: DataContract) -> None:
        """Train a version on `rows` and remember it as `name`."""
        write_parquet(validate(rows, contract), processed_path(self.config, contract))
        with contextlib.chdir(self.folder):  # MLflow keeps artifacts under the working directory
            self.versions[name] = str(train(self.config, self.settings).model_version)


@pytest.fixture(scope="module")
def story(
    new_project: Callable[[str], tuple[ProjectConfig, Settings, Path]],
    contract: DataContract,
    generate: Callable[..., pd.DataFrame],
) -> Story:
    """The three versions, trained once for every rollout below."""
    config, settings, folder = new_project("rollout story")
    # The readout's minimum rows as shipped, whatever the project's config says: 40 are too few.
    monitoring = config.monitoring.model_copy(update={"min_rows": MIN_ROWS})
    config = config.model_copy(update={"monitoring": monitoring})
    rows = generate(contract, ROWS, seed=5)
    seen = rows.iloc[:TRAINING]
    story = Story(config, settings, folder, rows.iloc[TRAINING:].reset_index(drop=True))
    rng = np.random.default_rng(5)
    shuffled = seen.assign(**{name: rng.permutation(seen[name]) for name in contract.feature_names})
    story.learn("champion", shuffled, contract)
    story.learn("better", seen, contract)
    story.learn("worse", mislabelled(seen, contract), contract)
    return story


def mislabelled(rows: pd.DataFrame, contract: DataContract) -> pd.DataFrame:
{%- if cookiecutter.task == "classification" %}
    """`rows` with every label moved to the next class: a model that learns them is wrong."""
    classes = list(contract.classes)
    following = {str(label): classes[(at + 1) % len(classes)] for at, label in enumerate(classes)}
    target = contract.target.name
    return rows.assign(**{target: rows[target].map(lambda label: following[str(label)])})
{%- else %}
    """`rows` with the target mirrored in its range: a model that learns it is wrong."""
    target = rows[contract.target.name].astype(float)
    return rows.assign(**{contract.target.name: target.max() + target.min() - target})
{%- endif %}


@contextlib.contextmanager
def serving(story: Story, challenger: str, mode: str, log: Path, port: int) -> Iterator[str]:
    """`serve` with the champion and a challenger in `mode`, on `port`; its address.

    Stopped on leaving, as a deployment stops it: what it logged is then on disk.
    """
    config_file = log.parent / f"{log.name}.yaml"
    config_file.write_text(yaml.safe_dump(story.config.model_dump(mode="json")), "utf-8")
    name, versions = story.settings.model_name, story.versions
    env = os.environ | {
        "MLFLOW_TRACKING_URI": story.settings.tracking_uri,
        f"{ENV_PREFIX}CONFIG_FILE": str(config_file),
        f"{ENV_PREFIX}MODEL_NAME": name,
        f"{ENV_PREFIX}MODEL_URI": f"models:/{name}/{versions['champion']}",
        f"{ENV_PREFIX}CHALLENGER_URI": f"models:/{name}/{versions[challenger]}",
        f"{ENV_PREFIX}ROLLOUT": mode,
        f"{ENV_PREFIX}CANARY_SHARE": str(CANARY_SHARE),
        f"{ENV_PREFIX}PREDICTION_LOG_DIR": str(log),
    }
    package = "{{ cookiecutter.package_name }}"
    command = [sys.executable, "-m", package, "serve", "--port", str(port)]
    printed = log.parent / f"{log.name}.out"
    output = printed.open("w", encoding="utf-8")
    server = subprocess.Popen(
        command, cwd=story.folder, env=env, stdout=output, stderr=subprocess.STDOUT
    )
    address = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while not _ready(address):
            assert server.poll() is None, printed.read_text("utf-8")
            assert time.monotonic() < deadline, "the service was not ready in 90 s"
            time.sleep(0.2)
        yield address
    finally:
        server.terminate()
        server.wait(30)
        output.close()


def _ready(address: str) -> bool:
    with contextlib.suppress(httpx2.HTTPError):
        return httpx2.get(f"{address}/ready", timeout=2).status_code == 200
    return False


def play(address: str, records: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], str]:
    """Send `records` RECORDS at a time, IN_FLIGHT requests at once: the answers, in order, and
    the service's metrics after them.

    Request `n` carries the ID `request-n` (the labels name it) and the key `customer-(n % KEYS)`.
    """
    batches = [records[start : start + RECORDS] for start in range(0, len(records), RECORDS)]

    def send(number: int) -> dict[str, Any]:
        headers = {
            REQUEST_ID_HEADER: f"request-{number}",
            VARIANT_HEADER: f"customer-{number % KEYS}",
        }
        answer = client.post("/predict/batch", json={"records": batches[number]}, headers=headers)
        assert answer.status_code == 200, answer.text
        return dict(answer.json()) | {"key": headers[VARIANT_HEADER]}

    with httpx2.Client(base_url=address, timeout=60) as client:
        with ThreadPoolExecutor(IN_FLIGHT) as pool:
            answers = list(pool.map(send, range(len(batches))))
        metrics = client.get("/metrics").text
    return answers, metrics


def labels_for(story: Story, contract: DataContract, answers: list[dict[str, Any]]) -> pd.DataFrame:
    """The labels as they arrive later: each answered record's true target, by request and row."""
    truth = story.traffic[contract.target.name]
    return pd.DataFrame(
        {
            "request_id": answer["request_id"],
            "row": row,
            contract.target.name: truth.iloc[number * RECORDS + row],
        }
        for number, answer in enumerate(answers)
        for row in range(len(answer["predictions"]))
    )


def readout(story: Story, log: Path, labels: pd.DataFrame) -> Readout:
    """The experiment's readout of `log` with `labels`."""
    path = log.parent / f"{log.name}-labels.csv"
    labels.to_csv(path, index=False)
    settings = story.settings.model_copy(update={"prediction_log_dir": log})
    return read_experiment(story.config, settings, str(path))


@pytest.mark.parametrize("mode", ["shadow", "canary"])
@pytest.mark.parametrize(("challenger", "verdict"), [("better", "promote"), ("worse", "keep")])
def test_the_readout_of_a_live_rollout_promotes_the_better_model_and_keeps_the_champion(
    story: Story,
    mode: str,
    challenger: str,
    verdict: str,
    contract: DataContract,
    to_records: Records,
    free_port: Callable[[], int],
    tmp_path: Path,
) -> None:
    log = tmp_path / f"{mode}-{challenger}"
    with serving(story, challenger, mode, log, free_port()) as address:
        answers, metrics = play(address, to_records(validate(story.traffic, contract), contract))

    variants = pd.DataFrame(answers)[["key", "variant", "model_version"]]
    if mode == "shadow":
        assert set(variants["variant"]) == {"champion"}
    else:  # each key always met one model, and about the configured share met the challenger
        assert variants.groupby("key")["variant"].nunique().max() == 1
        answered = int((variants["variant"] == "challenger").sum())
        assert 0.1 < answered / len(answers) < 0.5, answered
        served = re.search(r'^variant_requests_total\{variant="challenger"\} (\S+)$', metrics, re.M)
        assert served is not None
        assert float(served.group(1)) == answered
    expected = {"champion": story.versions["champion"], "challenger": story.versions[challenger]}
    assert all(expected[row.variant] == row.model_version for row in variants.itertuples())

    labels = labels_for(story, contract, answers)
    result = readout(story, log, labels)

    assert (result.mode, result.verdict) == (mode, verdict), result.reason
    assert (result.champion_version, result.challenger_version) == tuple(expected.values())
    if mode == "shadow":  # the challenger scored every record the champion answered
        assert result.rows == {"champion": len(labels), "challenger": len(labels)}
    else:
        assert sum(result.rows.values()) == len(labels)

    if mode == "shadow" and challenger == "better":  # the first labels alone are too few
        first = labels[labels["request_id"].isin([f"request-{number}" for number in range(8)])]
        early = readout(story, log, first)
        assert early.verdict == "collect", early.reason
        assert f"{early.needed_rows - len(first):,} more labelled rows" in early.reason
