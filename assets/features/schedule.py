"""Price events on the UTC half-hour grid: the events, their rebound/preload windows, event-free days.

Works on the real 2013 schedule and on the placebo schedule (the same labels shifted back a whole
number of weeks in LOCAL clock time, so that a 17:00 event stays a 17:00 event and a Tuesday stays a
Tuesday). The schedule is calendar data (17,520 rows a year) and is handled in polars.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import duckdb
import polars as pl

from assets.common.sql import qualified_name
from assets.features.duck import fetch
from assets.features.local_time import WEEK_EPOCH, start_bucket_expr, utc_to_local
from assets.features.settings import FeatureSettings

SCHEDULE_SCHEMA = {
    "interval_start_utc": pl.Datetime("us"),
    "local_label_start": pl.Datetime("us"),
    "band": pl.String,
    "event_id": pl.Int32,
}
EVENTS_SCHEMA = {
    "event_id": pl.Int32,
    "band": pl.String,
    "event_start_utc": pl.Datetime("us"),
    "event_end_utc": pl.Datetime("us"),
    "event_start_local": pl.Datetime("us"),
    "event_half_hours": pl.Int32,
    "start_bucket": pl.String,
    "block_id": pl.Int32,
}
MEMBERS_SCHEMA = {"interval_start_utc": pl.Datetime("us"), "event_id": pl.Int32, "kind": pl.String}


@dataclass(frozen=True)
class EventSchedule:
    """The events of one analysis window.

    grid: the window's local grid plus ``band`` (None where the schedule has no label),
        ``ref_eligible`` (the local day is fully labelled and has no High/Low half hour) and
        ``has_event`` (the local day has at least one High/Low half hour).
    events: one row per event (run of High or Low) with at least one half hour in the window.
    members: (interval_start_utc, event_id, kind) for kind 'event' (the event's half hours),
        'rebound' / 'preload' (Normal half hours up to rebound_hours after / preload_hours before a
        High event) - inside the window only. A half hour may belong to several windows.
    """

    grid: pl.DataFrame
    events: pl.DataFrame
    members: pl.DataFrame

    @property
    def has_events(self) -> bool:
        return self.events.height > 0


def load_schedule(con: duckdb.DuckDBPyConnection, settings: FeatureSettings) -> pl.DataFrame:
    """The tariff schedule (calendar-sized) as polars."""
    frame = fetch(
        con,
        "SELECT interval_start_utc, local_label_start, band, event_id "
        f"FROM {qualified_name(settings.tariff_table)} ORDER BY interval_start_utc",
    )
    return frame.cast(SCHEDULE_SCHEMA)  # type: ignore[arg-type]


def shift_schedule(schedule: pl.DataFrame, days: int, settings: FeatureSettings) -> pl.DataFrame:
    """The schedule moved ``days`` back in local clock time and re-localised to UTC (placebo).

    Labels that fall on a non-existent local time (spring gap) are dropped; labels on the repeated
    autumn hour take its first occurrence, so its second occurrence is unlabelled (and therefore
    neither an event nor a reference half hour).
    """
    shifted = schedule.with_columns(local_label_start=pl.col("local_label_start") - timedelta(days=days))
    shifted = shifted.with_columns(
        interval_start_utc=pl.col("local_label_start")
        .dt.replace_time_zone(settings.timezone, ambiguous="earliest", non_existent="null")
        .dt.convert_time_zone("UTC")
        .dt.replace_time_zone(None)
    )
    return (
        shifted.filter(pl.col("interval_start_utc").is_not_null())
        .unique("interval_start_utc", keep="first", maintain_order=True)
        .sort("interval_start_utc")
        .select(list(SCHEDULE_SCHEMA))
    )


def build_event_schedule(schedule: pl.DataFrame, grid: pl.DataFrame, settings: FeatureSettings) -> EventSchedule:
    """Events, their windows and the event-free days of the window described by ``grid``."""
    half_hour = timedelta(minutes=30)
    labelled = grid.join(schedule.select("interval_start_utc", "band"), on="interval_start_utc", how="left")
    eligible_days = labelled.group_by("local_date").agg(
        ref_eligible=(pl.col("band").is_not_null().all() & (pl.col("band") == "Normal").all()),
        has_event=pl.col("band").is_in(["High", "Low"]).any(),
    )
    n_adj = int(settings.reference_exclude_adjacent_days)
    if n_adj > 0:  # spillover guard: days next to an event day are no reference days either
        event_days = eligible_days.filter(pl.col("has_event")).select("local_date")
        near = pl.concat(
            [event_days.select(pl.col("local_date") + timedelta(days=d)) for d in range(-n_adj, n_adj + 1)]
        ).unique()
        eligible_days = eligible_days.with_columns(
            ref_eligible=pl.col("ref_eligible") & ~pl.col("local_date").is_in(near["local_date"].implode())
        )
    grid_out = labelled.join(eligible_days, on="local_date", how="left")

    in_events = schedule.filter(pl.col("band").is_in(["High", "Low"]) & pl.col("event_id").is_not_null())
    events = (
        in_events.group_by("event_id")
        .agg(
            band=pl.col("band").first(),
            event_start_utc=pl.col("interval_start_utc").min(),
            event_end_utc=pl.col("interval_start_utc").max() + half_hour,
            event_half_hours=pl.len().cast(pl.Int32),
        )
        .with_columns(event_start_local=utc_to_local(pl.col("event_start_utc"), settings.timezone))
        .with_columns(
            start_bucket=start_bucket_expr(pl.col("event_start_local"), settings),
            block_id=(
                (pl.col("event_start_local").dt.date() - pl.lit(WEEK_EPOCH)).dt.total_days()
                // settings.bootstrap_block_days
            ).cast(pl.Int32),
        )
    )
    window_slots = grid.select("interval_start_utc")
    event_members = in_events.select("interval_start_utc", "event_id").with_columns(kind=pl.lit("event"))

    normal = schedule.filter(pl.col("band") == "Normal").select("interval_start_utc")
    high = events.filter(pl.col("band") == "High")
    windows = []
    for kind, hours, anchor, sign in (
        ("rebound", settings.rebound_hours, "event_end_utc", 1),
        ("preload", settings.preload_hours, "event_start_utc", -1),
    ):
        n = int(hours * 2)
        if n == 0 or high.height == 0:
            continue
        offsets = pl.DataFrame({"k": list(range(n))}, schema={"k": pl.Int64})
        rows = high.select("event_id", anchor).join(offsets, how="cross")
        start = (
            pl.col(anchor) + pl.duration(minutes=30 * pl.col("k"))
            if sign > 0
            else pl.col(anchor) - pl.duration(minutes=30 * (pl.col("k") + 1))
        )
        windows.append(
            rows.select(interval_start_utc=start, event_id=pl.col("event_id"), kind=pl.lit(kind)).join(
                normal, on="interval_start_utc", how="semi"
            )
        )
    members = (
        pl.concat([event_members.cast(MEMBERS_SCHEMA), *[w.cast(MEMBERS_SCHEMA) for w in windows]])  # type: ignore[arg-type]
        .join(window_slots, on="interval_start_utc", how="semi")
        .sort("event_id", "kind", "interval_start_utc")
    )
    events = events.join(members.filter(pl.col("kind") == "event"), on="event_id", how="semi")
    return EventSchedule(
        grid=grid_out,
        events=events.select(list(EVENTS_SCHEMA)).cast(EVENTS_SCHEMA).sort("event_id"),  # type: ignore[arg-type]
        members=members.select(list(MEMBERS_SCHEMA)),
    )
