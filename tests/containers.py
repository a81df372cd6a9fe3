"""Build and run a baked project's images with podman, on a machine with no registry access.

Test plumbing only: nothing here goes into a baked project. Podman, runc and debootstrap are
installed from Debian when missing (as root); the base images a Dockerfile names are made
locally and tagged with exactly those names, so `podman build --pull=never` never needs a
registry:

- `python:X.Y-slim-bookworm`: Debian bookworm (`debootstrap --variant=minbase`) with Debian's
  own Python, linked into /usr/local/bin as in the official image. Debian bookworm ships one
  Python, so only that version can be stood in for.
- `ghcr.io/astral-sh/uv:TAG`: an image holding `/uv` (and `/uvx`), the test's own uv binaries.

Stand-ins are built once and reused while `podman image exists` finds them. The host's CA bundle
is copied into the Python stand-in and `SSL_CERT_FILE` points at it, so that uv inside a build
trusts the same certificates as this machine.
"""

from __future__ import annotations

import os
import re
import shlex
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from dockerfiles import parse, split_stages

#: What Debian's packages must provide; podman pulls in conmon, CNI plugins and iptables.
PACKAGES = ("podman", "runc", "debootstrap", "containernetworking-plugins", "iptables")
DEBIAN_SUITE = "bookworm"
DEBIAN_MIRROR = "http://deb.debian.org/debian"
#: The only Python a bookworm stand-in can hold: Debian bookworm's python3.
DEBIAN_PYTHON = "3.11"
HOST_CA_BUNDLE = Path("/etc/ssl/certs/ca-certificates.crt")
IMAGE_CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
STAND_IN_LABEL = "org.cookiecutter-ml-portfolio.stand-in"

#: This machine's engine settings (crun fails here with cgroups in hybrid mode, and the
#: default open-files limit is above what a container may set).
CONTAINERS_CONF = """\
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=4096:4096"]

[engine]
runtime = "runc"
"""


class Unavailable(Exception):
    """Podman or a stand-in image cannot be had here; the message says why."""


