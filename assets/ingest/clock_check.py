"""Clock check: are the readings stamped in UTC, as the pipeline assumes, or in UK local clock time?

Every stage reads ``reading_end_utc`` as UTC (docs: README "Time zone and timestamp convention"). A
source exported in UK local time (BST, UTC+1, in summer) cannot be told apart on an ordinary day, but
it leaves one signature on the clock-change dates, in every household that has readings there:

* autumn (last Sunday of October): the local hour 01:00-02:00 happens twice, so the end stamps
  01:00 and 01:30 each carry two readings (clean quarantines them as conflicting duplicates, V09);
* spring (last Sunday of March): the local hour 01:00-02:00 never happens, so the end stamps 01:00
  and 01:30 carry none, while 00:30 and 02:00 do.

A UTC source has exactly one reading at each of 00:30, 01:00, 01:30 and 02:00 on those dates. A
household is *observed* on a clock-change date when it has a reading at 00:30 and at 02:00 (its
neighbours of the changing hour); an observed household shows the local-time signature, a UTC pattern,
or neither (``unclear``: a gap or a duplicate of another kind). The clock-change dates come from the
time-zone database (``Europe/London``), for every year the readings touch.

Plain functions over one query per clock-change date (``sql/clock_change_stamps.sql``) and polars;
``query(sql, params) -> rows`` runs it on either engine (a DuckDB cursor's, or the Spark runner's).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import polars as pl

from assets.common.sql import load_sql, qualified_name

LONDON = ZoneInfo("Europe/London")
Query = Callable[[str, dict], list[tuple]]

# the end stamps (minutes after midnight) looked at on a clock-change date: the changing hour's two
# (01:00, 01:30) and its neighbours (00:30, 02:00)
BEFORE, CHANGING, AFTER = 30, (60, 90), 120


@dataclass(frozen=True)
class ClockChange:
    day: date
    season: str  # 'spring' (the local hour 01:00-02:00 is skipped) or 'autumn' (it is repeated)


@dataclass(frozen=True)
class ClockCheck:
    """Per household and clock-change date: the readings at the four stamps and the verdict."""

    days: pl.DataFrame  # household_id, source_file, day, season, n_0030, n_0100, n_0130, n_0200, status

    def local_households(self) -> pl.DataFrame:
        """Households showing the local-time signature on at least one date (household_id, source_file)."""
        return (
            self.days.filter(pl.col("status") == "local_time")
            .select("household_id", "source_file")
            .unique("household_id")
            .sort("household_id")
        )

    def by_date(self) -> pl.DataFrame:
        """Per clock-change date: households observed, with the local-time signature, with UTC stamps."""
        return (
            self.days.filter(pl.col("status") != "not_observed")
            .group_by("day", "season")
            .agg(
                observed=pl.len(),
                local_time=(pl.col("status") == "local_time").sum(),
                utc=(pl.col("status") == "utc").sum(),
            )
            .sort("day")
        )


def clock_changes(first: date, last: date) -> list[ClockChange]:
    """The UK clock-change dates from ``first`` to ``last`` (inclusive), from the time-zone database."""
    out = []
    day = first
    while day <= last:
        before = datetime.combine(day, time(0, 0), tzinfo=LONDON).utcoffset()
        after = datetime.combine(day, time(12, 0), tzinfo=LONDON).utcoffset()
        if before != after:
            out.append(ClockChange(day, "spring" if after > before else "autumn"))
        day += timedelta(days=1)
    return out


def check_clock(query: Query, raw_table: str) -> ClockCheck:
    """Run the check over the raw readings ``raw_table`` (every clock-change date they touch)."""
    bounds = query(f"SELECT min(reading_month), max(reading_month) FROM {qualified_name(raw_table)}", {})
    frames = []
    if bounds and bounds[0][0] is not None:
        first, last = bounds[0]
        last = (last.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)  # month end
        sql = load_sql(__file__, "clock_change_stamps").format(raw=qualified_name(raw_table))
        for change in clock_changes(first, last):
            midnight = datetime.combine(change.day, time(0, 0))
            rows = query(
                sql,
                {
                    "month": change.day.replace(day=1),
                    "first": midnight + timedelta(minutes=BEFORE),
                    "last": midnight + timedelta(minutes=AFTER),
                },
            )
            frames.append(stamps_frame(rows, change))
    return classify(pl.concat(frames) if frames else stamps_frame([], None))


def stamps_frame(rows: list[tuple], change: ClockChange | None) -> pl.DataFrame:
    """The rows of ``clock_change_stamps.sql`` with the date, season and minute of each stamp."""
    frame = pl.DataFrame(
        rows,
        schema={"household_id": pl.String, "source_file": pl.String, "stamp": pl.Datetime("us"), "readings": pl.Int64},
        orient="row",
    )
    return frame.with_columns(
        day=pl.lit(change.day if change else None, dtype=pl.Date),
        season=pl.lit(change.season if change else None, dtype=pl.String),
        minute=(pl.col("stamp").dt.hour().cast(pl.Int32) * 60 + pl.col("stamp").dt.minute().cast(pl.Int32)),
    )


def classify(stamps: pl.DataFrame) -> ClockCheck:
    """Per household and date: the readings at 00:30, 01:00, 01:30, 02:00 and the status: ``local_time``
    (the signature), ``utc`` (one at each), ``unclear`` (observed, neither) or ``not_observed``."""
    counts = {
        name: pl.col("readings").filter(pl.col("minute") == minute).sum()
        for name, minute in (("n_0030", BEFORE), ("n_0100", CHANGING[0]), ("n_0130", CHANGING[1]), ("n_0200", AFTER))
    }
    days = stamps.group_by("household_id", "day", "season").agg(source_file=pl.col("source_file").min(), **counts)
    changing = [pl.col("n_0100"), pl.col("n_0130")]
    status = (
        pl.when((pl.col("n_0030") == 0) | (pl.col("n_0200") == 0))
        .then(pl.lit("not_observed"))
        .when((pl.col("season") == "autumn") & pl.all_horizontal([c == 2 for c in changing]))
        .then(pl.lit("local_time"))
        .when((pl.col("season") == "spring") & pl.all_horizontal([c == 0 for c in changing]))
        .then(pl.lit("local_time"))
        .when(pl.all_horizontal([c == 1 for c in changing]))
        .then(pl.lit("utc"))
        .otherwise(pl.lit("unclear"))
    )
    days = days.with_columns(status=status).select(
        "household_id", "source_file", "day", "season", "n_0030", "n_0100", "n_0130", "n_0200", "status"
    )
    return ClockCheck(days.sort("household_id", "day"))


def clock_sentence(check: ClockCheck, sample: int = 5) -> str | None:
    """One plain sentence when any household shows the local-time signature, else None."""
    local = check.local_households()
    if local.is_empty():
        return None
    by_date = check.by_date()
    verb = {"autumn": "repeat the autumn hour", "spring": "miss the spring hour"}
    parts = [
        f"{r['local_time']} of {r['observed']} households {verb[r['season']]} on {r['day']}"
        for r in by_date.iter_rows(named=True)
        if r["local_time"]
    ]
    every = by_date["local_time"].sum() == by_date["observed"].sum()
    named = ", ".join(local["household_id"].head(sample).to_list())
    more = f" and {local.height - sample} more" if local.height > sample else ""
    return (
        f"Readings look stamped in UK local time, not UTC{'' if every else ' (in some files)'}: "
        f"{' and '.join(parts)} (households {named}{more}); convert them to UTC before loading."
    )
