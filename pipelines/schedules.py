"""Schedules: the monthly re-segmentation.

On the 2nd of each month at 03:00 UTC the ``monthly_resegmentation`` job runs for the month before
(the last complete monthly partition): a tick on 2026-11-02 requests partition ``2026-10-01``. The
day's slack leaves time for late meter files of the month's last day. The run key is the partition
key, so a month is never scheduled twice.

Schedules and sensors start STOPPED (switch them on in the UI, Automation tab) unless the
environment sets ``METER_SCHEDULES_RUNNING=1`` when the code location loads.
"""

from __future__ import annotations

import os

import dagster as dg

from pipelines.jobs import monthly_resegmentation

AUTOMATION_ENV = "METER_SCHEDULES_RUNNING"


def automation_running() -> bool:
    """True if schedules and sensors should start RUNNING (``METER_SCHEDULES_RUNNING=1``)."""
    return os.environ.get(AUTOMATION_ENV, "").strip().lower() in ("1", "true", "yes")


monthly_resegmentation_schedule = dg.build_schedule_from_partitioned_job(
    monthly_resegmentation,
    name="monthly_resegmentation_schedule",
    description="2nd of each month, 03:00 UTC: re-segment with the month before.",
    day_of_month=2,
    hour_of_day=3,
    minute_of_hour=0,
    default_status=(dg.DefaultScheduleStatus.RUNNING if automation_running() else dg.DefaultScheduleStatus.STOPPED),
)

SCHEDULES = [monthly_resegmentation_schedule]
