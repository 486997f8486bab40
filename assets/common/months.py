"""Calendar-month arithmetic on first-of-month dates (the pipeline's partition keys are ``YYYY-MM-01``)
and which months are supported at all: the one home of both (no other module steps months or
computes the partition range), dependency-free so that the ingest logic, the Spark side, the tools
and ``assets.common.partitions`` share it without the logic importing Dagster.

Two month sequences, two end conventions, two names: ``months_between(first, last)`` includes
``last`` (a range of partition keys); ``months_in(start, end)`` excludes ``end`` (a half-open window)."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime


def _month_setting(variable: str, default: str) -> str:
    """A ``YYYY-MM-01`` month from the environment (deployment fact), else the LCL default."""
    value = os.environ.get(variable, default)
    try:
        month = date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{variable}={value!r} is not a month: expected YYYY-MM-01") from None
    if month.day != 1:
        raise ValueError(f"{variable}={value!r} is not the first day of a month: expected YYYY-MM-01")
    return value


# The history the deployment holds: LCL readings start in November 2011 and end in February 2014.
FIRST_MONTH = _month_setting("METER_HISTORY_FROM", "2011-11-01")
LAST_TRIAL_MONTH = _month_setting("METER_HISTORY_TO", "2014-02-01")
# The first month of scheduled live loads: from here on every complete month is a partition.
LIVE_FROM = _month_setting("METER_LIVE_FROM", "2026-10-01")
if not FIRST_MONTH <= LAST_TRIAL_MONTH < LIVE_FROM:
    raise ValueError(
        f"partition months out of order: METER_HISTORY_FROM={FIRST_MONTH} <= METER_HISTORY_TO={LAST_TRIAL_MONTH} "
        f"< METER_LIVE_FROM={LIVE_FROM} is required"
    )


def add_months(month: date, n: int) -> date:
    """The first day of the month ``n`` calendar months after the month of ``month`` (``n`` < 0: before)."""
    index = month.year * 12 + month.month - 1 + n
    return date(index // 12, index % 12 + 1, 1)


def next_month(month: date) -> date:
    """The first day of the month after ``month``."""
    return add_months(month, 1)


def months_between(first: date, last: date) -> list[date]:
    """Every first-of-month from ``first``'s month to ``last`` INCLUSIVE (both ends: a range of partition
    keys, as Dagster's partition ranges and the ``YYYY-MM-01`` CLI arguments give them)."""
    months, current = [], first.replace(day=1)
    while current <= last:
        months.append(current)
        current = next_month(current)
    return months


def months_in(start: date, end: date) -> list[date]:
    """Every first-of-month from ``start``'s month up to ``end`` EXCLUSIVE (a half-open window
    ``[start, end)``, as the stages' ``start <= reading_month < end`` windows are)."""
    months, current = [], start.replace(day=1)
    while current < end:
        months.append(current)
        current = next_month(current)
    return months


def current_month(today: date | None = None) -> date:
    """The (incomplete) month of ``today`` (UTC now by default): a partition once it is complete."""
    return (today or datetime.now(UTC).date()).replace(day=1)


def is_supported_month(month: date, today: date | None = None) -> bool:
    """Whether readings stamped in ``month`` belong there: a trial month, or a live month from
    ``LIVE_FROM`` up to the current one.

    The current month is not a partition yet, but it will be once complete (its readings wait in
    the raw files for that run, and the source-files sensor records it without requesting it).
    Every other month can never hold readings: before the trial, the gap after it (excluded from
    the partitions), or the future (a meter cannot read tomorrow). Readings stamped there are
    filed by ingest under their neighbours' month and quarantined by the clean stage
    (V11_OUT_OF_RANGE_TIMESTAMP), so none vanishes.
    """
    month = month.replace(day=1)
    trial = date.fromisoformat(FIRST_MONTH) <= month <= date.fromisoformat(LAST_TRIAL_MONTH)
    live = date.fromisoformat(LIVE_FROM) <= month <= current_month(today)
    return trial or live
