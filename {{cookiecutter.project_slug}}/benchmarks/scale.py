"""How validation, training and batch scoring scale with the number of rows.

Usage, from the project root: uv run python benchmarks/scale.py [--sizes 10000 100000 1000000]
{%- if cookiecutter.include_spark %}
[--engines pandas spark]
{%- endif %}

Rows are drawn from the shipped sample (resampled, fresh IDs, a little noise on numbers, kept
within the contract's bounds). Each phase runs in a fresh process, so the peak memory reported
for it is its own and not left over from an earlier phase.
{%- if cookiecutter.include_spark %}

With `--engines pandas spark`, validation (ingest) and batch scoring also run on Spark
(SPARK_MASTER, `local[*]` by default), on the same rows. A Spark phase's peak memory is the
sum of its processes' peaks: the Python driver, Spark's JVM and its Python workers.
{%- endif %}
"""

import argparse
{%- if cookiecutter.include_spark %}
import os
{%- endif %}
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path

import joblib
import numpy as np
import pandas as pd
from figures import write_figures
{%- if cookiecutter.task == "classification" %}
from sklearn.ensemble import HistGradientBoostingClassifier as Estimator
{%- else %}
from sklearn.ensemble import HistGradientBoostingRegressor as Estimator
{%- endif %}

from {{ cookiecutter.package_name }}.config import load_config
from {{ cookiecutter.package_name }}.data.contract import DataContract, load_contract
from {{ cookiecutter.package_name }}.data.datasets import (
    read_source,
    read_table,
    write_parquet,
)
from {{ cookiecutter.package_name }}.data.features import build_pipeline
from {{ cookiecutter.package_name }}.data.validation import validate
from {{ cookiecutter.package_name }}.serving.batch import predict_file
from {{ cookiecutter.package_name }}.settings import load_settings

CHUNK_ROWS = 100_000
NOISE = 0.02  # standard deviation of the added noise, as a share of the column's


def load_sample() -> tuple[DataContract, pd.DataFrame]:
    """The contract and the validated sample, read as the CLI reads them."""
    settings = load_settings()
    config = load_config(settings.config_file)
    contract = load_contract(config.data.contract)
{%- if cookiecutter.data_source == "sql" %}
    raw = read_source(config.data, settings.database_url.get_secret_value())
{%- else %}
    raw = read_source(config.data)
{%- endif %}
    return contract, validate(raw, contract)


def synthesize(sample: pd.DataFrame, contract: DataContract, rows: int, seed: int) -> pd.DataFrame:
    """`rows` rows like the sample's: resampled with replacement, fresh IDs, jittered numbers."""
    rng = np.random.default_rng(seed)
    drawn = sample.iloc[rng.integers(0, len(sample), size=rows)].reset_index(drop=True)
    if contract.id_column:
        drawn[contract.id_column] = [f"S{number:09d}" for number in range(rows)]
    for column in contract.columns:
        if column.type != "numeric":
            continue
        values = drawn[column.name]
        noisy = values + rng.normal(0, NOISE * float(sample[column.name].std()), size=rows)
        if (sample[column.name].dropna() % 1 == 0).all():
            noisy = noisy.round()
        drawn[column.name] = noisy.clip(column.min, column.max)
    return drawn


def peak_mb() -> float:
    """This process's peak resident memory so far, in MB.

    On Linux, VmHWM: `ru_maxrss` would start at the parent's peak, as Linux carries it across
    the exec that starts a spawned process. Elsewhere `ru_maxrss` (macOS counts bytes).
    """
    status = Path("/proc/self/status")
    if status.exists():
        line = next(x for x in status.read_text().splitlines() if x.startswith("VmHWM:"))
        return int(line.split()[1]) / 2**10
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak / 2**20 if sys.platform == "darwin" else peak / 2**10


{%- if cookiecutter.include_spark %}


def tree_peak_mb() -> float:
    """The peak resident memory of this process and every process it started, summed, in MB.

    Spark's JVM and its Python workers are this process's descendants (Linux only: /proc).
    """
    total, pending = 0.0, [os.getpid()]
    while pending:
        pid = pending.pop()
        try:
            status = Path(f"/proc/{pid}/status").read_text()
            for task in Path(f"/proc/{pid}/task").iterdir():
                pending += map(int, (task / "children").read_text().split())
        except OSError:  # it ended meanwhile
            continue
        peaks = [x.split()[1] for x in status.splitlines() if x.startswith("VmHWM:")]
        total += sum(int(peak) / 2**10 for peak in peaks)  # none for a zombie
    return total
{%- endif %}


def phase_idle() -> tuple[float, float]:
    """Nothing but the imports: the floor under every phase's peak memory."""
    return 0.0, peak_mb()


def phase_draw(
    sample: pd.DataFrame, contract: DataContract, rows: int, seed: int, csv: Path
) -> tuple[float, float]:
    """Write the synthetic rows (in a process of its own, to keep the parent small)."""
    synthesize(sample, contract, rows, seed).to_csv(csv, index=False)
    return 0.0, peak_mb()


def phase_validate(contract: DataContract, csv: Path, valid: Path) -> tuple[float, float]:
    """Ingest: read the CSV whole and validate it; the typed rows are kept for `fit`."""
    start = time.perf_counter()
    typed = validate(read_table(str(csv)), contract)
    seconds = time.perf_counter() - start
    write_parquet(typed, valid)
    return seconds, peak_mb()


