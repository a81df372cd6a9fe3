"""Write a benchmark's figures into its marked block of the README (`--readme`, `make bench`).

Each benchmark prints a Markdown table; with `--readme` it also replaces what is between
`<!-- bench:NAME:start -->` and `<!-- bench:NAME:end -->` in README.md with that table and the
machine it ran on, the way `make run` fills in the results table. Nothing else is touched.
"""

import os
import platform
import sys
from datetime import UTC, datetime
from pathlib import Path

README = Path("README.md")


def machine() -> str:
    """The machine a figure was measured on, as the README states it."""
    return (
        f"{os.cpu_count()} CPUs, {platform.system()} {platform.machine()}, "
        f"Python {platform.python_version()}"
    )


def write_figures(name: str, figures: str, readme: Path = README) -> None:
    """Put `figures` in the README's `bench:NAME` block, stamped with the date and machine."""
    start, end = f"<!-- bench:{name}:start -->", f"<!-- bench:{name}:end -->"
    text = readme.read_text(encoding="utf-8")
    head, found_start, rest = text.partition(start)
    _, found_end, tail = rest.partition(end)
    if not (found_start and found_end):
        print(f"{readme} has no {start} ... {end} block: figures not written", file=sys.stderr)
        return
    stamp = f"Measured by `make bench` on {datetime.now(UTC):%Y-%m-%d}, {machine()}:"
    readme.write_text(f"{head}{start}\n{stamp}\n\n{figures.strip()}\n{end}{tail}", encoding="utf-8")
    print(f"Figures written to the {name} block of {readme}.")
