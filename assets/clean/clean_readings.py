"""VEE for a window of months: ``ingest.raw_readings`` -> clean, quarantined, coverage (DuckDB SQL).

Per raw row, the first failing row rule (V13, V12, V01..V08, V10, V11; catalogue order) sends it to
quarantine: V13 every line of a file whose reading interval (detected per file by ingest) is not
half-hourly or a whole-minute divisor of it (hourly, irregular: never interpolated). Valid rows of the
same (household, stamp) with one value are collapsed (D01, counted); with different values they all
go to quarantine (V09). Readings of a sub-half-hourly file (15-, 5-minute, ...) are summed exactly
into half hours, each stored as the row of its end part; a half hour missing a part, or with a part
that failed a rule, has its valid parts quarantined (V14). Spikes are flagged (F01), short
gaps are estimated (E01, quality code E) and long gaps stay missing. Each call replaces the
window in one transaction, so re-running a month never duplicates and a failure stores nothing.

Conservation, per month: raw rows = clean actual rows + quarantined rows + collapsed duplicates +
merged parts (the sub-interval lines summed into a row that names another line); and per source file:
lines in the file (ingest's count) = raw lines stored = clean actual rows + quarantined rows +
collapsed duplicates + merged parts, where a collapsed copy or a merged part counts in its own file
and month (``clean.source_file_balance``, stored per file and month, is the queryable form of that
balance).

A month is cleaned by named stages, one SQL statement each (``sql/stage_*.sql``), that build temp
tables; then the staged rows are validated and swapped in. The rule predicates in that SQL come
from the catalogue in ``vee_rules.py``; months and thresholds are bound as ``$parameters``.

Where a month's time goes, largest first (``make bench`` measures it): writing the clean rows into
the stored table (column compression), classifying (the rule ``CASE``: V10's regular expression
and V05's ``lower`` cost most; the raw month's scan is cheap), the staged actual rows (the
household-month quartiles of F01, and the temp table: each staged string column costs), validating
the staged rows with pandera (mostly the Arrow transfer of the string columns), the duplicate-key
aggregate. Every half-hourly table is read from temp tables built once; the raw month is scanned
once (plus the edges of its neighbours for the gap anchors). Gap filling sorts only the households
whose points leave a gap (a household's points are gap-free exactly when they span count - 1 half
hours). The classification is not folded into ingest: it would save only the raw scan and the temp
table, and would bind the row rules' settings (V08's threshold) to the ingest run, so a re-clean
with other settings would need a re-ingest.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb

from assets.clean.schemas.clean_readings import CleanReadings
from assets.clean.schemas.household_month_coverage import HouseholdMonthCoverage
from assets.clean.schemas.quarantined_readings import QuarantinedReadings
from assets.clean.schemas.source_file_balance import SourceFileBalance
from assets.clean.vee_rules import (
    PARAMETER,
    PARTS_PER_HALF_HOUR,
    RULES,
    VeeSettings,
    first_failing_row_rule,
    predicates,
    rule_parameters,
)
from assets.common.months import add_months
from assets.common.sql import load_sql, qualified_name, quote_identifier
from assets.common.table_model import create_table_if_missing, validate_query
from assets.common.warehouse import transaction
from assets.ingest.raw_ingest import INDEX_TABLE, RAW_TABLE, ensure_index

CLEAN_TABLE = "clean.clean_readings"
QUARANTINE_TABLE = "clean.quarantined_readings"
COVERAGE_TABLE = "clean.household_month_coverage"
BALANCE_TABLE = "clean.source_file_balance"


@dataclass(frozen=True)
class Conservation:
    month: date
    raw_rows: int
    clean_actual_rows: int
    quarantined_rows: int
    collapsed_duplicates: int
    merged_parts: int

    @property
    def holds(self) -> bool:
        return self.raw_rows == (
            self.clean_actual_rows + self.quarantined_rows + self.collapsed_duplicates + self.merged_parts
        )


@dataclass(frozen=True)
class FileConservation:
    """Where the lines of one source file went, over the checked window."""

    source_file: str
    lines_in_file: int | None  # ingest's count of the file's data lines; None if the file spans other months
    raw_rows: int
    clean_actual_rows: int
    quarantined_rows: int
    collapsed_duplicates: int
    merged_parts: int
    interval_minutes: float | None  # the file's detected reading interval; None: too few stamps to tell

    @property
    def holds(self) -> bool:
        stored = self.lines_in_file is None or self.lines_in_file == self.raw_rows
        return stored and self.raw_rows == (
            self.clean_actual_rows + self.quarantined_rows + self.collapsed_duplicates + self.merged_parts
        )


@dataclass
class CleanResult:
    conservation: list[Conservation]
    file_conservation: list[FileConservation]
    rows_by_rule: dict[str, int]
    clean_rows: int
    estimated_rows: int
    quarantined_rows: int
    spike_rows: int
    households: int
    coverage_rows: int
    mean_coverage: float | None


Params = dict[str, Any]  # values by $parameter name; each statement binds the ones it names
TABLES = {
    "raw": RAW_TABLE,
    "clean": CLEAN_TABLE,
    "quarantine": QUARANTINE_TABLE,
    "coverage": COVERAGE_TABLE,
    "balance": BALANCE_TABLE,
    "source_index": INDEX_TABLE,
}
TEMP_TABLES = (
    "_classified",
    "_dupkeys",
    "_halfhours",
    "_parts",
    "_anchors",
    "_quarantined",
    "_actual",
    "_estimated",
    "_coverage",
    "_file_balance",
)


# The end of the half hour a valid stamp belongs to (stamps end their interval: hh:15 and hh:30 end parts
# of the half hour ending hh:30, hh:45 and hh+1:00 of the one ending hh+1:00); a half-hourly stamp is its own.
HALF_HOUR_END = "reading_end_utc + ((60 - minute(reading_end_utc)) % 30) * INTERVAL 1 MINUTE"


def _sql(name: str, **fragments: str) -> str:
    """``sql/<name>.sql`` with its ``{placeholders}`` filled: quoted table names, rule predicates
    from the catalogue (trusted code constants), ``fragments``. Values stay ``$parameters``."""
    return load_sql(__file__, name).format(
        **{key: qualified_name(table) for key, table in TABLES.items()},
        **predicates(),
        first_failing_row_rule=first_failing_row_rule(),
        parts_per_half_hour=PARTS_PER_HALF_HOUR,
        half_hour_end=HALF_HOUR_END,
        **fragments,
    )


def _execute(con: duckdb.DuckDBPyConnection, sql: str, values: Params) -> duckdb.DuckDBPyConnection:
    """Run ``sql`` binding, from ``values``, exactly the ``$parameters`` it names."""
    return con.execute(sql, {name: values[name] for name in dict.fromkeys(PARAMETER.findall(sql))})


def month_parameters(start: date, end: date, settings: VeeSettings) -> Params:
    """Every value the clean SQL of months ``start <= m < end`` may bind, by ``$parameter`` name."""
    return {
        **rule_parameters(settings),
        "start": start,
        "end": end,
        # rule id -> description, bound as a MAP (key/value lists)
        "reasons": {"key": [r.rule_id for r in RULES], "value": [r.description for r in RULES]},
    }


def classify(con: duckdb.DuckDBPyConnection, params: Params) -> None:
    """``_classified``: the month's raw rows with their value and first failing row rule (catalogue order)."""
    _execute(
        con,
        _sql("stage_classified", classified=_sql("classify")),
        params | {"from_month": params["start"], "to_month": params["end"]},
    )


