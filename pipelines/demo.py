"""`make demo`: materialize every asset on the configured source (built-in synthetic data by default).

The partitioned layers run as ONE run over the months the source files cover (a single-run range
backfill), followed by the unpartitioned layers. Runs are recorded in the instance at
``$DAGSTER_HOME``, so ``make ui`` afterwards shows them with their metadata.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import dagster as dg

from assets.ingest.source_files import discover, of_kind
from assets.ingest.source_months import file_month_range, months_between
from pipelines.definitions import defs


def source_month_range(folder: Path) -> tuple[str, str]:
    ranges = [r for f in of_kind(discover(folder), "readings") if (r := file_month_range(f.path, f.relative))]
    if not ranges:
        raise SystemExit(f"no readings files in {folder}")
    first, last = min(r[0] for r in ranges), max(r[1] for r in ranges)
    return months_between(first, last)[0].isoformat(), months_between(first, last)[-1].isoformat()


def main() -> int:
    definitions = defs()
    resources = definitions.resources
    source = resources["source"]
    started = time.monotonic()
    print(f"source: {'built-in synthetic data' if source.is_synthetic else source.source_dir}", flush=True)
    folder = source.folder()
    first, last = source_month_range(folder)
    print(f"months with readings: {first} .. {last}", flush=True)
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    graph = definitions.resolve_asset_graph()
    keys = graph.get_all_asset_keys()
    partitioned = [k for k in keys if graph.get(k).is_partitioned]
    unpartitioned = [k for k in keys if not graph.get(k).is_partitioned and graph.get(k).is_materializable]
    for label, selection, tags in (
        (
            "partitioned layers (one run over the whole range)",
            partitioned,
            {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last},
        ),
        ("unpartitioned layers", unpartitioned, {}),
    ):
        print(f"materializing {label}: {', '.join(k.to_user_string() for k in selection)}", flush=True)
        result = dg.materialize(
            definitions.assets,
            selection=dg.AssetSelection.assets(*selection),
            resources=resources,
            instance=instance,
            tags={**tags, "meter/trigger": "make-demo"},
            # Step events stay in the run's event log (make ui); the terminal shows warnings only.
            run_config={"loggers": {"console": {"config": {"log_level": "WARNING"}}}},
            raise_on_error=False,
        )
        if not result.success:
            print(f"FAILED: run {result.run_id}", file=sys.stderr)
            return 1
    print(f"\ndone in {time.monotonic() - started:.0f} s")
    print(f"warehouse (DuckDB): {resources['warehouse'].path}")
    print(f"reports:            {Path(resources['reports'].path).resolve()}")
    print(f"source data:        {folder}")
    print("inspect lineage and metadata: make ui  ->  http://127.0.0.1:3000")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
