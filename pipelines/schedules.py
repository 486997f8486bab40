"""Schedules: the monthly re-segmentation.

On the 2nd of each month at 03:00 UTC the ``monthly_resegmentation`` job runs for the month before:
a tick on 2026-11-02 requests partition ``2026-10-01``. The day's slack leaves time for late meter
files of the month's last day.

The tick targets exactly the calendar month before it, never "the last partition":

* if that month is not a partition (the gap between ``METER_HISTORY_TO`` and ``METER_LIVE_FROM``,
  including the tick on go-live day, which targets the month before go-live), the tick is skipped
  and says why; it does NOT fall back to the last history month;
* if a ``monthly_resegmentation`` run of that month already succeeded (a backfill, a manual run,
  an earlier tick), the tick is skipped: a loaded month is never re-run unless an operator asks
  (``python -m pipelines.tooling.backfill run --job monthly_resegmentation --partition <month>``);
* the run key is the partition key, so Dagster never launches the same month twice from a tick.

The schedule is evaluated in UTC, so the UK clock changes move nothing.

Schedules and sensors start STOPPED (switch them on in the UI, Automation tab) unless the
environment sets ``METER_SCHEDULES_RUNNING=1`` when the code location loads.
"""

from __future__ import annotations

import os
from datetime import UTC, date, datetime

import dagster as dg

from pipelines.jobs import monthly_resegmentation

AUTOMATION_ENV = "METER_SCHEDULES_RUNNING"
PARTITION_TAG = "dagster/partition"


def automation_running() -> bool:
    """True if schedules and sensors should start RUNNING (``METER_SCHEDULES_RUNNING=1``)."""
    return os.environ.get(AUTOMATION_ENV, "").strip().lower() in ("1", "true", "yes")


def month_before(when: datetime) -> date:
    """The calendar month (first day) before the UTC month of ``when``."""
    utc = when.astimezone(UTC) if when.tzinfo else when
    return date(utc.year - (utc.month == 1), (utc.month - 2) % 12 + 1, 1)


def target_month(when: datetime) -> tuple[date | None, str]:
    """(the partition a tick at ``when`` requests, or None; why). Pure: no instance needed."""
    from assets.common.partitions import monthly_partitions

    month = month_before(when)
    keys = monthly_partitions.get_partition_keys(current_time=when.astimezone(UTC) if when.tzinfo else when)
    if month.isoformat() in keys:
        return month, f"re-segment as of {month}"
    from assets.common.months import LAST_TRIAL_MONTH, LIVE_FROM

    return None, (
        f"{month:%Y-%m} is not a partition (history ends {LAST_TRIAL_MONTH[:7]}, live months start "
        f"{LIVE_FROM[:7]}): nothing to re-segment this month"
    )


def already_succeeded(instance: dg.DagsterInstance, month: date) -> str | None:
    """The id of a successful ``monthly_resegmentation`` run of ``month``, if any."""
    runs = instance.get_runs(
        filters=dg.RunsFilter(
            job_name=monthly_resegmentation.name,
            statuses=[dg.DagsterRunStatus.SUCCESS],
            tags={PARTITION_TAG: month.isoformat()},
        ),
        limit=1,
    )
    return runs[0].run_id if runs else None


@dg.schedule(
    name="monthly_resegmentation_schedule",
    cron_schedule="0 3 2 * *",
    execution_timezone="UTC",
    job=monthly_resegmentation,
    description="2nd of each month, 03:00 UTC: re-segment with the month before (skipped when that month is "
    "not a partition or was already re-segmented).",
    default_status=(dg.DefaultScheduleStatus.RUNNING if automation_running() else dg.DefaultScheduleStatus.STOPPED),
)
def monthly_resegmentation_schedule(context: dg.ScheduleEvaluationContext):
    when = context.scheduled_execution_time or datetime.now(UTC)
    month, why = target_month(when)
    if month is None:
        return dg.SkipReason(why)
    done = already_succeeded(context.instance, month) if context.instance_ref is not None else None
    if done:
        return dg.SkipReason(
            f"{month:%Y-%m} was already re-segmented (run {done}); re-run it on purpose with "
            f"`python -m pipelines.tooling.backfill run --job monthly_resegmentation --partition {month}`"
        )
    return dg.RunRequest(run_key=month.isoformat(), partition_key=month.isoformat(), tags={"meter/trigger": "schedule"})


SCHEDULES = [monthly_resegmentation_schedule]