def find_duplicate_keys(con: duckdb.DuckDBPyConnection, params: Params) -> None:
    """``_dupkeys``: half hours with more than one valid row, their row and value counts (D01/V09)."""
    _execute(con, _sql("stage_duplicate_keys"), params)


def sum_half_hours(con: duckdb.DuckDBPyConnection, params: Params) -> None:
    """``_halfhours``: half hours of sub-half-hourly readings, their summed kWh and whether whole (V14)."""
    window = {"from_month": add_months(params["start"], -1), "to_month": add_months(params["end"], 1)}
    _execute(con, _sql("stage_half_hours", classified=_sql("classify")), params | window)


def place_parts(con: duckdb.DuckDBPyConnection, params: Params) -> None:
    """``_parts``: what became of each valid sub-half-hourly row (row, merged, collapsed, V09, V14)."""
    _execute(con, _sql("stage_parts"), params)


def collect_anchors(con: duckdb.DuckDBPyConnection, params: Params) -> None:
    """``_anchors``: valid readings of the neighbouring months close enough to bound a short gap."""
    window = {"from_month": add_months(params["start"], -1), "to_month": add_months(params["end"], 1)}
    _execute(con, _sql("stage_anchors", classified=_sql("classify")), params | window)


def quarantine_rows(con: duckdb.DuckDBPyConnection, params: Params) -> None:
    """``_quarantined``: rejected rows (row rules and V09) with their raw text, rule and reason."""
    _execute(con, _sql("stage_quarantined"), params)


