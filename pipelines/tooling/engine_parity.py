"""Engine parity: run the whole graph on DuckDB and on Spark over the same months of a source folder
and prove they stored the same data: ``make engine-parity PARITY_ARGS="..."``.

    python -m pipelines.tooling.engine_parity --source ../shared/data/lcl --first 2011-11-01 --last 2014-02-01 \
        [--out bench-results/parity-<ts>.json] [--work DIR] [--engines duckdb,spark|none] [--config JSON]

What a data team runs before switching ``METER_ENGINE``. The code location's definitions run once per
engine, in this process, with the ``engine`` resource bound to :class:`pipelines.engines.DuckDBEngine`
then :class:`pipelines.engines.SparkEngine` (:func:`run_whole_graph`: the partitioned assets over the
month range, then features, model and reports with the FeatureConfig defaults unless ``--config``
overrides them), each in its own folder under ``--work`` (``duckdb/``, ``spark/``). Then, all in DuckDB:

* per month, the rows of raw readings, clean readings, quarantine, coverage and file balance: the
  DuckDB warehouse against the lake's Parquet (``read_parquet`` over the hive-partitioned folders, the
  glob a bound parameter), and every row as a multiset (``EXCEPT ALL`` both ways); the source-file
  index as whole rows;
* every ``features.*`` table of the two runs (the Spark side read from the lake when the table has a
  folder there, else from the Spark run's warehouse): keys, counts and flags exactly, floats to
  ``REL_TOL`` relative with an ``ABS_TOL`` floor, the largest relative difference per table;
* the population High and Low effects (``tariff_response_summary``) with their intervals, side by side;
* whether ``model.segment_assignments`` and ``reports.dr_targets`` agree (reported; they are downstream
  of the features, so a difference there with equal features is a model question, not an engine one).

Exit status 0 only when both runs succeeded and every data and feature comparison is equal. Writes a
JSON report (``--out``) and prints a short summary with each engine's wall time and load average.
``--engines none`` re-compares the runs already in ``--work``.

The comparison helpers below are also what ``tests/spark`` uses (one copy).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import threading
import time
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from assets.clean.clean_readings import BALANCE_TABLE, CLEAN_TABLE, COVERAGE_TABLE, QUARANTINE_TABLE
from assets.ingest.raw_ingest import INDEX_TABLE as FILE_INDEX
from assets.ingest.raw_ingest import RAW_TABLE

if TYPE_CHECKING:
    import duckdb
    import polars as pl

# Feature values are sums, means and ratios of at most a year of half hours that the engines add in
# different orders (hash aggregation, partitions): reordering a double sum of n terms moves it by about
# n * 2^-53 relative (n <= 17,568: < 2e-12), far inside 1e-9. The absolute floor (1e-12, in the unit of
# the column: kWh, %, shares) is for values that are differences of such sums and may cancel to ~0 (a
# DiD of 1e-4 kWh has an absolute rounding error of ~1e-17, but a relative one that grows as it nears 0).
REL_TOL = 1e-9
ABS_TOL = 1e-12


# ---------------------------------------------------------------------------------------------------
# The whole graph on one engine, in this process
# ---------------------------------------------------------------------------------------------------

ENGINES = ("duckdb", "spark")
RUN_FILE = "run.json"
WAREHOUSE_FILE = "warehouse.duckdb"
LAKE_FOLDER = "lake"


class _LoadSampler:
    """The 1-minute load average every ``every`` seconds while a run lasts (the machine is shared)."""

    def __init__(self, every: float = 15.0) -> None:
        self.samples: list[float] = [os.getloadavg()[0]]
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, args=(every,), daemon=True)

    def _loop(self, every: float) -> None:
        while not self._stop.wait(every):
            self.samples.append(os.getloadavg()[0])

    def __enter__(self) -> _LoadSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.samples.append(os.getloadavg()[0])

    def summary(self) -> dict[str, float]:
        return {
            "mean": round(sum(self.samples) / len(self.samples), 2),
            "max": round(max(self.samples), 2),
            "samples": len(self.samples),
        }


def _step_seconds(instance, run_id: str) -> dict[str, float]:
    return {
        s.step_key: round(s.end_time - s.start_time, 1)
        for s in instance.get_run_step_stats(run_id)
        if s.start_time is not None and s.end_time is not None
    }


def run_whole_graph(engine: str, root: Path, source: Path, first: str, last: str, config: dict | None = None) -> dict:
    """Materialize the whole graph on ``engine`` into ``root``, in this process (the code location's
    definitions, in the order of ``pipelines/run_plan.py``, the ``engine`` resource bound to the engine's
    implementation); returns (and writes to ``ROOT/run.json``) the run record: success, wall time of each
    materialize and step, the load average, the checks, what the warehouse holds."""
    if engine not in ENGINES:
        raise ValueError(f"engine {engine!r}: expected one of {ENGINES}")
    root.mkdir(parents=True, exist_ok=True)
    lake = root / LAKE_FOLDER
    import dagster as dg
    import duckdb

    from assets.common.resources import MeterSource, ReportsDir, Warehouse
    from assets.features.assets import FeatureConfig
    from pipelines.definitions import defs
    from pipelines.engines import DuckDBEngine, SparkEngine
    from pipelines.run_plan import materialize_in_order

    feature_config = FeatureConfig(**(config or {}))
    definitions = defs()
    warehouse = root / WAREHOUSE_FILE
    resources = {
        "warehouse": Warehouse(database=str(warehouse)),
        "source": MeterSource(source_dir=str(source)),
        "reports": ReportsDir(path=str(root / "reports")),
        # the one resource that differs between the runs: the assets are the same
        "engine": SparkEngine(master="local[2]", lake=str(lake), shuffle_partitions=2)
        if engine == "spark"
        else DuckDBEngine(),
    }
    instance = dg.DagsterInstance.ephemeral(tempdir=str(root / "dagster_home"))
    record: dict = {
        "engine": engine,
        "source": str(source),
        "first_month": first,
        "last_month": last,
        "feature_config": feature_config.model_dump(),
        "cpu_count": os.cpu_count(),
        "started": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    checks: list[tuple] = []
    steps: dict[str, float] = {}
    success = True
    ends: list[float] = []  # when each run ended: the tariff schedule, the partitioned range, the rest
    with _LoadSampler() as load:
        t0 = time.perf_counter()
        runs = materialize_in_order(
            definitions, resources, instance, first, last, dg.RunConfig(ops={"features": feature_config})
        )
        for result in runs:
            steps.update(_step_seconds(instance, result.run_id))
            checks += result.get_asset_check_evaluations()
            success = result.success
            ends.append(time.perf_counter())
    ends += [ends[-1]] * (3 - len(ends))  # a failed run ends the plan
    t1, t2 = ends[1], ends[2]
    evaluations = [
        (e.asset_check_key.asset_key.to_user_string(), e.asset_check_key.name, e.passed, str(e.severity))
        for e in checks
    ]
    record.update(
        success=success,
        seconds={"partitioned": round(t1 - t0, 1), "unpartitioned": round(t2 - t1, 1), "total": round(t2 - t0, 1)},
        step_seconds=steps,
        load_average=load.summary(),
        checks=len(evaluations),
        failed_checks=[c for c in evaluations if not c[2]],
    )
    if warehouse.exists():
        with duckdb.connect(str(warehouse), read_only=True) as con:
            tables = con.execute(
                "SELECT table_schema, table_name FROM information_schema.tables ORDER BY 1, 2"
            ).fetchall()
        record["warehouse_tables"] = [f"{s}.{t}" for s, t in tables]
        record["warehouse_schemas"] = sorted({s for s, _ in tables})
    record["lake_clean_months"] = sorted(p.name for p in (lake / "clean" / "clean_readings").glob("reading_month=*"))
    record["lake_aggregate_months"] = sorted(
        p.name for p in (lake / "features" / "household_days").glob("reading_month=*")
    )
    report = root / "reports" / "persona_report.html"
    record["report_has_kw_profiles"] = report.exists() and "kW profile:" in report.read_text(encoding="utf-8")
    (root / RUN_FILE).write_text(json.dumps(record, indent=2, default=str), encoding="utf-8")
    return record


def window_config(first: str, last: str, bootstrap_replicates: int = 100) -> dict:
    """FeatureConfig fields for a short run: the baseline window the first month, the trial the rest."""
    from assets.common.months import next_month

    start, end = date.fromisoformat(first), next_month(date.fromisoformat(last))
    trial = next_month(start)
    return {
        "baseline_start": start.isoformat(),
        "baseline_end": trial.isoformat(),
        "treatment_start": trial.isoformat(),
        "treatment_end": end.isoformat(),
        "bootstrap_replicates": bootstrap_replicates,
    }


CLEAN_OUTPUTS = (CLEAN_TABLE, QUARANTINE_TABLE, COVERAGE_TABLE, BALANCE_TABLE)
MONTHLY_TABLES = (RAW_TABLE, *CLEAN_OUTPUTS)
# Downstream of the features: compared and reported, not a parity failure on their own.
MODEL_OUTPUTS = ("model.segment_assignments", "reports.dr_targets", "settlement.event_settlement")
# Read from the engine's half-hourly tables outside the features: compared as strictly as the features.
HALF_HOURLY_PRODUCTS = ("settlement.event_day_windows",)
FLOAT_TYPES = ("DOUBLE", "FLOAT", "REAL")


# ---------------------------------------------------------------------------------------------------
# Lake tables read by DuckDB
# ---------------------------------------------------------------------------------------------------


def lake_glob(lake: Path | str, table: str) -> str:
    from assets.common.spark import table_location

    return f"{table_location(lake, table)}/**/*.parquet"


def lake_has(lake: Path | str, table: str) -> bool:
    """Whether the lake holds a folder for ``table`` (Spark wrote it there)."""
    from assets.common.spark import table_location

    return Path(table_location(lake, table)).is_dir()


def lake_files(lake: Path | str, table: str) -> list[Path]:
    """The Parquet files of a lake table (none: Spark registered the table but wrote no row)."""
    from assets.common.spark import table_location

    return sorted(Path(table_location(lake, table)).glob("**/*.parquet"))


def lake_rows(con: duckdb.DuckDBPyConnection, lake: Path, table: str, columns: list[str]) -> str:
    """A DuckDB query over the lake table's Parquet files (hive-partitioned by reading_month, the glob
    bound as ``$glob``); a table without any file (no row ever written) reads as the DuckDB table's
    empty shape."""
    from assets.common.sql import qualified_name, quote_identifier

    cols = ", ".join(quote_identifier(c) for c in columns)
    if not lake_files(lake, table):
        return f"SELECT {cols} FROM {qualified_name(table)} WHERE false AND $glob IS NOT NULL"
    return f"SELECT {cols} FROM read_parquet($glob, hive_partitioning = true, union_by_name = true)"


def table_columns(con: duckdb.DuckDBPyConnection, table: str, catalog: str | None = None) -> list[str]:
    return [name for name, _ in column_types(con, table, catalog)]


def column_types(con: duckdb.DuckDBPyConnection, table: str, catalog: str | None = None) -> list[tuple[str, str]]:
    """(name, type) of ``table``'s columns in order (in the attached ``catalog`` if given)."""
    schema, name = table.split(".")
    query = "SELECT column_name, data_type FROM information_schema.columns WHERE table_schema = $s AND table_name = $t"
    params = {"s": schema, "t": name}
    if catalog is not None:
        query += " AND table_catalog = $c"
        params["c"] = catalog
    return [(r[0], r[1]) for r in con.execute(query + " ORDER BY ordinal_position", params).fetchall()]


