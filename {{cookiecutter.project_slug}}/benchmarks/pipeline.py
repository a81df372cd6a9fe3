"""Wall time and peak memory of the whole `run` pipeline on the configured data.

Usage, from the project root: uv run python benchmarks/pipeline.py [--runs 3]

Each run is a fresh process (`{{ cookiecutter.project_slug }} run`) in a scratch copy of `configs/` and
`data/raw/`, tracking to a throwaway MLflow store: the project's own registry, reports and README
are left alone. Peak memory is the child's high-water mark.
"""

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from figures import write_figures


def run_once() -> tuple[float, float]:
    """Seconds and peak MB of one `run` in a child process with its own tracking store."""
    with tempfile.TemporaryDirectory() as scratch:
        shutil.copytree("configs", Path(scratch) / "configs")
        shutil.copytree("data/raw", Path(scratch) / "data" / "raw")
        env = os.environ | {
            "MLFLOW_TRACKING_URI": f"sqlite:///{scratch}/mlflow.db",
            "{{ cookiecutter.package_name | upper }}_MODEL_NAME": "benchmark",
        }
        # The child reports its own high-water mark (VmHWM) as it exits.
        code = (
            "import atexit, sys\n"
            "from {{ cookiecutter.package_name }}.cli import app\n"
            "def peak():\n"
            "    for line in open('/proc/self/status'):\n"
            "        if line.startswith('VmHWM'): sys.stderr.write(line)\n"
            "atexit.register(peak)\n"
            "app(['run'], prog_name='{{ cookiecutter.project_slug }}')\n"
        )
        started = time.perf_counter()
        done = subprocess.run(  # noqa: S603 - runs this project's own CLI
            [sys.executable, "-c", code],
            cwd=scratch,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"run failed:\n{done.stderr[-2000:]}")
    peak_kb = next(
        int(line.split()[1]) for line in done.stderr.splitlines() if line.startswith("VmHWM")
    )
    return seconds, peak_kb / 1024


def main() -> None:
    """Run the pipeline a few times and print the median and range."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--readme", action="store_true", help="also write the table into README.md")
    arguments = parser.parse_args()
    if not Path("/proc/self/status").exists():
        sys.exit("this benchmark reads peak memory from /proc: run it on Linux")
    results = [run_once() for _ in range(arguments.runs)]
    seconds = [s for s, _ in results]
    peaks = [p for _, p in results]
    table = (
        "| what | wall time | peak memory |\n| --- | ---: | ---: |\n"
        f"| `run`: ingest, train, evaluate, promote (median of {arguments.runs}) "
        f"| {statistics.median(seconds):.1f} s (min {min(seconds):.1f}, max {max(seconds):.1f}) "
        f"| {statistics.median(peaks):.0f} MB (max {max(peaks):.0f}) |"
    )
    print(table)
    if arguments.readme:
        write_figures("pipeline", table)


if __name__ == "__main__":
    main()