def flag_actuals(con: duckdb.DuckDBPyConnection, params: Params) -> None:
    """``_actual``: valid readings, exact duplicates collapsed (D01), spikes flagged (F01)."""
    _execute(con, _sql("stage_actual"), params)


def estimate_gaps(con: duckdb.DuckDBPyConnection, params: Params) -> None:
    """``_estimated``: short gaps of the month linearly interpolated (E01)."""
    _execute(con, _sql("stage_estimated"), params)


def compute_coverage(con: duckdb.DuckDBPyConnection, params: Params) -> None:
    """``_coverage``: expected / actual / estimated / missing half hours per household-month."""
    _execute(con, _sql("stage_coverage"), params)


def balance_files(con: duckdb.DuckDBPyConnection, params: Params) -> None:
    """``_file_balance``: per source file, its raw lines and where they went (collapsed copies per file)."""
    _execute(con, _sql("stage_file_balance"), params)


STAGES = (
    classify,
    find_duplicate_keys,
    sum_half_hours,
    place_parts,
    collect_anchors,
    quarantine_rows,
    flag_actuals,
    estimate_gaps,
    compute_coverage,
    balance_files,
)
# The stored clean rows: the staged actual rows (only their varying columns were staged), then the estimates.
CLEAN_ROWS = """SELECT household_id, interval_end_utc - INTERVAL 30 MINUTE AS interval_start_utc, interval_end_utc,
       kwh, kwh AS raw_kwh, 'A' AS quality_code, is_spike, duplicate_rows, source_file, source_line, reading_month
FROM _actual
UNION ALL SELECT * FROM _estimated"""
# What each stored table receives from the staged month, and the schema that checks it first.
OUTPUTS = (
    (CLEAN_TABLE, CleanReadings, CLEAN_ROWS),
    (QUARANTINE_TABLE, QuarantinedReadings, "SELECT * FROM _quarantined"),
    (COVERAGE_TABLE, HouseholdMonthCoverage, "SELECT * FROM _coverage"),
    (BALANCE_TABLE, SourceFileBalance, "SELECT * FROM _file_balance"),
)


def replace_month(con: duckdb.DuckDBPyConnection, params: Params) -> None:
    """Validate the staged rows, then swap them in for the month's stored rows."""
    for table, model, rows in OUTPUTS:
        validate_query(model, con, rows, table)
    for table, _, rows in OUTPUTS:
        _execute(
            con, f"DELETE FROM {qualified_name(table)} WHERE reading_month >= $start AND reading_month < $end", params
        )
        con.execute(f"INSERT INTO {qualified_name(table)} {rows}")


