"""Backfills against a real dagster-webserver + dagster-daemon (the repository's dagster.yaml).

Source: three small LCL-layout files, one per month (January-March 2013, three layouts). The
session fixture (conftest.py) loads them once with the CLI. Each test needs only that load, not
another test (checked: the file passes in reverse order, and (b) and (c) each alone).

(a) CLI ``dagster asset materialize --partition-range``: one run, rows for three months.
(b) ``python -m pipelines.tooling.backfill launch``: GraphQL asset backfill of the range -> one run.
(c) A backfill, a launchpad-style run and a CLI run at the same time: all succeed, the queued runs
    do not overlap, no "Could not set lock" anywhere, no duplicated rows.
(d) One month fails on its own (its file is corrupted in place: same size, same mtime, so runs of
    other months skip it by the file index; March loads meanwhile); after the fix,
    ``python -m pipelines.tooling.backfill rerun`` re-executes only that partition from the failure.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from pipelines.tooling import backfill as bf
from tests.ops.conftest import LoadedServices, all_runs, cli_materialize
from tests.ops.services import INGEST_CLEAN_ASSETS, LOCK_ERROR, MONTHS, REPO, rows_by_month

pytestmark = [pytest.mark.webserver, pytest.mark.timeout(300)]

ROWS_PER_MONTH = 2 * (48 * 2 - 1)  # two households, two days of half hours inside the month
RANGE_START, RANGE_END = "dagster/asset_partition_range_start", "dagster/asset_partition_range_end"
TABLES = ("ingest.raw_readings", "clean.clean_readings")


def assert_three_months_loaded_once(warehouse: Path) -> None:
    for table in TABLES:
        assert rows_by_month(warehouse, table) == dict.fromkeys(MONTHS, ROWS_PER_MONTH), table
    assert set(rows_by_month(warehouse, "clean.household_month_coverage")) == set(MONTHS)


def backfill_script(services, *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "pipelines.tooling.backfill", "--url", services.url, "--poll", "1", *args]
    return subprocess.run(cmd, cwd=REPO, env=services.env, capture_output=True, text=True, timeout=timeout)


def wait_for_backfill_runs(client: bf.Client, backfill_id: str, timeout_s: float) -> bf.BackfillState:
    """Until the backfill has launched its run(s) and they finished (not its own completion tick,
    which the daemon records up to 30 s later)."""
    deadline = time.monotonic() + timeout_s
    while True:
        state = bf.backfill_state(client, backfill_id)
        if state.runs and all(r["status"] in bf.RUN_TERMINAL for r in state.runs):
            return state
        assert time.monotonic() < deadline, state.summary()
        time.sleep(1)


def test_cli_partition_range_is_one_run(loaded_services: LoadedServices):
    cli = loaded_services.cli
    assert cli.returncode == 0, cli.output[-5000:]
    assert len(cli.new_runs) == 1, [r["runId"] for r in cli.new_runs]
    run = cli.new_runs[0]
    assert run["status"] == "SUCCESS"
    assert (run["tags"][RANGE_START], run["tags"][RANGE_END]) == (MONTHS[0], MONTHS[-1])
    assert_three_months_loaded_once(loaded_services.services.warehouse)
    print(f"CLI range run: {cli.seconds:.1f} s")


def test_scripted_backfill_is_one_run(loaded_services: LoadedServices):
    services = loaded_services.services
    started = time.monotonic()
    proc = backfill_script(
        services,
        "launch",
        "--assets",
        ",".join(INGEST_CLEAN_ASSETS),
        "--from",
        MONTHS[0],
        "--to",
        MONTHS[-1],
        "--title",
        "test (b)",
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    backfill_id = re.search(r"launched backfill (\w+)", proc.stdout).group(1)
    state = bf.backfill_state(services.client, backfill_id)
    assert state.status == "COMPLETED_SUCCESS"
    assert len(state.runs) == 1, state.runs
    run = state.runs[0]
    assert run["status"] == "SUCCESS"
    assert (run["tags"][RANGE_START], run["tags"][RANGE_END]) == (MONTHS[0], MONTHS[-1])
    assert_three_months_loaded_once(services.warehouse)  # replaced, not duplicated
    print(f"scripted backfill: {time.monotonic() - started:.1f} s\n{proc.stdout}")


def test_concurrent_writers_queue_instead_of_colliding(loaded_services: LoadedServices):
    services = loaded_services.services
    client = services.client
    started = time.monotonic()
    backfill_id = bf.launch_asset_backfill(client, INGEST_CLEAN_ASSETS, partitions=list(MONTHS), title="test (c)")
    run_id = bf.launch_partition_run(client, "ingest_and_clean", MONTHS[1], tags={"meter/test": "c"})
    with ThreadPoolExecutor(max_workers=1) as pool:  # a third writer outside the run queue
        cli = pool.submit(cli_materialize, services, ",".join(INGEST_CLEAN_ASSETS), f"{MONTHS[2]}...{MONTHS[2]}")
        run_status = bf.wait_for_run(client, run_id, timeout_s=240, progress=None)
        state = wait_for_backfill_runs(client, backfill_id, timeout_s=240)
        cli_proc = cli.result(timeout=240)
    assert run_status == "SUCCESS"
    assert [r["status"] for r in state.runs] == ["SUCCESS"]  # (b) covers the backfill's own completion
    assert cli_proc.returncode == 0, cli_proc.stdout[-3000:] + cli_proc.stderr[-3000:]

    # The two queued runs ran one after the other (max_concurrent_runs: 1).
    runs = {r["runId"]: r for r in all_runs(services)}
    first, second = sorted((runs[run_id], runs[state.runs[0]["runId"]]), key=lambda r: r["startTime"])
    assert first["endTime"] <= second["startTime"], (first, second)

    assert services.files_containing(LOCK_ERROR) == []
    assert_three_months_loaded_once(services.warehouse)
    print(f"concurrent backfill + run + CLI: {time.monotonic() - started:.1f} s")


STEP_FAILURES = """
query($id: ID!) { logsForRun(runId: $id, limit: 5000) { ... on EventConnection { events {
  __typename ... on ExecutionStepFailureEvent { stepKey error { message causes { message } } } } } } }"""
LATEST_MATERIALIZATION = """
query($partition: String!) { assetNodeOrError(assetKey: {path: ["clean_readings"]}) { ... on AssetNode {
  assetMaterializations(partitions: [$partition], limit: 1) { runId partition } } } }"""


def corrupt_in_place(path: Path) -> bytes:
    """Replace one byte of the last kWh value by an invalid UTF-8 byte; same size, same mtime."""
    original, stat = path.read_bytes(), path.stat()
    position = original.rstrip().rfind(b".") + 1  # a digit of the last value: the file header stays valid
    path.write_bytes(original[:position] + b"\xff" + original[position + 1 :])
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    return original


def restore(path: Path, original: bytes) -> None:
    stat = path.stat()
    path.write_bytes(original)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))


def test_failed_partition_is_rerun_alone(loaded_services: LoadedServices):
    assert loaded_services.cli.returncode == 0  # the file index knows which month each file covers
    services = loaded_services.services
    client = services.client
    started = time.monotonic()
    february = loaded_services.files[MONTHS[1]]
    original = corrupt_in_place(february)
    try:
        # February as the monthly schedule and the sensor launch a month (no automatic retry, so the
        # failure is final) and, at the same time, March from the CLI: other months are unaffected.
        february_run = bf.launch_partition_run(
            client, "ingest_and_clean", MONTHS[1], tags={"meter/test": "d", "dagster/max_retries": "0"}
        )
        with ThreadPoolExecutor(max_workers=1) as pool:
            march = pool.submit(cli_materialize, services, ",".join(INGEST_CLEAN_ASSETS), f"{MONTHS[2]}...{MONTHS[2]}")
            assert bf.wait_for_run(client, february_run, timeout_s=240, progress=None) == "FAILURE"
            march_proc = march.result(timeout=240)
        assert march_proc.returncode == 0, march_proc.stdout[-3000:] + march_proc.stderr[-3000:]
        events = client.execute(STEP_FAILURES, {"id": february_run})["logsForRun"]["events"]
        failures = [e for e in events if e["__typename"] == "ExecutionStepFailureEvent"]
        assert [f["stepKey"] for f in failures] == ["raw_readings"]
        error = failures[0]["error"]
        message = " ".join([error["message"], *(c["message"] for c in error["causes"])])
        assert f"kaggle/{february.name}" in message and "UTF-8" in message, message  # names the file
    finally:
        restore(february, original)

    before = {r["runId"] for r in all_runs(services)}
    proc = backfill_script(services, "rerun", february_run)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    new_runs = [r for r in all_runs(services) if r["runId"] not in before]
    assert len(new_runs) == 1, new_runs  # only February ran again
    rerun = new_runs[0]
    assert rerun["status"] == "SUCCESS"
    assert rerun["tags"]["dagster/partition"] == MONTHS[1]
    assert rerun["tags"]["dagster/parent_run_id"] == february_run
    latest = client.execute(LATEST_MATERIALIZATION, {"partition": MONTHS[1]})["assetNodeOrError"]
    assert latest["assetMaterializations"][0]["runId"] == rerun["runId"]
    assert_three_months_loaded_once(services.warehouse)
    assert services.files_containing(LOCK_ERROR) == []
    print(f"failed partition + rerun: {time.monotonic() - started:.1f} s\n{proc.stdout}")
