"""Generate the seeded synthetic sample data that every baked project ships in data/raw/.

Run ``python scripts/generate_sample_data.py`` to (re)write the files, or add ``--check`` to
compare the committed files with what the generator produces now and exit 1, naming the first
file that differs. CSVs are compared byte for byte; SQLite files by table schema and all rows,
since SQLite's file bytes can vary with the library version.

Only the standard library is used, and only `random.Random` methods whose algorithms are stable
across Python 3.11-3.13 (random, gauss, choices, sample), so the output is the same everywhere.

Two data sets are written, each as ``<name>.csv`` and ``<name>.db`` (SQLite, one table
``<name>``) with the same columns, in the same order, and the same rows:

CSV: header row, "\\n" line endings, floats with 2 decimals, dates YYYY-MM-DD, booleans
true/false, a missing value is an empty field. SQLite: INTEGER, REAL and TEXT columns, booleans
INTEGER 0/1, dates TEXT YYYY-MM-DD, a missing value is NULL.

Nulls are injected after the target is drawn, completely at random (MCAR): for each nullable
column an exact number of rows is picked uniformly without replacement, so the rates are exact.

customers: customer churn, classification, 5,000 rows, seed 42
-------------------------------------------------------------------
Snapshot date 2025-12-31.

- customer_id: "C00001" ... "C05000", unique, in row order.
- signup_date: uniform over the days 2019-01-01 .. 2025-12-31.
- tenure_months: whole months from signup_date to the snapshot, minus a gap uniform in 0..3
  (billing starts after sign-up), clipped to 0..72 (so signups before 2020 pile up at 72).
- contract: month-to-month / one-year / two-year with weights 0.60 / 0.25 / 0.15 below 12 months
  of tenure, 0.45 / 0.30 / 0.25 from 12 to 35, 0.30 / 0.30 / 0.40 from 36 (long-standing
  customers sign longer contracts).
- internet_service (true value, before nulls): dsl / fiber / none with weights 0.35 / 0.45 / 0.20.
- monthly_charges: by internet_service, Gaussian with mean (sd) dsl 55 (10), fiber 90 (12),
  none 22 (3), minus 4 (a discount) on a two-year contract, clipped to 18..120.
- total_charges: tenure_months x monthly_charges x (1 + N(0, 0.04) clipped to +-0.10); 0 when
  tenure is 0. Bounds 0..9,504.
- payment_method: electronic-check / mailed-check / bank-transfer / credit-card with weights
  0.34 / 0.22 / 0.22 / 0.22.
- support_calls: Poisson with mean 1.2, plus 0.8 for fiber, plus 0.6 for month-to-month,
  clipped to 0..15.
- paperless_billing: true with probability 0.60.
- senior_citizen: true with probability 0.16.
- churned (target, "yes"/"no"): "yes" with probability sigmoid(z), where
  z = -1.10
      + {month-to-month: +1.10, one-year: -0.30, two-year: -1.40}[contract]
      - 0.035 x tenure_months
      + 0.025 x (monthly_charges - 65)
      + 0.20 x support_calls + 0.60 x max(0, support_calls - 3)   (calls beyond 3 hurt more)
      + 0.70 if payment_method is electronic-check
      + 0.40 if internet_service is fiber
      + 0.30 if senior_citizen
      + 0.15 if paperless_billing
  About 27% of customers churn. signup_date carries signal only through tenure.
- Nulls: total_charges 75 rows (1.5%), internet_service 150 rows (3%); all other columns none.

houses: house sales, regression, 4,000 rows, seed 43
------------------------------------------------------
- house_id: "H00001" ... "H04000", unique, in row order.
- sold_date: uniform over the days 2018-01-01 .. 2025-12-31.
- neighbourhood: central / old-town / riverside / harbour / hillside / suburbs with weights
  0.12 / 0.10 / 0.18 / 0.12 / 0.18 / 0.30.
- distance_to_centre_km: uniform within the neighbourhood's band: central 0.2-3,
  old-town 0.5-4, riverside 2-9, harbour 3-12, hillside 6-20, suburbs 8-40.
- living_area_sqm: log-normal, median by neighbourhood (central 70, old-town 85, riverside 100,
  harbour 90, hillside 130, suburbs 140) x exp(N(0, 0.35)), clipped to 30..400.
- lot_area_sqm: living_area_sqm x lot ratio, the ratio log-normal with median central 0.8,
  old-town 1.0, riverside 2.0, harbour 1.5, hillside 4.0, suburbs 5.0 and log-sd 0.40;
  clipped to 20..5,000.
- bedrooms: round(0.5 + living_area_sqm / 40 + N(0, 0.7)), clipped to 1..7.
- bathrooms: round(0.6 + living_area_sqm / 90 + N(0, 0.5)), clipped to 1..4 and to bedrooms.
- year_built: Gaussian by neighbourhood, mean (sd) central 1955 (30), old-town 1915 (15),
  riverside 1985 (20), harbour 2000 (15), hillside 1975 (20), suburbs 1992 (18), rounded,
  clipped to 1900..2024 and to the sale year (no house is sold before it is built).
- condition: poor / fair / good / excellent; for age = sale year - year_built the weights are
  0.03 / 0.17 / 0.50 / 0.30 when age < 15, 0.08 / 0.30 / 0.45 / 0.17 when age < 50,
  else 0.15 / 0.35 / 0.38 / 0.12.
- has_garage: true with probability central 0.10, old-town 0.15, riverside 0.45, harbour 0.30,
  hillside 0.75, suburbs 0.85.
- price (target, thousands of euros): exp(y), where
  y = 0.75
      + 0.85 x ln(living_area_sqm)
      + 0.10 x ln(lot_area_sqm)
      + {central: 0.55, old-town: 0.45, riverside: 0.35, harbour: 0.25, hillside: 0.10,
         suburbs: 0.00}[neighbourhood]
      + {poor: -0.30, fair: -0.12, good: 0.00, excellent: 0.15}[condition]
      - 0.004 x age + 0.20 if year_built < 1930 (period houses carry a premium)
      - 0.012 x distance_to_centre_km
      + 0.04 x bathrooms + 0.06 if has_garage
      + 0.045 x years since 2018-01-01 of sold_date (a mild upward market trend)
      + N(0, 0.14)
  clipped to 40..3,000.
- Nulls: lot_area_sqm 200 rows (5%), distance_to_centre_km 80 rows (2%); all other columns none.
"""