def counts_by_month(con: duckdb.DuckDBPyConnection, lake: Path, table: str, start: date, end: date) -> tuple:
    """(rows per month in DuckDB, rows per month in the lake) over ``start <= m < end``."""
    from assets.common.sql import qualified_name

    window = {"start": start, "end": end}
    duck = con.execute(
        f"SELECT reading_month, count(*) FROM {qualified_name(table)} "
        "WHERE reading_month >= $start AND reading_month < $end GROUP BY 1 ORDER BY 1",
        window,
    ).fetchall()
    spark = con.execute(
        f"SELECT reading_month, count(*) FROM ({lake_rows(con, lake, table, ['reading_month'])}) "
        "WHERE reading_month >= $start AND reading_month < $end GROUP BY 1 ORDER BY 1",
        {**window, "glob": lake_glob(lake, table)},
    ).fetchall()
    return duck, spark


def row_differences(
    con: duckdb.DuckDBPyConnection, lake: Path, table: str, start: date | None = None, end: date | None = None
) -> tuple[int, int]:
    """(rows only in DuckDB, rows only in the lake), as multisets of whole rows, over the window of
    reading months (the whole table when ``start`` is None)."""
    from assets.common.sql import qualified_name, quote_identifier

    # the file index's content hash is filled by the DuckDB ingest's ledger only (assets/ingest/file_ledger.py)
    columns = [c for c in table_columns(con, table) if c != "content_sha256"]
    cols = ", ".join(quote_identifier(c) for c in columns)
    window = "" if start is None else "WHERE reading_month >= $start AND reading_month < $end"
    duck = f"SELECT {cols} FROM {qualified_name(table)} {window}"
    spark = f"SELECT {cols} FROM ({lake_rows(con, lake, table, columns)}) {window}"
    params = {"glob": lake_glob(lake, table)}
    if start is not None:
        params |= {"start": start, "end": end}
    only_duck = con.execute(f"SELECT count(*) FROM ({duck} EXCEPT ALL {spark})", params).fetchone()[0]
    only_spark = con.execute(f"SELECT count(*) FROM ({spark} EXCEPT ALL {duck})", params).fetchone()[0]
    return only_duck, only_spark


