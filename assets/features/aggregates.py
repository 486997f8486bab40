"""Per-household-month aggregates of the clean readings, and the feature layer's reads of them.

The half-hourly readings are aggregated once per month (the ``household_month_aggregates`` asset,
monthly partitions like ``clean_readings``) into two compact tables:

- ``features.household_month_slots``: (partition month, household, local month, day type, local slot)
  -> kWh sum and count of actual readings. A baseline window of whole local months needs nothing
  finer: the lifestyle profile sums (slot x day type x season) and the baseline-year reference of the
  DiD (slot x day type x calendar month) are regroupings of these sums.
- ``features.household_days``: (partition month, household, local day) -> readings, actual readings,
  kWh sum, largest reading and 4-hour block sums. Daily totals, variability, load factor, the daily
  shape types of ``shape_entropy``, coverage counts and the universe of households are regroupings of
  these rows (any set of local days: the trial year's event-free days too).

Each month is replaced in one transaction (delete + insert of its rows after validation), so a new
month rewrites only that month's aggregates. The local labels (day type with the bank holidays,
4-hour blocks) are those of the :class:`FeatureSettings` defaults; a run with other local-time
settings, a window that is not whole local months where month sums are needed, or aggregates that
do not match the clean readings (checked per month against ``clean.household_month_coverage``, which
clean writes in the same transaction as the readings) falls back to the readings themselves, so the
aggregates can make features faster but never different (tests/features/test_feat_aggregates.py).

Kept on the readings (restricted to the window and the rows needed), because the method needs single
half hours or single days at slot level: the base-load quantile (an exact quantile needs the values),
the event half hours of the DiD, the within-window reference (same slot on event-free days of nearby
weeks, which days being decided by the event schedule), and the trial year's event-free-day profile.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import duckdb
import polars as pl

from assets.common.sql import qualified_name
from assets.common.table_model import create_table_if_missing, validate_query
from assets.common.warehouse import transaction
from assets.features.duck import Connection, fetch, scratch, statement, table_exists
from assets.features.local_time import local_grid
from assets.features.schemas.aggregates import BLOCK_HOURS, N_BLOCKS, HouseholdDays, HouseholdMonthSlots
from assets.features.settings import FeatureSettings

SLOTS_TABLE = "features.household_month_slots"
DAYS_TABLE = "features.household_days"
COVERAGE_TABLE = "clean.household_month_coverage"  # written by clean with the readings (one transaction)
AGGREGATE_SETTINGS = FeatureSettings()  # the local labels the aggregates are built with
BLOCK_COLUMNS = [f"kwh_block_{b}" for b in range(N_BLOCKS)]
OUTPUTS = ((SLOTS_TABLE, HouseholdMonthSlots, "agg_month_slots"), (DAYS_TABLE, HouseholdDays, "agg_days"))

if AGGREGATE_SETTINGS.entropy_block_hours != BLOCK_HOURS:  # pragma: no cover - a code invariant
    raise RuntimeError("schemas/aggregates.py BLOCK_HOURS must equal FeatureSettings().entropy_block_hours")


@dataclass(frozen=True)
class AggregateResult:
    months: int
    slot_rows: int
    day_rows: int
    households: int


def _add_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def month_grid(month: date, settings: FeatureSettings = AGGREGATE_SETTINGS) -> pl.DataFrame:
    """Local labels of every UTC half hour that can end in partition ``month`` (a day of margin)."""
    grid = local_grid(month - timedelta(days=1), _add_month(month) + timedelta(days=1), settings)
    return grid.select(
        "interval_start_utc",
        "local_date",
        "slot",
        "day_type",
        local_month=pl.col("local_date").dt.truncate("1mo"),
        block=(pl.col("slot") // (settings.entropy_block_hours * 2)).cast(pl.Int16),
    )


def build_aggregates(
    con: duckdb.DuckDBPyConnection, start: date, end: date, readings_table: str = "clean.clean_readings"
) -> AggregateResult:
    """Replace the aggregates of partition months ``start <= m < end``, one month per transaction."""
    for table, model, _ in OUTPUTS:
        create_table_if_missing(con, table, model)
    month = start.replace(day=1)
    while month < end:
        _build_month(con, month, readings_table)
        month = _add_month(month)
    return aggregate_result(con, start, end)


def aggregate_result(con: duckdb.DuckDBPyConnection, start: date, end: date) -> AggregateResult:
    """Rows and households stored for partition months ``start <= m < end``."""
    params = {"lo": start, "hi": end}
    ((slot_rows,),) = con.execute(
        f"SELECT count(*) FROM {qualified_name(SLOTS_TABLE)} WHERE reading_month >= $lo AND reading_month < $hi",
        params,
    ).fetchall()
    ((day_rows, households),) = con.execute(
        f"SELECT count(*), count(DISTINCT household_id) FROM {qualified_name(DAYS_TABLE)} "
        "WHERE reading_month >= $lo AND reading_month < $hi",
        params,
    ).fetchall()
    months = (end.year - start.year) * 12 + end.month - start.month
    return AggregateResult(months, int(slot_rows), int(day_rows), int(households))


def _build_month(con: duckdb.DuckDBPyConnection, month: date, readings_table: str) -> None:
    params = {"lo": month, "hi": _add_month(month)}
    with scratch(con) as s, transaction(con):
        grid = s.frame("agg_grid", month_grid(month))
        staged = [
            (table, model, s.query(f"stage_{name}", statement(name, readings=readings_table, grid=grid), params))
            for table, model, name in OUTPUTS
        ]
        replace_month(con, month, staged)


def replace_month(con: duckdb.DuckDBPyConnection, month: date, staged: list[tuple[str, type, str]]) -> None:
    """Validate each staged table ``(table, model, staged table)`` against its model, then replace the
    month's rows of ``table`` by it. Runs inside the caller's transaction (both engines' path)."""
    params = {"lo": month, "hi": _add_month(month)}
    for table, model, stage in staged:
        validate_query(model, con, f"SELECT * FROM {qualified_name(stage)}", table)
    for table, _, stage in staged:
        con.execute(f"DELETE FROM {qualified_name(table)} WHERE reading_month >= $lo AND reading_month < $hi", params)
        con.execute(f"INSERT INTO {qualified_name(table)} SELECT * FROM {qualified_name(stage)}")


# --- reads of the feature layer -----------------------------------------------------------------


def aggregates_usable(con: Connection, settings: FeatureSettings) -> bool:
    """True when the aggregates answer for ``settings``: built with the same local labels, from the
    same readings table, and matching the clean readings month by month (actual and estimated counts
    of ``clean.household_month_coverage``, written with the readings)."""
    same_labels = (
        settings.readings_table == AGGREGATE_SETTINGS.readings_table
        and settings.timezone == AGGREGATE_SETTINGS.timezone
        and tuple(settings.bank_holidays) == tuple(AGGREGATE_SETTINGS.bank_holidays)
    )
    if not same_labels or not all(table_exists(con, t) for t in (SLOTS_TABLE, DAYS_TABLE, COVERAGE_TABLE)):
        return False
    mismatched = fetch(
        con,
        f"""
        WITH c AS (SELECT reading_month, sum(actual_half_hours) AS a, sum(actual_half_hours + estimated_half_hours) AS r
                   FROM {qualified_name(COVERAGE_TABLE)} GROUP BY reading_month),
             d AS (SELECT reading_month, sum(n_actual) AS a, sum(n_readings) AS r
                   FROM {qualified_name(DAYS_TABLE)} GROUP BY reading_month),
             s AS (SELECT reading_month, sum(n) AS a FROM {qualified_name(SLOTS_TABLE)} GROUP BY reading_month)
        SELECT count(*) FROM c FULL JOIN d USING (reading_month) FULL JOIN s USING (reading_month)
        WHERE c.a IS DISTINCT FROM d.a OR c.r IS DISTINCT FROM d.r OR coalesce(c.a, 0) IS DISTINCT FROM coalesce(s.a, 0)
        """,
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
    """(household_id, local_date, day_half_hours, n, total, max_kwh, b0..) of the local days of ``grid``
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
            f"CAST(sum(a.n_actual) AS BIGINT) AS n, sum(a.kwh) AS total, max(a.max_kwh) AS max_kwh, {blocks} "
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
