"""`make bench` writes each benchmark's figures into its marked block of the README, and nowhere else."""

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[1]
BENCHMARKS = ("pipeline", "scale", "serving", "attack")


def load_figures() -> ModuleType:
    """`benchmarks/figures.py`, which the benchmarks import as a script's neighbour."""
    spec = importlib.util.spec_from_file_location(
        "figures", PROJECT_ROOT / "benchmarks" / "figures.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


figures = load_figures()


def block(name: str, body: str) -> str:
    return f"<!-- bench:{name}:start -->\n{body}\n<!-- bench:{name}:end -->"


@pytest.mark.parametrize("name", BENCHMARKS)
def test_the_readme_has_one_block_for_each_benchmark(name: str) -> None:
    text = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"

    assert text.count(start) == text.count(end) == 1
    assert text.index(start) < text.index(end)


@pytest.mark.parametrize("name", BENCHMARKS)
def test_each_benchmark_can_write_its_block(name: str) -> None:
    source = (PROJECT_ROOT / "benchmarks" / f"{name}.py").read_text(encoding="utf-8")

    assert '"--readme"' in source
    assert f'write_figures("{name}"' in source


def test_figures_replace_their_block_and_nothing_else(tmp_path: Path) -> None:
    readme = tmp_path / "README.md"
    before, between, after = "# A project\n\nIntro.\n\n", "\n\nProse.\n\n", "\n\nThe end.\n"
    other = block("attack", "Kept as it was.")
    readme.write_text(
        before + block("serving", "Old figures.") + between + other + after, encoding="utf-8"
    )

    figures.write_figures("serving", "| a | b |\n| --- | --- |\n| 1 | 2 |\n", readme)
    figures.write_figures("serving", "| a | b |\n| --- | --- |\n| 3 | 4 |\n", readme)

    text = readme.read_text(encoding="utf-8")
    assert text.startswith(before + "<!-- bench:serving:start -->\nMeasured by `make bench` on ")
    assert text.endswith("| 3 | 4 |\n<!-- bench:serving:end -->" + between + other + after)
    assert text.count("Measured by") == 1
    assert "Old figures." not in text
    assert "| 1 | 2 |" not in text


def test_a_readme_without_the_block_is_left_as_it_was(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = tmp_path / "README.md"
    readme.write_text("# A project without markers\n", encoding="utf-8")

    figures.write_figures("serving", "| 1 |", readme)

    assert readme.read_text(encoding="utf-8") == "# A project without markers\n"
    assert "no <!-- bench:serving:start -->" in capsys.readouterr().err
