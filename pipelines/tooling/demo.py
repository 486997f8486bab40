"""`make demo`: materialize every asset on the configured source (built-in synthetic data by default).

Three runs of named jobs, recorded in the instance at ``$DAGSTER_HOME`` (``make ui`` shows them with
their logs and metadata afterwards), in the order of ``pipelines/run_plan.py``: the tariff schedule
(what the monthly aggregates read) as a run of ``monthly_resegmentation`` restricted to it,
``ingest_and_clean`` over the months the source files cover (a single-run range), then the other
unpartitioned layers (households, features, model, personas, reports) as a run of
``monthly_resegmentation`` restricted to them. The runs execute in this process, one at a time:
before each, the demo fails runs whose process is gone and waits for any other run in progress.

The terminal shows each step as it starts and ends (elapsed time since the demo started, step
duration) and warnings; every step event stays in the run's log.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from pathlib import Path

import dagster as dg

from assets.ingest.source_files import discover, of_kind
from assets.ingest.source_months import file_month_range, months_between
from pipelines.definitions import defs
from pipelines.run_launcher import IN_PROGRESS, fail_dead_runs
from pipelines.run_plan import run_plan

STEP_EVENTS = {
    dg.DagsterEventType.STEP_START,
    dg.DagsterEventType.STEP_SUCCESS,
    dg.DagsterEventType.STEP_FAILURE,
    dg.DagsterEventType.STEP_SKIPPED,
    dg.DagsterEventType.STEP_UP_FOR_RETRY,
}
WAIT_POLL_S = 2.0
# Step events stay in the run's event log (make ui); the terminal shows warnings from the console
# logger and the step lines printed by StepPrinter.
QUIET_CONSOLE = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}


def source_month_range(folder: Path) -> tuple[str, str]:
    """The first and last partition (``YYYY-MM-01``) that the readings files in ``folder`` cover.

    Only months that are partitions now count: the current month, for example, holds readings but
    becomes a partition when it is complete (the source sensor applies the same rule)."""
    from assets.common.partitions import monthly_partitions

    ranges = [r for f in of_kind(discover(folder), "readings") if (r := file_month_range(f.path, f.relative))]
    if not ranges:
        raise SystemExit(f"no readings with a supported month in {folder} (only header-only or empty files?)")
    partitions = set(monthly_partitions.get_partition_keys())
    covered = [m.isoformat() for m in months_between(min(r[0] for r in ranges), max(r[1] for r in ranges))]
    months = [m for m in covered if m in partitions]
    if not months:
        raise SystemExit(f"the readings in {folder} cover {covered[0]} .. {covered[-1]}: no complete month yet")
    return months[0], months[-1]


class Clock:
    def __init__(self) -> None:
        self.started = time.monotonic()

    def __str__(self) -> str:
        return f"[{time.monotonic() - self.started:6.1f} s]"


class StepPrinter(threading.Thread):
    """Prints a run's step starts and ends as they are stored in the instance's event log."""

    def __init__(self, instance: dg.DagsterInstance, run_id: str, clock: Clock, poll_s: float = 0.5):
        super().__init__(daemon=True)
        self.instance, self.run_id, self.clock, self.poll_s = instance, run_id, clock, poll_s
        self.cursor: str | None = None
        self.step_started: dict[str, float] = {}
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.wait(self.poll_s):
            self.drain()

    def stop(self) -> None:
        self.done.set()
        self.join()
        self.drain()

    def drain(self) -> None:
        while True:
            batch = self.instance.get_records_for_run(self.run_id, cursor=self.cursor, of_type=STEP_EVENTS, limit=100)
            for record in batch.records:
                self.print_event(record.event_log_entry)
            self.cursor = batch.cursor
            if not batch.has_more:
                return

    def print_event(self, entry: dg.EventLogEntry) -> None:
        event = entry.dagster_event
        step = event.step_key or "?"
        if event.event_type == dg.DagsterEventType.STEP_START:
            self.step_started[step] = entry.timestamp
            print(f"{self.clock}   {step} started", flush=True)
            return
        took = entry.timestamp - self.step_started.get(step, entry.timestamp)
        outcome = {
            dg.DagsterEventType.STEP_SUCCESS: "done",
            dg.DagsterEventType.STEP_FAILURE: "FAILED",
            dg.DagsterEventType.STEP_SKIPPED: "skipped",
            dg.DagsterEventType.STEP_UP_FOR_RETRY: "up for retry",
        }[event.event_type]
        print(f"{self.clock}   {step} {outcome} ({took:.1f} s)", flush=True)


def wait_for_other_runs(instance: dg.DagsterInstance, clock: Clock) -> None:
    """One run at a time (dagster.yaml): fail runs whose process is gone, then wait for the rest."""
    reported: set[str] = set()
    while True:
        for run_id in fail_dead_runs(instance):
            print(f"{clock} run {run_id}: its process is gone; marked failed", flush=True)
        busy = instance.get_runs(filters=dg.RunsFilter(statuses=list(IN_PROGRESS)))
        if not busy:
            return
        for run in busy:
            if run.run_id not in reported:
                print(
                    f"{clock} waiting for run {run.run_id} ({run.job_name}, {run.status.value}) to finish", flush=True
                )
                reported.add(run.run_id)
        time.sleep(WAIT_POLL_S)


def run_job(
    definitions: dg.Definitions,
    instance: dg.DagsterInstance,
    clock: Clock,
    job_name: str,
    selection: Sequence[dg.AssetKey],
    tags: Mapping[str, str],
) -> dg.ExecuteInProcessResult:
    wait_for_other_runs(instance, clock)
    run_id = str(uuid.uuid4())
    names = ", ".join(k.to_user_string() for k in selection)
    print(f"{clock} run {run_id}: job {job_name} ({names})", flush=True)
    printer = StepPrinter(instance, run_id, clock)
    printer.start()
    try:
        result = definitions.resolve_job_def(job_name).execute_in_process(
            instance=instance,
            asset_selection=list(selection),
            tags={**tags, "meter/trigger": "make-demo"},
            run_id=run_id,
            run_config=QUIET_CONSOLE,
            raise_on_error=False,
        )
    finally:
        printer.stop()
    print(f"{clock} run {run_id}: {'SUCCESS' if result.success else 'FAILURE'}", flush=True)
    return result


def main() -> int:
    clock = Clock()
    definitions = defs()
    resources = definitions.resources
    source = resources["source"]
    folder = source.folder()
    print(f"source: {'built-in synthetic data' if source.is_synthetic else folder}", flush=True)
    first, last = source_month_range(folder)
    print(f"months with readings: {first} .. {last}", flush=True)
    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    reference, partitioned, unpartitioned = run_plan(definitions.resolve_asset_graph())
    runs = (
        # What the partitioned layers read (the tariff schedule), first (pipelines/run_plan.py).
        ("monthly_resegmentation", reference, {}),
        # The partitioned layers: one run over the whole range (single-run backfill policy).
        (
            "ingest_and_clean",
            partitioned,
            {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last},
        ),
        # The unpartitioned layers over all stored months, as an ad-hoc (not "as of" a month) run.
        ("monthly_resegmentation", unpartitioned, {}),
    )
    for job_name, selection, tags in runs:
        if not selection:
            continue
        result = run_job(definitions, instance, clock, job_name, selection, tags)
        if not result.success:
            print(f"FAILED: run {result.run_id} (make ui -> Runs shows its log)", file=sys.stderr)
            return 1
    print(f"\ndone in {time.monotonic() - clock.started:.0f} s")
    print(f"warehouse (DuckDB): {resources['warehouse'].path}")
    print(f"reports:            {resources['reports'].folder().resolve()}")
    print(f"source data:        {folder}")
    print("inspect lineage, runs and metadata: make ui  ->  http://127.0.0.1:3000")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
