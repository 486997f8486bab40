"""The monthly re-segmentation schedule: cron, the month it requests, default status from the env."""

from __future__ import annotations

import functools
import importlib
import os
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import dagster as dg
import pytest
from dagster._core.storage.dagster_run import DagsterRun

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


@functools.cache
def _repository() -> dg.RepositoryDefinition:
    return pipelines.definitions.defs().get_repository_def()


def context(when: datetime, instance: dg.DagsterInstance | None = None) -> dg.ScheduleEvaluationContext:
    repository = _repository()
    return dg.build_schedule_context(instance=instance, scheduled_execution_time=when, repository_def=repository)


def tick(schedule: dg.ScheduleDefinition, when: datetime) -> list[dg.RunRequest]:
    return list(schedule.evaluate_tick(context(when)).run_requests or [])


def test_runs_on_the_2nd_at_3_utc(defs: dg.Definitions):
    schedule = defs.resolve_schedule_def("monthly_resegmentation_schedule")
    assert schedule.cron_schedule == "0 3 2 * *"
    assert schedule.execution_timezone == "UTC"
    assert schedule.job_name == "monthly_resegmentation"


def _live_ticks() -> list[tuple[datetime, str]]:
    """Every tick from go-live +1 month for two years: the tick on the 2nd requests the month before."""
    out, year, month = [], 2026, 11
    for _ in range(26):
        previous = (year - (month == 1), (month - 2) % 12 + 1)
        out.append((datetime(year, month, 2, 3, 0, tzinfo=UTC), f"{previous[0]}-{previous[1]:02d}-01"))
        year, month = year + (month == 12), month % 12 + 1
    return out


@pytest.mark.parametrize(
    ("when", "partition"),
    [
        (datetime(2026, 11, 2, 3, 0, tzinfo=UTC), "2026-10-01"),  # the first tick after go-live
        (datetime(2027, 1, 2, 3, 0, tzinfo=UTC), "2026-12-01"),  # across the year end
        (datetime(2027, 2, 2, 3, 0, tzinfo=UTC), "2027-01-01"),
        (datetime(2027, 4, 2, 3, 0, tzinfo=UTC), "2027-03-01"),  # after the UK spring clock change (2027-03-28)
        (datetime(2027, 11, 2, 3, 0, tzinfo=UTC), "2027-10-01"),  # after the autumn clock change (2027-10-31)
        # the same instants written in UK local time (BST / GMT): the schedule is UTC, nothing moves
        (datetime(2027, 4, 2, 4, 0, tzinfo=ZoneInfo("Europe/London")), "2027-03-01"),
        (datetime(2027, 11, 2, 3, 0, tzinfo=ZoneInfo("Europe/London")), "2027-10-01"),
        (datetime(2013, 3, 2, 3, 0, tzinfo=UTC), "2013-02-01"),
        (datetime(2014, 3, 2, 3, 0, tzinfo=UTC), "2014-02-01"),  # the month after the history's end: its last month
        *_live_ticks(),
    ],
)
def test_tick_requests_the_previous_month(defs: dg.Definitions, when: datetime, partition: str):
    requests = tick(defs.resolve_schedule_def("monthly_resegmentation_schedule"), when)
    assert [(r.partition_key, r.run_key) for r in requests] == [(partition, partition)]


def _gap_ticks() -> list[datetime]:
    """Every tick whose month before is in the gap: 2014-04-02 (targets 2014-03) .. 2026-10-02, the
    tick on go-live day (targets 2026-09, the month before METER_LIVE_FROM)."""
    out, year, month = [], 2014, 4
    while (year, month) <= (2026, 10):
        out.append(datetime(year, month, 2, 3, 0, tzinfo=UTC))
        year, month = year + (month == 12), month % 12 + 1
    return out


def test_ticks_between_history_end_and_go_live_request_nothing(defs: dg.Definitions):
    """Today's main requested 2014-02-01 (the last history partition) on every one of these ticks."""
    schedule = defs.resolve_schedule_def("monthly_resegmentation_schedule")
    ticks = _gap_ticks()
    assert ticks[0] == datetime(2014, 4, 2, 3, tzinfo=UTC) and ticks[-1] == datetime(2026, 10, 2, 3, tzinfo=UTC)
    assert len(ticks) == 151
    for when in ticks:
        result = schedule.evaluate_tick(context(when))
        assert not result.run_requests, when
        assert "is not a partition" in result.skip_message, when


def test_go_live_day_and_the_day_after(defs: dg.Definitions):
    schedule = defs.resolve_schedule_def("monthly_resegmentation_schedule")
    # go-live day itself (METER_LIVE_FROM=2026-10-01): the tick's month before is not live yet
    go_live = schedule.evaluate_tick(context(datetime(2026, 10, 2, 3, tzinfo=UTC)))
    assert not go_live.run_requests and "2026-09 is not a partition" in go_live.skip_message
    assert pipelines.schedules.target_month(datetime(2026, 10, 1, 0, 0, tzinfo=UTC))[0] is None
    # the first live month is re-segmented on the 2nd of the month after
    assert pipelines.schedules.target_month(datetime(2026, 11, 2, 3, tzinfo=UTC))[0] == date(2026, 10, 1)


def test_a_month_already_resegmented_is_not_run_again(defs: dg.Definitions, tmp_path):
    """A successful run of the month (a backfill, a manual run) makes the tick skip; a failed one does not."""
    schedule = defs.resolve_schedule_def("monthly_resegmentation_schedule")
    when = datetime(2026, 11, 2, 3, tzinfo=UTC)
    with dg.instance_for_test(temp_dir=str(tmp_path)) as instance:

        def evaluate():
            return schedule.evaluate_tick(context(when, instance))

        assert [r.partition_key for r in evaluate().run_requests] == ["2026-10-01"]
        for status in (dg.DagsterRunStatus.FAILURE, dg.DagsterRunStatus.SUCCESS):
            instance.add_run(
                DagsterRun(job_name="monthly_resegmentation", status=status, tags={"dagster/partition": "2026-10-01"})
            )
            result = evaluate()
            if status == dg.DagsterRunStatus.FAILURE:
                assert [r.partition_key for r in result.run_requests] == ["2026-10-01"]
            else:
                assert not result.run_requests and "already re-segmented" in result.skip_message


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
