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

from assets.features import aggregate_reads, aggregates
from assets.features.duck import fetch, scratch, statement
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
    source: str = "tariff",
) -> pl.DataFrame:
    """Event-level DiD rows for every household of ``households`` (household_id, tariff_group).

    ``schedule`` must be built on the grid of ``window``; ``pairs`` is the output of match_controls.
    ``source`` names the schedule it was built from ('tariff', or 'placebo' for the tariff shifted
    placebo_shift_days back): the event half hours and the within-window reference then come from the
    per-household-month aggregates of that schedule where they answer exactly
    (:func:`aggregate_reads.event_aggregates`), else from the readings.
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
        use = aggregate_reads.event_aggregates(con, settings, schedule, window, source)
        label = f"({source} schedule {window[0]}..{window[1]})"
        aggregate_reads.answered(
            con, f"event half hours {label}", aggregates.EVENTS_TABLE if use else settings.readings_table
        )
        if "within" in methods:
            aggregate_reads.answered(
                con, f"within-window reference {label}", aggregates.REFERENCE_TABLE if use else settings.readings_table
            )
        rows_sql = (
            statement("event_rows_agg", readings=aggregates.EVENTS_TABLE, members=m, grid=g, households=h)
            if use
            else statement("event_rows", readings=settings.readings_table, members=m, grid=g, households=h)
        )
        ev = s.query("event_rows", rows_sql, {"lo": lo, "hi": hi})
        parts = []
        if "within" in methods:
            ref = within_window_reference(s, settings, g, ev, window, use)
            parts.append(statement("event_own_within", events=ev, reference=ref))
        if "baseline" in methods:
            ref = baseline_year_reference(s, settings, ev)
            parts.append(statement("event_own_baseline", events=ev, reference=ref))
        own = s.query("own", "\nUNION ALL\n".join(parts))
        frame = fetch(con, statement("event_did", own=own, households=h, pairs=p))
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
