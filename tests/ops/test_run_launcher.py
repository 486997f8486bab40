"""pipelines/run_launcher.py: a run is dead when the process recorded for it is gone."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import dagster as dg
from dagster._core.events import EngineEventData
from dagster._core.launcher import WorkerStatus

from pipelines.run_launcher import LocalRunLauncher, fail_dead_runs, process_alive, run_worker_health, run_worker_pid


def dead_pid(reap: bool = True) -> tuple[int, subprocess.Popen]:
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    proc.kill()
    if reap:
        proc.wait()
    else:  # a zombie until its parent waits: os.kill(pid, 0) still succeeds
        time.sleep(0.5)
    return proc.pid, proc


def started_run(instance: dg.DagsterInstance, pid: int | None) -> dg.DagsterRun:
    run = instance.add_run(dg.DagsterRun(job_name="ingest_and_clean", status=dg.DagsterRunStatus.STARTED))
    if pid is not None:
        instance.report_engine_event("Started process for run", run, EngineEventData.in_process(pid))
        instance.report_engine_event("Launching subprocess for step", run, EngineEventData.in_process(1))
    return run


def test_process_alive():
    assert process_alive(os.getpid(), time.time())
    pid, _ = dead_pid()
    assert not process_alive(pid, time.time())
    zombie, proc = dead_pid(reap=False)
    try:
        assert not process_alive(zombie, time.time())
    finally:
        proc.wait()
    # A live process that started after the run recorded its pid is a later process reusing it.
    assert not process_alive(os.getpid(), time.time() - 10 * 365 * 86400)


def test_dead_runs_are_failed_live_and_new_runs_are_not():
    pid, _ = dead_pid()
    with dg.DagsterInstance.ephemeral() as instance:
        dead = started_run(instance, pid)
        alive = started_run(instance, os.getpid())
        new = started_run(instance, None)  # no pid recorded yet
        assert run_worker_pid(instance, dead.run_id)[0] == pid  # the run's process, not a step's
        assert run_worker_health(instance, dead).status == WorkerStatus.FAILED
        assert run_worker_health(instance, alive).status == WorkerStatus.RUNNING
        assert run_worker_health(instance, new).status == WorkerStatus.RUNNING
        assert fail_dead_runs(instance) == [dead.run_id]
        assert instance.get_run_by_id(dead.run_id).status == dg.DagsterRunStatus.FAILURE
        assert instance.get_run_by_id(alive.run_id).status == dg.DagsterRunStatus.STARTED
        assert instance.get_run_by_id(new.run_id).status == dg.DagsterRunStatus.STARTED
        assert fail_dead_runs(instance) == []


def test_launcher_offers_the_health_check_to_run_monitoring():
    launcher = LocalRunLauncher()
    assert launcher.supports_check_run_worker_health
    assert isinstance(launcher, dg.DefaultRunLauncher)
