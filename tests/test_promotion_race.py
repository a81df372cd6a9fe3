"""Two `promote` processes started at the same moment: the better candidate ends up champion.

A baked project trains a weak champion and two candidates that both beat it, one better than the
other, each evaluated against the weak champion. Each round puts the weak champion back, starts
two real `promote` processes (the CLI, in their own interpreters), holds them at a barrier once
they have imported everything and opened the tracking store, and releases both at once.

The race window is widened the way a slow tracking server would: in each racer (never in the
project's code) moving the alias answers after a delay, longer for the worse candidate. Without
a compare-and-set both read the weak champion, both pass, and the worse candidate moves the
alias last: it wins every round. With it, the second promotion waits for the first and is
compared with the champion the first made. Every round must end with the better candidate as
champion, and every refusal must be recorded on the refused version.
"""

from __future__ import annotations

import json
import subprocess
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import pytest
from test_baked_project import installable

from conftest import DEFAULTS, FAST, run

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(FAST, reason="TEMPLATE_TESTS_FAST=1: baked projects are not installed"),
]

#: Two rounds for each start order.
ROUNDS = 4
#: Seconds each racer's alias move waits before it reaches the store.
DELAYS = {"better": 0.5, "worse": 2.0}
PACKAGE = "customer_churn"

#: Trains the weak champion and the two candidates; prints their run IDs and test scores.
SETUP = f"""
import json
from pathlib import Path
from {PACKAGE}.config import load_config, TrainConfig
from {PACKAGE}.training.evaluate import evaluate_run
from {PACKAGE}.data.ingest import ingest
from {PACKAGE}.training.models import PRIMARY_METRIC
from {PACKAGE}.training.promote import promote
from {PACKAGE}.settings import Settings
from {PACKAGE}.training.train import train
import mlflow

settings = Settings()
config = load_config(Path("configs/project.yaml"))
ingest(config)
models = {{
    "weak": {{"max_iter": 1, "max_leaf_nodes": 2}},
    "better": {{"max_iter": 40}},
    "worse": {{"max_iter": 3, "max_leaf_nodes": 3}},
}}
runs = {{}}
for role, params in models.items():
    trained = config.model_copy(
        update={{"train": TrainConfig(model="gradient_boosting", params=params)}}
    )
    runs[role] = train(trained, settings).run_id
    evaluate_run(trained, settings, runs[role])
    if role == "weak":
        promote(trained, settings, runs[role])
scores = {{
    role: mlflow.get_run(run_id).data.metrics[f"test_{{PRIMARY_METRIC}}"]
    for role, run_id in runs.items()
}}
print(json.dumps({{"runs": runs, "scores": scores}}))
"""

#: One `promote` process: everything imported and the store open, then wait for the start.
RACER = f"""
import sys
import time
import mlflow
from {PACKAGE}.training import promote
from {PACKAGE}.training import tracking
from {PACKAGE}.cli import app
from {PACKAGE}.settings import Settings

move = mlflow.MlflowClient.set_registered_model_alias


def slow_move(self, *args, **kwargs):
    time.sleep(float(sys.argv[2]))  # a slow tracking server
    return move(self, *args, **kwargs)


mlflow.MlflowClient.set_registered_model_alias = slow_move
settings = Settings()
tracking.configure(settings, experiment=settings.model_name)
mlflow.MlflowClient().get_run(sys.argv[1])
print("ready", flush=True)
sys.stdin.readline()
app(["promote", "--run-id", sys.argv[1]])
"""

#: Prints the champion and each version's tags, then puts the weak champion back.
STATE = f"""
import json
import sys
import mlflow
from {PACKAGE}.training import tracking
from {PACKAGE}.settings import Settings

settings = Settings()
tracking.connect(settings)
client = mlflow.MlflowClient()
name = settings.model_name
print(json.dumps({{
    "champion": tracking.champion_version(name),
    "versions": {{run_id: tracking.version_of_run(name, run_id) for run_id in sys.argv[2:]}},
    "tags": {{
        run_id: client.get_model_version(name, tracking.version_of_run(name, run_id)).tags
        for run_id in sys.argv[2:]
    }},
}}))
weak = tracking.version_of_run(name, sys.argv[1])
client.set_registered_model_alias(name, tracking.CHAMPION, weak)
for run_id in sys.argv[2:]:
    version = tracking.version_of_run(name, run_id)
    for tag in ("promoted", "rejected"):
        if tag in client.get_model_version(name, version).tags:
            client.delete_model_version_tag(name, version, tag)
"""


def printed(output: str) -> Any:
    """The JSON a script printed, among the warnings libraries print around it."""
    return json.loads(next(line for line in reversed(output.splitlines()) if line[:1] == "{"))


def race(python: str, project: Path, racers: dict[str, float]) -> dict[str, tuple[int, str]]:
    """Start a `promote` per run, with its delay, release them together: code and output by run."""
    with ExitStack() as stack:
        started = {
            run_id: stack.enter_context(
                subprocess.Popen(
                    [python, "-c", RACER, run_id, str(delay)],
                    cwd=project,
                    stdin=subprocess.PIPE,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                )
            )
            for run_id, delay in racers.items()
        }
        try:
            for racer in started.values():
                assert racer.stdout is not None
                line = racer.stdout.readline()
                assert line.strip() == "ready", line + racer.stdout.read()
            for racer in started.values():  # the barrier: both are released within microseconds
                assert racer.stdin is not None
                racer.stdin.write("go\n")
                racer.stdin.flush()
            outputs = {
                run_id: racer.communicate(timeout=300)[0] for run_id, racer in started.items()
            }
            return {
                run_id: (started[run_id].returncode, output) for run_id, output in outputs.items()
            }
        finally:
            for racer in started.values():
                if racer.poll() is None:
                    racer.kill()


def test_concurrent_promotions_never_let_the_worse_candidate_win(bake: Any) -> None:
    answers, env = installable(DEFAULTS)
    project = bake(**answers)
    run(["uv", "sync", "--all-extras"], cwd=project, env=env)
    python = str(project / ".venv" / "bin" / "python")
    setup = printed(run([python, "-c", SETUP], cwd=project, env=env))
    runs, scores = setup["runs"], setup["scores"]
    # The premise: both candidates beat the weak champion, one beats the other.
    assert scores["weak"] < scores["worse"] < scores["better"], scores
    weak, better, worse = runs["weak"], runs["better"], runs["worse"]

    refusals = 0
    for round_ in range(ROUNDS):
        # Alternate who is started first, so neither always has the head start.
        order = [better, worse] if round_ % 2 else [worse, better]
        delays = {better: DELAYS["better"], worse: DELAYS["worse"]}
        outcomes = race(python, project, {run_id: delays[run_id] for run_id in order})
        state = printed(run([python, "-c", STATE, weak, better, worse], cwd=project, env=env))

        assert state["champion"] == state["versions"][better], (
            f"round {round_}: the worse candidate won: {outcomes}"
        )
        assert outcomes[better][0] == 0, outcomes[better][1]  # the better one always passes
        assert "promoted" in state["tags"][better]
        code, output = outcomes[worse]
        assert code in {0, 1}, output
        if code == 1:  # refused: the refusal is recorded on its version, with the reason
            refusals += 1
            assert "was not promoted" in output
            assert "worse than the champion" in state["tags"][worse]["rejected"]
    print(f"{ROUNDS} rounds, {refusals} refusals of the worse candidate")
