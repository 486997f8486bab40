"""Side-by-side throughput of the two engines, stage by stage: ``make bench-engines``.

Generates LCL-layout data (a share of the LCL households, a few months), ingests it into a DuckDB
warehouse, then times on DuckDB and on Spark in local mode, over the same raw months and with the
same SQL:

* ``ingest``: the source files to ``ingest.raw_readings`` (DuckDB's native reader into the warehouse;
  Spark's text reader into the lake, ``spark_ingest.ingest_window_spark``), the same parse SQL;
* ``clean``: the clean stage (VEE rules, quarantine, coverage, file balance);
* ``aggregates``: the per-household-month aggregates (``household_month_aggregates``), each engine
  from its own clean months, stored where its readers read them (DuckDB: the warehouse; Spark: the
  lake, the Spark side's warehouse, a second DuckDB file, holding only the per-household tables);
* ``features``: the unpartitioned features stage (lifestyle, DiD with both references, placebo,
  population summary, household features) with the baseline window the first month and the trial
  window the rest, on Spark over the lake (``duck.lake_connection``).

and checks that both stored the same raw rows per month (ingest), the same row counts per month
(clean) and the same number of rows in every aggregate and feature table. Prints a table of seconds,
rows/s and rows/s per core per stage and engine (rows = the raw rows ingest writes and clean reads,
the clean readings the aggregates and features read) and writes it to
``bench-results/engines-<timestamp>.json`` with the machine and its load average.

    make bench-engines BENCH_ENGINES_ARGS="--fraction 0.1 --months 2"

Each engine cleans its own ingested raw months (no bridge between them); Spark's session start is
reported apart.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import time
from datetime import date
from pathlib import Path

from assets.common.months import add_months

LCL_HOUSEHOLDS = 5567
DIMENSIONS = ("ingest.households", "ingest.tariff_schedule")  # the per-household tables the features read
STAGES = ("ingest", "clean", "aggregates", "features")


def load_dimensions(con, folder: Path) -> None:
    """Households and the tariff schedule of ``folder`` into the warehouse, as the ingest assets build them."""
    from assets.common.warehouse import replace_table
    from assets.ingest import households as hh
    from assets.ingest.raw_ingest import RAW_TABLE
    from assets.ingest.source_files import discover, of_kind
    from assets.ingest.tariff_schedule import load_tariff_schedule

    files = discover(folder)
    registered = [hh.read_household_file(f.path, f.relative) for f in of_kind(files, "households")]
    table, _ = hh.build_households(registered, hh.households_seen_in_readings(con, RAW_TABLE))
    replace_table(con, DIMENSIONS[0], table)
    schedule, _ = load_tariff_schedule([(f.path, f.relative) for f in of_kind(files, "tariffs")])
    replace_table(con, DIMENSIONS[1], schedule)


def _feature_settings(start: date, end: date):
    """Baseline window the first month of the run, trial window the rest (local dates)."""
    from assets.features.settings import FeatureSettings

    return FeatureSettings(
        baseline_start=start,
        baseline_end=add_months(start, 1),
        treatment_start=add_months(start, 1),
        treatment_end=end,
    )


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
    import duckdb

    from assets.clean.clean_readings import CLEAN_TABLE, clean_window
    from assets.clean.spark_clean import clean_window_spark
    from assets.common.spark import build_session
    from assets.common.warehouse import WarehouseSettings, connect, read_table, replace_table
    from assets.features.aggregates import OUTPUTS as AGGREGATE_OUTPUTS
    from assets.features.aggregates import build_aggregates
    from assets.features.compute import compute_feature_tables
    from assets.features.duck import lake_connection
    from assets.features.spark_aggregates import build_aggregates_spark
    from assets.ingest.raw_ingest import load_raw_readings
    from assets.ingest.source_files import discover, of_kind
    from assets.ingest.spark_ingest import ingest_window_spark
    from assets.synthetic.generate import generate

    if args.months < 2:
        raise SystemExit("--months must be at least 2 (the features need a baseline and a trial month)")
    households = max(1, round(LCL_HOUSEHOLDS * args.fraction))
    first = date.fromisoformat(args.first_month)
    start, end = first, add_months(first, args.months)
    root = Path(args.data)
    shutil.rmtree(root, ignore_errors=True)
    root.mkdir(parents=True)
    results: dict = {"households": households, "months": [start.isoformat(), end.isoformat()], "cores": args.cores}
    seconds: dict[tuple[str, str], float] = {}

    def timed(stage: str, engine: str, work):
        t0 = time.perf_counter()
        out = work()
        seconds[(stage, engine)] = time.perf_counter() - t0
        return out

    t0 = time.perf_counter()
    generate(root / "source", households=households, seed=args.seed, start=add_months(start, -1), end=end)
    results["generate_s"] = round(time.perf_counter() - t0, 1)
    features = _feature_settings(start, end)
    settings = WarehouseSettings(root / "warehouse.duckdb", memory_limit="3GB", threads=args.cores)
    files = of_kind(discover(root / "source"), "readings")
    with connect(settings) as con:
        duck_raw = timed("ingest", "duckdb", lambda: load_raw_readings(con, files, start, end))
        load_dimensions(con, root / "source")

        duck = timed("clean", "duckdb", lambda: clean_window(con, start, end))
        raw_rows = sum(c.raw_rows for c in duck.conservation)
        clean_rows = _rows(con, CLEAN_TABLE)
        timed("aggregates", "duckdb", lambda: build_aggregates(con, start, end))
        duck_features = timed("features", "duckdb", lambda: compute_feature_tables(con, features))

        t0 = time.perf_counter()
        spark = build_session(
            master=f"local[{args.cores}]", config={"spark.sql.shuffle.partitions": str(2 * args.cores)}
        )
        results["spark_session_start_s"] = round(time.perf_counter() - t0, 1)
        spark_raw = timed("ingest", "spark", lambda: ingest_window_spark(spark, root / "lake", files, start, end))

        on_spark = timed("clean", "spark", lambda: clean_window_spark(spark, root / "lake", start, end))
        with duckdb.connect(str(root / "spark_side.duckdb")) as spark_con:
            for table in DIMENSIONS:
                replace_table(spark_con, table, read_table(con, table))
            timed("aggregates", "spark", lambda: build_aggregates_spark(spark_con, spark, root / "lake", start, end))
            aggregate_rows = {  # DuckDB's warehouse against Spark's lake (counted by Spark)
                t: (_rows(con, t), spark.table(t).count()) for t, _, _ in AGGREGATE_OUTPUTS
            }

            def spark_features():
                with lake_connection(spark_con, spark, str(root / "lake")) as lake:
                    return compute_feature_tables(lake, features)

            spark_features_out = timed("features", "spark", spark_features)
        spark.stop()

    same_raw = duck_raw.rows_by_month == spark_raw.rows_by_month
    same_clean = [(c.month, c.raw_rows, c.clean_actual_rows, c.quarantined_rows) for c in duck.conservation] == [
        (c.month, c.raw_rows, c.clean_actual_rows, c.quarantined_rows) for c in on_spark.conservation
    ]
    same_aggregates = all(a == b for a, b in aggregate_rows.values())
    feature_rows = {name: (duck_features[name].height, spark_features_out[name].height) for name in duck_features}
    same_features = all(a == b for a, b in feature_rows.values())
    stage_rows = {"ingest": duck_raw.rows, "clean": raw_rows, "aggregates": clean_rows, "features": clean_rows}
    for stage in STAGES:
        for engine in ("duckdb", "spark"):
            s = seconds[(stage, engine)]
            results.setdefault(stage, {})[engine] = {
                "rows": stage_rows[stage],
                "seconds": round(s, 1),
                "rows_per_s": round(stage_rows[stage] / s),
                "rows_per_s_per_core": round(stage_rows[stage] / s / args.cores),
            }
    results["same"] = {
        "raw_rows_per_month": same_raw,
        "clean_counts_per_month": same_clean,
        "aggregate_rows": same_aggregates,
        "feature_rows": same_features,
    }
    results["aggregate_rows"] = aggregate_rows
    results["feature_rows"] = feature_rows
    results["load_average"] = os.getloadavg()
    results["cpu_count"] = os.cpu_count()
    print(f"{households} households, {start}..{end} (exclusive), {raw_rows:,} raw rows, {clean_rows:,} clean rows, "
          f"{args.cores} cores")  # fmt: skip
    print(f"load average {results['load_average']}; same on both engines: {results['same']}")
    print(f"{'stage':<11} {'engine':<7} {'rows read':>12} {'seconds':>9} {'rows/s':>12} {'rows/s/core':>12}")
    for stage in STAGES:
        for engine in ("duckdb", "spark"):
            r = results[stage][engine]
            print(
                f"{stage:<11} {engine:<7} {r['rows']:>12,} {r['seconds']:>9.1f} {r['rows_per_s']:>12,} "
                f"{r['rows_per_s_per_core']:>12,}"
            )
    print(f"spark session start {results['spark_session_start_s']} s (not counted)")
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    path = out / f"engines-{time.strftime('%Y%m%dT%H%M%S')}.json"
    path.write_text(json.dumps(results, indent=2, default=str))
    print(f"written {path}")
    return 0 if all(results["same"].values()) else 1


def _rows(con, table: str) -> int:
    from assets.common.sql import qualified_name

    return con.execute(f"SELECT count(*) FROM {qualified_name(table)}").fetchone()[0]


if __name__ == "__main__":
    raise SystemExit(main())