from __future__ import annotations

import argparse
import csv
import io
import math
import random
import sqlite3
import sys
import tempfile
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
OUTPUT_DIR = ROOT / "{{cookiecutter.project_slug}}" / "data" / "raw"
SEED = 42

INTEGER, REAL, TEXT, BOOLEAN, DATE = "integer", "real", "text", "boolean", "date"
SQL_TYPES = {INTEGER: "INTEGER", REAL: "REAL", TEXT: "TEXT", BOOLEAN: "INTEGER", DATE: "TEXT"}

Value = int | float | str | bool | date | None
Row = dict[str, Value]


@dataclass(frozen=True)
class Column:
    """One column: its name, its storage kind and whether it may hold nulls."""

    name: str
    kind: str
    nullable: bool = False


@dataclass(frozen=True)
class Table:
    """A generated data set: its name (file stem and table name), columns and rows."""

    name: str
    columns: tuple[Column, ...]
    rows: list[Row]


# ---------------------------------------------------------------------------------------------
# Helpers


def clip(value: float, low: float, high: float) -> float:
    """Clamp value into [low, high]."""
    return max(low, min(high, value))


def uniform_date(rng: random.Random, first: date, last: date) -> date:
    """A day drawn uniformly from first..last inclusive."""
    return first + timedelta(days=math.floor(rng.random() * ((last - first).days + 1)))


def poisson(rng: random.Random, mean: float) -> int:
    """A Poisson draw by Knuth's multiplication method (fine for small means)."""
    limit, product, count = math.exp(-mean), rng.random(), 0
    while product > limit:
        product *= rng.random()
        count += 1
    return count


def pick(rng: random.Random, weights: dict[str, float]) -> str:
    """One key of weights, drawn with probability proportional to its weight."""
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def sigmoid(z: float) -> float:
    """The logistic function."""
    return 1.0 / (1.0 + math.exp(-z))


def inject_nulls(rng: random.Random, rows: list[Row], counts: dict[str, int]) -> None:
    """Set exactly counts[column] values of each column to None, rows picked at random."""
    for column, count in counts.items():
        for index in sorted(rng.sample(range(len(rows)), count)):
            rows[index][column] = None


# ---------------------------------------------------------------------------------------------
# customers: churn classification

