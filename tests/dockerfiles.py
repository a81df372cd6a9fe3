"""Replay a baked Dockerfile's install and start commands here, without a container engine.

Where no engine can build the image, what can still be proved is that the Dockerfile's own
commands work: the build context its `.dockerignore` lets through is enough, the `RUN` lines of
the stages a target needs install the project, and its `CMD` starts from the installed
environment alone, as a server that answers. Container paths are mapped under a scratch root
folder that every stage shares (so `COPY --from=<stage>` finds what that stage built).
(tests/containers.py builds and runs the real images with podman where it can.)
"""

from __future__ import annotations

import fnmatch
import json
import re
import shlex
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

#: RUN lines that manage the image's users and file owners: they would change this machine's,
#: and the test runs as the host user, so they are listed as not run.
SYSTEM_COMMANDS = {"groupadd", "useradd", "usermod", "adduser", "chown"}
#: A BuildKit `RUN --mount=...` option, which only the builder understands.
MOUNT_OPTION = re.compile(r"--mount=\S+\s*")


@dataclass
class Instruction:
    """One Dockerfile instruction, continuation lines joined."""

    keyword: str
    arguments: str
    stage: int


@dataclass
class Stage:
    """One `FROM` and its instructions."""

    index: int
    name: str
    parent: str  # an image, or an earlier stage's name
    instructions: list[Instruction]
    needs: list[str]  # earlier stages it builds on or copies from


@dataclass
class Image:
    """The configuration a stage leaves: inherited by a stage built `FROM` it."""

    env: dict[str, str] = field(default_factory=dict)
    workdir: str = "/"
    user: str = "root"
    entrypoint: list[str] = field(default_factory=list)
    cmd: list[str] = field(default_factory=list)
    healthcheck: list[str] = field(default_factory=list)
    exposed: list[str] = field(default_factory=list)


