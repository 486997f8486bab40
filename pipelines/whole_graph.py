"""The whole asset graph on one engine, in a process of its own (the engine is chosen when the code
location loads): ``python -m pipelines.whole_graph ENGINE ROOT SOURCE FIRST_MONTH LAST_MONTH [CONFIG]``.

The code location's definitions (``pipelines.definitions.defs``) with ``METER_ENGINE=ENGINE``, in the
order of ``pipelines/run_plan.py``: the tariff schedule (which the schedule aggregates read), one
``dg.materialize`` of every partitioned asset over the month range (ingest, clean, the
per-household-month aggregates; on Spark into the lake under ``ROOT/lake``), then one of every
unpartitioned asset (features, model, reports) with the ``features`` step's :class:`FeatureConfig`
(its defaults, the 2012 baseline and 2013 trial windows, unless ``CONFIG``, a JSON object of
FeatureConfig fields, overrides them). Everything the run stores is under ``ROOT``: the warehouse
(``warehouse.duckdb``), the lake, the reports, an ephemeral Dagster instance.

Writes ``ROOT/run.json`` and prints it as one line ``RESULT {...}``: success, wall time of each
materialize and of each step, the load average, the checks, what the warehouse holds.
``pipelines.engine_parity`` runs this once per engine and compares what they stored.
"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from datetime import date
from pathlib import Path

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


def run(engine: str, root: Path, source: Path, first: str, last: str, config: dict | None = None) -> dict:
    """Materialize the whole graph on ``engine`` into ``root``; returns (and writes) the run record."""
    if engine not in ENGINES:
        raise ValueError(f"engine {engine!r}: expected one of {ENGINES}")
    root.mkdir(parents=True, exist_ok=True)
    lake = root / LAKE_FOLDER
    os.environ["METER_ENGINE"] = engine
    os.environ["METER_LAKE"] = str(lake)
    import dagster as dg
    import duckdb

    from assets.common.resources import MeterSource, ReportsDir, SparkEngine, Warehouse
    from assets.features.assets import FeatureConfig
    from pipelines.definitions import defs
    from pipelines.run_plan import materialize_in_order

    feature_config = FeatureConfig(**(config or {}))
    definitions = defs()
    warehouse = root / WAREHOUSE_FILE
    resources = {
        "warehouse": Warehouse(database=str(warehouse)),
        "source": MeterSource(source_dir=str(source)),
        "reports": ReportsDir(path=str(root / "reports")),
    }
    if engine == "spark":
        resources["spark"] = SparkEngine(master="local[2]", lake=str(lake), shuffle_partitions=2)
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


if __name__ == "__main__":
    engine, root, source, first, last = sys.argv[1:6]
    config = json.loads(sys.argv[6]) if len(sys.argv) > 6 else None
    result = run(engine, Path(root), Path(source), first, last, config)
    print("RESULT " + json.dumps(result, default=str))
    sys.exit(0 if result["success"] else 1)
