"""Ingest assets: raw half-hourly readings (monthly), the household register, the tariff schedule.

The domain modules (polars, pandera, DuckDB) are imported inside the asset bodies, so that the code
location loads fast; they run when a step does.
"""

import dagster as dg

from assets.common.metadata import (
    OWNERS,
    markdown_table,
    schema_check_failed,
    schema_check_passed,
    schema_check_spec,
    store_table,
    table_metadata,
)
from assets.common.partitions import month_window, monthly_partitions
from assets.common.resources import MeterEngine, MeterSource, Warehouse

HOUSEHOLDS_TABLE = "ingest.households"
TARIFF_TABLE = "ingest.tariff_schedule"


def _readable_check(refused: list) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        check_name="source_files_readable",
        asset_key="raw_readings",
        passed=not refused,
        severity=dg.AssetCheckSeverity.ERROR,
        description=(
            "every readings file could be read"
            if not refused
            else f"{len(refused)} file(s) refused, not loaded: " + "; ".join(r.line() for r in refused)
        ),
        metadata={
            "refused_files": dg.MetadataValue.json([{"file": r.source_file, "reason": r.reason} for r in refused]),
            "refused_table": "ingest.refused_source_files",
        },
    )


@dg.asset(
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="ingest",
    kinds={"duckdb", "spark", "polars"},
    owners=OWNERS,
    check_specs=[
        schema_check_spec("raw_readings"),
        dg.AssetCheckSpec(
            "source_files_readable",
            asset="raw_readings",
            description="Every readings file in the source folder could be read. A new file that cannot be read is "
            "refused (listed in ingest.refused_source_files, not loaded; the other files load) and this check "
            "fails naming it and the reason (assets/ingest/file_ledger.py).",
        ),
    ],
)
def raw_readings(context: dg.AssetExecutionContext, warehouse: Warehouse, source: MeterSource, engine: MeterEngine):
    """Every line of every readings file in the source folder whose month is in the run, as found.

    Layout (London Datastore 6/4-column, 3-column, Kaggle, Parquet; gzip or plain) is detected from
    content; text files are read by the engine's native CSV reader and parsed by the same SQL. Each row
    keeps its source file and line number; the original text only where the line failed to parse. The
    run's months are replaced, each row written once (re-running never duplicates). A new file that cannot
    be read is refused (the ``source_files_readable`` check fails naming it; the other files load); a file
    whose rows are stored and that became unreadable fails the run naming the file, and nothing already
    stored changes (assets/ingest/file_ledger.py).
    """
    import polars as pl

    from assets.common.table_model import SchemaViolation
    from assets.ingest.raw_ingest import RAW_TABLE
    from assets.ingest.schemas.raw_readings import RawReadings
    from assets.ingest.source_files import discover, of_kind

    start, end = month_window(context)
    files = discover(source.folder())
    readings = of_kind(files, "readings")
    unreadable = of_kind(files, "unreadable")
    if not readings and not unreadable:
        raise FileNotFoundError(f"no readings files found in {source.folder()}")
    try:
        # the engine loads the readings files and refuses new files it cannot read (listed, not loaded)
        result, refused, ledger = engine.ingest_window(warehouse, files, start, end)
        for r in refused:
            context.log.error(f"refused (not loaded): {r.line()}")
    except SchemaViolation as violation:
        yield schema_check_failed("raw_readings", violation)
        raise
    context.log.info(f"{result.rows} raw rows for {start}..{end} from {result.files_read} file(s)")
    by_month = pl.DataFrame(
        {"month": list(result.rows_by_month), "raw_rows": list(result.rows_by_month.values())},
        schema={"month": pl.Date, "raw_rows": pl.Int64},
    ).sort("month")
    yield dg.MaterializeResult(
        metadata={
            **table_metadata(RawReadings, RAW_TABLE, result.rows, partition_row_count=result.rows),
            **engine.location_metadata(RAW_TABLE),
            "engine": engine.name,
            "window": f"{start} .. {end} (exclusive)",
            "files_read": result.files_read,
            "files_skipped_by_index": result.files_skipped,
            "rows_by_layout": dg.MetadataValue.json(result.rows_by_layout),
            "rows_by_month": dg.MetadataValue.md(markdown_table(by_month)),
            "ignored_files": dg.MetadataValue.json([f.relative for f in files if f.kind == "ignored"][:50]),
            "refused_files": dg.MetadataValue.json([r.line() for r in refused][:50]),
            **ledger,
        },
        check_results=[schema_check_passed("raw_readings", {RAW_TABLE: result.rows}), _readable_check(refused)],
    )


