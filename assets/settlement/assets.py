"""Settlement assets: what each High event delivered per household, against baselines whose accuracy is
measured on placebo events (issue 25; assets/settlement/settings.py has every rule and its source).

Thin on purpose: each asset opens the warehouse, calls one function of ``assets.settlement.compute``,
writes, and yields metadata. DuckDB only for now (see docs/ARCHITECTURE.md, "Settlement").
"""

import dagster as dg

from assets.common.metadata import (
    OWNERS,
    markdown_table,
    png_markdown,
    schema_check_failed,
    schema_check_passed,
    schema_check_spec,
    table_metadata,
    violating_asset,
)
from assets.common.partitions import month_window, monthly_partitions
from assets.common.resources import MeterEngine, ReportsDir, Warehouse

WINDOWS_TABLE = "settlement.event_day_windows"
# asset name -> (table, description)
SETTLEMENT_TABLES: dict[str, tuple[str, str]] = {
    "event_settlement": (
        "settlement.event_settlement",
        "Per (real or placebo) High event x household: delivered kWh and mean kW in the event window, the "
        "baseline kWh of every method (control group, CAISO 10-in-10 with and without the capped day-of "
        "adjustment, DFS with and without the in-day adjustment, time-of-week regression), the 3 h snapback "
        "and the load in the 3 h before.",
    ),
    "baseline_accuracy": (
        "settlement.baseline_accuracy",
        "Each method scored where the true reduction is 0 (placebo events; control households at real events), "
        "per persona and season: bias % of load, CV(RMSE), share of settlements that would be paid, each with a "
        "two-way bootstrap interval; flagged where the bias interval excludes 0.",
    ),
    "baseline_recommendation": (
        "settlement.baseline_recommendation",
        "Which baseline to trust for whom: per persona the unflagged method with the lowest placebo CV(RMSE), "
        "and the methods flagged as biased for it.",
    ),
    "preloading_effect": (
        "settlement.preloading_effect",
        "What the 3 h before an event do to each adjusted method: the settled reduction with the method's "
        "adjustment window minus with the window moved clear of them, same households and events, with intervals.",
    ),
    "program_delivery": (
        "settlement.program_delivery",
        "Delivered kW of the ToU households per real event, per persona and for the programme, with intervals, "
        "and the snapback in the 3 h after.",
    ),
    "dr_target_calibration": (
        "settlement.dr_target_calibration",
        "The DR target list's rule rebuilt on one half of the evening High events against what the same "
        "households delivered on the other half (bins of expected kW, the selected households), with intervals.",
    ),
}
UPSTREAM = [
    "settlement_day_windows",
    "tariff_schedule",
    "households",
    "segment_assignments",
    "cluster_model",
    "household_features",
    "treatment_features",
    "treatment_event_responses",
]


@dg.asset(
    deps=[
        # windows reach across midnight and month ends: local-day month M reads the readings of M-1 .. M+1
        dg.AssetDep("clean_readings", partition_mapping=dg.TimeWindowPartitionMapping(start_offset=-1, end_offset=1)),
        "tariff_schedule",
    ],
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
    group_name="settlement",
    kinds={"duckdb", "spark"},
    owners=OWNERS,
    metadata={"dagster/table_name": WINDOWS_TABLE},
    check_specs=[schema_check_spec("settlement_day_windows", [WINDOWS_TABLE])],
)
def settlement_day_windows(context: dg.AssetExecutionContext, warehouse: Warehouse, engine: MeterEngine):
    """Per household, (real and placebo) High event, local day and window (event, 3 h before, adjustment
    windows, 3 h after): the kWh of the window's actual readings, on each event's own day, its CAISO and DFS
    baseline days and the regression's fitting days whose local date is in the partition month, read from
    the engine's clean readings. Each month is replaced atomically (validated, then delete + insert in one
    transaction)."""
    from assets.common.table_model import SchemaViolation
    from assets.settlement.compute import build_day_windows
    from assets.settlement.schemas.tables import EventDayWindows

    start, end = month_window(context)
    try:
        with warehouse.get_connection() as con, engine.half_hourly(con) as readings:
            result = build_day_windows(con, start, end, readings=readings)
    except SchemaViolation as violation:
        yield schema_check_failed("settlement_day_windows", violation)
        raise
    yield dg.MaterializeResult(
        metadata={
            **table_metadata(
                EventDayWindows, WINDOWS_TABLE, result.rows, partition_row_count=result.rows, lineage=_windows_lineage()
            ),
            "months": dg.MetadataValue.int(result.months),
            "households": dg.MetadataValue.int(result.households),
            "events": dg.MetadataValue.int(result.events),
            "placebo_events": dg.MetadataValue.int(result.placebo_events),
        },
        check_results=[schema_check_passed("settlement_day_windows", {WINDOWS_TABLE: result.rows})],
    )


def _windows_lineage() -> dict:
    return {
        "household_id": [("clean_readings", "household_id")],
        "kwh": [("clean_readings", "kwh"), ("clean_readings", "quality_code")],
        "event_id": [("tariff_schedule", "event_id")],
        "local_date": [("tariff_schedule", "local_label_start"), ("tariff_schedule", "band")],
    }