# ---------------------------------------------------------------------------------------------------
# Per-household tables: one rule for "equal", in polars (frames) and in SQL (stored tables)
# ---------------------------------------------------------------------------------------------------


def sort_keys(frame: pl.DataFrame) -> list[str]:
    """The columns compared exactly (everything but floats and lists), which also order the rows."""
    import polars as pl

    return [c for c, t in frame.schema.items() if not t.is_float() and not isinstance(t, pl.List)]


def assert_same_features(duck: dict[str, pl.DataFrame], spark: dict[str, pl.DataFrame]) -> dict[str, int]:
    """Every table equal: same columns, types and rows; keys, counts and flags exactly, floats to
    REL_TOL relative (ABS_TOL absolute floor). Returns rows per table."""
    from polars.testing import assert_frame_equal

    assert duck.keys() == spark.keys()
    rows = {}
    for name in duck:
        a, b = duck[name], spark[name]
        keys = sort_keys(a)
        assert_frame_equal(
            a.sort(keys, nulls_last=True),
            b.sort(keys, nulls_last=True),
            check_exact=False,
            rel_tol=REL_TOL,
            abs_tol=ABS_TOL,
        )
        rows[name] = a.height
    return rows


def population_effects(summary: pl.DataFrame) -> pl.DataFrame:
    """The population High and Low event effects (trial, primary methods, all starts and seasons)."""
    import polars as pl

    return summary.filter(
        (pl.col("analysis") == "treatment") & (pl.col("window_kind") == "event") & (pl.col("start_bucket") == "all")
        & (pl.col("season") == "all")
    ).sort("band", "method")  # fmt: skip


