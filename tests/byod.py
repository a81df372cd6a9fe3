"""Tables a user might bring: other column names, sizes, label types, with and without an id.

Not the shipped sample: each table comes from its own seeded process (standard library only),
so the baked project is proven on data it has never seen. `python tests/byod.py DIR` writes
them all to DIR as CSV and prints how to adopt each.
"""

from __future__ import annotations

import csv
import math
import random
import sys
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path


@dataclass(frozen=True)
class Table:
    """A generated table and how to bring it in."""

    name: str
    task: str
    columns: list[str]
    rows: list[list[object]]
    target: str
    id_column: str | None
    #: The baked suite this table must keep green: `test-all` (every test, as CI runs them) or
    #: `test` (the quick loop, to keep the template's CI within its time: each table's `make
    #: run` still trains, evaluates, promotes and serves on it).
    suite: str = "test-all"

    def write(self, path: Path) -> Path:
        """Save as CSV (an empty field for a missing value) and return the path."""
        with path.open("w", newline="", encoding="utf-8") as file:
            writer = csv.writer(file)
            writer.writerow(self.columns)
            writer.writerows(["" if value is None else value for value in row] for row in self.rows)
        return path

    def adopt_args(self, path: Path) -> list[str]:
        """The `data adopt` arguments for this table, saved at `path`."""
        args = ["data", "adopt", str(path), "--target", self.target]
        return args + (["--id", self.id_column] if self.id_column else [])


def multiclass_integer_labels(count: int = 700, seed: int = 1) -> Table:
    """Three integer classes, sorted by class, spaces, brackets and a non-ASCII letter in names,
    missing values, an id."""
    rng = random.Random(seed)
    drawn = []
    for number in range(count):
        width = rng.gauss(5, 2)
        colour = rng.choice(["red", "green", "blue", "amber"])
        score = width + (2.0 if colour == "red" else 0.0) + rng.gauss(0, 1)
        drawn.append((score, number, width, colour, float(rng.randint(10, 500))))
    cuts = sorted(score for score, *_ in drawn)
    low, high = cuts[int(0.4 * count)], cuts[int(0.75 * count)]
    rows = [
        [
            f"R-{number:05d}",
            None if rng.random() < 0.08 else round(width, 3),
            None if rng.random() < 0.05 else colour,
            size,
            1 if score < low else 2 if score < high else 3,
        ]
        for score, number, width, colour, size in drawn
    ]
    rows.sort(key=lambda row: row[-1])  # sorted by class: the first rows hold only class 1
    columns = ["record id", "leaf width", "leaf colour", "plot size (m²)", "grade"]
    return Table("multiclass", "classification", columns, rows, "grade", "record id", suite="test")


def binary_imbalanced_no_id(count: int = 4000, seed: int = 2) -> Table:
    """A 0/1 target with about 3% positives, a date column, no id."""
    rng = random.Random(seed)
    rows = []
    for _ in range(count):
        amount = rng.lognormvariate(3, 1)
        hour = rng.randint(0, 23)
        night = 1.0 if hour < 6 else 0.0
        logit = -5.2 + 0.9 * math.log(amount) * night + 1.5 * night + rng.gauss(0, 0.5)
        fraud = int(rng.random() < 1 / (1 + math.exp(-logit)))
        day = date(2024, 1, 1) + timedelta(days=rng.randint(0, 699))
        rows.append(
            [day.isoformat(), round(amount, 2), hour, rng.choice(["web", "app", "shop"]), fraud]
        )
    columns = ["Transaction Date", "Amount", "Hour", "Channel", "Is Fraud"]
    return Table("binary", "classification", columns, rows, "Is Fraud", None, suite="test")


def regression_small_no_id(count: int = 240, seed: int = 3) -> Table:
    """A price from a few columns: small, no id, a boolean and a number with missing values."""
    rng = random.Random(seed)
    rows = []
    for _ in range(count):
        engine = rng.uniform(1.0, 4.0)
        age = rng.randint(0, 19)
        electric = rng.random() < 0.2
        price = 30 + 9 * engine - 1.4 * age + 12 * electric + rng.gauss(0, 3)
        shown = None if rng.random() < 0.06 else round(engine, 2)
        body = rng.choice(["saloon", "estate", "hatch"])
        rows.append([shown, age, str(electric).lower(), body, round(price, 1)])
    columns = ["engine litres", "age years", "electric", "body", "price k"]
    return Table("regression", "regression", columns, rows, "price k", None, suite="test")


def tables() -> list[Table]:
    """Every table, one per task shape."""
    return [multiclass_integer_labels(), binary_imbalanced_no_id(), regression_small_no_id()]


def main(folder: str) -> None:
    """Write each table to FOLDER as `<name>.csv` and print how to adopt it."""
    out = Path(folder)
    out.mkdir(parents=True, exist_ok=True)
    for table in tables():
        path = table.write(out / f"{table.name}.csv")
        print(
            table.task, " ".join(repr(arg) if " " in arg else arg for arg in table.adopt_args(path))
        )


if __name__ == "__main__":
    main(sys.argv[1])
