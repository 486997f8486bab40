"""VEE for a window of months: ``ingest.raw_readings`` -> clean, quarantined, coverage (DuckDB SQL).

Per raw row, the first failing validation rule (V01..V08, in catalogue order) sends it to
quarantine. Valid rows of the same (household, half hour) with one value are collapsed (D01,
counted); with different values they all go to quarantine (V09). Spikes are flagged (F01), short
gaps are estimated (E01, quality code E) and long gaps stay missing. Each call replaces the
window in one transaction, so re-running a month never duplicates and a failure stores nothing.

Conservation, per month: raw rows = clean actual rows + quarantined rows + collapsed duplicates.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb

from assets.clean.schemas.clean_readings import CleanReadings
from assets.clean.schemas.household_month_coverage import HouseholdMonthCoverage
from assets.clean.schemas.quarantined_readings import QuarantinedReadings
from assets.clean.vee_rules import RULES_BY_ID, VeeSettings
from assets.common.table_model import create_table_if_missing, validate_query
from assets.common.warehouse import transaction
from assets.ingest.raw_ingest import RAW_TABLE

CLEAN_TABLE = "clean.clean_readings"
QUARANTINE_TABLE = "clean.quarantined_readings"
COVERAGE_TABLE = "clean.household_month_coverage"
EXPECTED_FIELDS = "CASE source_layout WHEN 'lds_6col' THEN 6 WHEN 'lds_4col' THEN 4 ELSE 3 END"


@dataclass(frozen=True)
class Conservation:
    month: date
    raw_rows: int
    clean_actual_rows: int
    quarantined_rows: int
    collapsed_duplicates: int

    @property
    def holds(self) -> bool:
        return self.raw_rows == self.clean_actual_rows + self.quarantined_rows + self.collapsed_duplicates


@dataclass
class CleanResult:
    conservation: list[Conservation]
    rows_by_rule: dict[str, int]
    clean_rows: int
    estimated_rows: int
    quarantined_rows: int
    spike_rows: int
    households: int
    coverage_rows: int
    mean_coverage: float | None


def _sql_quote(text: str) -> str:
    return text.replace("'", "''")


def _classified_sql(where: str, settings: VeeSettings) -> str:
    """Every raw row of ``where`` with its numeric value and the first failing rule (or NULL)."""
    reason = "\n".join(
        f"WHEN {cond} THEN '{rule}'"
        for rule, cond in [
            ("V01_MALFORMED_LINE", f"field_count <> {EXPECTED_FIELDS}"),
            ("V02_MISSING_HOUSEHOLD", "household_id IS NULL"),
            ("V03_BAD_TIMESTAMP", "reading_end_utc IS NULL"),
            ("V04_OFF_GRID_TIMESTAMP", "minute(reading_end_utc) NOT IN (0, 30) OR microsecond(reading_end_utc) <> 0"),
            ("V05_NULL_VALUE", "kwh_text IS NULL OR lower(kwh_text) IN ('null', 'nan', 'na', '')"),
            ("V06_NON_NUMERIC_VALUE", "value IS NULL OR NOT isfinite(value)"),
            ("V07_NEGATIVE_VALUE", "value < 0"),
            ("V08_IMPLAUSIBLE_VALUE", f"value > {float(settings.max_kwh_per_half_hour)}"),
        ]
    )
    return f"""
        SELECT household_id, reading_end_utc, value, source_file, source_line, reading_month,
               CASE {reason} END AS rule_id
        FROM (SELECT *, TRY_CAST(kwh_text AS DOUBLE) AS value FROM {RAW_TABLE} WHERE {where})
    """


def _stage(con: duckdb.DuckDBPyConnection, start: date, end: date, settings: VeeSettings) -> None:
    """Temporary tables: classified rows of the window (+ a margin of valid anchors for gaps)."""
    margin = f"INTERVAL {(settings.max_gap_half_hours_to_estimate + 1) * 30} MINUTE"
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _classified AS
        {_classified_sql(f"reading_month >= DATE '{start}' AND reading_month < DATE '{end}'", settings)}"""
    )
    # Stamps read more than once (rare): one value -> exact duplicates (D01), several -> V09.
    con.execute(
        """CREATE OR REPLACE TEMP TABLE _dupkeys AS
        WITH keys AS (
            SELECT household_id, reading_end_utc FROM _classified WHERE rule_id IS NULL
            GROUP BY household_id, reading_end_utc HAVING count(*) > 1)
        SELECT household_id, reading_end_utc, count(*) AS n_rows, count(DISTINCT value) AS n_values,
               min((source_file, source_line)) AS first_src
        FROM _classified JOIN keys USING (household_id, reading_end_utc)
        WHERE rule_id IS NULL
        GROUP BY household_id, reading_end_utc"""
    )
    # Anchors from neighbouring months (valid, unambiguous) so gaps at month edges can be filled.
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE _anchors AS
        SELECT household_id, reading_end_utc, min(value) AS value
        FROM ({
            _classified_sql(
                f"reading_month >= DATE '{start}' - INTERVAL 1 MONTH"
                f" AND reading_month < DATE '{end}' + INTERVAL 1 MONTH"
                f" AND (reading_month < DATE '{start}' OR reading_month >= DATE '{end}')",
                settings,
            )
        })
        WHERE rule_id IS NULL
          AND reading_end_utc >= TIMESTAMP '{start}' - {margin}
          AND reading_end_utc < TIMESTAMP '{end}' + {margin}
        GROUP BY household_id, reading_end_utc HAVING count(DISTINCT value) = 1"""
    )


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
    for table, model in (
        (CLEAN_TABLE, CleanReadings),
        (QUARANTINE_TABLE, QuarantinedReadings),
        (COVERAGE_TABLE, HouseholdMonthCoverage),
    ):
        create_table_if_missing(con, table, model)
    month = start.replace(day=1)
    while month < end:
        following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
        _clean_month(con, month, following, settings)
        month = following
    return _summarise(con, f"reading_month >= DATE '{start}' AND reading_month < DATE '{end}'")


def _clean_month(con: duckdb.DuckDBPyConnection, start: date, end: date, settings: VeeSettings) -> None:
    window = f"reading_month >= DATE '{start}' AND reading_month < DATE '{end}'"
    max_gap = int(settings.max_gap_half_hours_to_estimate)
    with transaction(con):
        _stage(con, start, end, settings)
        for table in (CLEAN_TABLE, QUARANTINE_TABLE, COVERAGE_TABLE):
            con.execute(f"DELETE FROM {table} WHERE {window}")
        reasons = " ".join(f"WHEN '{r.rule_id}' THEN '{_sql_quote(r.description)}'" for r in RULES_BY_ID.values())
        con.execute(
            """CREATE OR REPLACE TEMP TABLE _rejected AS
            SELECT source_file, source_line, rule_id FROM _classified WHERE rule_id IS NOT NULL
            UNION ALL
            SELECT c.source_file, c.source_line, 'V09_CONFLICTING_DUPLICATE'
            FROM _classified c JOIN _dupkeys d USING (household_id, reading_end_utc)
            WHERE c.rule_id IS NULL AND d.n_values > 1"""
        )
        con.execute(
            f"""INSERT INTO {QUARANTINE_TABLE}
            SELECT r.source_file, r.source_line, r.household_id, r.reading_ts_text, r.kwh_text, r.raw_line,
                   x.rule_id, CASE x.rule_id {reasons} END, r.reading_month
            FROM {RAW_TABLE} r JOIN _rejected x USING (source_file, source_line)
            WHERE r.{window}"""
        )
        # Actual rows, with the spike flag from the household-month distribution.
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _actual AS
            WITH ok AS (
                SELECT c.household_id, c.reading_end_utc, c.value, c.reading_month,
                       coalesce(d.n_rows, 1) AS n_rows, c.source_file, c.source_line
                FROM _classified c LEFT JOIN _dupkeys d USING (household_id, reading_end_utc)
                WHERE c.rule_id IS NULL
                  AND (d.household_id IS NULL
                       OR (d.n_values = 1 AND (c.source_file, c.source_line) = d.first_src))),
            stats AS (
                SELECT household_id, reading_month,
                       quantile_cont(value, 0.25) AS q25, quantile_cont(value, 0.75) AS q75
                FROM ok GROUP BY ALL)
            SELECT ok.household_id,
                   ok.reading_end_utc - INTERVAL 30 MINUTE AS interval_start_utc,
                   ok.reading_end_utc AS interval_end_utc,
                   ok.value AS kwh, ok.value AS raw_kwh, 'A' AS quality_code,
                   (ok.value > s.q75 + {float(settings.spike_iqr_multiplier)} * (s.q75 - s.q25)
                    AND ok.value >= {float(settings.spike_min_kwh)}) AS is_spike,
                   CAST(ok.n_rows - 1 AS INTEGER) AS duplicate_rows,
                   ok.source_file, ok.source_line,
                   ok.reading_month
            FROM ok JOIN stats s USING (household_id, reading_month)"""
        )
        # Short gaps between consecutive actual readings (anchors from adjacent months included).
        con.execute(
            f"""CREATE OR REPLACE TEMP TABLE _estimated AS
            WITH points AS (
                SELECT household_id, interval_end_utc AS t, kwh AS v FROM _actual
                UNION ALL SELECT household_id, reading_end_utc, value FROM _anchors),
            steps AS (
                SELECT household_id, t, v,
                       lead(t) OVER w AS t_next, lead(v) OVER w AS v_next
                FROM points WINDOW w AS (PARTITION BY household_id ORDER BY t)),
            gaps AS (
                SELECT *, CAST(epoch(t_next - t) / 1800 AS INTEGER) - 1 AS missing
                FROM steps WHERE t_next IS NOT NULL),
            filled AS (
                SELECT household_id, t + to_minutes(CAST(30 * k AS BIGINT)) AS interval_end_utc,
                       v + (v_next - v) * k / (missing + 1) AS kwh
                FROM gaps, range(1, missing + 1) AS r(k)
                WHERE missing BETWEEN 1 AND {max_gap})
            SELECT household_id, interval_end_utc - INTERVAL 30 MINUTE AS interval_start_utc, interval_end_utc,
                   kwh, CAST(NULL AS DOUBLE) AS raw_kwh, 'E' AS quality_code, false AS is_spike,
                   0 AS duplicate_rows, CAST(NULL AS VARCHAR) AS source_file, CAST(NULL AS BIGINT) AS source_line,
                   CAST(date_trunc('month', interval_end_utc) AS DATE) AS reading_month
            FROM filled
            WHERE interval_end_utc >= TIMESTAMP '{start}' AND interval_end_utc < TIMESTAMP '{end}'"""
        )
        con.execute(f"INSERT INTO {CLEAN_TABLE} SELECT * FROM _actual UNION ALL SELECT * FROM _estimated")
        con.execute(
            f"""INSERT INTO {COVERAGE_TABLE}
            WITH hh AS (
                SELECT household_id, reading_month FROM {CLEAN_TABLE} WHERE {window}
                UNION SELECT household_id, reading_month FROM {QUARANTINE_TABLE}
                WHERE {window} AND household_id IS NOT NULL),
            c AS (
                SELECT household_id, reading_month,
                       count(*) FILTER (WHERE quality_code = 'A') AS actual,
                       count(*) FILTER (WHERE quality_code = 'E') AS estimated,
                       count(*) FILTER (WHERE is_spike) AS spikes
                FROM {CLEAN_TABLE} WHERE {window} GROUP BY ALL),
            q AS (SELECT household_id, reading_month, count(*) AS n FROM {QUARANTINE_TABLE}
                  WHERE {window} GROUP BY ALL)
            SELECT hh.household_id, hh.reading_month,
                   CAST(48 * day(last_day(hh.reading_month)) AS INTEGER) AS expected,
                   CAST(coalesce(c.actual, 0) AS INTEGER), CAST(coalesce(c.estimated, 0) AS INTEGER),
                   CAST(48 * day(last_day(hh.reading_month)) - coalesce(c.actual, 0) - coalesce(c.estimated, 0)
                        AS INTEGER),
                   CAST(coalesce(q.n, 0) AS INTEGER), CAST(coalesce(c.spikes, 0) AS INTEGER),
                   coalesce(c.actual, 0) / (48 * day(last_day(hh.reading_month)))
            FROM hh LEFT JOIN c USING (household_id, reading_month) LEFT JOIN q USING (household_id, reading_month)"""
        )
        # Validate what was written (batch by batch) before the transaction commits.
        validate_query(CleanReadings, con, f"SELECT * FROM {CLEAN_TABLE} WHERE {window}", CLEAN_TABLE)
        validate_query(QuarantinedReadings, con, f"SELECT * FROM {QUARANTINE_TABLE} WHERE {window}", QUARANTINE_TABLE)
        validate_query(HouseholdMonthCoverage, con, f"SELECT * FROM {COVERAGE_TABLE} WHERE {window}", COVERAGE_TABLE)
    for temp in ("_classified", "_dupkeys", "_anchors", "_rejected", "_actual", "_estimated"):
        con.execute(f"DROP TABLE IF EXISTS {temp}")


