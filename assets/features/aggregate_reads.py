"""The read side of the per-household-month aggregates: whether they can answer a feature read
(``aggregates_usable``, stale schedule months), the regrouped sums the feature layer reads (slot sums,
day sums, event and reference aggregates), and which table answered each read (``recorded_reads``).
The build side (what is stored, month by month) is ``aggregates``."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date

import duckdb
import polars as pl

from assets.common.sql import qualified_name
from assets.features import aggregates
from assets.features.aggregates import (
    AGGREGATE_SETTINGS,
    BLOCK_COLUMNS,
    COVERAGE_TABLE,
    REFERENCE_CLASSES,
    SCHEDULE_SOURCES,
    USABLE_TABLES,
    ScheduleInputs,
    columns_match,
    schedule_inputs,
)
from assets.features.duck import Connection, fetch, on_spark, scratch, statement, table_exists
from assets.features.local_time import WEEK_EPOCH
from assets.features.schedule import EventSchedule
from assets.features.schemas.aggregates import (
    BLOCK_HOURS,
    DAYS_TABLE,
    EVENTS_TABLE,
    INPUTS_TABLE,
    REFERENCE_TABLE,
    SLOTS_TABLE,
    STORED_TABLES,
)
from assets.features.settings import FeatureSettings

LOG = logging.getLogger(__name__)


@dataclass(frozen=True)
class SourceRead:
    """Which table answered one read of the feature layer: an aggregate table, or the readings (the
    fallback whenever the aggregates do not answer exactly)."""

    engine: str  # 'duckdb' or 'spark'
    reader: str  # what was read, with its window or schedule
    table: str  # schema.table that answered


_READS: ContextVar[list[SourceRead] | None] = ContextVar("feature_source_reads", default=None)


@contextmanager
def recorded_reads() -> Iterator[list[SourceRead]]:
    """Collect, while open, which table answered each read that the aggregates could answer (the
    features asset reports them as ``read_sources``; the engine tests assert them)."""
    reads: list[SourceRead] = []
    token = _READS.set(reads)
    try:
        yield reads
    finally:
        _READS.reset(token)


def answered(con: Connection, reader: str, table: str) -> None:
    """Note that ``table`` answered ``reader`` (a no-op unless :func:`recorded_reads` is open)."""
    reads = _READS.get()
    if reads is not None:
        reads.append(SourceRead("spark" if on_spark(con) else "duckdb", reader, table))


def read_sources(reads: list[SourceRead], engine: str | None = None) -> dict[str, list[str]]:
    """reader -> the tables that answered it (sorted), of ``engine`` (every engine if None)."""
    out: dict[str, set[str]] = {}
    for read in reads:
        if engine is None or read.engine == engine:
            out.setdefault(read.reader, set()).add(read.table)
    return {reader: sorted(tables) for reader, tables in sorted(out.items())}


def aggregates_usable(con: Connection, settings: FeatureSettings) -> bool:
    """True when the aggregates answer for ``settings``: built with the same local labels, from the
    same readings table, under the current definition (:data:`DEFINITION`: the tables' columns and every
    month's stored definition), and matching the clean readings month by month (actual and estimated
    counts of ``clean.household_month_coverage``, written with the readings), every month complete: it
    has its row in ``features.aggregate_month_inputs`` (written last on Spark, where a month's tables are
    not replaced in one transaction; on DuckDB it is written in the month's transaction)."""
    same_labels = (
        settings.readings_table == AGGREGATE_SETTINGS.readings_table
        and settings.tariff_table == AGGREGATE_SETTINGS.tariff_table
        and settings.timezone == AGGREGATE_SETTINGS.timezone
        and tuple(settings.bank_holidays) == tuple(AGGREGATE_SETTINGS.bank_holidays)
    )
    if not same_labels or not all(table_exists(con, t) for t in (*USABLE_TABLES, COVERAGE_TABLE)):
        return False
    # Built under another definition (a warehouse from before the definition was stored, or a changed one):
    # not used, whatever the counts say.
    if not all(columns_match(con, table, model) for table, model in STORED_TABLES if table in USABLE_TABLES):
        return False
    inputs = qualified_name(INPUTS_TABLE)
    mismatched = fetch(
        con,
        f"""
        WITH c AS (SELECT reading_month, sum(actual_half_hours) AS a, sum(actual_half_hours + estimated_half_hours) AS r
                   FROM {qualified_name(COVERAGE_TABLE)} GROUP BY reading_month),
             d AS (SELECT reading_month, sum(n_actual) AS a, sum(n_readings) AS r
                   FROM {qualified_name(DAYS_TABLE)} GROUP BY reading_month),
             s AS (SELECT reading_month, sum(n) AS a FROM {qualified_name(SLOTS_TABLE)} GROUP BY reading_month),
             i AS (SELECT DISTINCT reading_month AS m FROM {inputs} WHERE definition = $definition)
        SELECT count(*) FROM c FULL JOIN d USING (reading_month) FULL JOIN s USING (reading_month)
        LEFT JOIN i ON c.reading_month = i.m
        WHERE c.a IS DISTINCT FROM d.a OR c.r IS DISTINCT FROM d.r OR coalesce(c.a, 0) IS DISTINCT FROM coalesce(s.a, 0)
           OR (c.reading_month IS NOT NULL AND i.m IS NULL)
        """,
        {"definition": aggregates.DEFINITION},  # read at call time: one home (aggregates)
    ).item()
    return mismatched == 0


def whole_local_months(start: date, end: date) -> bool:
    return start.day == 1 and end.day == 1


def slot_sums(con: duckdb.DuckDBPyConnection, settings: FeatureSettings, start: date, end: date) -> pl.DataFrame:
    """(household_id, slot, day_type, season, kwh, n) of actual readings in local months [start, end)."""
    frame = fetch(
        con,
        f"SELECT household_id, slot, day_type, local_month, sum(kwh) AS kwh, CAST(sum(n) AS BIGINT) AS n "
        f"FROM {qualified_name(SLOTS_TABLE)} WHERE local_month >= $lo AND local_month < $hi "
        "GROUP BY household_id, slot, day_type, local_month",
        {"lo": start, "hi": end},
    )
    return _by_season(frame, settings)


def _by_season(frame: pl.DataFrame, settings: FeatureSettings) -> pl.DataFrame:
    """(household_id, slot, day_type, local_month, kwh, n) regrouped by the season of the local month."""
    month = pl.col("local_month").dt.month()
    season = (
        pl.when(month.is_in(list(settings.winter_months)))
        .then(pl.lit("winter"))
        .when(month.is_in(list(settings.summer_months)))
        .then(pl.lit("summer"))
        .otherwise(pl.lit("other"))
    )
    return (
        frame.with_columns(season=season)
        .group_by("household_id", "slot", "day_type", "season")
        .agg(pl.col("kwh").sum(), pl.col("n").sum())
        .with_columns(pl.col("slot").cast(pl.Int16), pl.col("n").cast(pl.Int64))
    )


def day_sums(con: duckdb.DuckDBPyConnection, settings: FeatureSettings, grid: pl.DataFrame) -> pl.DataFrame | None:
    """(household_id, local_date, day_half_hours, n, total, max_kwh, min_kwh, b0..) of the local days of ``grid``
    with an actual reading; None when the aggregates' 4-hour blocks do not serve ``settings``."""
    if settings.entropy_block_hours != BLOCK_HOURS:
        return None
    days = grid.group_by("local_date").agg(day_half_hours=pl.col("day_half_hours").first())
    with scratch(con) as s:
        d = s.frame("agg_days", days)
        blocks = ", ".join(f"sum(a.{c}) AS b{b}" for b, c in enumerate(BLOCK_COLUMNS))
        frame = fetch(
            con,
            f"SELECT a.household_id, a.local_date, any_value(d.day_half_hours) AS day_half_hours, "
            f"CAST(sum(a.n_actual) AS BIGINT) AS n, sum(a.kwh) AS total, max(a.max_kwh) AS max_kwh, "
            f"min(a.min_kwh) AS min_kwh, {blocks} "
            f"FROM {qualified_name(DAYS_TABLE)} a JOIN {qualified_name(d)} d ON a.local_date = d.local_date "
            "GROUP BY a.household_id, a.local_date HAVING sum(a.n_actual) > 0",
        )
    return frame.with_columns(pl.col("n").cast(pl.Int64), pl.col("day_half_hours").cast(pl.Int16))


def households_with_readings(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Every household with at least one clean reading (any quality), sorted."""
    return fetch(con, f"SELECT DISTINCT household_id FROM {qualified_name(DAYS_TABLE)} ORDER BY household_id")


def actual_counts(con: duckdb.DuckDBPyConnection, start: date, end: date) -> pl.DataFrame:
    """(household_id, actual_half_hours) of actual readings on local days [start, end)."""
    return fetch(
        con,
        f"SELECT household_id, CAST(sum(n_actual) AS BIGINT) AS actual_half_hours FROM {qualified_name(DAYS_TABLE)} "
        "WHERE local_date >= $lo AND local_date < $hi GROUP BY household_id HAVING sum(n_actual) > 0",
        {"lo": start, "hi": end},
    )


# --- the schedule-dependent aggregates: event half hours and event-free-day slot sums ------------


def schedule_aggregates_stored(con: Connection) -> bool:
    """True when the schedule aggregates and their input fingerprints exist in the warehouse."""
    return all(table_exists(con, t) for t in (INPUTS_TABLE, EVENTS_TABLE, REFERENCE_TABLE))


def stale_schedule_months(con: duckdb.DuckDBPyConnection, inputs: ScheduleInputs | None = None) -> list[date]:
    """Months with clean readings whose schedule-dependent aggregates are missing or were built from other
    inputs than the current tariff schedule gives (a changed schedule, or a month aggregated before the
    schedule was loaded): re-materialize these partitions of ``household_month_aggregates``."""
    inputs = schedule_inputs(con) if inputs is None else inputs
    stored = fetch(
        con,
        f"SELECT c.reading_month, i.inputs_fingerprint FROM (SELECT DISTINCT reading_month FROM "
        f"{qualified_name(COVERAGE_TABLE)}) c LEFT JOIN {qualified_name(INPUTS_TABLE)} i ON c.reading_month = "
        "i.reading_month ORDER BY c.reading_month",
    )
    return [
        month
        for month, fingerprint in stored.iter_rows()
        if fingerprint is None or inputs.fingerprint(month) != fingerprint
    ]


def verified_schedule_inputs(con: duckdb.DuckDBPyConnection, settings: FeatureSettings) -> ScheduleInputs | None:
    """The schedule-derived inputs, when the aggregates answer for ``settings`` (:func:`aggregates_usable`)
    and every month with clean readings was built from the same inputs as the current tariff schedule
    gives (fingerprints in ``features.aggregate_month_inputs``). None otherwise: a changed schedule, or a
    month aggregated before it changed, sends the readers back to the readings until the months of
    :func:`stale_schedule_months` are rebuilt."""
    if not schedule_aggregates_stored(con) or not aggregates_usable(con, settings):
        return None
    inputs = schedule_inputs(con)
    stale = stale_schedule_months(con, inputs)
    if stale:
        LOG.warning(
            "schedule aggregates of %d month(s) (%s .. %s) do not match the tariff schedule: the event DiD reads "
            "the readings; re-materialize household_month_aggregates for those months",
            len(stale),
            stale[0],
            stale[-1],
        )
        return None
    return inputs


def _dates_in(days: pl.DataFrame, start: date, end: date) -> pl.Series:
    return days.filter((pl.col("local_date") >= start) & (pl.col("local_date") < end))["local_date"].unique().sort()


@dataclass(frozen=True)
class EventAggregates:
    """How the event-level DiD of one schedule reads the aggregates: which schedule's rows, and whether the
    event-free days next to an event day count as reference days (the main run) or not (the sensitivity)."""

    source: str
    include_near: bool


def event_aggregates(
    con: duckdb.DuckDBPyConnection,
    settings: FeatureSettings,
    schedule: EventSchedule,
    window: tuple[date, date],
    source: str,
) -> EventAggregates | None:
    """The aggregates that answer the event rows and the within-window reference of ``schedule`` over
    ``window`` exactly, or None (then both come from the readings): the window is whole local months,
    every member half hour was selected, and the window's reference days are exactly one of the stored
    day sets of ``source`` (every event-free labelled day, or those not next to an event day)."""
    if source not in SCHEDULE_SOURCES or not whole_local_months(*window):
        return None
    inputs = verified_schedule_inputs(con, settings)
    if inputs is None:
        return None
    if schedule.members.join(inputs.selection, on="interval_start_utc", how="anti").height:
        return None
    eligible = schedule.grid.filter(pl.col("ref_eligible"))["local_date"].unique().sort()
    days = inputs.days.filter(pl.col("schedule") == source)
    for include_near in (True, False):
        classes = REFERENCE_CLASSES if include_near else REFERENCE_CLASSES[:1]
        if _dates_in(days.filter(pl.col("day_class").is_in(classes)), *window).equals(eligible):
            return EventAggregates(source, include_near)
    return None


def event_reference_base(s, use: EventAggregates, window: tuple[date, date], event_rows: str) -> str:
    """TEMP table (household_id, slot, day_type, week_idx, s, n) of ``use``'s reference days in ``window``
    for the households of ``event_rows``: ``ref_within_base.sql`` regrouped from the weekly sums."""
    return s.query(
        "ref_within_base",
        statement("ref_within_base_agg", slots=REFERENCE_TABLE, events=event_rows),
        {
            "lo": window[0],
            "hi": window[1],
            "schedule": use.source,
            "include_near": use.include_near,
            "epoch": WEEK_EPOCH,
        },
    )


def normal_day_slot_sums(
    con: duckdb.DuckDBPyConnection, settings: FeatureSettings, grid: pl.DataFrame, start: date, end: date
) -> pl.DataFrame | None:
    """(household_id, slot, day_type, season, kwh, n) of actual readings on the local days of ``grid``
    (the trial window's days without a High/Low half hour), or None when the tariff schedule's stored
    event-free days of the whole local months [start, end) are not exactly those days."""
    if not whole_local_months(start, end):
        return None
    inputs = verified_schedule_inputs(con, settings)
    if inputs is None:
        return None
    stored = _dates_in(inputs.days.filter(pl.col("schedule") == "tariff"), start, end)
    if not stored.equals(grid["local_date"].unique().sort()):
        return None
    frame = fetch(
        con,
        statement("normal_day_slots_agg", slots=REFERENCE_TABLE),
        {"lo": start, "hi": end, "schedule": "tariff"},
    )
    return _by_season(frame, settings)