CUSTOMERS = 5_000
SNAPSHOT = date(2025, 12, 31)
CUSTOMER_COLUMNS = (
    Column("customer_id", TEXT),
    Column("signup_date", DATE),
    Column("tenure_months", INTEGER),
    Column("monthly_charges", REAL),
    Column("total_charges", REAL, nullable=True),
    Column("contract", TEXT),
    Column("payment_method", TEXT),
    Column("internet_service", TEXT, nullable=True),
    Column("support_calls", INTEGER),
    Column("paperless_billing", BOOLEAN),
    Column("senior_citizen", BOOLEAN),
    Column("churned", TEXT),
)
CONTRACT_EFFECT = {"month-to-month": 1.10, "one-year": -0.30, "two-year": -1.40}
PAYMENT_WEIGHTS = {
    "electronic-check": 0.34,
    "mailed-check": 0.22,
    "bank-transfer": 0.22,
    "credit-card": 0.22,
}
CHARGE_MEAN_SD = {"dsl": (55.0, 10.0), "fiber": (90.0, 12.0), "none": (22.0, 3.0)}


def contract_weights(tenure: int) -> dict[str, float]:
    """Contract mix by tenure: long-standing customers sign longer contracts."""
    if tenure < 12:
        return {"month-to-month": 0.60, "one-year": 0.25, "two-year": 0.15}
    if tenure < 36:
        return {"month-to-month": 0.45, "one-year": 0.30, "two-year": 0.25}
    return {"month-to-month": 0.30, "one-year": 0.30, "two-year": 0.40}


def customer(rng: random.Random, number: int) -> Row:
    """One customer row, every column drawn in a fixed order (see the module docstring)."""
    signup = uniform_date(rng, date(2019, 1, 1), SNAPSHOT)
    months = (SNAPSHOT.year - signup.year) * 12 + SNAPSHOT.month - signup.month
    months -= SNAPSHOT.day < signup.day
    tenure = int(clip(months - math.floor(rng.random() * 4), 0, 72))
    contract = pick(rng, contract_weights(tenure))
    internet = pick(rng, {"dsl": 0.35, "fiber": 0.45, "none": 0.20})
    mean, sd = CHARGE_MEAN_SD[internet]
    discount = 4.0 if contract == "two-year" else 0.0
    monthly = round(clip(rng.gauss(mean, sd) - discount, 18.0, 120.0), 2)
    total = round(tenure * monthly * (1.0 + clip(rng.gauss(0.0, 0.04), -0.10, 0.10)), 2)
    payment = pick(rng, PAYMENT_WEIGHTS)
    calls_mean = 1.2 + 0.8 * (internet == "fiber") + 0.6 * (contract == "month-to-month")
    calls = min(poisson(rng, calls_mean), 15)
    paperless = rng.random() < 0.60
    senior = rng.random() < 0.16
    z = (
        -1.10
        + CONTRACT_EFFECT[contract]
        - 0.035 * tenure
        + 0.025 * (monthly - 65.0)
        + 0.20 * calls
        + 0.60 * max(0, calls - 3)
        + 0.70 * (payment == "electronic-check")
        + 0.40 * (internet == "fiber")
        + 0.30 * senior
        + 0.15 * paperless
    )
    churned = rng.random() < sigmoid(z)
    return {
        "customer_id": f"C{number:05d}",
        "signup_date": signup,
        "tenure_months": tenure,
        "monthly_charges": monthly,
        "total_charges": total,
        "contract": contract,
        "payment_method": payment,
        "internet_service": internet,
        "support_calls": calls,
        "paperless_billing": paperless,
        "senior_citizen": senior,
        "churned": "yes" if churned else "no",
    }


def customers(seed: int) -> Table:
    """The churn data set."""
    rng = random.Random(seed)  # noqa: S311 - reproducible sample data, not security
    rows = [customer(rng, number) for number in range(1, CUSTOMERS + 1)]
    inject_nulls(rng, rows, {"total_charges": 75, "internet_service": 150})
    return Table("customers", CUSTOMER_COLUMNS, rows)


# ---------------------------------------------------------------------------------------------
# houses: price regression

HOUSES = 4_000
MARKET_START = date(2018, 1, 1)
HOUSE_COLUMNS = (
    Column("house_id", TEXT),
    Column("sold_date", DATE),
    Column("living_area_sqm", REAL),
    Column("lot_area_sqm", REAL, nullable=True),
    Column("bedrooms", INTEGER),
    Column("bathrooms", INTEGER),
    Column("year_built", INTEGER),
    Column("neighbourhood", TEXT),
    Column("condition", TEXT),
    Column("has_garage", BOOLEAN),
    Column("distance_to_centre_km", REAL, nullable=True),
    Column("price", REAL),
)


