"""A run killed with SIGKILL in the middle of a step never blocks later work.

The killed runs are stopped while their step waits for the warehouse (the test holds the warehouse
file lock), so "mid-step" is certain and the wait message is checked on the way. Then:

* a queued run (launched through the webserver, started by the daemon) is killed: run monitoring
  (dagster.yaml + pipelines/run_launcher.py) marks it failed and the next queued run completes;
* a CLI run (``dagster asset materialize``, outside the queue) is killed: the next CLI run completes
  at once (the OS released the warehouse lock), and the daemon marks the killed run failed;
* a CLI run waiting for the warehouse stops on SIGTERM.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator

import dagster as dg
import filelock
import pytest

import pipelines.tooling.backfill as bf
from pipelines.run_launcher import run_worker_pid
from tests.ops.conftest import all_runs
from tests.ops.services import BIN, INGEST_CLEAN_ASSETS, MONTHS, REPO, DagsterServices, write_source

pytestmark = pytest.mark.webserver

WAITING = "waiting for the warehouse"


@pytest.fixture(scope="module")
def services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DagsterServices]:
    services = DagsterServices(tmp_path_factory.mktemp("crash-recovery"))
    services.prepare()
    write_source(services.source, months=MONTHS[:2], days=1)
    try:
        services.start(daemon=True)
        yield services
    finally:
        services.stop()


def run_log(services: DagsterServices, run_id: str) -> str:
    query = """query($id: ID!) { logsForRun(runId: $id, limit: 5000) { ... on EventConnection {
               events { __typename ... on MessageEvent { message } } } } }"""
    events = services.client.execute(query, {"id": run_id})["logsForRun"]["events"]
    return "\n".join(e.get("message") or "" for e in events)


def wait_until(what: str, condition, timeout_s: float, poll_s: float = 0.5):
    deadline = time.monotonic() + timeout_s
    while not (value := condition()):
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout_s:.0f} s waiting for {what}")
        time.sleep(poll_s)
    return value


def run_status(services: DagsterServices, run_id: str) -> str:
    return bf.run_status(services.client, run_id)


def waiting_run(services: DagsterServices, before: set[str]) -> str:
    """The new run whose step says it is waiting for the warehouse."""

    def find() -> str | None:
        for run in all_runs(services):
            if run["runId"] not in before and run["status"] == "STARTED" and WAITING in run_log(services, run["runId"]):
                return run["runId"]
        return None

    return wait_until("a run waiting for the warehouse", find, timeout_s=90)


def kill_run_process(services: DagsterServices, run_id: str) -> int:
    with dg.DagsterInstance.from_config(str(services.home)) as instance:
        pid, _ = run_worker_pid(instance, run_id)
    os.kill(pid, signal.SIGKILL)
    return pid


def cli(services: DagsterServices, partition: str, name: str) -> subprocess.Popen:
    """``dagster asset materialize`` of the ingest and clean assets for one month (output in a log
    file beside the services' logs)."""
    args = [str(BIN / "dagster"), "asset", "materialize", "-m", "pipelines.definitions"]
    args += ["--select", ",".join(INGEST_CLEAN_ASSETS), "--partition", partition]
    with (services.root / f"{name}.log").open("wb") as log:
        return subprocess.Popen(args, cwd=REPO, env=services.env, stdout=log, stderr=subprocess.STDOUT)


def hold_warehouse(services: DagsterServices) -> filelock.FileLock:
    lock = filelock.FileLock(str(services.warehouse) + ".lock")
    lock.acquire(timeout=10)
    return lock


def test_killed_queued_run_is_failed_and_the_next_queued_run_completes(services: DagsterServices):
    client = services.client
    before = {r["runId"] for r in all_runs(services)}
    lock = hold_warehouse(services)
    try:
        killed = bf.launch_partition_run(client, "ingest_and_clean", MONTHS[0], tags={"dagster/max_retries": "0"})
        assert waiting_run(services, before) == killed
        pid = kill_run_process(services, killed)
    finally:
        lock.release()
    started = time.monotonic()
    following = bf.launch_partition_run(client, "ingest_and_clean", MONTHS[0])
    assert bf.wait_for_run(client, following, timeout_s=90, progress=None) == "SUCCESS"
    # Failed by the code server that started it (it saw its child die) or by run monitoring.
    assert run_status(services, killed) == "FAILURE"
    log = run_log(services, killed)
    assert "terminated by signal 9 (SIGKILL)" in log or f"process {pid} is gone" in log, log[-2000:]
    print(f"killed queued run failed and the next one done in {time.monotonic() - started:.1f} s")


def test_killed_or_terminated_cli_runs_do_not_block_the_next_cli_run(services: DagsterServices):
    lock = hold_warehouse(services)
    procs = {}
    try:
        for name in ("terminated", "killed"):
            before = {r["runId"] for r in all_runs(services)}
            procs[name] = cli(services, MONTHS[1], name)
            run_id = waiting_run(services, before)
            with dg.DagsterInstance.from_config(str(services.home)) as instance:
                assert run_worker_pid(instance, run_id)[0] == procs[name].pid
            procs[name].run_id = run_id
        # A run waiting for the warehouse stops on SIGTERM (bounded by the wait, not timed: no timing asserts).
        procs["terminated"].send_signal(signal.SIGTERM)
        assert procs["terminated"].wait(timeout=30) != 0
        procs["killed"].send_signal(signal.SIGKILL)
        procs["killed"].wait(timeout=10)
    finally:
        lock.release()
        for proc in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    started = time.monotonic()
    following = cli(services, MONTHS[1], "following")
    assert following.wait(timeout=120) == 0, services.log("following")[-3000:]
    print(f"next CLI run done in {time.monotonic() - started:.1f} s")
    assert run_status(services, procs["terminated"].run_id) == "FAILURE"
    # The daemon's run monitoring marks the killed CLI run failed (poll_interval_seconds: 10).
    killed = procs["killed"].run_id
    wait_until("the killed CLI run to be marked failed", lambda: run_status(services, killed) == "FAILURE", 45)
    assert f"process {procs['killed'].pid} is gone" in run_log(services, killed)
