"""Calendar-month arithmetic on first-of-month dates (the pipeline's partition keys are ``YYYY-MM-01``)."""

from __future__ import annotations

from datetime import date


def next_month(month: date) -> date:
    """The first day of the month after ``month``."""
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def months_between(first: date, last: date) -> list[date]:
    """Every first-of-month from ``first`` to ``last`` inclusive."""
    months, current = [], first.replace(day=1)
    while current <= last:
        months.append(current)
        current = next_month(current)
    return months