@dataclass(frozen=True)
class Podman:
    """Runs podman with this machine's engine settings."""

    conf: Path

    def env(self) -> dict[str, str]:
        return os.environ | {"CONTAINERS_CONF": str(self.conf)}

    def run(
        self, *arguments: str, timeout: float = 900, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        """Run `podman ARGUMENTS`; with check, fail with podman's output if it fails."""
        completed = subprocess.run(
            ["podman", *arguments],
            env=self.env(),
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and completed.returncode != 0:
            output = completed.stdout + completed.stderr
            raise AssertionError(
                f"podman {shlex.join(arguments)} exited {completed.returncode}:\n"
                + ("...\n" if len(output) > 8000 else "")
                + output[-8000:]
            )
        return completed

    def image_exists(self, name: str) -> bool:
        return self.run("image", "exists", name, check=False).returncode == 0

    def import_tree(self, tree: Path, name: str, changes: list[str]) -> None:
        """`podman import` a folder as an image named `name`, with Dockerfile-style changes."""
        options = [f"--change={change}" for change in changes]
        with tempfile.TemporaryDirectory(prefix="stand-in-") as scratch:
            archive = Path(scratch) / "image.tar"
            subprocess.run(["tar", "-C", str(tree), "-cf", str(archive), "."], check=True)
            self.run("import", *options, str(archive), name)

    def prune(self, older_than: str = "6h") -> int:
        """Remove dangling images (old build layers no tag uses) older than `older_than`.

        Every build whose inputs changed leaves its layers behind; on a machine kept from one
        session to the next they would add up. Recent ones stay: they are the build cache.
        """
        listed = self.run(
            "images",
            "--all",
            "--quiet",
            "--filter",
            "dangling=true",
            "--filter",
            f"until={older_than}",
        )
        if not listed.stdout.strip():
            return 0
        self.run("image", "prune", "--force", "--filter", f"until={older_than}")
        return len(listed.stdout.split())

    def image_size(self, image: str) -> int:
        """The bytes of all an image's layers."""
        return int(self.run("image", "inspect", "--format", "{{.Size}}", image).stdout)

    def history(self, image: str) -> list[str]:
        """One line per instruction, newest first: the size it added and what it was."""
        listed = self.run("history", "--no-trunc", "--format", "{{.Size}}\t{{.CreatedBy}}", image)
        return listed.stdout.strip().splitlines()

    def added_layers(self, image: str, base: str) -> tuple[int, list[str]]:
        """Bytes the image adds above `base`, and its own instructions that added any."""
        own = self.history(image)[: -len(self.history(base))]
        added = [
            " ".join(line.replace("/bin/sh -c #(nop) ", "").split())[:110]
            for line in own
            if not line.startswith("0 B")
        ]
        return self.image_size(image) - self.image_size(base), added


# --- installing podman ---------------------------------------------------------------


def missing_packages() -> list[str]:
    """The packages of PACKAGES that dpkg does not list as installed."""
    missing = []
    for package in PACKAGES:
        status = subprocess.run(
            ["dpkg-query", "--show", "--showformat=${Status}", package],
            capture_output=True,
            text=True,
            check=False,
        )
        if "install ok installed" not in status.stdout:
            missing.append(package)
    return missing


def install_packages() -> str | None:
    """Install what podman needs with apt-get; return why not, or None when all is there."""
    if not shutil.which("dpkg-query"):
        return "not a Debian-based machine: cannot install podman with apt-get"
    missing = missing_packages()
    if not missing:
        return None
    if os.geteuid() != 0:
        return f"not root: cannot install {' '.join(missing)} with apt-get"
    env = os.environ | {"DEBIAN_FRONTEND": "noninteractive"}
    for command in (
        ["apt-get", "update", "-qq"],
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
    ):
        try:
            completed = subprocess.run(
                command, env=env, capture_output=True, text=True, timeout=900, check=False
            )
        except subprocess.TimeoutExpired:
            return f"{' '.join(command)} timed out"
        if completed.returncode != 0:
            return f"{' '.join(command)} failed:\n{completed.stdout}{completed.stderr}"
    return None


@cache
def podman_or_reason() -> Podman | str:
    """A working podman (installed first if needed), or why there is none."""
    reason = install_packages()
    if reason:
        return reason
    conf = Path(tempfile.gettempdir()) / "cookiecutter-ml-portfolio-containers.conf"
    conf.write_text(CONTAINERS_CONF, encoding="utf-8")
    podman = Podman(conf)
    try:
        info = podman.run("info", "--format", "{{.Host.OCIRuntime.Name}}", timeout=120)
    except (AssertionError, subprocess.TimeoutExpired) as error:
        return f"podman does not work here: {error}"
    if info.stdout.strip() != "runc":
        return f"podman picked the {info.stdout.strip()} runtime, not runc"
    return podman


# --- stand-in base images --------------------------------------------------------------


def base_images(dockerfile: Path) -> list[str]:
    """The images a Dockerfile builds from or copies from, ARG defaults filled in."""
    _, stages = split_stages(parse(dockerfile))
    names = {stage.name for stage in stages} | {str(stage.index) for stage in stages}
    images: list[str] = []
    for stage in stages:
        copied_from = [
            word.removeprefix("--from=")
            for instruction in stage.instructions
            if instruction.keyword == "COPY"
            for word in shlex.split(instruction.arguments)
            if word.startswith("--from=")
        ]
        for image in [stage.parent, *copied_from]:
            if image not in names and image not in images:
                images.append(image)
    return images


def qualified(name: str) -> str:
    """A Docker Hub short name as podman stores it (python:3.11 is docker.io/library/python)."""
    first = name.split("/")[0]
    if "/" in name and ("." in first or ":" in first or first == "localhost"):
        return name
    return f"docker.io/{name}" if "/" in name else f"docker.io/library/{name}"


def ensure_stand_ins(podman: Podman, dockerfile: Path, *, uv: str) -> list[str]:
    """Make every base image the Dockerfile names, unless podman already has it.

    Returns the names made now; raises Unavailable for a base image no stand-in exists for.
    """
    made = []
    for image in base_images(dockerfile):
        name = qualified(image)
        if podman.image_exists(name):
            continue
        python = re.fullmatch(r"docker\.io/library/python:(\d+\.\d+)-slim-bookworm", name)
        if python:
            python_stand_in(podman, name, python[1])
        elif re.fullmatch(r"ghcr\.io/astral-sh/uv:[\w.-]+", name):
            uv_stand_in(podman, name, uv)
        else:
            raise Unavailable(f"no stand-in for the base image {image}, and no registry here")
        made.append(name)
    return made


def python_stand_in(podman: Podman, name: str, version: str) -> None:
    """A bookworm root file system with Debian's Python, shaped like the official slim image."""
    if version != DEBIAN_PYTHON:
        raise Unavailable(
            f"{name} cannot be stood in for: Debian {DEBIAN_SUITE} ships Python {DEBIAN_PYTHON}"
        )
    if not HOST_CA_BUNDLE.is_file():
        raise Unavailable(f"{HOST_CA_BUNDLE} is missing: uv in the build could not reach PyPI")
    with tempfile.TemporaryDirectory(prefix="bookworm-") as scratch:
        root = Path(scratch) / "root"
        completed = subprocess.run(
            [
                "debootstrap",
                "--variant=minbase",
                "--include=python3",
                DEBIAN_SUITE,
                str(root),
                DEBIAN_MIRROR,
            ],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        if completed.returncode != 0:
            raise Unavailable(f"debootstrap failed:\n{completed.stdout[-3000:]}")
        # What the slim image leaves out: package caches, lists, documentation.
        for folder in (
            "var/cache/apt",
            "var/lib/apt/lists",
            "usr/share/doc",
            "usr/share/info",
            "usr/share/locale",
            "usr/share/man",
        ):
            for child in (root / folder).glob("*"):
                if child.is_dir() and not child.is_symlink():
                    shutil.rmtree(child)
                else:
                    child.unlink()
        python = f"/usr/bin/python{version}"
        assert (root / python.lstrip("/")).is_file(), f"debootstrap installed no {python}"
        for link in (f"python{version}", "python3", "python"):
            target = root / "usr/local/bin" / link
            target.unlink(missing_ok=True)
            target.symlink_to(python)
        bundle = root / IMAGE_CA_BUNDLE.lstrip("/")
        bundle.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(HOST_CA_BUNDLE, bundle)
        podman.import_tree(
            root,
            name,
            [
                "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                "ENV LANG=C.UTF-8",
                f"ENV SSL_CERT_FILE={IMAGE_CA_BUNDLE}",
                f"LABEL {STAND_IN_LABEL}=debootstrap-{DEBIAN_SUITE}-python{version}",
                'CMD ["python3"]',
            ],
        )


def uv_stand_in(podman: Podman, name: str, uv: str) -> None:
    """An image holding only /uv and /uvx, like the official distroless uv image."""
    version = subprocess.run([uv, "--version"], capture_output=True, text=True, check=True)
    with tempfile.TemporaryDirectory(prefix="uv-") as scratch:
        tree = Path(scratch)
        shutil.copy2(uv, tree / "uv")
        uvx = Path(uv).with_name("uvx")
        if uvx.is_file():
            shutil.copy2(uvx, tree / "uvx")
        label = version.stdout.split()[1] if version.stdout.split()[1:] else "unknown"
        podman.import_tree(tree, name, [f"LABEL {STAND_IN_LABEL}=host-uv-{label}"])


def cannot_run(podman: Podman, image: str) -> str | None:
    """Why podman cannot start a container from `image` here, or None when it can."""
    started = podman.run("run", "--rm", image, "python3", "-c", "print('ok')", check=False)
    if started.returncode != 0 or started.stdout.strip() != "ok":
        return f"podman cannot run a container here:\n{started.stdout}{started.stderr}"
    return None


# --- running containers --------------------------------------------------------------


@contextmanager
def container(podman: Podman, *arguments: str) -> Iterator[str]:
    """`podman run -d ARGUMENTS`, yielding the container's id; always removed afterwards."""
    started = podman.run("run", "--detach", *arguments, timeout=120)
    container_id = started.stdout.strip().splitlines()[-1]
    try:
        yield container_id
    finally:
        with suppress(Exception):
            logs = podman.run("logs", container_id, check=False, timeout=30)
            print(f"--- container {container_id[:12]} logs ---\n{logs.stdout}{logs.stderr}")
        podman.run("rm", "--force", "--time", "2", container_id, check=False)


def wait_healthy(podman: Podman, container_id: str, timeout: float = 120) -> float:
    """Run the image's HEALTHCHECK until it passes; return the seconds that took.

    Podman schedules health checks with systemd timers, which a machine without systemd lacks,
    so the check is run here by `podman healthcheck run`, as the timer would.
    """
    start = time.monotonic()
    while True:
        checked = podman.run("healthcheck", "run", container_id, check=False, timeout=30)
        if checked.returncode == 0:
            return time.monotonic() - start
        state = podman.run(
            "inspect", "--format", "{{.State.Status}}", container_id, check=False
        ).stdout.strip()
        if state not in {"running", "created"}:
            raise AssertionError(f"the container stopped ({state}) before it was healthy")
        if time.monotonic() - start > timeout:
            raise AssertionError(
                f"not healthy after {timeout:.0f} s: {checked.stdout}{checked.stderr}"
            )
        time.sleep(0.5)
