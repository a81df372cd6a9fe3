"""Check the deployment files that Docker combinations bake: the compose demo and Kubernetes.

Nothing here runs a container: the files are validated against their schemas offline, then checked
against each other and against the baked project (its settings, Dockerfile, routes and version),
so that a renamed setting, port or image breaks a test instead of a deployment.
"""

from __future__ import annotations

import ast
import fnmatch
import re
import shlex
import subprocess
import tomllib
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from dockerfiles import parse, split_stages

from conftest import COMBINATIONS, DEFAULTS, bake_with, combination_id, run, tool

DOCKER_COMBINATIONS = [answers for answers in COMBINATIONS if answers["include_docker"]]
MANIFESTS = ("configmap.yaml", "deployment.yaml", "service.yaml", "hpa.yaml")
#: Applied by hand (`kubectl apply -f`), not with the API: tuning workers.
JOBS = ("tune-job.yaml",)
#: The oldest Kubernetes release the manifests must still suit, and the newest one bundled.
KUBERNETES_VERSIONS = ("1.30.0", None)
COMPOSE_SERVICES = {"postgres", "mlflow", "train", "api"}
#: Compose services that run the project's own code, and so read its settings.
APP_SERVICES = ("train", "api")
APP_UID = 10001
DEFAULT_INTERPOLATION = re.compile(r"\$\{([A-Z_]+):-([^}]*)\}")


@pytest.fixture(scope="module", params=DOCKER_COMBINATIONS, ids=combination_id)
def combination(
    request: pytest.FixtureRequest, cookies_session: Any
) -> tuple[dict[str, Any], Path]:
    """One combination with Docker and the project it baked, baked once for all its checks."""
    return request.param, bake_with(cookies_session, request.param)


# --- reading the baked files ------------------------------------------------------


def interpolated(value: str) -> str:
    """A compose value as Compose reads it with nothing set: `${NAME:-default}` is the default."""
    assert "${" not in DEFAULT_INTERPOLATION.sub("", value), f"no default in {value!r}"
    return DEFAULT_INTERPOLATION.sub(lambda match: match.group(2), value).replace("$$", "$")


def compose(project: Path) -> dict[str, Any]:
    """The baked docker-compose.yml."""
    return yaml.safe_load((project / "docker-compose.yml").read_text(encoding="utf-8"))


def manifests(project: Path) -> dict[str, dict[str, Any]]:
    """The baked Kubernetes manifests by kind."""
    documents = [
        yaml.safe_load((project / "deploy/k8s" / name).read_text(encoding="utf-8"))
        for name in MANIFESTS
    ]
    return {document["kind"]: document for document in documents}


def pod_spec(project: Path) -> dict[str, Any]:
    """The Deployment's pod template spec."""
    return manifests(project)["Deployment"]["spec"]["template"]["spec"]


def container(project: Path) -> dict[str, Any]:
    """The API container of the Deployment."""
    [api] = pod_spec(project)["containers"]
    return api


def pyproject(project: Path) -> dict[str, Any]:
    """The baked pyproject.toml."""
    return tomllib.loads((project / "pyproject.toml").read_text(encoding="utf-8"))


def settings_variables(project: Path) -> set[str]:
    """Every environment variable the baked `Settings` class reads, from its source.

    A field is read as PREFIX + its name in capitals, or only as its aliases when it has some.
    """
    [source] = project.glob("src/*/settings.py")
    tree = ast.parse(source.read_text(encoding="utf-8"))
    [prefix] = [
        node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and [getattr(target, "id", None) for target in node.targets] == ["ENV_PREFIX"]
        and isinstance(node.value, ast.Constant)
    ]

    def text(node: ast.expr) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        if isinstance(node, ast.JoinedStr):  # f"{ENV_PREFIX}NAME"
            parts = [
                prefix if isinstance(part, ast.FormattedValue) else text(part)
                for part in node.values
            ]
            return "".join(part for part in parts if part is not None)
        return None

    [settings] = [n for n in tree.body if isinstance(n, ast.ClassDef) and n.name == "Settings"]
    variables = set()
    for statement in settings.body:
        if not isinstance(statement, ast.AnnAssign) or not isinstance(statement.target, ast.Name):
            continue
        name = statement.target.id
        if name == "model_config":
            continue
        aliases = [
            alias
            for keyword in getattr(statement.value, "keywords", [])
            if keyword.arg in {"alias", "validation_alias"}
            for node in [keyword.value, *getattr(keyword.value, "args", [])]
            if (alias := text(node)) is not None
        ]
        variables |= {alias.upper() for alias in aliases} or {prefix + name.upper()}
    return variables