def clean_window(
    con: duckdb.DuckDBPyConnection, start: date, end: date, settings: VeeSettings | None = None
) -> CleanResult:
    """Replace the clean, quarantine and coverage rows of months ``start <= m < end``.

    Months are cleaned one at a time, each in its own transaction, so memory is bounded by one
    month of readings however long the range (a month's work needs only its own rows plus a few
    hours of the neighbouring months as anchors for gap estimation). A failure leaves every month
    either fully replaced or untouched.
    """
    settings = settings or VeeSettings()
    ensure_index(con)
    for table, model, _ in OUTPUTS:
        create_table_if_missing(con, table, model)
    # a balance table of an older version gains the newer columns (appended, in the schema's order)
    for column, sql_type in (("merged_parts", "BIGINT DEFAULT 0"), ("interval_minutes", "DOUBLE")):
        table, name = qualified_name(BALANCE_TABLE), quote_identifier(column)
        con.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {name} {sql_type}")
    month = start.replace(day=1)
    while month < end:
        following = add_months(month, 1)
        clean_month(con, month_parameters(month, following, settings))
        month = following
    result = _summarise(con, {"start": start, "end": end})
    refuse_if_nothing_remains(con, result, start, end)
    return result


def clean_month(con: duckdb.DuckDBPyConnection, params: Params) -> None:
    """Clean one month (``params`` from :func:`month_parameters`) in one transaction."""
    try:
        with transaction(con):
            for stage in STAGES:
                stage(con, params)
            replace_month(con, params)
    finally:
        for temp in TEMP_TABLES:
            con.execute(f"DROP TABLE IF EXISTS {quote_identifier(temp)}")


class NoUsableReadings(ValueError):
    """The window holds raw lines but no clean reading, and files were refused for their interval (V13)."""


def _minutes(value: float | None) -> str:
    if value is None:
        return "too few stamps to tell, off the :00/:30 grid"
    return f"{value:g}-minute spacing"


def refuse_if_nothing_remains(con: Any, result: CleanResult, start: date, end: date) -> None:
    """Raise :class:`NoUsableReadings`, one sentence naming the refused files and what to do, when no
    clean reading remains in the window and some file was refused for its interval (V13). Called after
    the months are stored: the refused lines stay queryable in the quarantine."""
    if result.clean_rows or not result.rows_by_rule.get("V13_UNSUPPORTED_INTERVAL"):
        return
    refused = _execute(con, _sql("refused_files"), {"start": start, "end": end}).fetchall()
    files = "; ".join(f"{name} ({_minutes(minutes)})" for name, minutes in refused[:20])
    more = f"; and {len(refused) - 20} more" if len(refused) > 20 else ""
    last = add_months(end, -1)
    months = f"{start:%Y-%m}" if last <= start else f"{start:%Y-%m} to {last:%Y-%m}"
    raise NoUsableReadings(
        f"No readings remain for {months}: {len(refused)} readings file(s) have a reading "
        f"interval this pipeline cannot use ({files}{more}), and their lines are in clean.quarantined_readings "
        "under V13_UNSUPPORTED_INTERVAL; supply half-hourly readings, or finer ones whose interval divides 30 "
        "minutes (15, 10 or 5 minutes, summed into half hours), as hourly or irregular readings are never "
        "interpolated into half hours."
    )


def _summarise(con: duckdb.DuckDBPyConnection, window: Params) -> CleanResult:
    conservation = [Conservation(*row) for row in _execute(con, _sql("conservation"), window).fetchall()]
    by_file = [FileConservation(*row) for row in _execute(con, _sql("conservation_by_file"), window).fetchall()]
    rows_by_rule = dict(_execute(con, _sql("rows_by_rule"), window).fetchall())
    ((clean_rows, estimated, spikes, households, quarantined, coverage_rows, mean_cov),) = _execute(
        con, _sql("totals"), window
    ).fetchall()
    return CleanResult(
        conservation=conservation,
        file_conservation=by_file,
        rows_by_rule={k: int(v) for k, v in rows_by_rule.items()},
        clean_rows=int(clean_rows),
        estimated_rows=int(estimated),
        quarantined_rows=int(quarantined),
        spike_rows=int(spikes),
        households=int(households),
        coverage_rows=int(coverage_rows),
        mean_coverage=float(mean_cov) if mean_cov is not None else None,
    )
