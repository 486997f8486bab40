"""Ingest assets: raw half-hourly readings (monthly), the household register, the tariff schedule."""

import dagster as dg
import polars as pl

from assets.common.metadata import OWNERS, markdown_table, table_metadata
from assets.common.partitions import month_window, monthly_partitions
from assets.common.resources import MeterSource, Warehouse
from assets.common.table_model import validate
from assets.common.warehouse import replace_table
from assets.ingest import households as hh
from assets.ingest.raw_ingest import RAW_TABLE, load_raw_readings
from assets.ingest.schemas.households import Households
from assets.ingest.schemas.raw_readings import RawReadings
from assets.ingest.schemas.tariff_schedule import TariffSchedule
from assets.ingest.source_files import discover, of_kind
from assets.ingest.tariff_schedule import load_tariff_schedule

HOUSEHOLDS_TABLE = "ingest.households"
TARIFF_TABLE = "ingest.tariff_schedule"


@dg.asset(
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="ingest",
    kinds={"duckdb", "polars"},
    owners=OWNERS,
    pool="duckdb",
    metadata={"partition_expr": "reading_month", "dagster/table_name": RAW_TABLE},
)
def raw_readings(context: dg.AssetExecutionContext, warehouse: Warehouse, source: MeterSource):
    """Every line of every readings file in the source folder whose month is in the run, as found.

    Layout (London Datastore 6/4-column, 3-column, Kaggle, Parquet; gzip or plain) is detected
    from content. Each row keeps its source file, line number and original text. A month is
    replaced atomically (re-running never duplicates); an unreadable file fails the run naming the
    file, and nothing already stored changes.
    """
    start, end = month_window(context)
    files = discover(source.folder())
    readings = of_kind(files, "readings")
    if not readings:
        raise FileNotFoundError(f"no readings files found in {source.folder()}")
    with warehouse.get_connection() as con:
        result = load_raw_readings(con, readings, start, end)
    context.log.info(f"{result.rows} raw rows for {start}..{end} from {result.files_read} file(s)")
    by_month = pl.DataFrame(
        {"month": list(result.rows_by_month), "raw_rows": list(result.rows_by_month.values())},
        schema={"month": pl.Date, "raw_rows": pl.Int64},
    ).sort("month")
    return dg.MaterializeResult(
        metadata={
            **table_metadata(RawReadings, RAW_TABLE, result.rows, partition_row_count=result.rows),
            "window": f"{start} .. {end} (exclusive)",
            "files_read": result.files_read,
            "files_skipped_by_index": result.files_skipped,
            "rows_by_layout": dg.MetadataValue.json(result.rows_by_layout),
            "rows_by_month": dg.MetadataValue.md(markdown_table(by_month)),
            "ignored_files": dg.MetadataValue.json([f.relative for f in files if f.kind == "ignored"][:50]),
        }
    )


@dg.asset(
    deps=[raw_readings],
    group_name="ingest",
    kinds={"duckdb", "polars"},
    owners=OWNERS,
    pool="duckdb",
)
def households(warehouse: Warehouse, source: MeterSource) -> dg.MaterializeResult:
    """One row per household: trial group (Std = flat-rate control, ToU = dynamic tariff in 2013)
    and Acorn category/group, from the household information file, completed by the groups that
    6/4-column readings files carry. ACORN-U and ACORN- are not real groups and become empty."""
    files = of_kind(discover(source.folder()), "households")
    registered = [hh.read_household_file(f.path, f.relative) for f in files]
    with warehouse.get_connection() as con:
        seen = hh.households_seen_in_readings(con, RAW_TABLE)
        table, stats = hh.build_households(registered, seen)
        table = validate(Households, table, HOUSEHOLDS_TABLE)
        replace_table(con, HOUSEHOLDS_TABLE, table)
        missing = con.execute(
            f"""SELECT count(DISTINCT household_id) FROM {RAW_TABLE}
                WHERE household_id IS NOT NULL AND household_id NOT IN (SELECT household_id FROM {HOUSEHOLDS_TABLE})"""
        ).fetchall()[0][0]
    groups = table.group_by("tariff_group", "acorn_group").len().sort("tariff_group", "acorn_group")
    return dg.MaterializeResult(
        metadata={
            **table_metadata(Households, HOUSEHOLDS_TABLE, table.height, preview=table),
            **{k: dg.MetadataValue.int(v) for k, v in stats.items()},
            "households_in_readings_without_group": dg.MetadataValue.int(int(missing)),
            "by_group": dg.MetadataValue.md(markdown_table(groups)),
        }
    )


@dg.asset(group_name="ingest", kinds={"duckdb", "polars"}, owners=OWNERS, pool="duckdb")
def tariff_schedule(warehouse: Warehouse, source: MeterSource) -> dg.MaterializeResult:
    """The 2013 dynamic time-of-use schedule on the readings' UTC half-hour grid.

    The published schedule labels the START of each half hour in UK local time; readings are
    UTC and stamped at the END. Each UTC half hour gets the label of its local start time
    (Europe/London), so ``clean_readings.interval_start_utc = tariff_schedule.interval_start_utc``
    prices a reading. High/Low runs are numbered as events.
    """
    files = of_kind(discover(source.folder()), "tariffs")
    schedule, chosen = load_tariff_schedule([(f.path, f.relative) for f in files])
    schedule = validate(TariffSchedule, schedule, TARIFF_TABLE)
    with warehouse.get_connection() as con:
        replace_table(con, TARIFF_TABLE, schedule)
    bands = schedule.group_by("band").len().sort("band")
    events = (
        schedule.filter(pl.col("event_id").is_not_null())
        .group_by("band")
        .agg(pl.col("event_id").n_unique().alias("events"))
        .sort("band")
    )
    return dg.MaterializeResult(
        metadata={
            **table_metadata(TariffSchedule, TARIFF_TABLE, schedule.height),
            "schedule_file": chosen,
            "half_hours_by_band": dg.MetadataValue.md(markdown_table(bands)),
            "events_by_band": dg.MetadataValue.md(markdown_table(events)),
            "first_slot_utc": str(schedule["interval_start_utc"].min()),
            "last_slot_utc": str(schedule["interval_start_utc"].max()),
        }
    )