def stored_months(con: duckdb.DuckDBPyConnection, table: str) -> list[tuple]:
    from assets.common.sql import qualified_name

    return con.execute(f"SELECT reading_month, count(*) FROM {qualified_name(table)} GROUP BY 1 ORDER BY 1").fetchall()


def compare_relations(
    con: duckdb.DuckDBPyConnection,
    left: str,
    right: str,
    columns: list[tuple[str, str]],
    params: dict | None = None,
) -> dict:
    """Compare two queries with the same columns (``columns``: (name, DuckDB type) in order) as
    multisets of rows: non-float columns exactly (the keys; NULLs equal), float columns within
    ``|a - b| <= ABS_TOL + REL_TOL * |b|`` (polars' rule in :func:`assert_same_features`; NULL only
    against NULL, NaN against NaN). Rows are paired by their keys (and, for repeated keys, by rank of
    the floats). Returns row counts, unpaired rows, out-of-tolerance values per float column, the
    largest relative difference |a - b| / max(|a|, |b|) (over values not both within the absolute
    floor of 0, where a relative difference means nothing), the largest absolute difference, and the
    largest share of the tolerance used, |a - b| / (ABS_TOL + REL_TOL * |b|) (< 1 for equal tables)."""
    from assets.common.sql import quote_identifier

    floats = [n for n, t in columns if t.upper() in FLOAT_TYPES]
    keys = [n for n, t in columns if t.upper() not in FLOAT_TYPES]
    q = quote_identifier
    order = ", ".join(q(f) for f in floats) if floats else "1"
    partition = f"PARTITION BY {', '.join(q(k) for k in keys)}" if keys else ""
    numbered = "SELECT *, row_number() OVER ({partition} ORDER BY {order}) AS _parity_n FROM ({query})"
    on = " AND ".join([*(f"a.{q(k)} IS NOT DISTINCT FROM b.{q(k)}" for k in keys), "a._parity_n = b._parity_n"])
    both = "a._parity_n IS NOT NULL AND b._parity_n IS NOT NULL"
    measures = [
        "count(a._parity_n) AS left_rows",
        "count(b._parity_n) AS right_rows",
        "count(*) FILTER (WHERE b._parity_n IS NULL) AS only_left",
        "count(*) FILTER (WHERE a._parity_n IS NULL) AS only_right",
    ]
    for i, f in enumerate(floats):
        a, b = f"a.{q(f)}", f"b.{q(f)}"
        within = f"abs({a} - {b}) <= $abs + $rel * abs({b})"
        finite = f"isfinite({a}) AND isfinite({b})"
        # NaN = NaN is true in DuckDB, so is NaN <= NaN: the tolerance applies to finite values only
        equal = f"(({a} IS NULL AND {b} IS NULL) OR coalesce({a} = {b} OR ({finite} AND {within}), false))"
        measures += [
            f"count(*) FILTER (WHERE {both} AND NOT {equal}) AS bad_{i}",
            f"max(abs({a} - {b}) / greatest(abs({a}), abs({b}))) FILTER (WHERE {both} AND {finite} "
            f"AND greatest(abs({a}), abs({b})) > $abs) AS rel_{i}",
            f"max(abs({a} - {b})) FILTER (WHERE {both} AND {finite}) AS abs_{i}",
            f"max(abs({a} - {b}) / ($abs + $rel * abs({b}))) FILTER (WHERE {both} AND {finite}) AS used_{i}",
        ]
    sql = (
        f"WITH a AS ({numbered.format(partition=partition, order=order, query=left)}), "
        f"b AS ({numbered.format(partition=partition, order=order, query=right)}) "
        f"SELECT {', '.join(measures)} FROM a FULL OUTER JOIN b ON {on}"
    )
    tolerance = {"rel": REL_TOL, "abs": ABS_TOL} if floats else {}
    row = con.execute(sql, {**(params or {}), **tolerance}).fetchone()
    result = {"left_rows": row[0], "right_rows": row[1], "only_left": row[2], "only_right": row[3]}
    out_of_tolerance, max_rel, max_abs, max_used = {}, 0.0, 0.0, 0.0
    for i, f in enumerate(floats):
        bad, rel, absolute, used = row[4 + 4 * i : 8 + 4 * i]
        if bad:
            out_of_tolerance[f] = bad
        if rel is not None and rel > max_rel:
            max_rel, result["max_rel_column"] = rel, f
        max_abs, max_used = max(max_abs, absolute or 0.0), max(max_used, used or 0.0)
    result |= {
        "out_of_tolerance": out_of_tolerance,
        "max_rel_diff": max_rel,
        "max_abs_diff": max_abs,
        "max_tolerance_used": max_used,
    }
    result["equal"] = not (result["only_left"] or result["only_right"] or out_of_tolerance)
    return result


