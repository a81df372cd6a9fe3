"""Replay a baked Dockerfile's install and start commands here, without a container engine.

There is no Docker engine where these tests run, so the image cannot be built here. What can be
proved is that the Dockerfile's own commands work: the build context its `.dockerignore` lets
through is enough, its `RUN` lines install the project, and its `ENTRYPOINT` starts from the
installed environment alone. Container paths are mapped under a scratch root folder.
"""

from __future__ import annotations

import fnmatch
import json
import shlex
import shutil
import subprocess
from dataclasses import dataclass, field
from pathlib import Path


@dataclass
class Instruction:
    """One Dockerfile instruction, continuation lines joined."""

    keyword: str
    arguments: str
    stage: int


@dataclass
class Replay:
    """What replaying a Dockerfile did, for the test to assert on and to report."""

    root: Path
    ran: list[str] = field(default_factory=list)
    not_run: list[tuple[str, str]] = field(default_factory=list)
    env: dict[str, str] = field(default_factory=dict)
    workdir: str = "/"
    entrypoint: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)

    def host(self, container_path: str) -> Path:
        """Where a container path lives under the scratch root."""
        return self.root / container_path.lstrip("/")

    def map_paths(self, value: str) -> str:
        """Move absolute paths that exist only in the image (not on this machine) under the root."""
        parts = value.split(":")
        return ":".join(
            str(self.host(part)) if part.startswith("/") and not Path(part).exists() else part
            for part in parts
        )

    def start(self, *arguments: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        """Run the image's entry point (with `arguments` in place of CMD) as the image would."""
        command = self.entrypoint + (list(arguments) or self.cmd)
        executable = shutil.which(command[0], path=self.env["PATH"])
        assert executable, f"{command[0]} is not on the image's PATH"
        return subprocess.run(
            [executable, *command[1:]],
            cwd=self.host(self.workdir),
            env=env | self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


def parse(dockerfile: Path) -> list[Instruction]:
    """Read a Dockerfile into instructions, numbering the stages from 0."""
    instructions: list[Instruction] = []
    stage = -1
    logical = ""
    for line in dockerfile.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if not logical and (not stripped or stripped.startswith("#")):
            continue
        if stripped.endswith("\\"):
            logical += stripped[:-1] + " "
            continue
        logical += stripped
        keyword, _, arguments = logical.partition(" ")
        logical = ""
        if keyword.upper() == "FROM":
            stage += 1
        instructions.append(Instruction(keyword.upper(), arguments.strip(), stage))
    return instructions


def build_context(project: Path) -> list[str]:
    """The files `docker build .` would send, by the project's `.dockerignore`.

    Supports the subset of the syntax the template uses: glob patterns, `**/` and `!` exceptions,
    the last matching rule winning.
    """
    rules = [
        line.strip()
        for line in (project / ".dockerignore").read_text(encoding="utf-8").splitlines()
        if line.strip() and not line.startswith("#")
    ]
    sent = []
    for path in sorted(p for p in project.rglob("*") if p.is_file()):
        relative = path.relative_to(project).as_posix()
        prefixes = [relative.rsplit("/", depth)[0] for depth in range(relative.count("/") + 1)]
        included = True
        for rule in rules:
            exception = rule.startswith("!")
            pattern = rule.lstrip("!").rstrip("/")
            patterns = (
                [pattern, pattern.removeprefix("**/")] if pattern.startswith("**/") else [pattern]
            )
            if any(fnmatch.fnmatchcase(part, p) for part in prefixes for p in patterns) or any(
                fnmatch.fnmatchcase(Path(part).name, p.removeprefix("**/"))
                for part in prefixes
                for p in patterns
                if pattern.startswith("**/")
            ):
                included = exception
        if included:
            sent.append(relative)
    return sent


def expand(text: str, variables: dict[str, str]) -> str:
    """Substitute `${NAME}` and `$NAME` as Docker does for ARG and ENV values."""
    for name, value in sorted(variables.items(), key=lambda item: -len(item[0])):
        text = text.replace("${" + name + "}", value).replace("$" + name, value)
    return text


def replay(project: Path, root: Path, *, uv: str, base_env: dict[str, str]) -> Replay:
    """Run the Dockerfile's COPY, ENV, WORKDIR and RUN steps for real, under `root`.

    `COPY --from=<image>` of the uv binary takes the test's own uv instead; RUN lines of the
    final stage that change the system (creating the image's user) are listed as not run.
    Every other RUN line runs as written, less its BuildKit `--mount` options.
    """
    state = Replay(root=root)
    context = set(build_context(project))
    args: dict[str, str] = {}
    stage_names: dict[str, int] = {}
    instructions = parse(project / "Dockerfile")
    last_stage = max(instruction.stage for instruction in instructions)
    env: dict[str, str] = {}

    for instruction in instructions:
        words = shlex.split(instruction.arguments)
        if instruction.keyword == "ARG":
            name, _, default = instruction.arguments.partition("=")
            args[name] = default
        elif instruction.keyword == "FROM":
            env = {"PATH": base_env["PATH"]}
            state.workdir = "/"
            if len(words) == 3 and words[1].upper() == "AS":
                stage_names[words[2]] = instruction.stage
        elif instruction.keyword == "ENV":
            for assignment in words:
                name, _, value = assignment.partition("=")
                env[name] = state.map_paths(expand(value, args | env))
        elif instruction.keyword == "WORKDIR":
            state.workdir = words[0]
            state.host(words[0]).mkdir(parents=True, exist_ok=True)
        elif instruction.keyword == "COPY":
            options = [word for word in words if word.startswith("--")]
            *sources, destination = [word for word in words if not word.startswith("--")]
            from_option = next(
                (o.split("=", 1)[1] for o in options if o.startswith("--from=")), None
            )
            target = state.host(
                destination if destination.startswith("/") else f"{state.workdir}/{destination}"
            )
            if from_option is not None and from_option not in stage_names:
                assert sources == ["/uv"], f"unexpected COPY from an image: {instruction.arguments}"
                state.not_run.append(
                    (f"COPY {instruction.arguments}", f"uses the test's uv ({uv})")
                )
                continue
            if from_option is not None:  # from an earlier stage: same scratch root
                for source in sources:
                    assert state.host(source).exists(), (
                        f"{source} was not built by stage {from_option}"
                    )
                continue
            copied = 0
            for source in sources:
                inside = source.rstrip("/") + "/"
                for relative in sorted(context):
                    if fnmatch.fnmatchcase(relative, source):  # a file, or a glob of files
                        into_folder = destination.endswith("/") or len(sources) > 1
                        path = target / Path(relative).name if into_folder else target
                    elif relative.startswith(inside):  # a folder: its contents
                        path = target / relative.removeprefix(inside)
                    else:
                        continue
                    path.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(project / relative, path)
                    copied += 1
            assert copied, f"COPY found nothing in the build context: {instruction.arguments}"
        elif instruction.keyword == "RUN":
            command = " ".join(word for word in words if not word.startswith("--mount="))
            if instruction.stage == last_stage:
                state.not_run.append(
                    (f"RUN {command}", "changes the host's users; the test runs as the host user")
                )
                continue
            completed = subprocess.run(
                ["bash", "-euo", "pipefail", "-c", command],
                cwd=state.host(state.workdir),
                env=base_env | env | {"PATH": f"{Path(uv).parent}:{env['PATH']}"},
                capture_output=True,
                text=True,
                timeout=600,
                check=False,
            )
            assert completed.returncode == 0, (
                f"RUN {command} failed:\n{completed.stdout}{completed.stderr}"
            )
            state.ran.append(f"RUN {command}")
        elif instruction.keyword == "ENTRYPOINT":
            state.entrypoint = json.loads(instruction.arguments)
        elif instruction.keyword == "CMD":
            state.cmd = json.loads(instruction.arguments)
    state.env = env
    return state
