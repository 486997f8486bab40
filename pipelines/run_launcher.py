"""Runs whose process died are failed, so they never block later work.

A run killed with SIGKILL (or whose machine lost power) cannot report its own end: it stays STARTED
and, with ``max_concurrent_runs: 1``, every queued run waits behind it. Dagster's run monitoring
fails such runs only for launchers that can check a run worker's health, and the
``DefaultRunLauncher`` cannot. ``LocalRunLauncher`` (dagster.yaml ``run_launcher``) is the default
launcher plus that check: a STARTED run is dead when the process that executes it is gone. The
check covers runs launched by the daemon or the UI and runs executed in another process (``dagster
asset materialize``, ``make demo``): every run records the pid of its process in an engine event.

The check assumes one machine (the instance here is SQLite under ``$DAGSTER_HOME``): a pid is looked
up on the host that runs the daemon. ``fail_dead_runs`` is the same check without a daemon
(``make demo`` calls it before it starts).
"""

from __future__ import annotations

from collections.abc import Sequence

import dagster as dg
import psutil
from dagster._core.launcher import CheckRunHealthResult, WorkerStatus

IN_PROGRESS = (dg.DagsterRunStatus.STARTED, dg.DagsterRunStatus.CANCELING)


def run_worker_pid(instance: dg.DagsterInstance, run_id: str) -> tuple[int, float] | None:
    """The pid of the process that executes the run and when it was recorded; None before the run
    has one. The first engine event with a ``pid`` is the run's own process: "Started process for
    run" (a launched run worker) or the executor's "Executing steps in process" (a CLI run);
    later pid events (step subprocesses of a multiprocess executor) are not the run's process."""
    records = instance.get_records_for_run(run_id, of_type=dg.DagsterEventType.ENGINE_EVENT, limit=50).records
    for record in records:
        event = record.event_log_entry.dagster_event
        metadata = event.engine_event_data.metadata if event and event.engine_event_data else {}
        pid = metadata.get("pid")
        if pid is not None and str(pid.value).isdigit():
            return int(pid.value), record.event_log_entry.timestamp
    return None


def process_alive(pid: int, recorded_at: float) -> bool:
    """Whether ``pid`` is a live process started no later than ``recorded_at`` (not a zombie, not a
    later process that reuses the pid)."""
    try:
        process = psutil.Process(pid)
        status, started = process.status(), process.create_time()
    except psutil.NoSuchProcess:  # gone (a zombie whose details cannot be read included)
        return False
    except psutil.AccessDenied:
        return True  # another user's process that exists: it cannot be judged, so it is not failed
    return status not in (psutil.STATUS_ZOMBIE, psutil.STATUS_DEAD) and started <= recorded_at + 1.0


def run_worker_health(instance: dg.DagsterInstance, run: dg.DagsterRun) -> CheckRunHealthResult:
    found = run_worker_pid(instance, run.run_id)
    if found is None:
        # Run monitoring fails every status but RUNNING/SUCCESS: a run that has just started has
        # no pid event yet and must not be failed for that.
        return CheckRunHealthResult(WorkerStatus.RUNNING, "no process recorded for the run yet")
    pid, recorded_at = found
    if process_alive(pid, recorded_at):
        return CheckRunHealthResult(WorkerStatus.RUNNING, f"process {pid} is alive", run_worker_id=str(pid))
    return CheckRunHealthResult(
        WorkerStatus.FAILED, f"the run's process {pid} is gone (killed or crashed)", run_worker_id=str(pid)
    )


def fail_dead_runs(instance: dg.DagsterInstance) -> Sequence[str]:
    """Mark in-progress runs whose process is gone as failed (what run monitoring does in the
    daemon); returns their ids."""
    failed = []
    for run in instance.get_runs(filters=dg.RunsFilter(statuses=list(IN_PROGRESS))):
        health = run_worker_health(instance, run)
        if health.status == WorkerStatus.FAILED:
            instance.report_run_failed(run, f"Marked failed: {health.msg}.")
            failed.append(run.run_id)
    return failed


class LocalRunLauncher(dg.DefaultRunLauncher):
    """The default launcher, plus a run-worker health check for run monitoring (see module doc)."""

    @property
    def supports_check_run_worker_health(self) -> bool:
        return True

    def check_run_worker_health(self, run: dg.DagsterRun) -> CheckRunHealthResult:
        return run_worker_health(self._instance, run)