@dataclass
class Replay:
    """What replaying a Dockerfile target did, for the test to assert on and to report."""

    root: Path
    stages: list[str] = field(default_factory=list)
    ran: list[str] = field(default_factory=list)
    not_run: list[tuple[str, str]] = field(default_factory=list)
    image: Image = field(default_factory=Image)

    @property
    def env(self) -> dict[str, str]:
        return self.image.env

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

    def command(self, arguments: tuple[str, ...]) -> list[str]:
        """The image's entry point with `arguments` in place of CMD."""
        return self.image.entrypoint + (list(arguments) or self.image.cmd)

    def resolve(self, command: list[str]) -> list[str]:
        """The command with its program found on the image's PATH, as the image would."""
        executable = shutil.which(command[0], path=self.env["PATH"])
        assert executable, f"{command[0]} is not on the image's PATH"
        return [executable, *command[1:]]

    def execute(self, command: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        """Run a command in the image's environment and working directory."""
        return subprocess.run(
            self.resolve(command),
            cwd=self.host(self.image.workdir),
            env=env | self.env,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def start(self, *arguments: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        """Run the image's entry point (with `arguments` in place of CMD) as the image would."""
        return self.execute(self.command(arguments), env)

    @contextmanager
    def serving(
        self, *arguments: str, env: dict[str, str], overrides: dict[str, str]
    ) -> Iterator[subprocess.Popen[str]]:
        """Start the image's command in the background, `overrides` over the image's ENV (as
        `docker run -e` would); stop it afterwards and print what it wrote."""
        log_path = self.root / "server.log"
        with log_path.open("w", encoding="utf-8") as log:
            server = subprocess.Popen(
                self.resolve(self.command(arguments)),
                cwd=self.host(self.image.workdir),
                env=env | self.env | overrides,
                stdout=log,
                stderr=subprocess.STDOUT,
                text=True,
            )
        try:
            yield server
        finally:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait(timeout=15)
            print(f"--- server output ---\n{log_path.read_text(encoding='utf-8')}")


# --- talking to a server under test ---------------------------------------------------


# --- reading a Dockerfile --------------------------------------------------------------


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


def split_stages(instructions: list[Instruction]) -> tuple[dict[str, str], list[Stage]]:
    """The global ARG defaults, and the stages in file order (unnamed ones named by number)."""
    args: dict[str, str] = {}
    stages: list[Stage] = []
    for instruction in instructions:
        if instruction.stage < 0:
            if instruction.keyword == "ARG":
                name, _, default = instruction.arguments.partition("=")
                args[name.strip()] = default.strip()
            continue
        if instruction.keyword == "FROM":
            words = shlex.split(instruction.arguments)
            words = [word for word in words if not word.startswith("--platform")]
            name = words[2] if len(words) == 3 and words[1].upper() == "AS" else str(len(stages))
            named = {stage.name for stage in stages}
            parent = expand(words[0], args)
            needs = [parent] if parent in named else []
            stages.append(Stage(instruction.stage, name, parent, [], needs))
            continue
        stage = stages[-1]
        stage.instructions.append(instruction)
        if instruction.keyword == "COPY":
            for word in shlex.split(instruction.arguments):
                source = word.removeprefix("--from=")
                if source != word and source in {s.name for s in stages} | {
                    str(s.index) for s in stages
                }:
                    stage.needs.append(source)
    return args, stages


def chain(stages: list[Stage], target: str) -> list[Stage]:
    """The stages `--target target` builds: the target and all it needs, in file order."""
    by_name = {stage.name: stage for stage in stages} | {str(s.index): s for s in stages}
    assert target in by_name, f"no stage {target} in the Dockerfile"
    needed: set[int] = set()
    pending = [target]
    while pending:
        stage = by_name[pending.pop()]
        if stage.index not in needed:
            needed.add(stage.index)
            pending.extend(stage.needs)
    return [stage for stage in stages if stage.index in needed]


def replay(
    project: Path, root: Path, *, uv: str, base_env: dict[str, str], target: str | None = None
) -> Replay:
    """Run the COPY, ENV, WORKDIR and RUN steps of the stages `target` needs, for real.

    `target` defaults to the last stage, what `docker build .` makes. A stage built `FROM` an
    earlier one starts from that one's ENV, WORKDIR, USER and CMD; one built from an image starts
    from this machine's PATH. `COPY --from=<image>` of the uv binary takes the test's own uv
    instead, and RUN lines that manage users and owners are listed as not run. Every other RUN
    line runs as written, less its BuildKit `--mount` options.
    """
    state = Replay(root=root)
    context = set(build_context(project))
    args, stages = split_stages(parse(project / "Dockerfile"))
    stage_names = {stage.name for stage in stages}
    images: dict[str, Image] = {}

    for stage in chain(stages, target or stages[-1].name):
        state.stages.append(stage.name)
        if stage.parent in images:
            parent = images[stage.parent]
            image = replace(parent, env=dict(parent.env), exposed=list(parent.exposed))
        else:
            image = Image(env={"PATH": base_env["PATH"]})
        state.image = image
        for instruction in stage.instructions:
            replay_instruction(
                instruction, state, args, stage_names, context, project, uv, base_env
            )
        images[stage.name] = images[str(stage.index)] = image
    return state


def replay_instruction(
    instruction: Instruction,
    state: Replay,
    args: dict[str, str],
    stage_names: set[str],
    context: set[str],
    project: Path,
    uv: str,
    base_env: dict[str, str],
) -> None:
    """Replay one instruction of the current stage into `state`."""
    image = state.image
    words = shlex.split(instruction.arguments)
    if instruction.keyword == "ARG":
        name, _, default = instruction.arguments.partition("=")
        args.setdefault(name.strip(), default.strip())
    elif instruction.keyword == "ENV":
        for assignment in words:
            name, _, value = assignment.partition("=")
            image.env[name] = state.map_paths(expand(value, args | image.env))
    elif instruction.keyword == "WORKDIR":
        image.workdir = words[0]
        state.host(words[0]).mkdir(parents=True, exist_ok=True)
    elif instruction.keyword == "USER":
        image.user = words[0]
    elif instruction.keyword == "EXPOSE":
        image.exposed.extend(words)
    elif instruction.keyword == "HEALTHCHECK":
        _, _, command = instruction.arguments.partition(" CMD ")
        image.healthcheck = json.loads(command) if command else []
    elif instruction.keyword in {"LABEL", "STOPSIGNAL", "VOLUME"}:
        pass  # metadata: nothing to run
    elif instruction.keyword == "ENTRYPOINT":
        image.entrypoint = json.loads(instruction.arguments)
    elif instruction.keyword == "CMD":
        image.cmd = json.loads(instruction.arguments)
    elif instruction.keyword == "COPY":
        replay_copy(instruction, words, state, stage_names, context, project, uv)
    elif instruction.keyword == "RUN":
        command = MOUNT_OPTION.sub("", instruction.arguments).strip()  # quoting kept as written
        command = drop_system_commands(command, state)
        if not command:
            return
        completed = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", command],
            cwd=state.host(image.workdir),
            env=base_env | image.env | {"PATH": f"{Path(uv).parent}:{image.env['PATH']}"},
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        assert completed.returncode == 0, (
            f"RUN {command} failed:\n{completed.stdout}{completed.stderr}"
        )
        state.ran.append(f"RUN {command}")
    else:
        raise AssertionError(f"the replay does not know {instruction.keyword}: teach it")


def drop_system_commands(command: str, state: Replay) -> str:
    """The command less its `&&`-joined parts that manage users and owners (listed as not run).

    A command that chains them any other way is not run at all.
    """
    parts = [part.strip() for part in command.split("&&")]
    kept = [part for part in parts if part.split()[0] not in SYSTEM_COMMANDS]
    why = "manages users and owners; the test runs as the host user"
    if any(SYSTEM_COMMANDS & set(part.split()) for part in kept):
        state.not_run.append((f"RUN {command}", why))
        return ""
    state.not_run.extend((f"RUN {part}", why) for part in parts if part not in kept)
    return " && ".join(kept)


def replay_copy(
    instruction: Instruction,
    words: list[str],
    state: Replay,
    stage_names: set[str],
    context: set[str],
    project: Path,
    uv: str,
) -> None:
    """COPY from the build context, from an earlier stage (the same root) or from an image."""
    options = [word for word in words if word.startswith("--")]
    *sources, destination = [word for word in words if not word.startswith("--")]
    from_option = next((o.split("=", 1)[1] for o in options if o.startswith("--from=")), None)
    workdir = state.image.workdir
    target = state.host(destination if destination.startswith("/") else f"{workdir}/{destination}")
    if from_option is not None and from_option not in stage_names:
        assert sources == ["/uv"], f"unexpected COPY from an image: {instruction.arguments}"
        state.not_run.append((f"COPY {instruction.arguments}", f"uses the test's uv ({uv})"))
        return
    if from_option is not None:  # from an earlier stage: the same scratch root
        for source in sources:
            built = state.host(source)
            assert built.exists(), f"{source} was not built by stage {from_option}"
            if built.is_dir() and built != target:
                shutil.copytree(built, target, symlinks=True, dirs_exist_ok=True)
            elif built.is_file():
                into_folder = destination.endswith("/") or target.is_dir()
                copied_to = target / built.name if into_folder else target
                if copied_to != built:
                    copied_to.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(built, copied_to)
        return
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
