"""UK local time of the interval start: the half-hour grid of a window of local dates.

The grid is calendar data (17,568 rows for a year), built in polars from the IANA zone and
registered in DuckDB; half-hourly readings are joined to it on ``interval_start_utc``, so the
readings table is never converted row by row and never leaves DuckDB.

DST rule (documented choice): a local day has 46 (spring), 48 or 50 (autumn) half hours. A reading's
profile slot is the LOCAL CLOCK slot of its start (0 = 00:00-00:30 ... 47 = 23:30-24:00). On the
50-half-hour day both readings of the repeated hour fall in slots 2-3 and count as two observations of
those slots (profiles are means over readings, so no slot is ever doubled in kWh); on the
46-half-hour day slots 2-3 do not occur. Daily totals use whatever the local day has (46/48/50).
"""

from __future__ import annotations

from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import polars as pl

from assets.features.settings import FeatureSettings

WEEK_EPOCH = date(2000, 1, 3)  # a Monday: week_idx = whole local weeks (Mon-Sun) since then
UTC = ZoneInfo("UTC")

GRID_SCHEMA = {
    "interval_start_utc": pl.Datetime("us"),
    "local_start": pl.Datetime("us"),
    "local_date": pl.Date,
    "slot": pl.Int16,
    "day_half_hours": pl.Int16,
    "day_type": pl.String,
    "month": pl.Int8,
    "season": pl.String,
    "week_idx": pl.Int32,
}


def local_midnight_utc(day: date, tz: str) -> datetime:
    """Naive UTC instant of local midnight starting ``day`` (UK midnights are never ambiguous)."""
    return datetime.combine(day, time(0), tzinfo=ZoneInfo(tz)).astimezone(UTC).replace(tzinfo=None)


def window_utc_bounds(start: date, end: date, tz: str) -> tuple[datetime, datetime]:
    """[first interval start, end) in naive UTC of the local-date window [start, end)."""
    return local_midnight_utc(start, tz), local_midnight_utc(end, tz)


def utc_to_local(expr: pl.Expr, tz: str) -> pl.Expr:
    """Naive UTC -> naive local clock time."""
    return expr.dt.replace_time_zone("UTC").dt.convert_time_zone(tz).dt.replace_time_zone(None)


def week_index(expr: pl.Expr) -> pl.Expr:
    """Whole local weeks (Mon-Sun) since WEEK_EPOCH for a Date expression."""
    return ((expr - pl.lit(WEEK_EPOCH)).dt.total_days() // 7).cast(pl.Int32)


def local_grid(start: date, end: date, settings: FeatureSettings) -> pl.DataFrame:
    """Every UTC half hour of the local-date window with its local date, slot, day type and season.

    day_type is 'weekend' on Saturdays, Sundays and ``settings.bank_holidays``, else 'weekday'.
    season is 'winter' / 'summer' for ``settings.winter_months`` / ``summer_months``, else 'other'.
    """
    first, stop = window_utc_bounds(start, end, settings.timezone)
    if stop <= first:
        return pl.DataFrame(schema=GRID_SCHEMA)
    utc = pl.datetime_range(first, stop, "30m", closed="left", time_unit="us", eager=True)
    holidays = pl.Series(list(settings.bank_holidays), dtype=pl.Date)
    grid = (
        pl.DataFrame({"interval_start_utc": utc})
        .with_columns(local_start=utc_to_local(pl.col("interval_start_utc"), settings.timezone))
        .with_columns(local_date=pl.col("local_start").dt.date())
        .with_columns(
            slot=(pl.col("local_start").dt.hour() * 2 + pl.col("local_start").dt.minute() // 30).cast(pl.Int16),
            day_half_hours=pl.len().over("local_date").cast(pl.Int16),
            day_type=pl.when((pl.col("local_date").dt.weekday() >= 6) | pl.col("local_date").is_in(holidays.implode()))
            .then(pl.lit("weekend"))
            .otherwise(pl.lit("weekday")),
            month=pl.col("local_date").dt.month().cast(pl.Int8),
            week_idx=week_index(pl.col("local_date")),
        )
        .with_columns(
            season=pl.when(pl.col("month").is_in(list(settings.winter_months)))
            .then(pl.lit("winter"))
            .when(pl.col("month").is_in(list(settings.summer_months)))
            .then(pl.lit("summer"))
            .otherwise(pl.lit("other"))
        )
    )
    return grid.select(list(GRID_SCHEMA)).cast(GRID_SCHEMA)


def start_bucket_expr(local_start: pl.Expr, settings: FeatureSettings) -> pl.Expr:
    """Name of the event start-time bucket (settings.start_buckets; wrap-around allowed)."""
    hour = local_start.dt.hour().cast(pl.Float64) + local_start.dt.minute().cast(pl.Float64) / 60.0
    expr: pl.Expr = pl.lit(None, dtype=pl.String)
    for name, lo, hi in reversed(settings.start_buckets):
        inside = (hour >= lo) & (hour < hi) if lo < hi else (hour >= lo) | (hour < hi)
        expr = pl.when(inside).then(pl.lit(name)).otherwise(expr)
    return expr
