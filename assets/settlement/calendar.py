"""The settlement calendar: events, placebo events, each method's baseline days and the half hours of
every window settlement sums. Calendar data only (polars, no readings, no Dagster).

Times: readings are stamped in UTC at the END of their half hour; the tariff labels the START of a half
hour in UK local time. Both are handled by the features layer's helpers, reused here:
``features.schedule`` (the schedule on the UTC start grid, its events with their local start) and
``features.local_time.local_grid`` (every UTC half-hour start of a window of local dates with its local
clock time, day type and season). A window is a range of LOCAL clock times on a local day (the event's
local start + offsets), mapped to UTC half-hour starts through the grid: on the autumn clock change the
repeated hour holds two half hours per local time, on the spring one the missing hour holds none.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import polars as pl

from assets.common.months import next_month
from assets.features.local_time import local_grid
from assets.features.schedule import build_event_schedule
from assets.features.settings import FeatureSettings
from assets.settlement.settings import ROLES, SettlementSettings

EVENTS_SCHEMA = {
    "schedule": pl.String,
    "event_id": pl.Int32,
    "target_date": pl.Date,
    "start_local": pl.Datetime("us"),
    "event_start_utc": pl.Datetime("us"),
    "event_half_hours": pl.Int32,
    "day_type": pl.String,
    "weekday": pl.Int8,
    "season": pl.String,
}
DAYS_SCHEMA = {"schedule": pl.String, "event_id": pl.Int32, "local_date": pl.Date, "use": pl.String}
MAP_SCHEMA = {
    "schedule": pl.String,
    "event_id": pl.Int32,
    "local_date": pl.Date,
    "role": pl.String,
    "interval_start_utc": pl.Datetime("us"),
}
USES = ("target", "caiso", "dfs", "towt")  # the event's own day, and each method's baseline days


@dataclass(frozen=True)
class Calendar:
    """events: EVENTS_SCHEMA, real ('tariff') and placebo events; days: per local date its day type,
    weekday, season and whether it has a High/Low half hour; selection: DAYS_SCHEMA, which days each
    event reads for what."""

    events: pl.DataFrame
    days: pl.DataFrame
    selection: pl.DataFrame


def calendar_window(fs: FeatureSettings, settings: SettlementSettings) -> tuple[date, date]:
    """Local dates whose readings settlement may read: the trial window with the lookback before it and
    the regression's weeks (and a day for windows past midnight) after it."""
    return (
        fs.treatment_start - timedelta(days=settings.lookback_days + 7),
        fs.treatment_end + timedelta(days=7 * settings.towt_weeks + 2),
    )


def _season(fs: FeatureSettings) -> pl.Expr:
    month = pl.col("local_date").dt.month()
    expr: pl.Expr = pl.lit(None, dtype=pl.String)
    for name, months in fs.seasons:
        expr = pl.when(month.is_in(list(months))).then(pl.lit(name)).otherwise(expr)
    return expr