def dockerfile_stages(project: Path) -> dict[str, list[tuple[str, str]]]:
    """The Dockerfile's named stages, each as its (KEYWORD, arguments) instructions after FROM."""
    _, stages = split_stages(parse(project / "Dockerfile"))
    return {
        stage.name: [(step.keyword, step.arguments) for step in stage.instructions]
        for stage in stages
    }


def dockerfile_env(project: Path, stage: str) -> dict[str, str]:
    """The ENV values a stage sets itself."""
    env = {}
    for keyword, arguments in dockerfile_stages(project)[stage]:
        if keyword == "ENV":
            env |= dict(pair.split("=", 1) for pair in shlex.split(arguments))
    return env


def prefixed(project: Path, name: str) -> str:
    """A setting's environment variable name, with the baked package's prefix."""
    [package] = [path.name for path in (project / "src").iterdir()]
    return f"{package.upper()}_{name}"


def http_url(command: list[str]) -> str:
    """The one http:// URL a healthcheck command calls."""
    [url] = re.findall(r"http://[^'\" ]+", " ".join(command))
    return url


def option(command: list[str], name: str) -> str:
    """The value of `--name=value` in a command."""
    [value] = [part.split("=", 1)[1] for part in command if part.startswith(f"--{name}=")]
    return interpolated(value)


# --- schemas ------------------------------------------------------------------------


def test_compose_file_follows_the_compose_specification(
    combination: tuple[dict[str, Any], Path],
) -> None:
    _, project = combination

    run(
        [tool("check-jsonschema"), "--builtin-schema", "vendor.compose-spec", "docker-compose.yml"],
        cwd=project,
    )


@pytest.mark.parametrize("version", KUBERNETES_VERSIONS, ids=lambda v: v or "newest")
def test_kubernetes_manifests_follow_the_api_schemas(
    combination: tuple[dict[str, Any], Path], version: str | None
) -> None:
    _, project = combination
    pinned = ["--kubernetes-version", version] if version else []

    # --strict rejects unknown fields, so a misspelt key fails instead of being ignored.
    checked = [*MANIFESTS, *JOBS]
    output = run(
        [tool("kubernetes-validate"), "--strict", *pinned, *checked], cwd=project / "deploy/k8s"
    )

    assert output.count("passed") == len(checked), output


def test_kustomization_applies_every_manifest_once(
    combination: tuple[dict[str, Any], Path],
) -> None:
    _, project = combination
    folder = project / "deploy/k8s"
    kustomization = yaml.safe_load((folder / "kustomization.yaml").read_text(encoding="utf-8"))

    assert kustomization["kind"] == "Kustomization"
    assert sorted(kustomization["resources"]) == sorted(MANIFESTS)
    assert {path.name for path in folder.iterdir()} == {*MANIFESTS, *JOBS, "kustomization.yaml"}


def test_tuning_workers_join_one_search_as_the_api_pods_run(
    combination: tuple[dict[str, Any], Path],
) -> None:
    _, project = combination
    job = yaml.safe_load((project / "deploy/k8s/tune-job.yaml").read_text(encoding="utf-8"))
    pod = job["spec"]["template"]["spec"]
    [worker] = pod["containers"]
    env = {variable["name"]: variable for variable in worker["env"]}

    assert job["kind"] == "Job"
    assert job["spec"]["parallelism"] == job["spec"]["completions"] > 1
    assert worker["command"][-1].endswith('tune --join "$TUNE_STUDY"')
    assert env[prefixed(project, "TUNE_STORAGE")]["valueFrom"]["secretKeyRef"]["key"] == "storage"
    assert prefixed(project, "TUNE_STORAGE") in settings_variables(project)
    assert worker["image"] == pod_spec(project)["initContainers"][0]["image"]  # the train image
    assert pod["securityContext"] == pod_spec(project)["securityContext"]
    assert worker["securityContext"]["readOnlyRootFilesystem"] is True