def phase_fit(contract: DataContract, valid: Path, model: Path) -> tuple[float, float]:
    """Train: fit the whole pipeline on the validated rows; the model is kept for `predict`."""
    train = pd.read_parquet(valid)
    pipeline = build_pipeline(contract, Estimator(max_iter=100, random_state=0))
    start = time.perf_counter()
    pipeline.fit(train[contract.feature_names], train[contract.target.name])
    seconds = time.perf_counter() - start
    joblib.dump(pipeline, model)
    return seconds, peak_mb()


def phase_predict(
    contract: DataContract, csv: Path, model: Path, output: Path
) -> tuple[float, float]:
    """Score: the CSV, chunk by chunk, to Parquet."""
    pipeline = joblib.load(model)
    summary = predict_file(
        pipeline, contract, csv, output, model_version="benchmark", chunk_rows=CHUNK_ROWS
    )
    return summary.seconds, peak_mb()


{%- if cookiecutter.include_spark %}


def phase_spark_validate(contract: DataContract, csv: Path, valid: Path) -> tuple[float, float]:
    """Ingest on Spark: read the CSV, validate it, write the typed rows as Parquet."""
    from {{ cookiecutter.package_name }}.spark.session import (
        read,
        session,
        write_parquet,
    )
    from {{ cookiecutter.package_name }}.spark.validation import (
        validate as validate_in_spark,
    )

    start = time.perf_counter()  # starting Spark included, as `predict_file` counts it
    spark = session(load_settings().spark_master)
    write_parquet(validate_in_spark(read(spark, str(csv)), contract), valid)
    return time.perf_counter() - start, tree_peak_mb()


def phase_spark_predict(
    contract: DataContract, csv: Path, model: Path, output: Path
) -> tuple[float, float]:
    """Score on Spark: the CSV, a partition at a time, to Parquet."""
    from {{ cookiecutter.package_name }}.spark.jobs import (
        predict_file as predict_in_spark,
    )

    summary = predict_in_spark(
        joblib.load(model),
        contract,
        csv,
        output,
        model_version="benchmark",
        master=load_settings().spark_master,
    )
    return summary.seconds, tree_peak_mb()
{%- endif %}


def in_fresh_process(phase, *args: object) -> tuple[float, float]:  # type: ignore[no-untyped-def]
    """Run one phase in a new interpreter (spawned, not forked: it starts with nothing)."""
    with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as pool:
        result: tuple[float, float] = pool.submit(phase, *args).result()
        return result


def main() -> None:
    """Measure every size and print one Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 1_000_000])
    parser.add_argument("--seed", type=int, default=0)
{%- if cookiecutter.include_spark %}
    parser.add_argument("--engines", nargs="+", choices=["pandas", "spark"], default=["pandas"])
{%- endif %}
    parser.add_argument("--readme", action="store_true", help="also write the table into README.md")
    arguments = parser.parse_args()

    contract, sample = load_sample()
    _, idle_mb = in_fresh_process(phase_idle)
    header = ["rows", "validate s", "fit s", "predict s", "validate MB", "fit MB", "predict MB"]
{%- if cookiecutter.include_spark %}
    spark = "spark" in arguments.engines
    if spark:
        header += ["Spark validate s", "Spark predict s", "Spark validate MB", "Spark predict MB"]
{%- endif %}
    lines = ["| " + " | ".join(header) + " |", "|" + "---:|" * len(header)]
    print("\n".join(lines), flush=True)
    for rows in arguments.sizes:
        with tempfile.TemporaryDirectory() as folder:
            csv, valid = Path(folder) / "rows.csv", Path(folder) / "valid.parquet"
            model, output = Path(folder) / "model.joblib", Path(folder) / "predictions.parquet"
            in_fresh_process(phase_draw, sample, contract, rows, arguments.seed, csv)
            validate_s, validate_mb = in_fresh_process(phase_validate, contract, csv, valid)
            fit_s, fit_mb = in_fresh_process(phase_fit, contract, valid, model)
            predict_s, predict_mb = in_fresh_process(phase_predict, contract, csv, model, output)
            cells = [f"{rows:,}", *(f"{s:.2f}" for s in (validate_s, fit_s, predict_s))]
            cells += [f"{mb:,.0f}" for mb in (validate_mb, fit_mb, predict_mb)]
{%- if cookiecutter.include_spark %}
            if spark:
                valid, output = Path(folder) / "spark-valid", Path(folder) / "spark.parquet"
                in_spark = [
                    in_fresh_process(phase_spark_validate, contract, csv, valid),
                    in_fresh_process(phase_spark_predict, contract, csv, model, output),
                ]
                cells += [f"{seconds:.2f}" for seconds, _ in in_spark]
                cells += [f"{mb:,.0f}" for _, mb in in_spark]
{%- endif %}
        lines.append("| " + " | ".join(cells) + " |")
        print(lines[-1], flush=True)
    lines.append(
        f"\nPeak MB: each phase's own process, imports included ({idle_mb:,.0f} MB for imports "
        f"alone). Predict reads {CHUNK_ROWS:,} rows at a time."
{%- if cookiecutter.include_spark %}
        + (" Spark: the sum of its processes' peaks (driver, JVM, workers)." if spark else "")
{%- endif %}
    )
    print(lines[-1])
    if arguments.readme:
        write_figures("scale", "\n".join(lines))


if __name__ == "__main__":
    main()
