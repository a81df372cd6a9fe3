"""Build the baked project's images with podman and serve predictions from a real container.

No registry is reachable here, so the base images the Dockerfile names are stood in for
locally (tests/containers.py); everything else is the baked Dockerfile as a user builds it.
Skipped, with the reason, where podman cannot be installed or run.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from containers import (
    DEBIAN_PYTHON,
    Podman,
    Unavailable,
    base_images,
    cannot_run,
    container,
    ensure_stand_ins,
    podman_or_reason,
    qualified,
    wait_healthy,
)
from live_service import (
    assert_explanation_adds_up,
    free_port,
    http,
    sample_records,
    wait_for_status,
)
from test_baked_project import installable

from conftest import DEFAULTS, FAST, bake_with, run, tool

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(FAST, reason="TEMPLATE_TESTS_FAST=1: baked projects are not installed"),
]

SLUG = "customer-churn"
IMAGE = f"localhost/{SLUG}-template-test"


@pytest.fixture(scope="module")
def podman() -> Podman:
    found = podman_or_reason()
    if isinstance(found, str):
        pytest.skip(found)
    return found


@pytest.fixture(scope="module")
def project(cookies_session: Any, podman: Podman) -> tuple[Path, dict[str, str]]:
    """The default answers baked and installed (which writes uv.lock), base images at hand.

    The Python version is the one a bookworm stand-in can hold, if this machine has it too.
    One bake serves every test here; `champion` adds the pipeline's outputs to it once.
    """
    answers, env = installable(DEFAULTS | {"python_version": DEBIAN_PYTHON})
    project = bake_with(cookies_session, answers)
    run(["make", "install"], cwd=project, env=env)
    start = time.monotonic()
    try:
        made = ensure_stand_ins(podman, project / "Dockerfile", uv=tool("uv"))
    except Unavailable as reason:
        pytest.skip(str(reason))
    if made:
        print(f"Made stand-ins for {', '.join(made)} in {time.monotonic() - start:.0f} s")
    reason = cannot_run(podman, qualified(base_images(project / "Dockerfile")[0]))
    if reason:
        pytest.skip(reason)
    podman.prune()
    return project, env


@pytest.fixture(scope="module")
def champion(project: tuple[Path, dict[str, str]]) -> Path:
    """The project's pipeline run (`make run`) and its champion exported for the serve images."""
    path, env = project
    pipeline = run(["make", "run"], cwd=path, env=env | {"COLUMNS": "200"})
    assert f"Champion: {SLUG} version 1" in pipeline
    run(["uv", "run", SLUG, "export", "models/champion"], cwd=path, env=env)
    assert (path / "models" / "champion").is_dir()
    return path / "models" / "champion"


def build(podman: Podman, project: Path, tag: str, *options: str) -> float:
    """`podman build` the project as a user would; the seconds it took.

    Docker format, because the OCI format has no HEALTHCHECK; never pulling, because the base
    images are the local stand-ins.
    """
    start = time.monotonic()
    podman.run("build", "--pull=never", "--format=docker", "--tag", tag, *options, str(project))
    return time.monotonic() - start


def test_train_image_runs_the_cli(podman: Podman, project: tuple[Path, dict[str, str]]) -> None:
    path, _ = project
    tag = f"{IMAGE}:train"
    seconds = build(podman, path, tag, "--target", "train")

    assert podman.run("image", "inspect", "--format", "{{.Config.User}}", tag).stdout.strip() == (
        "10001:10001"
    )
    helped = podman.run("run", "--rm", tag, SLUG, "--help").stdout
    assert "Usage" in helped
    assert " run " in helped
    info = podman.run("run", "--rm", tag, SLUG, "info").stdout
    assert "seed:" in info
    base = qualified(base_images(path / "Dockerfile")[0])
    added, layers = podman.added_layers(tag, base)
    print(f"Train image: built in {seconds:.0f} s, {added / 1e6:.0f} MB above {base}:")
    print(*(f"  {layer}" for layer in layers), sep="\n")


