"""Per-household-month aggregates of the clean readings, and the feature layer's reads of them.

The half-hourly readings are aggregated once per month (the ``household_month_aggregates`` asset,
monthly partitions like ``clean_readings``) into four compact tables:

- ``features.household_month_slots``: (partition month, household, local month, day type, local slot)
  -> kWh sum and count of actual readings. A baseline window of whole local months needs nothing
  finer: the lifestyle profile sums (slot x day type x season) and the baseline-year reference of the
  DiD (slot x day type x calendar month) are regroupings of these sums.
- ``features.household_days``: (partition month, household, local day) -> readings, actual readings,
  kWh sum, largest and smallest reading and 4-hour block sums. Daily totals, variability, load factor,
  the daily shape types of ``shape_entropy``, meter health, coverage counts and the universe of
  households are regroupings of these rows (any set of local days: the trial year's event-free days too).
- ``features.household_event_readings``: the actual readings at the *selected* half hours: every half
  hour of an event, rebound or preload window of the tariff schedule and of its placebo shift
  (``placebo_shift_days`` back). The DiD's event half hours (trial, placebo, sensitivity) are a join of
  these rows to the events (18.6 % of the readings on the LCL schedule, which prices 115 of 365 days).
- ``features.household_reference_slots``: (partition month, household, schedule, local week by its
  Monday, local month, day class, day type, slot) -> kWh sum and count of actual readings on each
  schedule's event-free days, classed 'reference' (fully labelled, no High/Low half hour, no event day
  within ``sensitivity_adjacent_days``), 'reference_near' (the same, next to an event day) or
  'unlabelled'. The within-window reference (its per household x slot x day type x week sums, additive
  across months because weeks are keyed by their start date) of the main run ('reference' and
  'reference_near'), of the adjacent-day sensitivity ('reference') and of the placebo, and the trial
  year's event-free-day profile (every class, by season of the local month) regroup these rows.

Each month is replaced in one transaction (delete + insert of its rows after validation), so a new
month rewrites only that month's aggregates. The local labels (day type with the bank holidays,
4-hour blocks) and the event windows are those of the :class:`FeatureSettings` defaults; a run with
other local-time settings, a window that is not whole local months where month sums are needed, or
aggregates that do not match the clean readings (checked per month against
``clean.household_month_coverage``, which clean writes in the same transaction as the readings) falls
back to the readings themselves, so the aggregates can make features faster but never different
(tests/features/test_feat_aggregates.py, tests/real_data/test_real_feature_aggregates.py).

The event schedule is an input of the last two tables. With each month the build stores the SHA-256
of the month's schedule-derived inputs (its selected half hours and classified days) in
``features.aggregate_month_inputs``; a reader recomputes them from the current ``tariff_schedule`` and
uses the schedule aggregates only if every month with clean readings matches
(:func:`verified_schedule_inputs`), and only if its own event half hours are all selected and its
reference days are exactly one stored day set (:func:`event_aggregates`, :func:`normal_day_slot_sums`).
A changed schedule therefore sends the DiD back to the readings until the months
:func:`stale_schedule_months` lists are re-materialized; stale aggregates are never used.

Kept on the readings, restricted to its window and slots: the base-load quantile of both lifestyle
windows (an exact quantile needs the single values, which no sum can give).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

import duckdb
import polars as pl

from assets.common.months import months_in, next_month
from assets.common.sql import load_sql, qualified_name
from assets.common.table_model import column_names, create_table_if_missing, validate_query
from assets.common.warehouse import transaction
from assets.features.duck import Connection, fetch, on_spark, scratch, statement, table_exists
from assets.features.local_time import WEEK_EPOCH, local_grid, utc_to_local
from assets.features.schedule import EventSchedule, build_event_schedule, load_schedule, shift_schedule
from assets.features.schemas.aggregates import (
    BLOCK_HOURS,
    DAYS_TABLE,
    EVENTS_TABLE,
    INPUTS_TABLE,
    N_BLOCKS,
    REFERENCE_TABLE,
    SLOTS_TABLE,
    STORED_TABLES,
    AggregateMonthInputs,
    HouseholdDays,
    HouseholdEventReadings,
    HouseholdMonthSlots,
    HouseholdReferenceSlots,
)
from assets.features.settings import FeatureSettings

LOG = logging.getLogger(__name__)
COVERAGE_TABLE = "clean.household_month_coverage"  # written by clean with the readings (one transaction)
AGGREGATE_SETTINGS = FeatureSettings()  # the local labels and event windows the aggregates are built with
BLOCK_COLUMNS = [f"kwh_block_{b}" for b in range(N_BLOCKS)]
# (table, model, sql/<name>.sql): each statement reads {readings} of partition months [$lo, $hi) with the
# month's local labels {grid}, the selected half hours {selection} and the classified days {days}.
OUTPUTS = (
    (SLOTS_TABLE, HouseholdMonthSlots, "agg_month_slots"),
    (DAYS_TABLE, HouseholdDays, "agg_days"),
    (EVENTS_TABLE, HouseholdEventReadings, "agg_event_readings"),
    (REFERENCE_TABLE, HouseholdReferenceSlots, "agg_reference_slots"),
)
SCHEDULE_SOURCES = ("tariff", "placebo")  # the tariff schedule, and it shifted placebo_shift_days back
REFERENCE_CLASSES = ("reference", "reference_near")  # event-free, fully labelled days (near: next to an event day)
HALF_HOUR = timedelta(minutes=30)
USABLE_TABLES = (SLOTS_TABLE, DAYS_TABLE, INPUTS_TABLE)  # what aggregates_usable reads


def _definition() -> str:
    """SHA-256 of what the aggregates are: each output's table, SQL text and columns (name, dtype), and the
    fingerprint table's columns. Stored with every month (``features.aggregate_month_inputs.definition``,
    and inside its ``inputs_fingerprint``): a month built under another definition is not used
    (:func:`aggregates_usable`) and is listed by :func:`stale_schedule_months` until rebuilt."""
    digest = hashlib.sha256()
    for table, model, name in (*OUTPUTS, (INPUTS_TABLE, AggregateMonthInputs, None)):
        digest.update(f"t{table}\n".encode())
        if name is not None:
            digest.update(load_sql(__file__, name).encode())
        for column, spec in model.to_schema().columns.items():
            digest.update(f"c{column}:{spec.dtype}\n".encode())
    return digest.hexdigest()


DEFINITION = _definition()

if AGGREGATE_SETTINGS.entropy_block_hours != BLOCK_HOURS:  # pragma: no cover - a code invariant
    raise RuntimeError("schemas/aggregates.py BLOCK_HOURS must equal FeatureSettings().entropy_block_hours")


@dataclass(frozen=True)
class AggregateResult:
    months: int
    slot_rows: int
    day_rows: int
    households: int
    event_rows: int = 0
    reference_rows: int = 0

    def rows(self, table: str) -> int:
        return {
            SLOTS_TABLE: self.slot_rows,
            DAYS_TABLE: self.day_rows,
            EVENTS_TABLE: self.event_rows,
            REFERENCE_TABLE: self.reference_rows,
        }[table]


@dataclass(frozen=True)
class ScheduleInputs:
    """What the schedule decides for the aggregates (``AGGREGATE_SETTINGS``): ``selection``, every half
    hour some event, rebound or preload window of the tariff or the placebo schedule holds
    (interval_start_utc); ``days``, every event-free local day of each schedule's span with its class
    (schedule, local_date, day_class: 'reference', 'reference_near' or 'unlabelled')."""

    selection: pl.DataFrame
    days: pl.DataFrame
    fingerprints: dict[date, str] = field(default_factory=dict, compare=False)  # month -> fingerprint, memo

    def fingerprint(self, month: date) -> str:
        if month not in self.fingerprints:
            self.fingerprints[month] = month_inputs(self, month)[2]["inputs_fingerprint"].item()
        return self.fingerprints[month]


def month_grid(month: date, settings: FeatureSettings = AGGREGATE_SETTINGS) -> pl.DataFrame:
    """Local labels of every UTC half hour that can end in partition ``month`` (a day of margin)."""
    grid = local_grid(month - timedelta(days=1), next_month(month) + timedelta(days=1), settings)
    return grid.select(
        "interval_start_utc",
        "local_date",
        "slot",
        "day_type",
        local_month=pl.col("local_date").dt.truncate("1mo"),
        week_start=pl.col("local_date").dt.truncate("1w"),  # Monday of the local week (Mon-Sun)
        block=(pl.col("slot") // (settings.entropy_block_hours * 2)).cast(pl.Int16),
    )


SELECTION_SCHEMA = {"interval_start_utc": pl.Datetime("us")}
DAYS_SCHEMA = {"schedule": pl.String, "local_date": pl.Date, "day_class": pl.String}


def _classified_days(schedule: pl.DataFrame, grid: pl.DataFrame, settings: FeatureSettings) -> tuple:
    """(event schedule, event-free days with their class) of ``schedule`` over ``grid``."""
    main = build_event_schedule(schedule, grid, replace(settings, reference_exclude_adjacent_days=0))
    far = build_event_schedule(
        schedule, grid, replace(settings, reference_exclude_adjacent_days=settings.sensitivity_adjacent_days)
    )
    flags = main.grid.group_by("local_date").agg(pl.col("ref_eligible").first(), pl.col("has_event").first())
    far_days = far.grid.filter(pl.col("ref_eligible")).select("local_date").unique()
    days = flags.filter(~pl.col("has_event")).select(
        "local_date",
        day_class=pl.when(pl.col("ref_eligible") & pl.col("local_date").is_in(far_days["local_date"].implode()))
        .then(pl.lit("reference"))
        .when(pl.col("ref_eligible"))
        .then(pl.lit("reference_near"))
        .otherwise(pl.lit("unlabelled")),
    )
    return main, days


def schedule_inputs(con: duckdb.DuckDBPyConnection, settings: FeatureSettings = AGGREGATE_SETTINGS) -> ScheduleInputs:
    """The selected half hours and classified days of the tariff schedule and of its placebo shift, each
    over the local days its labels span (none without a schedule). Cached per schedule content: one
    feature run asks several times."""
    empty = ScheduleInputs(pl.DataFrame(schema=SELECTION_SCHEMA), pl.DataFrame(schema=DAYS_SCHEMA), {})
    if not table_exists(con, settings.tariff_table):
        return empty
    raw = load_schedule(con, settings)
    if raw.height == 0:
        return empty
    key = (settings, hashlib.sha256(raw.hash_rows(seed=0).to_numpy().tobytes()).hexdigest(), raw.height)
    if key not in _INPUTS_CACHE:
        _INPUTS_CACHE.clear()  # one schedule at a time
        _INPUTS_CACHE[key] = _schedule_inputs(raw, settings)
    return _INPUTS_CACHE[key]


_INPUTS_CACHE: dict[tuple, ScheduleInputs] = {}


def schedule_rows(con: Connection, settings: FeatureSettings = AGGREGATE_SETTINGS) -> int:
    """Half hours of the tariff schedule the aggregates are built with (0: no schedule materialized, so
    the schedule aggregates of a month built now are empty and the features read the readings)."""
    if not table_exists(con, settings.tariff_table):
        return 0
    return int(fetch(con, f"SELECT count(*) AS n FROM {qualified_name(settings.tariff_table)}").item())


def _schedule_inputs(raw: pl.DataFrame, settings: FeatureSettings) -> ScheduleInputs:
    selections, days = [], []
    for source in SCHEDULE_SOURCES:
        schedule = raw if source == "tariff" else shift_schedule(raw, settings.placebo_shift_days, settings)
        local = schedule.select(utc_to_local(pl.col("interval_start_utc"), settings.timezone).dt.date().alias("d"))
        first, last = local["d"].min(), local["d"].max()
        assert isinstance(first, date) and isinstance(last, date)
        events, classified = _classified_days(schedule, local_grid(first, last + timedelta(days=1), settings), settings)
        selections.append(events.members.select("interval_start_utc"))
        days.append(classified.select(schedule=pl.lit(source), local_date="local_date", day_class="day_class"))
    return ScheduleInputs(
        pl.concat(selections).unique().sort("interval_start_utc").cast(SELECTION_SCHEMA),  # type: ignore[arg-type]
        pl.concat(days).sort("schedule", "local_date").cast(DAYS_SCHEMA),  # type: ignore[arg-type]
        {},
    )


def month_inputs(inputs: ScheduleInputs, month: date) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """(selected half hours, classified days, the inputs row) of partition ``month``: the half hours that
    end in the month and the days with a half hour ending in it; the row carries their fingerprint."""
    lo, hi = datetime.combine(month, datetime.min.time()), datetime.combine(next_month(month), datetime.min.time())
    end = pl.col("interval_start_utc") + HALF_HOUR
    selection = inputs.selection.filter((end >= lo) & (end < hi))
    dates = month_grid(month).filter((end >= lo) & (end < hi)).select("local_date").unique()
    days = inputs.days.join(dates, on="local_date", how="semi").sort("schedule", "local_date")
    digest = hashlib.sha256()
    digest.update(f"v{DEFINITION}\n".encode())  # a changed aggregate definition changes every month's fingerprint
    for ts in selection["interval_start_utc"]:
        digest.update(f"h{ts.isoformat()}\n".encode())
    for source, day, cls in days.iter_rows():
        digest.update(f"d{source},{day.isoformat()},{cls}\n".encode())
    row = pl.DataFrame(
        {
            "reading_month": [month],
            "inputs_fingerprint": [digest.hexdigest()],
            "selected_half_hours": [selection.height],
            "classified_days": [days.height],
            "definition": [DEFINITION],
        },
        schema={"reading_month": pl.Date, "inputs_fingerprint": pl.String, "selected_half_hours": pl.Int64,
                "classified_days": pl.Int64, "definition": pl.String},
    )  # fmt: skip
    return selection, days, row


def build_aggregates(
    con: duckdb.DuckDBPyConnection, start: date, end: date, readings_table: str = "clean.clean_readings"
) -> AggregateResult:
    """Replace the aggregates of partition months ``start <= m < end``, one month per transaction.

    A stored table whose columns are not its model's (built under an older definition) is dropped and
    created again first: its other months are then missing, so the readers use the readings (and
    :func:`stale_schedule_months` lists those months) until they are rebuilt too."""
    for table, model in STORED_TABLES:
        if table_exists(con, table) and not columns_match(con, table, model):
            LOG.warning("%s was built with other columns than %s: dropped, rebuild every month", table, model.__name__)
            con.execute(f"DROP TABLE {qualified_name(table)}")
        create_table_if_missing(con, table, model)
    inputs = schedule_inputs(con)
    month = start.replace(day=1)
    while month < end:
        _build_month(con, month, readings_table, inputs)
        month = next_month(month)
    return aggregate_result(con, start, end)


def aggregate_result(con: Connection, start: date, end: date) -> AggregateResult:
    """Rows and households stored for partition months ``start <= m < end``, counted where they are
    stored (the warehouse, or on Spark the lake: counts only come back)."""
    params = {"lo": start, "hi": end}
    rows = {}
    for table in (SLOTS_TABLE, EVENTS_TABLE, REFERENCE_TABLE):
        rows[table] = fetch(
            con,
            f"SELECT count(*) AS n FROM {qualified_name(table)} WHERE reading_month >= $lo AND reading_month < $hi",
            params,
        ).item()
    day_rows, households = fetch(
        con,
        f"SELECT count(*) AS n, count(DISTINCT household_id) AS h FROM {qualified_name(DAYS_TABLE)} "
        "WHERE reading_month >= $lo AND reading_month < $hi",
        params,
    ).row(0)
    months = len(months_in(start, end))
    return AggregateResult(
        months,
        int(rows[SLOTS_TABLE]),
        int(day_rows),
        int(households),
        int(rows[EVENTS_TABLE]),
        int(rows[REFERENCE_TABLE]),
    )


def _build_month(con: duckdb.DuckDBPyConnection, month: date, readings_table: str, inputs: ScheduleInputs) -> None:
    params = {"lo": month, "hi": next_month(month)}
    selection, days, row = month_inputs(inputs, month)
    with scratch(con) as s, transaction(con):
        tables = {
            "readings": readings_table,
            "grid": s.frame("agg_grid", month_grid(month)),
            "selection": s.frame("agg_selection", selection),
            "days": s.frame("agg_classified_days", days),
        }
        staged = [
            (table, model, s.query(f"stage_{name}", statement(name, **tables), params))
            for table, model, name in OUTPUTS
        ]
        staged.append((INPUTS_TABLE, AggregateMonthInputs, s.frame("stage_inputs", row)))
        replace_month(con, month, staged)


def replace_month(con: duckdb.DuckDBPyConnection, month: date, staged: list[tuple[str, type, str]]) -> None:
    """Validate each staged table ``(table, model, staged table)`` against its model, then replace the
    month's rows of ``table`` by it. Runs inside the caller's transaction (both engines' path)."""
    params = {"lo": month, "hi": next_month(month)}
    for table, model, stage in staged:
        validate_query(model, con, f"SELECT * FROM {qualified_name(stage)}", table)
    for table, _, stage in staged:
        con.execute(f"DELETE FROM {qualified_name(table)} WHERE reading_month >= $lo AND reading_month < $hi", params)
        con.execute(f"INSERT INTO {qualified_name(table)} SELECT * FROM {qualified_name(stage)}")


# --- reads of the feature layer -----------------------------------------------------------------


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


def columns_match(con: Connection, table: str, model: type) -> bool:
    """``table`` is stored with exactly the columns of ``model`` (on either engine; Spark lists a partition
    column last, so the order is the writers' business: the model's order is checked before each write)."""
    return sorted(fetch(con, f"SELECT * FROM {qualified_name(table)} LIMIT 0").columns) == sorted(column_names(model))


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
        {"definition": DEFINITION},
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
