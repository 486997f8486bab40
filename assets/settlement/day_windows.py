"""The monthly part of settlement: ``settlement.event_day_windows``, the kWh of every window settlement
needs on every day it reads, one month of local days at a time.

For partition month M the rows are the selected days (calendar.select_days: each event's own day, its
CAISO and DFS baseline days, the regression's fitting days) whose LOCAL date is in M, for real and
placebo events. Their windows reach past midnight (a 23:00 event, the snapback after a 24-hour event)
and before it (the adjustment window of a 05:00 event), so M reads the clean readings of partition months
M-1 .. M+1 (``Dagster``: the asset's dependency on clean_readings maps one month either side). A window is
stored only when every one of its half hours is an actual reading, so a row is final in the month that
writes it, and each month is replaced atomically (validated, then delete + insert in one transaction):
re-running a month gives the same rows, and a failure leaves the month as it was.

The schedule is an input: a changed tariff schedule changes the windows; re-materialize the months.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import polars as pl

from assets.common.months import add_months, months_in
from assets.common.sql import load_sql, qualified_name
from assets.common.table_model import create_table_if_missing, validate, validate_query
from assets.common.warehouse import transaction
from assets.features.duck import Connection, fetch, scratch, table_exists
from assets.features.schedule import load_schedule
from assets.features.settings import FeatureSettings
from assets.settlement.calendar import Calendar, build_calendar, day_table, window_map
from assets.settlement.schemas.tables import WINDOWS_TABLE, EventDayWindows
from assets.settlement.settings import FEATURE_SETTINGS, SettlementSettings


def statement(name: str, **tables: str) -> str:
    """``sql/<name>.sql`` with each ``{placeholder}`` replaced by a quoted table name."""
    return load_sql(__file__, name).format(**{key: qualified_name(value) for key, value in tables.items()})


@dataclass(frozen=True)
class WindowsResult:
    months: int
    rows: int
    households: int
    events: int
    placebo_events: int


def read_calendar(
    con, settings: SettlementSettings, fs: FeatureSettings = FEATURE_SETTINGS
) -> tuple[Calendar, pl.DataFrame]:
    """(the calendar of the stored tariff schedule, the local grid it was built on)."""
    schedule = load_schedule(con, fs) if table_exists(con, fs.tariff_table) else None
    if schedule is None or schedule.height == 0:
        schedule = pl.DataFrame(
            schema={
                "interval_start_utc": pl.Datetime("us"),
                "local_label_start": pl.Datetime("us"),
                "band": pl.String,
                "event_id": pl.Int32,
            }
        )
    grid, _ = day_table(schedule, fs, settings)
    return build_calendar(schedule, fs, settings), grid


def build_day_windows(
    con: duckdb.DuckDBPyConnection,
    start: date,
    end: date,
    settings: SettlementSettings | None = None,
    fs: FeatureSettings = FEATURE_SETTINGS,
    readings: Connection | None = None,
) -> WindowsResult:
    """Replace the rows of local-day months ``start <= M < end`` of ``settlement.event_day_windows`` in the
    warehouse ``con``. ``readings``: where the clean readings are read (the ``engine`` resource's
    ``half_hourly`` connection: the warehouse itself on DuckDB, the lake on Spark); default ``con``."""
    settings = settings or SettlementSettings()
    readings = con if readings is None else readings
    calendar, grid = read_calendar(con, settings, fs)
    create_table_if_missing(con, WINDOWS_TABLE, EventDayWindows)
    rows = 0
    for month in months_in(start, end):
        rows += _replace_month(con, readings, month, calendar, grid, settings, fs)
    households = fetch(
        con,
        f"SELECT count(DISTINCT household_id) AS n FROM {qualified_name(WINDOWS_TABLE)} "
        "WHERE day_month >= $lo AND day_month < $hi",
        {"lo": start, "hi": end},
    ).item()
    counts = calendar.events.group_by("schedule").len()
    n = dict(counts.iter_rows())
    return WindowsResult(
        len(months_in(start, end)),
        rows,
        int(households),
        int(n.get("tariff", 0)),
        int(n.get("placebo", 0)),
    )


def _replace_month(
    con,
    readings: Connection,
    month: date,
    calendar: Calendar,
    grid: pl.DataFrame,
    settings: SettlementSettings,
    fs: FeatureSettings,
) -> int:
    windows = window_map(calendar, grid, settings, month)
    expected = windows.group_by("schedule", "event_id", "local_date", "role").agg(n=pl.len().cast(pl.Int64))
    params = {"lo": add_months(month, -1), "hi": add_months(month, 2), "month": month}
    table = qualified_name(WINDOWS_TABLE)
    if readings is not con:  # the readings are elsewhere (the lake): the month's rows come back via Arrow
        with scratch(readings) as s:
            sql = statement(
                "day_windows",
                readings=fs.readings_table,
                windows=s.frame("settle_windows", windows),
                expected=s.frame("settle_expected", expected),
            )
            rows = validate(EventDayWindows, fetch(readings, sql, params), WINDOWS_TABLE)
        with transaction(con):
            con.execute(f"DELETE FROM {table} WHERE day_month = $month", {"month": month})
            con.register("_settle_rows", rows.to_arrow())
            try:
                con.execute(f"INSERT INTO {table} SELECT * FROM _settle_rows")
            finally:
                con.unregister("_settle_rows")
        return rows.height
    with transaction(con), scratch(con) as s:
        w = s.frame("settle_windows", windows)
        e = s.frame("settle_expected", expected)
        staged = s.query(
            "settle_day_windows", statement("day_windows", readings=fs.readings_table, windows=w, expected=e), params
        )
        n = validate_query(EventDayWindows, con, f"SELECT * FROM {qualified_name(staged)}", WINDOWS_TABLE)
        con.execute(f"DELETE FROM {table} WHERE day_month = $month", {"month": month})
        con.execute(f"INSERT INTO {table} SELECT * FROM {qualified_name(staged)}")
    return n