@dataclass(frozen=True)
class Neighbourhood:
    """How a neighbourhood shapes its houses."""

    weight: float
    distance_km: tuple[float, float]
    median_area: float
    lot_ratio: float
    built_mean_sd: tuple[float, float]
    garage: float
    premium: float


NEIGHBOURHOODS = {
    "central": Neighbourhood(0.12, (0.2, 3.0), 70.0, 0.8, (1955.0, 30.0), 0.10, 0.55),
    "old-town": Neighbourhood(0.10, (0.5, 4.0), 85.0, 1.0, (1915.0, 15.0), 0.15, 0.45),
    "riverside": Neighbourhood(0.18, (2.0, 9.0), 100.0, 2.0, (1985.0, 20.0), 0.45, 0.35),
    "harbour": Neighbourhood(0.12, (3.0, 12.0), 90.0, 1.5, (2000.0, 15.0), 0.30, 0.25),
    "hillside": Neighbourhood(0.18, (6.0, 20.0), 130.0, 4.0, (1975.0, 20.0), 0.75, 0.10),
    "suburbs": Neighbourhood(0.30, (8.0, 40.0), 140.0, 5.0, (1992.0, 18.0), 0.85, 0.00),
}
CONDITION_EFFECT = {"poor": -0.30, "fair": -0.12, "good": 0.00, "excellent": 0.15}


def condition_weights(age: int) -> dict[str, float]:
    """Condition mix by age at sale: newer houses are in better shape."""
    if age < 15:
        return {"poor": 0.03, "fair": 0.17, "good": 0.50, "excellent": 0.30}
    if age < 50:
        return {"poor": 0.08, "fair": 0.30, "good": 0.45, "excellent": 0.17}
    return {"poor": 0.15, "fair": 0.35, "good": 0.38, "excellent": 0.12}


def house(rng: random.Random, number: int) -> Row:
    """One house sale row, every column drawn in a fixed order (see the module docstring)."""
    sold = uniform_date(rng, MARKET_START, date(2025, 12, 31))
    name = pick(rng, {key: value.weight for key, value in NEIGHBOURHOODS.items()})
    hood = NEIGHBOURHOODS[name]
    low, high = hood.distance_km
    distance = round(low + (high - low) * rng.random(), 2)
    area = round(clip(hood.median_area * math.exp(rng.gauss(0.0, 0.35)), 30.0, 400.0), 2)
    lot = round(clip(area * hood.lot_ratio * math.exp(rng.gauss(0.0, 0.40)), 20.0, 5000.0), 2)
    bedrooms = int(clip(round(0.5 + area / 40.0 + rng.gauss(0.0, 0.7)), 1, 7))
    bathrooms = int(clip(round(0.6 + area / 90.0 + rng.gauss(0.0, 0.5)), 1, min(4, bedrooms)))
    built_mean, built_sd = hood.built_mean_sd
    built = int(clip(round(rng.gauss(built_mean, built_sd)), 1900, min(2024, sold.year)))
    age = sold.year - built
    condition = pick(rng, condition_weights(age))
    garage = rng.random() < hood.garage
    years = (sold - MARKET_START).days / 365.25
    y = (
        0.75
        + 0.85 * math.log(area)
        + 0.10 * math.log(lot)
        + hood.premium
        + CONDITION_EFFECT[condition]
        - 0.004 * age
        + 0.20 * (built < 1930)
        - 0.012 * distance
        + 0.04 * bathrooms
        + 0.06 * garage
        + 0.045 * years
        + rng.gauss(0.0, 0.14)
    )
    price = round(clip(math.exp(y), 40.0, 3000.0), 2)
    return {
        "house_id": f"H{number:05d}",
        "sold_date": sold,
        "living_area_sqm": area,
        "lot_area_sqm": lot,
        "bedrooms": bedrooms,
        "bathrooms": bathrooms,
        "year_built": built,
        "neighbourhood": name,
        "condition": condition,
        "has_garage": garage,
        "distance_to_centre_km": distance,
        "price": price,
    }


def houses(seed: int) -> Table:
    """The house price data set."""
    rng = random.Random(seed)  # noqa: S311 - reproducible sample data, not security
    rows = [house(rng, number) for number in range(1, HOUSES + 1)]
    inject_nulls(rng, rows, {"lot_area_sqm": 200, "distance_to_centre_km": 80})
    return Table("houses", HOUSE_COLUMNS, rows)