# --- consistency with the baked project -----------------------------------------------


def test_every_variable_set_for_the_app_is_one_of_its_settings(
    combination: tuple[dict[str, Any], Path],
) -> None:
    _, project = combination
    known = settings_variables(project)
    services = compose(project)["services"]
    prefix = prefixed(project, "")

    set_for_the_app = {
        "configmap.yaml": set(manifests(project)["ConfigMap"]["data"]),
        "deployment.yaml": {variable["name"] for variable in container(project).get("env", [])},
        "Dockerfile (serve)": {
            name for name in dockerfile_env(project, "serve") if name.startswith(prefix)
        },
        **{
            f"docker-compose.yml ({name})": set(services[name].get("environment", {}))
            for name in APP_SERVICES
        },
    }

    for where, variables in set_for_the_app.items():
        assert variables <= known, f"{where} sets {sorted(variables - known)}: not in settings.py"
    # Each manifest sets the settings it relies on, rather than the image's defaults.
    for name in ("MODEL_URI", "PORT", "WORKERS", "MAX_BATCH_SIZE", "CORS_ORIGINS"):
        assert prefixed(project, name) in set_for_the_app["configmap.yaml"], name
    assert "MLFLOW_TRACKING_URI" in set_for_the_app["configmap.yaml"]


def mounted_at(mounts: list[dict[str, Any]], path: str) -> tuple[str, str]:
    """The volume and the rest of the path of the mount that holds a container path."""
    [(volume, rest)] = [
        (mount["name"], path.removeprefix(mount["mountPath"]))
        for mount in mounts
        if path.startswith(mount["mountPath"] + "/")
    ]
    return volume, rest


def test_the_api_serves_the_champion_a_train_image_exported(
    combination: tuple[dict[str, Any], Path],
) -> None:
    """The serve image has no MLflow: the train image exports the champion for it to load."""
    _, project = combination
    slug = pyproject(project)["project"]["name"]
    model_uri = prefixed(project, "MODEL_URI")
    served = dockerfile_env(project, "serve")[model_uri]
    services = compose(project)["services"]

    # Kubernetes: the init container exports what the ConfigMap names where the API looks.
    assert manifests(project)["ConfigMap"]["data"][model_uri] == f"models:/{slug}@champion"
    export = pod_spec(project)["initContainers"][0]
    api = container(project)
    assert export["image"] == api["image"] + "-train"
    assert export["command"][:2] == [slug, "export"]
    assert export["envFrom"] == api["envFrom"]
    assert {variable["name"]: variable["value"] for variable in api["env"]}[model_uri] == served
    exported = mounted_at(export["volumeMounts"], export["command"][2])
    assert exported == mounted_at(api["volumeMounts"], served)
    # Compose: the train job exports into the volume the API mounts read-only.
    assert f"{slug} export models/champion" in services["train"]["command"][2]
    assert "models:/app/models" in services["train"]["volumes"]
    assert "models:/app/models:ro" in services["api"]["volumes"]
    assert served == "/app/models/champion"
    assert model_uri not in services["api"].get("environment", {})
    assert services["train"]["environment"]["MLFLOW_TRACKING_URI"] == "http://mlflow:5000"


def run_shell(line: str, env: dict[str, str], project: Path, folder: Path) -> list[str]:
    """Run a container's shell line with a stand-in for the project's command on PATH.

    Returns what the command was asked each time, with the model URI it was given.
    """
    slug, model_uri = pyproject(project)["project"]["name"], prefixed(project, "MODEL_URI")
    (folder / "bin").mkdir(parents=True)
    stand_in, calls = folder / "bin" / slug, folder / "calls"
    stand_in.write_text(f'#!/bin/sh\necho "$*|${{{model_uri}:-}}" >> {calls}\n', encoding="utf-8")
    stand_in.chmod(0o755)
    path = f"{folder / 'bin'}:/usr/bin:/bin"
    subprocess.run(["sh", "-c", line], env={**env, "PATH": path}, check=True)
    return calls.read_text(encoding="utf-8").splitlines() if calls.exists() else []


