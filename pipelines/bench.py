"""`make bench`: throughput and peak memory of generate -> ingest -> clean at LCL scale.

Each stage runs in its own child process so its peak resident memory (DuckDB included) is
measured by the kernel (``wait4`` rusage), not estimated. Results go to stdout and to
``bench-results/<timestamp>.json``.

    make bench                                   # full LCL scale: 5,567 households, 2 years
    make bench BENCH_ARGS="--households 500"     # a quicker look
    make bench BENCH_ARGS="--reuse-data --stages clean"   # re-measure one stage on existing data
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from datetime import date
from pathlib import Path


def _stage_generate(args: argparse.Namespace) -> dict:
    from assets.synthetic.generate import generate

    summary = generate(Path(args.data), households=args.households, seed=args.seed)
    return {"rows": int(summary.rows_written)}


def _stage_ingest(args: argparse.Namespace) -> dict:
    from assets.common.warehouse import WarehouseSettings, connect
    from assets.ingest.raw_ingest import load_raw_readings
    from assets.ingest.source_files import discover, of_kind

    files = of_kind(discover(Path(args.data)), "readings")
    with connect(WarehouseSettings(Path(args.warehouse), memory_limit=args.memory_limit)) as con:
        result = load_raw_readings(con, files, date(2011, 11, 1), date(2015, 1, 1))
    return {"rows": result.rows, "files": result.files_read}


def _stage_clean(args: argparse.Namespace) -> dict:
    from assets.clean.clean_readings import clean_window
    from assets.common.warehouse import WarehouseSettings, connect

    with connect(WarehouseSettings(Path(args.warehouse), memory_limit=args.memory_limit)) as con:
        result = clean_window(con, date(2011, 11, 1), date(2015, 1, 1))
    return {"rows": result.clean_rows, "conservation_holds": all(c.holds for c in result.conservation)}


STAGES = {"generate": _stage_generate, "ingest": _stage_ingest, "clean": _stage_clean}


def _run_stage(stage: str, args: argparse.Namespace) -> dict:
    cmd = [
        sys.executable,
        "-m",
        "pipelines.bench",
        "--stage",
        stage,
        "--data",
        args.data,
        "--warehouse",
        args.warehouse,
        "--households",
        str(args.households),
        "--seed",
        str(args.seed),
        "--memory-limit",
        args.memory_limit,
    ]
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
    _, status, rusage = os.wait4(proc.pid, 0)
    seconds = time.monotonic() - started
    out = proc.stdout.read() if proc.stdout else ""
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"stage {stage} failed")
    result = json.loads(out.strip().splitlines()[-1])
    result.update(
        stage=stage,
        seconds=round(seconds, 1),
        peak_rss_mib=round(rusage.ru_maxrss / 1024, 1),
        rows_per_second=round(result["rows"] / seconds) if seconds else None,
    )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=5567)
    parser.add_argument("--seed", type=int, default=11)
    parser.add_argument("--data", default="data/bench/source")
    parser.add_argument("--warehouse", default="data/bench/warehouse.duckdb")
    parser.add_argument("--memory-limit", default="3GB", help="DuckDB memory_limit")
    parser.add_argument("--reuse-data", action="store_true", help="skip generation if the folder exists")
    parser.add_argument("--stages", default="generate,ingest,clean", help="comma-separated subset to run")
    parser.add_argument("--stage", choices=sorted(STAGES), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.stage:
        print(json.dumps(STAGES[args.stage](args)))
        return 0
    stages = [s for s in ("generate", "ingest", "clean") if s in args.stages.split(",")]
    if args.reuse_data and Path(args.data).is_dir() and "generate" in stages:
        stages.remove("generate")
    if "ingest" in stages:
        Path(args.warehouse).unlink(missing_ok=True)
    results = []
    for stage in stages:
        print(f"running {stage} ...", flush=True)
        results.append(_run_stage(stage, args))
        r = results[-1]
        print(
            f"  {stage:9s} {r['rows']:>13,} rows  {r['seconds']:>8.1f} s  {r['rows_per_second'] or 0:>12,} rows/s"
            f"  peak RSS {r['peak_rss_mib']:>8,.0f} MiB",
            flush=True,
        )
    out = Path("bench-results") / f"{time.strftime('%Y%m%dT%H%M%S')}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"households": args.households, "results": results}, indent=2))
    print(f"results: {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