def _summarise(con: duckdb.DuckDBPyConnection, window: str) -> CleanResult:
    conservation = [
        Conservation(*row)
        for row in con.execute(
            f"""WITH r AS (SELECT reading_month, count(*) AS n FROM {RAW_TABLE} WHERE {window} GROUP BY ALL),
                c AS (SELECT reading_month, count(*) FILTER (WHERE quality_code = 'A') AS a,
                             coalesce(sum(duplicate_rows), 0) AS d
                      FROM {CLEAN_TABLE} WHERE {window} GROUP BY ALL),
                q AS (SELECT reading_month, count(*) AS n FROM {QUARANTINE_TABLE} WHERE {window} GROUP BY ALL)
            SELECT r.reading_month, r.n, coalesce(c.a, 0), coalesce(q.n, 0), coalesce(c.d, 0)
            FROM r LEFT JOIN c USING (reading_month) LEFT JOIN q USING (reading_month)
            ORDER BY r.reading_month"""
        ).fetchall()
    ]
    rows_by_rule = dict(
        con.execute(
            f"""SELECT rule_id, count(*) FROM {QUARANTINE_TABLE} WHERE {window} GROUP BY ALL
            UNION ALL SELECT 'D01_EXACT_DUPLICATE', coalesce(sum(duplicate_rows), 0) FROM {CLEAN_TABLE} WHERE {window}
            UNION ALL SELECT 'F01_SPIKE', count(*) FROM {CLEAN_TABLE} WHERE {window} AND is_spike
            UNION ALL SELECT 'E01_SHORT_GAP_INTERPOLATED', count(*) FROM {CLEAN_TABLE}
                      WHERE {window} AND quality_code = 'E'"""
        ).fetchall()
    )
    clean_rows, estimated, spikes, households = con.execute(
        f"""SELECT count(*), count(*) FILTER (WHERE quality_code = 'E'), count(*) FILTER (WHERE is_spike),
                   count(DISTINCT household_id) FROM {CLEAN_TABLE} WHERE {window}"""
    ).fetchall()[0]
    quarantined = con.execute(f"SELECT count(*) FROM {QUARANTINE_TABLE} WHERE {window}").fetchall()[0][0]
    coverage_rows, mean_cov = con.execute(
        f"SELECT count(*), avg(coverage) FROM {COVERAGE_TABLE} WHERE {window}"
    ).fetchall()[0]
    return CleanResult(
        conservation=conservation,
        rows_by_rule={k: int(v) for k, v in rows_by_rule.items()},
        clean_rows=int(clean_rows),
        estimated_rows=int(estimated),
        quarantined_rows=int(quarantined),
        spike_rows=int(spikes),
        households=int(households),
        coverage_rows=int(coverage_rows),
        mean_coverage=float(mean_cov) if mean_cov is not None else None,
    )
