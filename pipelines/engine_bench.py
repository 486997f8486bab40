"""Side-by-side throughput of the two engines on the clean stage: ``make bench-engines``.

Generates LCL-layout data (a share of the LCL households, a few months), ingests it into a DuckDB
warehouse, then times the same clean SQL (VEE rules, quarantine, coverage, file balance) on
DuckDB and on Spark in local mode over the same raw months, and checks that both stored the same
row counts per month. Prints rows/s and rows/s per core for each engine and writes them to
``bench-results/engines-<timestamp>.json`` with the machine and its load average.

    make bench-engines BENCH_ENGINES_ARGS="--fraction 0.1 --months 2"

Ingest is not timed (it still runs on DuckDB and is bridged to the lake: the Spark ingest follows
the native-reader ingest); Spark's session start is reported apart from its clean time.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from datetime import date
from pathlib import Path

LCL_HOUSEHOLDS = 5567


def _add_months(month: date, n: int) -> date:
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--fraction", type=float, default=0.1, help="share of the LCL households (default 0.1)")
    parser.add_argument("--months", type=int, default=2, help="months cleaned (default 2)")
    parser.add_argument("--first-month", default="2013-02-01", help="first month cleaned")
    parser.add_argument("--cores", type=int, default=2, help="DuckDB threads and Spark local[N] (default 2)")
    parser.add_argument("--data", default="data/bench-engines", help="working folder (replaced)")
    parser.add_argument("--out", default="bench-results", help="folder of the JSON results")
    parser.add_argument("--seed", type=int, default=7)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    from assets.clean.clean_readings import clean_window
    from assets.clean.spark_clean import clean_window_spark, export_raw_from_duckdb
    from assets.common.spark import build_session
    from assets.common.warehouse import WarehouseSettings, connect
    from assets.ingest.raw_ingest import load_raw_readings
    from assets.ingest.source_files import discover, of_kind
    from assets.synthetic.generate import generate

    households = max(1, round(LCL_HOUSEHOLDS * args.fraction))
    first = date.fromisoformat(args.first_month)
    start, end = first, _add_months(first, args.months)
    root = Path(args.data)
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    results: dict = {"households": households, "months": [start.isoformat(), end.isoformat()], "cores": args.cores}

    t0 = time.perf_counter()
    generate(root / "source", households=households, seed=args.seed, start=_add_months(start, -1), end=end)
    results["generate_s"] = round(time.perf_counter() - t0, 1)
    settings = WarehouseSettings(root / "warehouse.duckdb", memory_limit="3GB", threads=args.cores)
    with connect(settings) as con:
        t0 = time.perf_counter()
        load_raw_readings(con, of_kind(discover(root / "source"), "readings"), start, end)
        results["duckdb_ingest_s"] = round(time.perf_counter() - t0, 1)

        t0 = time.perf_counter()
        duck = clean_window(con, start, end)
        duck_s = time.perf_counter() - t0
        raw_rows = sum(c.raw_rows for c in duck.conservation)

        t0 = time.perf_counter()
        spark = build_session(
            master=f"local[{args.cores}]", config={"spark.sql.shuffle.partitions": str(2 * args.cores)}
        )
        results["spark_session_start_s"] = round(time.perf_counter() - t0, 1)
        t0 = time.perf_counter()
        export_raw_from_duckdb(con, spark, root / "lake", start, end)
        results["bridge_to_lake_s"] = round(time.perf_counter() - t0, 1)

        t0 = time.perf_counter()
        on_spark = clean_window_spark(spark, root / "lake", start, end)
        spark_s = time.perf_counter() - t0
        spark.stop()

    same = [(c.month, c.raw_rows, c.clean_actual_rows, c.quarantined_rows) for c in duck.conservation] == [
        (c.month, c.raw_rows, c.clean_actual_rows, c.quarantined_rows) for c in on_spark.conservation
    ]
    for name, seconds in (("duckdb", duck_s), ("spark", spark_s)):
        results[name] = {
            "raw_rows": raw_rows,
            "seconds": round(seconds, 1),
            "rows_per_s": round(raw_rows / seconds),
            "rows_per_s_per_core": round(raw_rows / seconds / args.cores),
        }
    results["same_counts_per_month"] = same
    results["load_average"] = os.getloadavg()
    results["cpu_count"] = os.cpu_count()
    print(f"{households} households, {start}..{end} (exclusive), {raw_rows:,} raw rows, {args.cores} cores")
    print(f"load average {results['load_average']}; same counts per month on both engines: {same}")
    print(f"{'engine':<8} {'seconds':>9} {'rows/s':>12} {'rows/s/core':>12}")
    for name in ("duckdb", "spark"):
        r = results[name]
        print(f"{name:<8} {r['seconds']:>9.1f} {r['rows_per_s']:>12,} {r['rows_per_s_per_core']:>12,}")
    print(f"spark session start {results['spark_session_start_s']} s (not counted)")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"engines-{time.strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2, default=str))
    print(f"written {path}")
    return 0 if same else 1


if __name__ == "__main__":
    raise SystemExit(main())
