"""Monthly operations with the webserver and daemon running (the session's services, conftest.py):
the source-files sensor switched on as the UI does it, then a new delivery, an unreadable delivery, a
moved delivery; and the monthly schedule's go-live tick, evaluated by the running code server as the
UI's "Test schedule" does. Tests run in file order and share the source folder.

Each of these failed on the code before issue 24: an unreadable delivery was a SKIPPED tick and then
failed every month's ingest; the file index had no content key and kept moved files; the tick on
go-live day requested 2014-02-01.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from assets.common.warehouse import WarehouseSettings, connect
from pipelines.tooling import backfill as bf
from tests.ops.conftest import LoadedServices, all_runs
from tests.ops.services import MONTHS, REPO, DagsterServices, rows_by_month, settle, write_month_file

pytestmark = [pytest.mark.webserver, pytest.mark.timeout(900)]

ROWS_PER_MONTH = 2 * (48 * 2 - 1)
APRIL = "2013-04-01"
WAIT_S = 150  # bounded waits: the sensor ticks every 5 s here (60 s by default)

SENSOR_TICKS = """
query($selector: SensorSelector!) { sensorOrError(sensorSelector: $selector) { __typename
  ... on Sensor { sensorState { id status ticks(limit: 50) { tickId status timestamp skipReason runIds
    error { message causes { message } } } } } ... on PythonError { message } } }"""
START_SENSOR = """
mutation($selector: SensorSelector!) { startSensor(sensorSelector: $selector) { __typename
  ... on Sensor { sensorState { status } } ... on PythonError { message } } }"""
STOP_SENSOR = """
mutation($id: String!) { stopSensor(id: $id) { __typename ... on StopSensorMutationResult {
  instigationState { status } } ... on PythonError { message } } }"""
SCHEDULE_DRY_RUN = """
mutation($selector: ScheduleSelector!, $ts: Float!) { scheduleDryRun(selectorData: $selector, timestamp: $ts) {
  __typename ... on DryRunInstigationTick { evaluationResult { skipReason error { message }
    runRequests { runKey tags { key value } } } } ... on PythonError { message } } }"""
CHECKS_OF_RUN = """
query($id: ID!) { logsForRun(runId: $id, limit: 5000) { ... on EventConnection { events { __typename
  ... on AssetCheckEvaluationEvent { evaluation { checkName success description } } } } } }"""


def wait_for(what: str, check: Callable[[], Any], timeout_s: float = WAIT_S, poll_s: float = 1.0) -> Any:
    deadline = time.monotonic() + timeout_s
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < deadline, f"not within {timeout_s:.0f} s: {what}"
        time.sleep(poll_s)


def selector(services: DagsterServices, name: str, kind: str) -> dict[str, str]:
    repository, location = bf.code_location(services.client)
    return {"repositoryName": repository, "repositoryLocationName": location, f"{kind}Name": name}


def sensor_state(services: DagsterServices) -> dict:
    data = services.client.execute(SENSOR_TICKS, {"selector": selector(services, "source_files_sensor", "sensor")})
    return data["sensorOrError"]["sensorState"]


def ticks_after(services: DagsterServices, since: float) -> list[dict]:
    """Finished ticks (not STARTED) since ``since``, oldest first."""
    ticks = [t for t in sensor_state(services)["ticks"] if t["timestamp"] > since and t["status"] != "STARTED"]
    return sorted(ticks, key=lambda t: t["timestamp"])


def sensor_runs_after(services: DagsterServices, before: set[str]) -> list[dict]:
    return [
        r
        for r in all_runs(services)
        if r["runId"] not in before and r["tags"].get("meter/trigger") == "source_files_sensor"
    ]


def finished(runs: list[dict]) -> list[dict]:
    return runs if runs and all(r["status"] in bf.RUN_TERMINAL for r in runs) else []


def warehouse_rows(services: DagsterServices, sql: str) -> list[tuple]:
    with connect(WarehouseSettings(services.warehouse, memory_limit="512MB", threads=1)) as con:
        return con.execute(sql).fetchall()


def deliver(services: DagsterServices, month: str, relative: str, tmp: Path) -> Path:
    """A settled file for ``month`` written elsewhere, then moved into the source folder at ``relative``."""
    written = write_month_file(tmp, month)
    target = services.source / relative
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(written, target)
    settle(target)
    return target


@pytest.fixture(scope="module")
def sensor_on(loaded_services: LoadedServices):
    services = loaded_services.services
    before = {r["runId"] for r in all_runs(services)}
    result = services.client.execute(START_SENSOR, {"selector": selector(services, "source_files_sensor", "sensor")})
    assert result["startSensor"]["__typename"] == "Sensor", result
    try:
        yield services, before
    finally:
        state = sensor_state(services)
        services.client.execute(STOP_SENSOR, {"id": state["id"]})


def test_1_switching_the_sensor_on_reloads_the_history_in_one_run(sensor_on):
    services, before = sensor_on
    runs = wait_for("the first tick's run", lambda: finished(sensor_runs_after(services, before)))
    assert len(runs) == 1 and runs[0]["status"] == "SUCCESS", runs
    tags = runs[0]["tags"]
    assert (tags["dagster/asset_partition_range_start"], tags["dagster/asset_partition_range_end"]) == (
        MONTHS[0],
        MONTHS[-1],
    )


def test_2_a_new_delivery_loads_its_month_indexed_by_content(sensor_on, tmp_path: Path):
    services, _ = sensor_on
    before = {r["runId"] for r in all_runs(services)}
    delivery = deliver(services, APRIL, "incoming/readings_2013-04.csv", tmp_path)
    runs = wait_for("the delivery's run", lambda: finished(sensor_runs_after(services, before)))
    assert [(r["status"], r["tags"].get("dagster/partition")) for r in runs] == [("SUCCESS", APRIL)]
    assert rows_by_month(services.warehouse, "ingest.raw_readings")[APRIL] == ROWS_PER_MONTH
    (sha,) = warehouse_rows(
        services,
        "SELECT content_sha256 FROM ingest.source_file_index WHERE source_file = 'incoming/readings_2013-04.csv'",
    )[0]
    assert sha == bf_sha256(delivery)
    checks = check_results(services, runs[0]["runId"])
    assert checks.get("source_files_readable") is True, checks


def bf_sha256(path: Path) -> str:
    import hashlib

    return hashlib.sha256(path.read_bytes()).hexdigest()


def check_results(services: DagsterServices, run_id: str) -> dict[str, bool]:
    events = services.client.execute(CHECKS_OF_RUN, {"id": run_id})["logsForRun"]["events"]
    return {
        e["evaluation"]["checkName"]: e["evaluation"]["success"]
        for e in events
        if e["__typename"] == "AssetCheckEvaluationEvent"
    }


def backfill_script(services, *args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    cmd = [sys.executable, "-m", "pipelines.tooling.backfill", "--url", services.url, "--poll", "1", *args]
    return subprocess.run(cmd, cwd=REPO, env=services.env, capture_output=True, text=True, timeout=timeout)


def test_3_an_unreadable_delivery_fails_the_tick_and_other_months_keep_loading(sensor_on):
    services, _ = sensor_on
    broken = services.source / "incoming" / "2013-05" / "readings_2013-05.csv.gz"
    broken.parent.mkdir(parents=True, exist_ok=True)
    broken.write_bytes(b"\x1f\x8b\x08\x00 cut short")
    settle(broken)
    try:
        _unreadable_delivery(services, broken)
    finally:
        broken.unlink(missing_ok=True)  # later tests start from a readable folder even if this one fails
    removed = time.time()
    later = wait_for("a tick after the removal", lambda: ticks_after(services, removed + 1))
    assert later[0]["status"] == "SKIPPED", later[0]  # no refusal left: a plain skip


def _unreadable_delivery(services: DagsterServices, broken: Path) -> None:
    since = time.time() - 1
    failed = wait_for(
        "a FAILED sensor tick naming the file",
        lambda: [t for t in ticks_after(services, since) if t["status"] == "FAILURE"],
    )
    error = failed[0]["error"]
    message = " ".join([error["message"], *(c["message"] for c in error["causes"])])  # the UI shows both
    assert "incoming/2013-05/readings_2013-05.csv.gz" in message and "gzip" in message, message
    # a month the file cannot be known to hold still loads; the run's check names the refused file
    proc = backfill_script(
        services, "run", "--job", "ingest_and_clean", "--partition", MONTHS[1], "--tag", "dagster/max_retries=0"
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    run_id = proc.stdout.split("launched run ")[1].split()[0]
    assert check_results(services, run_id).get("source_files_readable") is False
    refused = warehouse_rows(services, "SELECT source_file, reason FROM ingest.refused_source_files")
    assert [r[0] for r in refused] == ["incoming/2013-05/readings_2013-05.csv.gz"] and "gzip" in refused[0][1]
    assert rows_by_month(services.warehouse, "ingest.raw_readings")[MONTHS[1]] == ROWS_PER_MONTH
    # the sensor keeps failing until the file is fixed (removed by the caller)
    assert ticks_after(services, since)[-1]["status"] == "FAILURE"


def test_4_a_moved_delivery_keeps_its_content_and_the_old_path_leaves_the_index(sensor_on):
    services, _ = sensor_on
    old = services.source / "incoming" / "readings_2013-04.csv"
    sha = bf_sha256(old)
    before = {r["runId"] for r in all_runs(services)}
    new = services.source / "deliveries" / "2013-04" / "readings_2013-04.csv"
    new.parent.mkdir(parents=True)
    shutil.move(old, new)
    runs = wait_for("the move's reload", lambda: finished(sensor_runs_after(services, before)))
    assert [(r["status"], r["tags"].get("dagster/partition")) for r in runs] == [("SUCCESS", APRIL)]
    assert rows_by_month(services.warehouse, "ingest.raw_readings")[APRIL] == ROWS_PER_MONTH  # not doubled
    index = dict(warehouse_rows(services, "SELECT source_file, content_sha256 FROM ingest.source_file_index"))
    assert index.get("deliveries/2013-04/readings_2013-04.csv") == sha
    assert "incoming/readings_2013-04.csv" not in index
    departed = warehouse_rows(
        services, "SELECT source_file, moved_to, content_sha256 FROM ingest.source_file_departures"
    )
    assert ("incoming/readings_2013-04.csv", "deliveries/2013-04/readings_2013-04.csv", sha) in departed


def test_5_go_live_ticks(loaded_services: LoadedServices):
    """The running code server evaluates the schedule (the UI's "Test schedule"): the tick on go-live
    day (METER_LIVE_FROM=2026-10-01) requests nothing, the next one the first live month."""
    services = loaded_services.services
    sel = selector(services, "monthly_resegmentation_schedule", "schedule")

    def dry_run(when: datetime) -> dict:
        data = services.client.execute(SCHEDULE_DRY_RUN, {"selector": sel, "ts": when.timestamp()})
        return data["scheduleDryRun"]["evaluationResult"]

    go_live = dry_run(datetime(2026, 10, 2, 3, tzinfo=UTC))
    assert not go_live["runRequests"] and "2026-09 is not a partition" in (go_live["skipReason"] or ""), go_live
    gap = dry_run(datetime(2020, 5, 2, 3, tzinfo=UTC))
    assert not gap["runRequests"], gap
    first = dry_run(datetime(2026, 11, 2, 3, tzinfo=UTC))
    assert [r["runKey"] for r in first["runRequests"]] == ["2026-10-01"], first


def test_6_tariff_schedule_first_through_the_webserver(loaded_services: LoadedServices):
    """The history recipe's first step through the webserver (docs/OPERATIONS.md): one run of the
    unpartitioned tariff_schedule via DagsterGraphQLClient, followed to its end by the tool."""
    services = loaded_services.services
    proc = backfill_script(services, "materialize", "--assets", "tariff_schedule")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "SUCCESS" in proc.stdout
    (slots,) = warehouse_rows(services, "SELECT count(*) FROM ingest.tariff_schedule")[0]
    assert slots > 0