SETTLEMENT_LINEAGE = {
    "event_settlement": {
        "actual_kwh": [("settlement_day_windows", "kwh")],
        "persona_id": [("segment_assignments", "persona_id")],
        "tariff_group": [("households", "tariff_group")],
        "product_reduction_kwh": [("treatment_event_responses", "did_kwh"), ("treatment_features", "response_method")],
    },
    "baseline_accuracy": {"bias_pct": [("event_settlement", "actual_kwh")]},
    "program_delivery": {
        "delivered_kw": [("event_settlement", "actual_kwh"), ("event_settlement", "baseline_control_group_kwh")]
    },
}


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            name,
            deps=UPSTREAM if name == "event_settlement" else ["event_settlement", *UPSTREAM],
            group_name="settlement",
            kinds={"duckdb", "polars"},
            owners=OWNERS,
            description=description,
            metadata={"dagster/table_name": table},
        )
        for name, (table, description) in SETTLEMENT_TABLES.items()
    ],
    check_specs=[schema_check_spec(name, [table]) for name, (table, _) in SETTLEMENT_TABLES.items()],
    name="settlement",
)
def settlement(warehouse: Warehouse):
    """Every unpartitioned settlement table, computed together from the day windows (validated before any is
    written: a failure stores nothing)."""
    from assets.common.table_model import SchemaViolation
    from assets.common.warehouse import replace_table
    from assets.settlement.compute import compute_settlement_tables
    from assets.settlement.schemas.tables import TABLES

    tables = {table: name for name, (table, _) in SETTLEMENT_TABLES.items()}
    try:
        with warehouse.get_connection() as con:
            frames = compute_settlement_tables(con)
            for table, frame in frames.items():
                replace_table(con, table, frame)
    except SchemaViolation as violation:
        yield schema_check_failed(violating_asset(violation, tables, "event_settlement"), violation)
        raise
    for name, (table, _) in SETTLEMENT_TABLES.items():
        frame = frames[table]
        yield dg.MaterializeResult(
            asset_key=name,
            metadata={
                **table_metadata(
                    TABLES[table],
                    table,
                    frame.height,
                    preview=frame.select(frame.columns[:12]).head(8),
                    lineage=SETTLEMENT_LINEAGE.get(name),
                ),
                **_summary(name, frame),
            },
            check_results=[schema_check_passed(name, {table: frame.height})],
        )


def _summary(name: str, frame) -> dict:
    import polars as pl

    if frame.height == 0:
        return {}
    if name == "baseline_recommendation":
        return {"which_baseline_for_whom": dg.MetadataValue.md(markdown_table(frame))}
    if name == "baseline_accuracy":
        view = frame.filter(pl.col("season") == "all").select(
            "population",
            "method",
            "persona_name",
            "bias_pct",
            "bias_ci_low_pct",
            "bias_ci_high_pct",
            "cv_rmse",
            "share_paid",
            "bias_flagged",
        )
        return {
            "accuracy": dg.MetadataValue.md(markdown_table(view)),
            "flagged": dg.MetadataValue.int(int(frame["bias_flagged"].fill_null(False).sum())),
        }
    if name == "program_delivery":
        view = frame.filter(pl.col("level") != "event").select(
            "level",
            "method",
            "persona_name",
            "n_households",
            "n_events",
            "delivered_kw",
            "delivered_ci_low_kw",
            "delivered_ci_high_kw",
            "snapback_kw",
        )
        return {"delivery": dg.MetadataValue.md(markdown_table(view))}
    if name == "preloading_effect":
        return {"preloading": dg.MetadataValue.md(markdown_table(frame.drop("note")))}
    return {}


@dg.asset(
    deps=list(SETTLEMENT_TABLES),  # it reads every settlement table
    group_name="settlement",
    kinds={"csv", "matplotlib"},
    owners=OWNERS,
)
def settlement_report(warehouse: Warehouse, reports: ReportsDir):
    """The settlement files in ``reports/settlement/``: settlement.csv (one row per household x real event:
    delivered kWh and kW, every method's baseline and settled reduction, snapback), baseline_accuracy.csv, the
    DR-list calibration plot and the placebo-bias plot (also in this metadata). A folder of its own: the
    persona report removes figures it did not draw from ``reports/``."""
    from assets.common.warehouse import read_table
    from assets.reports.publish import publish_report_files
    from assets.settlement.compute import settlement_files

    with warehouse.get_connection() as con:
        tables = {table: read_table(con, table) for table, _ in SETTLEMENT_TABLES.values()}
    files = settlement_files(tables)
    folder = reports.folder("settlement")
    publish_report_files(folder, files)
    return dg.MaterializeResult(
        metadata={
            "settlement_csv": dg.MetadataValue.path(str((folder / "settlement.csv").resolve())),
            # the rows of settlement.csv (household x real event)
            "dagster/row_count": dg.MetadataValue.int(
                tables["settlement.event_settlement"]
                .filter(tables["settlement.event_settlement"]["schedule"] == "tariff")
                .height
            ),
            **{f"plot_{n.removesuffix('.png')}": png_markdown(b, n) for n, b in files.items() if n.endswith(".png")},
        }
    )
