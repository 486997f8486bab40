"""Clean assets: VEE-cleaned half-hourly readings, the quarantine, and coverage (monthly).

The domain modules (polars, pandera, DuckDB) are imported inside the asset body, so that the code
location loads fast.
"""

from collections import Counter

import dagster as dg
from pydantic import model_validator

from assets.clean.vee_rules import VeeSettings
from assets.common.metadata import (
    OWNERS,
    markdown_table,
    schema_check_failed,
    schema_check_passed,
    schema_check_spec,
    table_metadata,
    violating_asset,
)
from assets.common.partitions import month_window, monthly_partitions
from assets.common.resources import MeterEngine, Warehouse
from assets.ingest.assets import raw_readings

CLEAN_ASSETS = ("clean_readings", "quarantined_readings", "household_month_coverage")

CLEAN_LINEAGE = {
    "household_id": [("raw_readings", "household_id")],
    "interval_start_utc": [("raw_readings", "reading_end_utc")],
    "interval_end_utc": [("raw_readings", "reading_end_utc")],
    "kwh": [("raw_readings", "kwh_text")],
    "raw_kwh": [("raw_readings", "kwh_text")],
    "source_file": [("raw_readings", "source_file")],
    "source_line": [("raw_readings", "source_line")],
}


class VeeConfig(dg.Config):
    """VEE thresholds (editable in the launchpad): defaults, bounds and meaning from ``VeeSettings``.

    Out-of-bounds, NaN or infinite values and inconsistent combinations fail the run before any SQL.
    """

    max_kwh_per_half_hour: float = VeeSettings.config_field("max_kwh_per_half_hour")
    max_gap_half_hours_to_estimate: int = VeeSettings.config_field("max_gap_half_hours_to_estimate")
    spike_iqr_multiplier: float = VeeSettings.config_field("spike_iqr_multiplier")
    spike_min_kwh: float = VeeSettings.config_field("spike_min_kwh")

    @model_validator(mode="after")
    def _consistent(self) -> "VeeConfig":
        self.settings()  # VeeSettings checks the combination; its message names the fields
        return self

    def settings(self) -> VeeSettings:
        return VeeSettings(**self.model_dump())


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            "clean_readings",
            deps=[raw_readings],
            group_name="clean",
            kinds={"duckdb", "spark"},
            owners=OWNERS,
            description="One row per (household, UTC half hour): actual readings that passed VEE and "
            "short-gap estimates (quality_code E, never used for response features).",
        ),
        dg.AssetSpec(
            "quarantined_readings",
            deps=[raw_readings],
            group_name="clean",
            kinds={"duckdb", "spark"},
            owners=OWNERS,
            description="Every rejected raw row with its file, line, rule id, reason and original text.",
        ),
        dg.AssetSpec(
            "household_month_coverage",
            deps=[raw_readings],
            group_name="clean",
            kinds={"duckdb", "spark"},
            owners=OWNERS,
            description="Per household and month: expected, actual, estimated and missing half hours.",
        ),
    ],
    check_specs=[
        dg.AssetCheckSpec(
            "conservation",
            asset="clean_readings",
            blocking=True,
            description="Per month: raw rows = clean actual rows + quarantined rows + collapsed "
            "exact duplicates + merged sub-interval parts (e.g. the hh:15 lines of 15-minute files, summed into "
            "the hh:30 row); and per source file: lines in the file = raw lines stored = clean actual "
            "+ quarantined + collapsed copies + merged parts of that file (clean.source_file_balance, with "
            "each file's detected reading interval). Nothing is lost.",
        ),
        *(schema_check_spec(name) for name in CLEAN_ASSETS),
    ],
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def clean(context: dg.AssetExecutionContext, config: VeeConfig, warehouse: Warehouse, engine: MeterEngine):
    """Validation, estimation and editing of the month(s) in the run, on the engine's half-hourly tables."""
    import polars as pl

    from assets.clean.clean_readings import (
        CLEAN_TABLE,
        COVERAGE_TABLE,
        QUARANTINE_TABLE,
        NoUsableReadings,
    )
    from assets.clean.schemas.clean_readings import CleanReadings
    from assets.clean.schemas.household_month_coverage import HouseholdMonthCoverage
    from assets.clean.schemas.quarantined_readings import QuarantinedReadings
    from assets.clean.vee_rules import RULES
    from assets.common.table_model import SchemaViolation

    tables = dict(zip((CLEAN_TABLE, QUARANTINE_TABLE, COVERAGE_TABLE), CLEAN_ASSETS, strict=True))
    start, end = month_window(context)
    settings = config.settings()
    try:
        with warehouse.get_connection() as con:
            result = engine.clean_window(con, start, end, settings)
    except SchemaViolation as violation:
        # Validated inside the transaction: nothing was committed.
        yield schema_check_failed(violating_asset(violation, tables, "clean_readings"), violation)
        raise
    except NoUsableReadings as refused:
        # One sentence naming the refused files (their lines are stored in the quarantine), no traceback.
        raise dg.Failure(description=str(refused), allow_retries=False) from None
    rows = {
        CLEAN_TABLE: result.clean_rows,
        QUARANTINE_TABLE: result.quarantined_rows,
        COVERAGE_TABLE: result.coverage_rows,
    }
    for table, asset in tables.items():
        yield schema_check_passed(asset, {table: rows[table]})
    rules = pl.DataFrame(
        {
            "rule_id": [r.rule_id for r in RULES],
            "action": [r.action for r in RULES],
            "rows": [result.rows_by_rule.get(r.rule_id, 0) for r in RULES],
        }
    )
    conservation = pl.DataFrame(
        [
            {
                "month": c.month,
                "raw": c.raw_rows,
                "clean_actual": c.clean_actual_rows,
                "quarantined": c.quarantined_rows,
                "collapsed_duplicates": c.collapsed_duplicates,
                "merged_parts": c.merged_parts,
                "holds": c.holds,
            }
            for c in result.conservation
        ]
    )
    dq = {
        "rows_by_rule": dg.MetadataValue.md(markdown_table(rules)),
        "mean_coverage": dg.MetadataValue.float(result.mean_coverage or 0.0),
        "households": dg.MetadataValue.int(result.households),
    }
    yield dg.MaterializeResult(
        asset_key="clean_readings",
        metadata={
            **table_metadata(
                CleanReadings,
                CLEAN_TABLE,
                result.clean_rows,
                lineage=CLEAN_LINEAGE,
                partition_row_count=result.clean_rows,
            ),
            "estimated_rows": result.estimated_rows,
            "spike_rows": result.spike_rows,
            **dq,
        },
    )
    yield dg.MaterializeResult(
        asset_key="quarantined_readings",
        metadata={
            **table_metadata(
                QuarantinedReadings,
                QUARANTINE_TABLE,
                result.quarantined_rows,
                partition_row_count=result.quarantined_rows,
            ),
            "rows_by_rule": dq["rows_by_rule"],
        },
    )
    yield dg.MaterializeResult(
        asset_key="household_month_coverage",
        metadata={
            **table_metadata(
                HouseholdMonthCoverage, COVERAGE_TABLE, result.coverage_rows, partition_row_count=result.coverage_rows
            ),
            "mean_coverage": dq["mean_coverage"],
        },
    )
    failed = [c for c in result.conservation if not c.holds]
    failed_files = [f for f in result.file_conservation if not f.holds]
    by_file = pl.DataFrame(
        [
            {
                "source_file": f.source_file,
                "lines_in_file": f.lines_in_file,
                "raw": f.raw_rows,
                "clean_actual": f.clean_actual_rows,
                "quarantined": f.quarantined_rows,
                "collapsed_duplicates": f.collapsed_duplicates,
                "merged_parts": f.merged_parts,
                "interval_minutes": f.interval_minutes,
                "holds": f.holds,
            }
            for f in (failed_files or result.file_conservation)[:50]
        ]
    )
    yield dg.AssetCheckResult(
        asset_key="clean_readings",
        check_name="conservation",
        passed=not failed and not failed_files,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "months_checked": len(result.conservation),
            "months_failing": dg.MetadataValue.json([str(c.month) for c in failed]),
            "balance": dg.MetadataValue.md(markdown_table(conservation) if conservation.height else "_(empty)_"),
            "files_checked": len(result.file_conservation),
            # files per detected reading interval (30: half-hourly; finer: summed; else refused, V13)
            "files_by_interval_minutes": dg.MetadataValue.json(
                dict(Counter(str(f.interval_minutes) for f in result.file_conservation))
            ),
            "files_failing": dg.MetadataValue.json([f.source_file for f in failed_files][:50]),
            # failing files first (else the first 50); every file and month: clean.source_file_balance
            "balance_by_file": dg.MetadataValue.md(markdown_table(by_file) if by_file.height else "_(empty)_"),
        },
    )