# ---------------------------------------------------------------------------------------------------
# The two runs' stores
# ---------------------------------------------------------------------------------------------------


def _attach(con: duckdb.DuckDBPyConnection, path: Path, alias: str) -> None:
    from assets.common.sql import quote_identifier

    con.execute(f"ATTACH $path AS {quote_identifier(alias)} (READ_ONLY)", {"path": str(path)})


def _catalog_tables(con: duckdb.DuckDBPyConnection, catalog: str, schema: str) -> list[str]:
    rows = con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_catalog = $c AND table_schema = $s",
        {"c": catalog, "s": schema},
    ).fetchall()
    return [f"{schema}.{r[0]}" for r in rows]


def _in_catalog(catalog: str, table: str) -> str:
    from assets.common.sql import qualified_name, quote_identifier

    return f"{quote_identifier(catalog)}.{qualified_name(table)}"


def compare_tables(con: duckdb.DuckDBPyConnection, table: str, lake: Path) -> dict:
    """``table`` of the DuckDB run (catalog ``duck``) against the Spark run's: the lake's folder when
    Spark wrote one there, else the Spark run's warehouse (catalog ``spark``)."""
    from assets.common.sql import quote_identifier

    duck_columns = column_types(con, table, "duck")
    spark_in_lake = lake_has(lake, table)
    spark_columns = [] if spark_in_lake else column_types(con, table, "spark")
    where = "lake" if spark_in_lake else "warehouse"
    if not duck_columns or not (spark_in_lake or spark_columns):
        return {"equal": False, "spark_from": where, "error": "missing on one engine"}
    if spark_columns and spark_columns != duck_columns:
        return {"equal": False, "spark_from": where, "error": f"columns differ: {duck_columns} vs {spark_columns}"}
    cols = ", ".join(quote_identifier(n) for n, _ in duck_columns)
    left = f"SELECT {cols} FROM {_in_catalog('duck', table)}"
    params = {}
    if spark_in_lake and not lake_files(lake, table):
        right = f"SELECT {cols} FROM {_in_catalog('duck', table)} WHERE false"  # a lake table with no row written
    elif spark_in_lake:
        right = f"SELECT {cols} FROM read_parquet($glob, hive_partitioning = true, union_by_name = true)"
        params["glob"] = lake_glob(lake, table)
    else:
        right = f"SELECT {cols} FROM {_in_catalog('spark', table)}"
    return {"spark_from": where, **compare_relations(con, left, right, duck_columns, params)}