@pytest.mark.parametrize("rollout", ["off", "shadow"])
def test_in_a_rollout_the_challenger_is_exported_where_the_api_loads_it(
    combination: tuple[dict[str, Any], Path], rollout: str, tmp_path: Path
) -> None:
    answers, project = combination
    slug = pyproject(project)["project"]["name"]
    setting, challenger = prefixed(project, "ROLLOUT"), prefixed(project, "CHALLENGER_URI")
    data = manifests(project)["ConfigMap"]["data"]
    services = compose(project)["services"]
    init = pod_spec(project)["initContainers"]
    if not answers["include_monitoring"]:
        assert len(init) == 1
        assert setting not in data
        assert setting not in services["api"].get("environment", {})
        return
    api = {name: interpolated(value) for name, value in services["api"]["environment"].items()}
    assert data[setting] == api[setting] == "off"

    # Kubernetes: the second init container, with the ConfigMap's variables.
    [export] = [spec for spec in init if spec["name"] == "export-challenger"]
    calls = run_shell(export["command"][2], data | {setting: rollout}, project, tmp_path / "pod")
    served = {variable["name"]: variable["value"] for variable in container(project)["env"]}
    if rollout == "off":
        assert calls == []
    else:
        assert calls == [f"export /models/challenger|{data[challenger]}"]
        assert data[challenger] == f"models:/{slug}@challenger"
        exported = mounted_at(export["volumeMounts"], "/models/challenger")
        assert exported == mounted_at(container(project)["volumeMounts"], served[challenger])

    # Compose: the train job, into the volume the API mounts at /app/models.
    train = services["train"]
    env = {name: interpolated(value) for name, value in train["environment"].items()}
    line = interpolated(train["command"][2])
    calls = run_shell(line, env | {setting: rollout}, project, tmp_path / "compose")
    expected = ["run|", "export models/champion --force|"]
    if rollout != "off":
        expected.append(f"export models/challenger --force|models:/{slug}@challenger")
    assert calls == expected
    assert api[challenger] == "/app/models/challenger"


def test_images_are_named_from_the_github_user_slug_and_version(bake: Any) -> None:
    # A GitHub name may have capitals; an image name on ghcr.io may not.
    project = bake(**DEFAULTS, github_username="Some-Org")
    version = pyproject(project)["project"]["version"]
    slug = pyproject(project)["project"]["name"]
    image = f"ghcr.io/some-org/{slug}:{version}"
    services = compose(project)["services"]

    assert container(project)["image"] == image
    assert services["api"]["image"] == image
    assert services["api"]["build"]["target"] == "serve"
    for name in ("mlflow", "train"):
        assert services[name]["image"] == f"{image}-train"
        assert services[name]["build"]["target"] == "train"
    assert {"serve", "train"} <= set(dockerfile_stages(project))


def test_ports_agree_between_image_manifests_and_compose(
    combination: tuple[dict[str, Any], Path],
) -> None:
    _, project = combination
    port = dockerfile_env(project, "serve")[prefixed(project, "PORT")]
    [exposed] = [
        args for keyword, args in dockerfile_stages(project)["serve"] if keyword == "EXPOSE"
    ]
    kinds = manifests(project)
    [container_port] = container(project)["ports"]
    [service_port] = kinds["Service"]["spec"]["ports"]
    api = compose(project)["services"]["api"]

    assert exposed == port
    assert kinds["ConfigMap"]["data"][prefixed(project, "PORT")] == port
    assert container_port == {"name": "http", "containerPort": int(port)}
    assert service_port["targetPort"] == container_port["name"]
    [published] = api["ports"]
    assert interpolated(published).rsplit(":", 1)[1] == port
    assert urlsplit(http_url(api["healthcheck"]["test"])).port == int(port)


def test_probes_and_healthchecks_call_routes_the_api_has(
    combination: tuple[dict[str, Any], Path],
) -> None:
    _, project = combination
    api = container(project)
    routes = set(
        re.findall(
            r"[\"'](/[a-z/_-]*)[\"']",
            "\n".join(path.read_text(encoding="utf-8") for path in project.glob("src/**/*.py")),
        )
    )
    probes = {
        kind: (api[kind]["httpGet"]["path"], api[kind]["httpGet"]["port"])
        for kind in ("startupProbe", "readinessProbe", "livenessProbe")
    }
    compose_check = urlsplit(http_url(compose(project)["services"]["api"]["healthcheck"]["test"]))

    assert probes == {
        "startupProbe": ("/health", "http"),
        "readinessProbe": ("/ready", "http"),
        "livenessProbe": ("/health", "http"),
    }
    assert compose_check.path == "/ready"  # healthy in compose means able to predict
    assert {"/health", "/ready"} <= routes, "the baked API has no /health or /ready route"