@dg.asset(
    deps=[raw_readings],
    group_name="ingest",
    kinds={"duckdb", "polars"},
    owners=OWNERS,
    check_specs=[schema_check_spec("households")],
)
def households(warehouse: Warehouse, source: MeterSource, engine: MeterEngine):
    """One row per household: trial group (Std = flat-rate control, ToU = dynamic tariff in 2013) and
    Acorn category/group, from the household information file, completed for households it lacks by the
    group (6/4-column) and Acorn (6-column) their readings files carry (register_source says which); the
    register wins where they disagree (counted). ACORN-U and ACORN- are not real groups and become empty.
    Ids that break the register rule never enter the register (listed with file, line and rule)."""
    from assets.common.table_model import SchemaViolation
    from assets.ingest import households as hh
    from assets.ingest.clock_check import check_clock, clock_sentence
    from assets.ingest.raw_ingest import RAW_TABLE
    from assets.ingest.schemas.households import Households
    from assets.ingest.source_files import discover, of_kind

    files = of_kind(discover(source.folder()), "households")
    registered = [hh.read_household_file(f.path, f.relative) for f in files]
    rejected = hh.rejected_register_lines(registered)
    try:
        with warehouse.get_connection() as con:
            with engine.half_hourly(con) as readings:  # the raw readings: the warehouse's, or the lake's
                per_household = hh.readings_households(readings, RAW_TABLE)
                acorn_lines = hh.acorn_lines(readings, RAW_TABLE)
                clock = check_clock(lambda sql, params: readings.execute(sql, params).fetchall(), RAW_TABLE)
            acorn = hh.read_acorn(source.folder(), acorn_lines)
            table, stats = hh.build_households(registered, hh.seen_with_group(per_household, acorn))
            store_table(con, HOUSEHOLDS_TABLE, Households, table)
    except SchemaViolation as violation:
        yield schema_check_failed("households", violation)
        raise
    unregistered = hh.not_in_register(per_household, table)
    groups = table.group_by("tariff_group", "acorn_group").len().sort("tariff_group", "acorn_group")
    yield dg.MaterializeResult(
        metadata={
            **table_metadata(Households, HOUSEHOLDS_TABLE, table.height, preview=table),
            **{k: dg.MetadataValue.int(v) for k, v in stats.items()},
            # no register line and no group in their files: features list them as excluded (not_in_register)
            "households_in_readings_without_group": dg.MetadataValue.int(unregistered.height),
            "households_in_readings_without_group_sample": dg.MetadataValue.json(
                unregistered["household_id"].head(50).to_list()
            ),
            # register lines whose id breaks the register rule (readings lines: clean's quarantine, V10)
            "register_lines_rejected": dg.MetadataValue.int(len(rejected)),
            "register_lines_rejected_sample": dg.MetadataValue.json(rejected[:50]),
            "by_group": dg.MetadataValue.md(markdown_table(groups)),
            # UTC or UK local time? the readings on the clock-change dates (assets/ingest/clock_check.py);
            # the report's "Data and confidence" section states the same sentence
            "clock_check": clock_sentence(clock) or "readings on the clock-change dates look UTC (or none there)",
            "clock_check_by_date": dg.MetadataValue.md(
                markdown_table(clock.by_date()) if clock.days.height else "_(none)_"
            ),
        },
        check_results=[schema_check_passed("households", {HOUSEHOLDS_TABLE: table.height})],
    )


@dg.asset(
    group_name="ingest",
    kinds={"duckdb", "polars"},
    owners=OWNERS,
    check_specs=[schema_check_spec("tariff_schedule")],
)
def tariff_schedule(context: dg.AssetExecutionContext, warehouse: Warehouse, source: MeterSource):
    """The 2013 dynamic time-of-use schedule on the readings' UTC half-hour grid.

    The published schedule labels the START of each half hour in UK local time; readings are
    UTC and stamped at the END. Each UTC half hour gets the label of its local start time
    (Europe/London), so ``clean_readings.interval_start_utc = tariff_schedule.interval_start_utc``
    prices a reading. High/Low runs are numbered as events.
    """
    import polars as pl

    from assets.common.table_model import SchemaViolation, validate
    from assets.common.warehouse import replace_table
    from assets.ingest.schemas.tariff_schedule import TariffSchedule
    from assets.ingest.source_files import discover, of_kind
    from assets.ingest.tariff_schedule import NO_SCHEDULE, load_tariff_schedule

    files = of_kind(discover(source.folder()), "tariffs")
    schedule, chosen = load_tariff_schedule([(f.path, f.relative) for f in files])
    if chosen == NO_SCHEDULE:
        context.log.warning(
            "No tariff schedule (Tariffs.xlsx or Tariffs.csv) in the source folder: the schedule is empty, so no "
            "price response can be measured; add the schedule file to measure it."
        )
    try:
        schedule = validate(TariffSchedule, schedule, TARIFF_TABLE)
    except SchemaViolation as violation:
        yield schema_check_failed("tariff_schedule", violation)
        raise
    with warehouse.get_connection() as con:
        replace_table(con, TARIFF_TABLE, schedule)  # validated above, before taking the lock
    bands = schedule.group_by("band").len().sort("band")
    events = (
        schedule.filter(pl.col("event_id").is_not_null())
        .group_by("band")
        .agg(pl.col("event_id").n_unique().alias("events"))
        .sort("band")
    )
    yield dg.MaterializeResult(
        metadata={
            **table_metadata(TariffSchedule, TARIFF_TABLE, schedule.height),
            "schedule_file": chosen,
            "half_hours_by_band": dg.MetadataValue.md(markdown_table(bands)),
            "events_by_band": dg.MetadataValue.md(markdown_table(events)),
            "first_slot_utc": str(schedule["interval_start_utc"].min()),
            "last_slot_utc": str(schedule["interval_start_utc"].max()),
        },
        check_results=[schema_check_passed("tariff_schedule", {TARIFF_TABLE: schedule.height})],
    )