def _effects(con: duckdb.DuckDBPyConnection, catalog: str) -> list[dict]:
    columns = (
        "band",
        "method",
        "n_households",
        "n_events",
        "effect_kwh",
        "ci_low_kwh",
        "ci_high_kwh",
        "effect_pct",
        "ci_low_pct",
        "ci_high_pct",
    )
    from assets.common.sql import quote_identifier

    cols = ", ".join(quote_identifier(c) for c in columns)
    rows = con.execute(
        f"SELECT {cols} FROM {_in_catalog(catalog, 'features.tariff_response_summary')} "
        "WHERE analysis = 'treatment' AND window_kind = 'event' AND start_bucket = 'all' AND season = 'all' "
        "ORDER BY band, method"
    ).fetchall()
    return [dict(zip(columns, r, strict=True)) for r in rows]


def same_effects(duck: list[dict], spark: list[dict]) -> bool:
    """The same bands, methods and counts, every effect and interval bound within the tolerance."""
    if len(duck) != len(spark):
        return False
    for a, b in zip(duck, spark, strict=True):
        for name, value in a.items():
            if isinstance(value, float) and isinstance(b[name], float):
                if not math.isclose(value, b[name], rel_tol=REL_TOL, abs_tol=ABS_TOL):
                    return False
            elif value != b[name]:
                return False
    return True