def test_serve_image_answers_predictions(
    podman: Podman, project: tuple[Path, dict[str, str]], champion: Path
) -> None:
    path, _ = project
    tag = f"{IMAGE}:serve"
    seconds = build(podman, path, tag)  # the default target: the last stage, serve
    base = qualified(base_images(path / "Dockerfile")[0])
    added, layers = podman.added_layers(tag, base)

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    started = time.monotonic()
    with container(
        podman,
        f"--publish=127.0.0.1:{port}:8000",
        f"--volume={champion}:/app/models/champion:ro",
        tag,
    ) as container_id:
        healthy_in = wait_healthy(podman, container_id)
        ready_in, ready = wait_for_status(f"{url}/ready", 200, timeout=60)
        assert ready["status"] == "ready"
        assert podman.run("exec", container_id, "id", "-u").stdout.strip() == "10001"

        record, other = sample_records(path, 2)
        status, answer = http("POST", f"{url}/predict", record)
        assert status == 200, answer
        assert "prediction" in answer, answer
        assert answer["model_name"] == SLUG
        assert answer["model_version"] == "1"
        status, batch = http("POST", f"{url}/predict/batch", {"records": [record, other]})
        assert status == 200, batch
        assert len(batch["predictions"]) == 2
        assert batch["predictions"][0]["prediction"] == answer["prediction"]
        status, refused = http("POST", f"{url}/explain", record)  # no SHAP in this image
        assert status == 501, refused
        assert "--extra explain" in refused["error"], refused
        total = time.monotonic() - started
        # Only what serving an exported model imports: no tracking or training packages.
        packages = "('mlflow', 'optuna', 'matplotlib')"
        absent = f"import importlib.util as u; print([p for p in {packages} if u.find_spec(p)])"
        assert podman.run("exec", container_id, "python", "-c", absent).stdout.strip() == "[]"

    assert added <= 350e6, f"the serve image adds {added / 1e6:.0f} MB to its base (at most 350)"

    print(f"Serve image: built in {seconds:.0f} s, {added / 1e6:.0f} MB above {base}:")
    print(*(f"  {layer}" for layer in layers), sep="\n")
    print(
        f"Healthy {healthy_in:.1f} s after `podman run -d` returned, ready {ready_in:.1f} s "
        f"later; a prediction {answer['prediction']!r} from version {answer['model_version']}; "
        f"{total:.1f} s in all"
    )


def test_serve_image_built_to_explain_answers_explanations(
    podman: Podman, project: tuple[Path, dict[str, str]], champion: Path
) -> None:
    """`--build-arg EXPLAIN=1`: the serve image with SHAP, whose /explain adds up."""
    path, _ = project
    tag = f"{IMAGE}:serve-explain"
    seconds = build(podman, path, tag, "--build-arg", "EXPLAIN=1")
    base = qualified(base_images(path / "Dockerfile")[0])
    added, _ = podman.added_layers(tag, base)

    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with container(
        podman,
        f"--publish=127.0.0.1:{port}:8000",
        f"--volume={champion}:/app/models/champion:ro",
        tag,
    ) as container_id:
        wait_healthy(podman, container_id)
        wait_for_status(f"{url}/ready", 200, timeout=60)
        (record,) = sample_records(path, 1)
        status, predicted = http("POST", f"{url}/predict", record)
        assert status == 200, predicted
        started = time.monotonic()
        status, explained = http("POST", f"{url}/explain", record, timeout=60)
        first = time.monotonic() - started
        assert status == 200, explained
        assert explained["prediction"] == predicted["prediction"]
        assert_explanation_adds_up(predicted, explained)

    print(
        f"Serve image with SHAP: built in {seconds:.0f} s, {added / 1e6:.0f} MB above {base}; "
        f"the first /explain took {first:.1f} s (SHAP's import)"
    )