# --- the compose demo -----------------------------------------------------------------


def test_compose_publishes_ports_on_this_machine_only(
    combination: tuple[dict[str, Any], Path],
) -> None:
    _, project = combination
    services = compose(project)["services"]

    published = {name: service.get("ports", []) for name, service in services.items()}

    assert set(services) == COMPOSE_SERVICES
    assert published["api"], "the API must be reachable from this machine"
    for name, ports in published.items():
        for port in ports:
            assert interpolated(port).startswith("127.0.0.1:"), f"{name} publishes {port}"


def test_compose_starts_each_service_once_the_one_before_is_done(
    combination: tuple[dict[str, Any], Path],
) -> None:
    _, project = combination
    services = compose(project)["services"]
    conditions = {
        name: {needed: how["condition"] for needed, how in service.get("depends_on", {}).items()}
        for name, service in services.items()
    }

    assert conditions == {
        "postgres": {},
        "mlflow": {"postgres": "service_healthy"},
        "train": {"mlflow": "service_healthy"},
        "api": {"train": "service_completed_successfully"},
    }
    # A service waited on as healthy must have a healthcheck to become so.
    for name in ("postgres", "mlflow", "api"):
        assert services[name]["healthcheck"]["test"], name


def test_compose_tracking_server_is_reachable_under_its_service_name(
    combination: tuple[dict[str, Any], Path],
) -> None:
    _, project = combination
    services = compose(project)["services"]
    command = services["mlflow"]["command"]
    pyproject_data = pyproject(project)
    training_extra = pyproject_data["project"]["optional-dependencies"]["train"]

    # MLflow rejects requests whose Host header it does not allow (403), health checks aside.
    allowed = option(command, "allowed-hosts").split(",")
    host = urlsplit(services["train"]["environment"]["MLFLOW_TRACKING_URI"]).netloc
    assert any(fnmatch.fnmatch(host, pattern) for pattern in allowed), host
    port = option(command, "port")
    assert urlsplit(http_url(services["mlflow"]["healthcheck"]["test"])).port == int(port)
    [published] = services["mlflow"]["ports"]
    assert interpolated(published).rsplit(":", 1)[1] == port
    # The backend store is the postgres service, through the driver the train image installs.
    backend = urlsplit(option(command, "backend-store-uri"))
    assert backend.scheme == "postgresql+psycopg"
    assert backend.hostname == "postgres"
    assert any(re.match(r"psycopg\b", requirement) for requirement in training_extra)
    environment = services["postgres"]["environment"]
    assert backend.username == interpolated(environment["POSTGRES_USER"])
    assert backend.password == interpolated(environment["POSTGRES_PASSWORD"])
    assert backend.path == "/" + interpolated(environment["POSTGRES_DB"])
    # The training job runs the project's own commands (run, then export), in a shell line.
    assert services["train"]["command"][:2] == ["sh", "-c"]
    assert services["train"]["command"][2].split()[0] in pyproject_data["project"]["scripts"]


def test_compose_volumes_are_writable_by_the_app_user(
    combination: tuple[dict[str, Any], Path],
) -> None:
    # A new named volume copies the owner of the folder it is mounted on in the image; a folder
    # the image lacks is created for root, and the app user (UID 10001) could not write to it.
    _, project = combination
    data = compose(project)
    stages = dockerfile_stages(project)
    mounted = set()

    for name, service in data["services"].items():
        for volume in service.get("volumes", []):
            source, target = volume.split(":")[:2]
            assert source in data["volumes"], f"{name} mounts {source}, which is not declared"
            mounted.add(source)
            if "build" not in service or volume.endswith(":ro"):  # not written to here
                continue
            stage = stages[service["build"]["target"]]
            chowned = " ".join(
                args
                for keyword, args in stage
                if keyword == "RUN" and ("chown" in args or "install -d" in args)
            )
            relative = target.removeprefix("/app/")
            assert re.search(rf"(?<![\w/.-])(/app/)?{re.escape(relative)}\b", chowned), (
                f"the Dockerfile's {service['build']['target']} stage must create {target} "
                "owned by the app user"
            )
    assert mounted == set(data["volumes"])