def tables(seed: int) -> list[Table]:
    """Every data set, customers from seed and houses from seed + 1."""
    return [customers(seed), houses(seed + 1)]


# ---------------------------------------------------------------------------------------------
# Writing and checking


def csv_field(value: Value) -> str:
    """A value as CSV text: '' for None, true/false, 2-decimal floats, ISO dates."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return f"{value:.2f}"
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def sql_value(value: Value) -> int | float | str | None:
    """A value as SQLite stores it: booleans 0/1, dates ISO text, None as NULL."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def csv_bytes(table: Table) -> bytes:
    """The table's CSV file content."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([column.name for column in table.columns])
    for row in table.rows:
        writer.writerow([csv_field(row[column.name]) for column in table.columns])
    return buffer.getvalue().encode("utf-8")


def create_statement(table: Table) -> str:
    """CREATE TABLE for the table: typed columns, the first column the primary key."""
    lines = []
    for position, column in enumerate(table.columns):
        line = f"    {column.name} {SQL_TYPES[column.kind]}"
        if position == 0:
            line += " NOT NULL PRIMARY KEY"
        elif not column.nullable:
            line += " NOT NULL"
        lines.append(line)
    return f"CREATE TABLE {table.name} (\n" + ",\n".join(lines) + "\n)"


def write_db(table: Table, path: Path) -> None:
    """Write the table to a fresh SQLite file at path."""
    path.unlink(missing_ok=True)
    placeholders = ", ".join("?" for _ in table.columns)
    connection = sqlite3.connect(path)
    try:
        with connection:
            connection.execute(create_statement(table))
            connection.executemany(
                f"INSERT INTO {table.name} VALUES ({placeholders})",  # noqa: S608 - fixed names
                [[sql_value(row[column.name]) for column in table.columns] for row in table.rows],
            )
    finally:
        connection.close()


def db_content(path: Path) -> tuple[list[tuple[object, ...]], dict[str, list[tuple[object, ...]]]]:
    """A SQLite file's schema (from sqlite_master) and every table's rows in rowid order."""
    connection = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        schema = connection.execute(
            "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
        ).fetchall()
        rows = {
            name: connection.execute(f'SELECT * FROM "{name}" ORDER BY rowid').fetchall()  # noqa: S608
            for kind, name, _, _ in schema
            if kind == "table"
        }
    finally:
        connection.close()
    return schema, rows


def write(output_dir: Path, seed: int) -> None:
    """Write every data set as CSV and SQLite into output_dir."""
    output_dir.mkdir(parents=True, exist_ok=True)
    for table in tables(seed):
        (output_dir / f"{table.name}.csv").write_bytes(csv_bytes(table))
        write_db(table, output_dir / f"{table.name}.db")
        print(f"wrote {table.name}.csv and {table.name}.db ({len(table.rows):,} rows)")


def first_difference(output_dir: Path, seed: int) -> str | None:
    """A one-line message naming the first committed file that differs, or None if all match."""
    with tempfile.TemporaryDirectory() as scratch:
        for table in tables(seed):
            csv_path = output_dir / f"{table.name}.csv"
            if not csv_path.is_file():
                return f"{csv_path} is missing"
            if csv_path.read_bytes() != csv_bytes(table):
                return f"{csv_path} differs from the generator's output"
            db_path = output_dir / f"{table.name}.db"
            if not db_path.is_file():
                return f"{db_path} is missing"
            expected = Path(scratch) / db_path.name
            write_db(table, expected)
            try:
                actual = db_content(db_path)
            except sqlite3.DatabaseError as error:
                return f"{db_path} is not a readable SQLite database: {error}"
            if actual != db_content(expected):
                return f"{db_path} differs from the generator's output (schema or rows)"
    return None


def main(argv: list[str] | None = None) -> int:
    """Parse arguments, then write the files or check them."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--check",
        action="store_true",
        help="write nothing; exit 1 if the committed files differ from the generator's output",
    )
    parser.add_argument("--seed", type=int, default=SEED, help=f"base seed (default {SEED})")
    parser.add_argument(
        "--output-dir",
        type=Path,
        default=OUTPUT_DIR,
        help="where the files go (default: the template's data/raw)",
    )
    args = parser.parse_args(argv)
    if not args.check:
        write(args.output_dir, args.seed)
        return 0
    difference = first_difference(args.output_dir, args.seed)
    if difference is not None:
        print(
            f"{difference}: run python scripts/generate_sample_data.py to regenerate",
            file=sys.stderr,
        )
        return 1
    print("sample data is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
