"""Time `cookiecutter --no-input` on this template, as a user runs it, and print the figures.

Usage: uv run python benchmarks/bake_time.py [--runs N]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEMPLATE_DIR = Path(__file__).resolve().parents[1]


def main() -> None:
    """Bake the default answers several times in fresh folders and report wall times."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=10)
    runs = parser.parse_args().runs
    cookiecutter = shutil.which("cookiecutter", path=str(Path(sys.executable).parent))
    if cookiecutter is None:
        sys.exit("run this with the template's test environment: uv run python benchmarks/...")

    seconds = []
    for _ in range(runs):
        with tempfile.TemporaryDirectory() as output:
            start = time.perf_counter()
            subprocess.run(
                [cookiecutter, str(TEMPLATE_DIR), "--no-input", "--output-dir", output],
                check=True,
                capture_output=True,
            )
            seconds.append(time.perf_counter() - start)

    print(f"cookiecutter --no-input, default answers, {runs} runs (process start to exit):")
    median, fastest, slowest = statistics.median(seconds), min(seconds), max(seconds)
    print(f"  median {median:.3f} s, min {fastest:.3f} s, max {slowest:.3f} s")


if __name__ == "__main__":
    main()