# --- the Kubernetes pod -------------------------------------------------------------------


def test_pod_runs_unprivileged_on_a_read_only_file_system(
    combination: tuple[dict[str, Any], Path],
) -> None:
    _, project = combination
    spec = pod_spec(project)
    api = container(project)
    volumes = {volume["name"]: volume for volume in spec["volumes"]}
    mounts = {mount["mountPath"]: mount["name"] for mount in api["volumeMounts"]}
    [user] = [args for keyword, args in dockerfile_stages(project)["serve"] if keyword == "USER"]

    assert user == f"{APP_UID}:{APP_UID}"
    assert spec["securityContext"] == {
        "runAsNonRoot": True,
        "runAsUser": APP_UID,
        "runAsGroup": APP_UID,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    assert api["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert "/tmp" in mounts  # noqa: S108 - the pod's own mount point, not a temporary file
    assert all("emptyDir" in volumes[name] for name in mounts.values())
    for kind in ("requests", "limits"):
        assert set(api["resources"][kind]) == {"cpu", "memory"}, kind


def test_monitoring_gives_the_prediction_log_a_writable_folder(
    combination: tuple[dict[str, Any], Path],
) -> None:
    answers, project = combination
    log_dir = prefixed(project, "PREDICTION_LOG_DIR")
    configured = manifests(project)["ConfigMap"]["data"].get(log_dir)
    api = compose(project)["services"]["api"]
    mounts = [mount["mountPath"] for mount in container(project)["volumeMounts"]]

    if not answers["include_monitoring"]:
        assert configured is None
        assert log_dir not in api.get("environment", {})
        return
    assert configured == api["environment"][log_dir]
    assert any(configured.startswith(path + "/") for path in mounts), configured
    assert any(configured.startswith(v.split(":")[1] + "/") for v in api.get("volumes", []))


def test_service_and_autoscaler_target_the_deployment(
    combination: tuple[dict[str, Any], Path],
) -> None:
    _, project = combination
    kinds = manifests(project)
    deployment = kinds["Deployment"]
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    [source] = container(project)["envFrom"]
    hpa = kinds["HorizontalPodAutoscaler"]["spec"]
    [metric] = hpa["metrics"]

    assert deployment["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert kinds["Service"]["spec"]["selector"].items() <= labels.items()
    assert source["configMapRef"]["name"] == kinds["ConfigMap"]["metadata"]["name"]
    assert hpa["scaleTargetRef"] == {
        "apiVersion": deployment["apiVersion"],
        "kind": "Deployment",
        "name": deployment["metadata"]["name"],
    }
    assert metric["resource"]["name"] == "cpu"
    assert 1 < hpa["minReplicas"] <= hpa["maxReplicas"]
    assert "replicas" not in deployment["spec"]  # the autoscaler owns the count


# --- documentation and the option -------------------------------------------------------


def test_readme_explains_each_deployment_file(combination: tuple[dict[str, Any], Path]) -> None:
    _, project = combination
    readme = (project / "README.md").read_text(encoding="utf-8")
    deploy = readme.split("## Deploy\n", 1)[1].split("\n## ", 1)[0]

    assert "docker compose up --build" in deploy
    for service in COMPOSE_SERVICES:
        assert f"| `{service}` |" in deploy, service
    for name in (*MANIFESTS, "kustomization.yaml"):
        assert f"| `{name}` |" in deploy, name
    assert "kubectl apply -k deploy/k8s" in deploy
    assert container(project)["image"] in deploy


def test_without_docker_no_deployment_files_are_baked(bake: Any) -> None:
    project = bake(**(DEFAULTS | {"include_docker": False}))
    readme = (project / "README.md").read_text(encoding="utf-8")

    assert not (project / "docker-compose.yml").exists()
    assert not (project / "deploy").exists()
    assert "## Deploy" not in readme
    assert "docker compose" not in readme