def compare_runs(duck_root: Path, spark_root: Path, first: date, last: date) -> dict:
    """Everything the two runs stored, compared (see the module docstring). ``equal`` is the verdict."""
    import duckdb

    from assets.common.months import months_between, next_month

    start, end = first, next_month(last)
    lake = spark_root / LAKE_FOLDER
    report: dict = {"months": [m.isoformat() for m in months_between(first, last)], "tolerance": {}}
    report["tolerance"] = {"rel": REL_TOL, "abs": ABS_TOL}
    differences: list[str] = []
    with duckdb.connect(str(duck_root / WAREHOUSE_FILE), read_only=True) as con:
        monthly = {}
        for table in MONTHLY_TABLES:
            duck, spark = counts_by_month(con, lake, table, start, end)
            only_duck, only_spark = row_differences(con, lake, table, start, end)
            months = sorted({m for m, _ in duck} | {m for m, _ in spark})
            per_month = {
                m.isoformat(): [dict(duck).get(m, 0), dict(spark).get(m, 0)]
                for m in months  # [DuckDB, Spark]
            }
            unequal = [m for m, (d, s) in per_month.items() if d != s]
            monthly[table] = {
                "rows": [sum(c for _, c in duck), sum(c for _, c in spark)],
                "months": len(months),
                "months_differing": unequal,
                "rows_only_duckdb": only_duck,
                "rows_only_spark": only_spark,
                "per_month": per_month,
            }
            if unequal or only_duck or only_spark:
                differences.append(f"{table}: months {unequal}, rows only DuckDB {only_duck}, only Spark {only_spark}")
        only_duck, only_spark = row_differences(con, lake, FILE_INDEX)
        monthly[FILE_INDEX] = {"rows_only_duckdb": only_duck, "rows_only_spark": only_spark}
        if only_duck or only_spark:
            differences.append(f"{FILE_INDEX}: rows only DuckDB {only_duck}, only Spark {only_spark}")
        report["monthly"] = monthly
    with duckdb.connect() as con:
        _attach(con, duck_root / WAREHOUSE_FILE, "duck")
        _attach(con, spark_root / WAREHOUSE_FILE, "spark")
        feature_tables = set(_catalog_tables(con, "duck", "features")) | set(_catalog_tables(con, "spark", "features"))
        feature_tables |= {f"features.{p.name}" for p in (lake / "features").glob("*") if p.is_dir()}
        feature_tables |= set(HALF_HOURLY_PRODUCTS)
        features = {}
        for table in sorted(feature_tables):
            features[table] = outcome = compare_tables(con, table, lake)
            if not outcome["equal"]:
                differences.append(f"{table}: {_difference(outcome)}")
        report["features"] = features
        effects = {"duckdb": _effects(con, "duck"), "spark": _effects(con, "spark")}
        report["population_effects"] = effects
        if not same_effects(effects["duckdb"], effects["spark"]):
            differences.append("population High/Low effects differ (features.tariff_response_summary)")
        report["model"] = {table: compare_tables(con, table, lake) for table in MODEL_OUTPUTS}
    report["differences"] = differences
    report["equal"] = not differences
    return report


def _difference(outcome: dict) -> str:
    if "error" in outcome:
        return outcome["error"]
    return (
        f"{outcome['left_rows']} vs {outcome['right_rows']} rows, unpaired {outcome['only_left']} (DuckDB) / "
        f"{outcome['only_right']} (Spark), out of tolerance {outcome['out_of_tolerance']}"
    )


# ---------------------------------------------------------------------------------------------------
# The CLI
# ---------------------------------------------------------------------------------------------------


def run_engine(engine: str, root: Path, source: Path, first: str, last: str, config: dict | None) -> dict:
    """:func:`run_whole_graph` on ``engine`` into a fresh ``root``, in this process; an exception becomes a
    failed run record with its message."""
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    started = time.perf_counter()
    try:
        record = run_whole_graph(engine, root, source, first, last, config)
    except Exception as error:  # the comparison reports a failed run; the message says why
        record = {"success": False, "error": f"{type(error).__name__}: {error}"}
    record["process_seconds"] = round(time.perf_counter() - started, 1)
    return record


