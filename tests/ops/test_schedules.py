"""The monthly re-segmentation schedule: cron, the month it requests, default status from the env."""

from __future__ import annotations

import importlib
import os
from datetime import UTC, datetime

import dagster as dg
import pytest

import pipelines.definitions
import pipelines.schedules
import pipelines.sensors
from assets.common.partitions import month_window, monthly_partitions

# Dagster's own build_schedule_from_partitioned_job calls the deprecated
# JobDefinition.run_request_for_partition on every tick (dagster 1.13.27); not our code.
pytestmark = pytest.mark.filterwarnings(
    "ignore:Function `JobDefinition.run_request_for_partition` is deprecated:DeprecationWarning"
)


@pytest.fixture(scope="module")
def defs() -> dg.Definitions:
    return pipelines.definitions.defs()


def tick(schedule: dg.ScheduleDefinition, when: datetime) -> list[dg.RunRequest]:
    context = dg.build_schedule_context(scheduled_execution_time=when)
    return list(schedule.evaluate_tick(context).run_requests or [])


def test_runs_on_the_2nd_at_3_utc(defs: dg.Definitions):
    schedule = defs.resolve_schedule_def("monthly_resegmentation_schedule")
    assert schedule.cron_schedule == "0 3 2 * *"
    assert schedule.execution_timezone == "UTC"
    assert schedule.job_name == "monthly_resegmentation"


@pytest.mark.parametrize(
    ("when", "partition"),
    [
        (datetime(2026, 11, 2, 3, 0, tzinfo=UTC), "2026-10-01"),
        (datetime(2027, 1, 2, 3, 0, tzinfo=UTC), "2026-12-01"),  # across the year boundary
        (datetime(2013, 3, 2, 3, 0, tzinfo=UTC), "2013-02-01"),
    ],
)
def test_tick_requests_the_previous_month(defs: dg.Definitions, when: datetime, partition: str):
    requests = tick(defs.resolve_schedule_def("monthly_resegmentation_schedule"), when)
    assert [(r.partition_key, r.run_key) for r in requests] == [(partition, partition)]


def test_job_covers_every_monthly_asset_and_is_monthly(defs: dg.Definitions):
    """Unpartitioned assets may join the job (they recompute over all months), the monthly ones must."""
    graph = defs.resolve_asset_graph()
    monthly = {k for k in graph.materializable_asset_keys if graph.get(k).partitions_def == monthly_partitions}
    job = defs.resolve_job_def("monthly_resegmentation")
    assert monthly and monthly <= job.asset_layer.selected_asset_keys
    assert job.partitions_def == monthly_partitions


@pytest.mark.parametrize(("value", "status"), [("1", "RUNNING"), ("", "STOPPED"), (None, "STOPPED")])
def test_default_status_from_env(monkeypatch: pytest.MonkeyPatch, value: str | None, status: str):
    """Schedule and sensor start STOPPED unless METER_SCHEDULES_RUNNING=1 when the code loads."""
    if value is None:
        monkeypatch.delenv("METER_SCHEDULES_RUNNING", raising=False)
    else:
        monkeypatch.setenv("METER_SCHEDULES_RUNNING", value)
    try:
        schedules = importlib.reload(pipelines.schedules)
        sensors = importlib.reload(pipelines.sensors)
        assert schedules.monthly_resegmentation_schedule.default_status.value == status
        assert sensors.source_files_sensor.default_status.value == status
    finally:
        monkeypatch.undo()
        importlib.reload(pipelines.schedules)
        importlib.reload(pipelines.sensors)


NOW = datetime(2026, 11, 29, tzinfo=UTC)


def test_months_without_source_data_are_not_partitions():
    """Trial months (2011-11..2014-02) and live months (2026-10 on) are; the gap between is not."""
    keys = monthly_partitions.get_partition_keys(current_time=NOW)
    assert keys[0] == "2011-11-01" and "2014-02-01" in keys
    assert "2014-03-01" not in keys and "2020-06-01" not in keys and "2026-09-01" not in keys
    assert keys[-1] == "2026-10-01"  # the last complete month
    assert len(keys) == 28 + 1


def test_a_range_across_the_gap_skips_it():
    keys = monthly_partitions.get_partition_keys_in_range(dg.PartitionKeyRange("2014-01-01", "2026-10-01"))
    assert keys == ["2014-01-01", "2014-02-01", "2026-10-01"]


@pytest.mark.parametrize(
    ("partition_key", "window"),
    [
        ("2013-02-01", ("2013-02-01", "2013-03-01")),
        (dg.PartitionKeyRange("2012-11-01", "2013-01-01"), ("2012-11-01", "2013-02-01")),
        (dg.PartitionKeyRange("2013-12-01", "2013-12-01"), ("2013-12-01", "2014-01-01")),
    ],
)
def test_month_window_is_first_month_to_month_after_last(partition_key, window, tmp_path):
    seen = []

    @dg.asset(partitions_def=monthly_partitions, backfill_policy=dg.BackfillPolicy.single_run())
    def probe(context) -> None:
        seen.append(tuple(d.isoformat() for d in month_window(context)))

    instance = dg.DagsterInstance.ephemeral(tempdir=str(tmp_path))
    if isinstance(partition_key, str):
        result = dg.materialize([probe], partition_key=partition_key, instance=instance)
    else:
        tags = {
            "dagster/asset_partition_range_start": partition_key.start,
            "dagster/asset_partition_range_end": partition_key.end,
        }
        result = dg.materialize([probe], tags=tags, instance=instance)
    assert result.success and seen == [window]


def test_partition_months_come_from_the_environment_and_are_validated():
    """The history and live months are deployment facts (env), checked when the code location loads."""
    import subprocess
    import sys

    probe = "import assets.common.partitions as p; print(len(p.excluded_months()))"  # reads assets.common.months
    env = {**os.environ, "METER_HISTORY_TO": "2014-02-01", "METER_LIVE_FROM": "2014-05-01"}
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "2"  # 2014-03 and 2014-04
    bad = {**os.environ, "METER_LIVE_FROM": "2026-10-15"}
    proc = subprocess.run([sys.executable, "-c", probe], env=bad, capture_output=True, text=True)
    assert proc.returncode != 0 and "METER_LIVE_FROM='2026-10-15' is not the first day of a month" in proc.stderr
    backwards = {**os.environ, "METER_LIVE_FROM": "2013-01-01"}
    proc = subprocess.run([sys.executable, "-c", probe], env=backwards, capture_output=True, text=True)
    assert proc.returncode != 0 and "out of order" in proc.stderr