def day_table(
    schedule: pl.DataFrame, fs: FeatureSettings, settings: SettlementSettings
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(the local grid of the calendar window, one row per local date: day_type, weekday, season, has_event)."""
    grid = local_grid(*calendar_window(fs, settings), fs)
    labelled = grid.join(schedule.select("interval_start_utc", "band"), on="interval_start_utc", how="left")
    days = (
        labelled.group_by("local_date")
        .agg(
            day_type=pl.col("day_type").first(),
            has_event=pl.col("band").is_in(["High", "Low"]).any(),
        )
        .with_columns(weekday=pl.col("local_date").dt.weekday().cast(pl.Int8), season=_season(fs))
        .sort("local_date")
    )
    return grid, days


def real_events(
    schedule: pl.DataFrame, grid: pl.DataFrame, days: pl.DataFrame, fs: FeatureSettings, settings: SettlementSettings
) -> pl.DataFrame:
    """The schedule's events of ``settings.band`` that start inside the trial window."""
    trial = grid.filter((pl.col("local_date") >= fs.treatment_start) & (pl.col("local_date") < fs.treatment_end))
    events = build_event_schedule(schedule, trial, fs).events.filter(pl.col("band") == settings.band)
    frame = events.select(
        schedule=pl.lit("tariff"),
        event_id="event_id",
        target_date=pl.col("event_start_local").dt.date(),
        start_local="event_start_local",
        event_start_utc="event_start_utc",
        event_half_hours="event_half_hours",
    ).filter((pl.col("target_date") >= fs.treatment_start) & (pl.col("target_date") < fs.treatment_end))
    return _with_day(frame, days)


def _with_day(events: pl.DataFrame, days: pl.DataFrame) -> pl.DataFrame:
    out = events.join(
        days.select(pl.col("local_date").alias("target_date"), "day_type", "weekday", "season"),
        on="target_date",
        how="left",
    )
    return out.select(list(EVENTS_SCHEMA)).cast(EVENTS_SCHEMA).sort("schedule", "event_id")  # type: ignore[arg-type]


def placebo_events(
    events: pl.DataFrame, grid: pl.DataFrame, days: pl.DataFrame, fs: FeatureSettings, settings: SettlementSettings
) -> pl.DataFrame:
    """Each real event's local clock window laid on an event-free day of the same weekday (module
    docstring of settings.py); an event with no such day has no placebo. Same ``event_id``."""
    event_days = set(days.filter(pl.col("has_event"))["local_date"].to_list())
    earliest = settings.earliest_offset
    snap = int(settings.snapback_hours * 2)
    used: set[date] = set()
    rows = []
    for ev in events.sort("event_start_utc").iter_rows(named=True):
        clock = ev["start_local"] - ev["start_local"].replace(hour=0, minute=0, second=0, microsecond=0)
        # local days the windows touch: from the earliest adjustment window to the end of the snapback
        first = (clock - timedelta(minutes=30 * earliest)).days
        last = (clock + timedelta(minutes=30 * (ev["event_half_hours"] + snap))).days
        for weeks in settings.placebo_week_offsets:
            day = ev["target_date"] + timedelta(weeks=weeks)
            touched = {day + timedelta(days=k) for k in range(first, last + 1)}
            if not fs.treatment_start <= day < fs.treatment_end or day in used or touched & event_days:
                continue
            used.add(day)
            start = ev["start_local"] + timedelta(weeks=weeks)
            rows.append(
                {
                    "event_id": ev["event_id"],
                    "target_date": day,
                    "start_local": start,
                    "event_half_hours": ev["event_half_hours"],
                }
            )
            break
    if not rows:
        return pl.DataFrame(schema=EVENTS_SCHEMA)
    frame = pl.DataFrame(
        rows,
        schema={
            "event_id": pl.Int32,
            "target_date": pl.Date,
            "start_local": pl.Datetime("us"),
            "event_half_hours": pl.Int32,
        },
    )
    starts = (
        grid.select("local_start", "interval_start_utc").group_by("local_start").agg(pl.col("interval_start_utc").min())
    )
    frame = frame.join(
        starts.rename({"local_start": "start_local", "interval_start_utc": "event_start_utc"}),
        on="start_local",
        how="inner",
    )  # a start in the spring gap has no placebo
    return _with_day(frame.with_columns(schedule=pl.lit("placebo")), days)


def _most_recent(candidates: pl.DataFrame, n: int) -> pl.DataFrame:
    return candidates.sort("local_date", descending=True).group_by("schedule", "event_id", maintain_order=True).head(n)


def select_days(events: pl.DataFrame, days: pl.DataFrame, settings: SettlementSettings) -> pl.DataFrame:
    """Which days each event reads: its own day ('target'), each method's baseline days ('caiso', 'dfs')
    and the regression's fitting days ('towt'). Excluded everywhere: days with a High/Low half hour and,
    for placebo events, the placebo days."""
    placebo_days = events.filter(pl.col("schedule") == "placebo")["target_date"].implode()
    free = days.filter(~pl.col("has_event")).select("local_date", "day_type", "weekday")
    pairs = events.select("schedule", "event_id", "target_date", pl.col("day_type").alias("event_day_type")).join(
        free, how="cross"
    )
    pairs = pairs.filter(~((pl.col("schedule") == "placebo") & pl.col("local_date").is_in(placebo_days)))
    ago = (pl.col("target_date") - pl.col("local_date")).dt.total_days()
    similar = pairs.filter((pl.col("day_type") == pl.col("event_day_type")) & (ago > 0))
    weekend = pl.col("event_day_type") == "weekend"
    parts = [events.select("schedule", "event_id", local_date="target_date", use=pl.lit("target"))]
    for use, lookback, n, n_weekend in (
        ("caiso", settings.caiso_lookback_days, settings.caiso_days, settings.caiso_weekend_days),
        ("dfs", settings.dfs_lookback_days, settings.dfs_days, settings.dfs_weekend_days),
    ):
        recent = similar.filter(ago <= lookback)
        chosen = pl.concat([_most_recent(recent.filter(~weekend), n), _most_recent(recent.filter(weekend), n_weekend)])
        parts.append(chosen.select("schedule", "event_id", "local_date", use=pl.lit(use)))
    near = pairs.filter((ago.abs() <= 7 * settings.towt_weeks) & (ago != 0))
    parts.append(near.select("schedule", "event_id", "local_date", use=pl.lit("towt")))
    return pl.concat([p.cast(DAYS_SCHEMA) for p in parts]).sort("schedule", "event_id", "use", "local_date")  # type: ignore[arg-type]


def build_calendar(schedule: pl.DataFrame, fs: FeatureSettings, settings: SettlementSettings) -> Calendar:
    """Events (real and placebo), days and the day selection of the trial window."""
    grid, days = day_table(schedule, fs, settings)
    real = real_events(schedule, grid, days, fs, settings)
    placebo = placebo_events(real, grid, days, fs, settings)
    events = pl.concat([real, placebo])
    return Calendar(events, days, select_days(events, days, settings))


def window_map(
    calendar: Calendar, grid: pl.DataFrame, settings: SettlementSettings, month: date | None = None
) -> pl.DataFrame:
    """(schedule, event_id, local_date, role, interval_start_utc): every UTC half hour of every window
    settlement sums, of the selected days whose local date is in ``month`` (all when None). The
    regression's fitting days need the event window only; the target and baseline days every role."""
    sel = calendar.selection
    if month is not None:
        sel = sel.filter((pl.col("local_date") >= month) & (pl.col("local_date") < next_month(month)))
    sel = sel.group_by("schedule", "event_id", "local_date").agg(towt_only=(pl.col("use") == "towt").all())
    ev = calendar.events.select(
        "schedule",
        "event_id",
        "event_half_hours",
        clock=pl.col("start_local") - pl.col("start_local").dt.truncate("1d"),
    )
    rows = sel.join(ev, on=["schedule", "event_id"], how="inner")
    parts = []
    for role in ROLES:
        part = rows if role == "event" else rows.filter(~pl.col("towt_only"))
        if part.height == 0:
            continue
        (lo0, hi0), (lo1, hi1) = settings.role_offsets(0)[role], settings.role_offsets(1)[role]
        length = pl.col("event_half_hours").cast(pl.Int64)
        part = (
            part.with_columns(k=pl.int_ranges(lo0 + (lo1 - lo0) * length, hi0 + (hi1 - hi0) * length))
            .explode("k")
            .drop_nulls("k")
        )
        parts.append(
            part.select(
                "schedule",
                "event_id",
                "local_date",
                role=pl.lit(role),
                local_start=pl.col("local_date").cast(pl.Datetime("us"))
                + pl.col("clock")
                + pl.duration(minutes=30 * pl.col("k")),
            )
        )
    if not parts:
        return pl.DataFrame(schema=MAP_SCHEMA)
    stamps = pl.concat(parts)
    mapped = stamps.join(grid.select("local_start", "interval_start_utc"), on="local_start", how="inner")
    return (
        mapped.select(list(MAP_SCHEMA))
        .cast(MAP_SCHEMA)
        .sort("schedule", "event_id", "local_date", "role", "interval_start_utc")
    )  # type: ignore[arg-type]
