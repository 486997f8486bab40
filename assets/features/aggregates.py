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
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta

import duckdb
import polars as pl

from assets.common.months import months_in, next_month
from assets.common.sql import load_sql, qualified_name
from assets.common.table_model import column_names, create_table_if_missing, validate_query
from assets.common.warehouse import transaction
from assets.features.duck import Connection, fetch, scratch, statement, table_exists
from assets.features.local_time import local_grid, utc_to_local
from assets.features.schedule import build_event_schedule, load_schedule, shift_schedule
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


def columns_match(con: Connection, table: str, model: type) -> bool:
    """``table`` is stored with exactly the columns of ``model`` (on either engine; Spark lists a partition
    column last, so the order is the writers' business: the model's order is checked before each write)."""
    return sorted(fetch(con, f"SELECT * FROM {qualified_name(table)} LIMIT 0").columns) == sorted(column_names(model))
