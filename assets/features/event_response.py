"""Event-level difference in differences: one row per (household, event, window kind, method).

For household i, event e (its half hours, or the Normal half hours of its 3-h rebound / preload
window) and reference method M ('within' or 'baseline', see reference_days.py):

    own_change_i(e)     = mean over i's actual half hours t in e with a reference of (y_it - ref_it)
    control_change_i(e) = mean of own_change_j(e) over i's matched controls j with data for e
                          (fallback, and control_matching='all': the mean over all controls, leave-one-out
                          when i is itself a control)
    did_i(e)            = own_change_i(e) - control_change_i(e)            [kWh per half hour]

Controls are scored exactly like treated households (their ``did`` is the placebo distribution).
Everything up to the (household, event) level runs in DuckDB; only that level comes back to polars
(households x ~230 event windows x 2 methods rows at LCL scale).
"""

from __future__ import annotations

from datetime import date

import duckdb
import polars as pl

from assets.features.duck import fetch, scratch
from assets.features.local_time import window_utc_bounds
from assets.features.reference_days import baseline_year_reference, within_window_reference
from assets.features.schedule import EventSchedule
from assets.features.settings import FeatureSettings

METHODS = ("within", "baseline")
EVENT_RESPONSE_SCHEMA = {
    "household_id": pl.String,
    "event_id": pl.Int32,
    "band": pl.String,
    "kind": pl.String,
    "method": pl.String,
    "start_bucket": pl.String,
    "block_id": pl.Int32,
    "n_half_hours": pl.Int32,
    "kwh": pl.Float64,
    "ref_kwh": pl.Float64,
    "own_change_kwh": pl.Float64,
    "control_change_kwh": pl.Float64,
    "n_controls": pl.Int32,
    "did_kwh": pl.Float64,
}


def empty_event_responses() -> pl.DataFrame:
    return pl.DataFrame(schema=EVENT_RESPONSE_SCHEMA)


def compute_event_responses(
    con: duckdb.DuckDBPyConnection,
    settings: FeatureSettings,
    schedule: EventSchedule,
    window: tuple[date, date],
    households: pl.DataFrame,
    pairs: pl.DataFrame,
    methods: tuple[str, ...] = METHODS,
) -> pl.DataFrame:
    """Event-level DiD rows for every household of ``households`` (household_id, tariff_group).

    ``schedule`` must be built on the grid of ``window``; ``pairs`` is the output of match_controls.
    """
    unknown = set(methods) - set(METHODS)
    if unknown:
        raise ValueError(f"unknown methods {unknown}")
    if not schedule.has_events or schedule.members.height == 0 or not methods:
        return empty_event_responses()
    lo, hi = window_utc_bounds(*window, settings.timezone)
    hh = households.select("household_id", is_control=(pl.col("tariff_group") == settings.control_group)).unique(
        "household_id"
    )
    with scratch(con) as s:
        g = s.frame(
            "grid",
            schedule.grid.select(
                "interval_start_utc", "local_date", "slot", "day_type", "month", "week_idx", "ref_eligible"
            ),
        )
        m = s.frame("members", schedule.members)
        h = s.frame("households", hh)
        p = s.frame("pairs", pairs.select("household_id", "control_id"))
        ev = s.query(
            "event_rows",
            f"""
            SELECT r.household_id, m.event_id, m.kind, r.kwh, g.slot, g.day_type, g.week_idx, g.month
            FROM {settings.readings_table} r
            JOIN {m} m ON r.interval_start_utc = m.interval_start_utc
            JOIN {g} g ON r.interval_start_utc = g.interval_start_utc
            WHERE r.quality_code = 'A' AND r.interval_start_utc >= ? AND r.interval_start_utc < ?
              AND r.household_id IN (SELECT household_id FROM {h})
            """,
            [lo, hi],
        )
        parts = []
        if "within" in methods:
            ref = within_window_reference(s, settings, g, ev, window)
            parts.append(
                f"SELECT e.household_id, e.event_id, e.kind, 'within' AS method, count(*) AS n, "
                f"avg(e.kwh) AS kwh, avg(x.ref_kwh) AS ref_kwh FROM {ev} e JOIN {ref} x "
                "USING (household_id, slot, day_type, week_idx) GROUP BY ALL"
            )
        if "baseline" in methods:
            ref = baseline_year_reference(s, settings, ev)
            parts.append(
                f"SELECT e.household_id, e.event_id, e.kind, 'baseline' AS method, count(*) AS n, "
                f"avg(e.kwh) AS kwh, avg(x.ref_kwh) AS ref_kwh FROM {ev} e JOIN {ref} x "
                "USING (household_id, slot, day_type, month) GROUP BY ALL"
            )
        own = s.query("own", " UNION ALL ".join(parts))
        frame = fetch(
            con,
            f"""
            WITH o AS (
                SELECT o.*, o.kwh - o.ref_kwh AS own_change, h.is_control
                FROM {own} o JOIN {h} h USING (household_id)
            ),
            ctrl AS (
                SELECT event_id, kind, method, sum(own_change) AS s, count(*) AS n
                FROM o WHERE is_control GROUP BY ALL
            ),
            knn AS (
                SELECT p.household_id, c.event_id, c.kind, c.method,
                       avg(c.own_change) AS change, count(*) AS n
                FROM {p} p JOIN o c ON c.household_id = p.control_id AND c.is_control
                GROUP BY ALL
            )
            SELECT o.household_id, o.event_id, o.kind, o.method, o.n AS n_half_hours, o.kwh, o.ref_kwh,
                   o.own_change AS own_change_kwh,
                   coalesce(knn.change,
                            CASE WHEN o.is_control THEN (ctrl.s - o.own_change) / nullif(ctrl.n - 1, 0)
                                 ELSE ctrl.s / nullif(ctrl.n, 0) END) AS control_change_kwh,
                   coalesce(knn.n, CASE WHEN o.is_control THEN ctrl.n - 1 ELSE ctrl.n END, 0) AS n_controls
            FROM o
            LEFT JOIN ctrl USING (event_id, kind, method)
            LEFT JOIN knn USING (household_id, event_id, kind, method)
            """,
        )
    frame = frame.with_columns(did_kwh=pl.col("own_change_kwh") - pl.col("control_change_kwh")).with_columns(
        n_controls=pl.when(pl.col("control_change_kwh").is_null()).then(0).otherwise(pl.col("n_controls"))
    )
    frame = frame.join(
        schedule.events.select("event_id", "band", "start_bucket", "block_id"), on="event_id", how="inner"
    )
    return (
        frame.select(list(EVENT_RESPONSE_SCHEMA))
        .cast(EVENT_RESPONSE_SCHEMA)  # type: ignore[arg-type]
        .sort("household_id", "method", "kind", "event_id")
    )