def summary_lines(report: dict) -> list[str]:
    lines = []
    for engine, run in report["runs"].items():
        seconds = run.get("seconds", {}).get("total", "?")
        load = run.get("load_average", {})
        lines.append(
            f"{engine:6s} run: {'ok' if run.get('success') else 'FAILED'}, {seconds} s "
            f"(load average mean {load.get('mean', '?')}, max {load.get('max', '?')})"
        )
    comparison = report.get("comparison")
    if comparison:
        for table, m in comparison["monthly"].items():
            if "rows" in m:
                lines.append(
                    f"{table}: {m['rows'][0]:,} rows (DuckDB) / {m['rows'][1]:,} (Spark) over {m['months']} months, "
                    f"months differing {len(m['months_differing'])}, rows only DuckDB {m['rows_only_duckdb']}, "
                    f"only Spark {m['rows_only_spark']}"
                )
            else:
                lines.append(f"{table}: rows only DuckDB {m['rows_only_duckdb']}, only Spark {m['rows_only_spark']}")
        for table, f in {**comparison["features"], **comparison["model"]}.items():
            if "error" in f:
                lines.append(f"{table}: {f['error']}")
                continue
            lines.append(
                f"{table} ({f['spark_from']}): {f['left_rows']:,} rows, {'equal' if f['equal'] else 'DIFFERENT'}, "
                f"max rel diff {f['max_rel_diff']:.2e}, max abs diff {f['max_abs_diff']:.2e}, "
                f"tolerance used {f['max_tolerance_used']:.2e}"
            )
        for engine, effects in comparison["population_effects"].items():
            for e in effects:
                lines.append(
                    f"{engine:6s} {e['band']:4s} {e['method']:7s}: {e['effect_kwh']:+.4f} kWh/half hour, "
                    f"{100 * e['effect_pct']:+.1f} % (95 % CI {100 * e['ci_low_pct']:+.1f} % to "
                    f"{100 * e['ci_high_pct']:+.1f} %), {e['n_households']} households, {e['n_events']} events"
                )
        lines.append("EQUAL" if report["equal"] else "DIFFERENT: " + "; ".join(comparison["differences"]))
    else:
        lines.append("DIFFERENT: a run failed, nothing compared")
    return lines


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--source", type=Path, required=True, help="the source folder (readings, households, tariffs)")
    parser.add_argument("--first", required=True, help="first month (YYYY-MM-01)")
    parser.add_argument("--last", required=True, help="last month (YYYY-MM-01), included")
    stamp = time.strftime("%Y%m%dT%H%M%S")
    parser.add_argument("--out", type=Path, default=Path(f"bench-results/parity-{stamp}.json"), help="JSON report")
    parser.add_argument("--work", type=Path, default=None, help="folder of the two runs (default: beside --out)")
    parser.add_argument(
        "--engines", default="duckdb,spark", help="engines to (re)run, comma-separated, or 'none' to re-compare"
    )
    parser.add_argument("--config", default=None, help="FeatureConfig fields as JSON (default: its defaults)")
    return parser


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    first, last = date.fromisoformat(args.first), date.fromisoformat(args.last)
    work = args.work or args.out.with_suffix("")
    engines = [] if args.engines == "none" else args.engines.split(",")
    if unknown := [e for e in engines if e not in ENGINES]:
        raise SystemExit(f"unknown engine(s) {unknown}: expected {ENGINES} or 'none'")
    config = json.loads(args.config) if args.config else None
    report: dict = {"source": str(args.source), "first": args.first, "last": args.last, "work": str(work)}
    report["load_average_at_start"] = os.getloadavg()
    runs = {}
    for engine in ENGINES:
        root = work / engine
        if engine in engines:
            print(f"running the whole graph on {engine} into {root}", flush=True)
            runs[engine] = run_engine(engine, root, args.source, args.first, args.last, config)
        elif (root / RUN_FILE).exists():
            runs[engine] = json.loads((root / RUN_FILE).read_text(encoding="utf-8"))
        else:
            runs[engine] = {"success": False, "error": f"no run in {root}"}
    report["runs"] = runs
    if all(run.get("success") for run in runs.values()):
        report["comparison"] = compare_runs(work / "duckdb", work / "spark", first, last)
        report["equal"] = report["comparison"]["equal"]
    else:
        report["equal"] = False
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2, default=str), encoding="utf-8")
    print("\n".join(summary_lines(report)))
    print(f"report: {args.out}")
    return 0 if report["equal"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
