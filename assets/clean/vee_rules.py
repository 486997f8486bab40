"""The catalogue of validation, estimation and editing (VEE) rules, and their thresholds.

This module is the one home of every VEE rule: its stable id, its action, what it means and the
SQL predicate that decides it. The clean SQL (``assets/clean/sql``) is assembled from these
predicates, the quarantine schema's allowed ids come from here and the README table lists them.

Rule ids are what analysts filter on in ``clean.quarantined_readings`` and what the data-quality
metadata counts, so they never change meaning once published.

A predicate is a trusted code constant, a boolean SQL expression over the named columns of what
the rule looks at (``scope``). Thresholds enter only as ``$name`` parameters named after the
:class:`VeeSettings` field (or :func:`layout_field_counts`); never as text.
"""

from __future__ import annotations

import re
from copy import copy
from dataclasses import dataclass, fields
from typing import Any

from pydantic import Field, model_validator
from pydantic.dataclasses import dataclass as pydantic_dataclass
from pydantic.fields import FieldInfo

ACTIONS = ("quarantine", "collapse", "flag", "estimate")
SCOPES = {
    "raw row": "one raw row: field_count, source_layout, household_id, reading_end_utc, reading_month (the "
    "partition month ingest filed it under), source_line, kwh_text, value = TRY_CAST(kwh_text AS DOUBLE), "
    "truncated_last_line and interval_seconds (of its file, from ingest's source-file index: the file's "
    "reading interval, NULL if it cannot be told) and parts_per_half_hour (readings of the file per half "
    "hour: 1800 / interval_seconds where that is a whole number of whole minutes, else NULL); row rules are "
    "tried in catalogue order, the first that holds wins",
    "half hour": "the valid rows of one (household, stamp) read more than once: n_rows, n_values",
    "sub-interval half hour": "the valid, unconflicted readings of a sub-half-hourly file that make up one "
    "(household, half hour): n_parts (distinct stamps), min_parts and max_parts (parts_per_half_hour of their "
    "files), half_hourly_rows (valid rows of a half-hourly file at the same half hour)",
    "household-month": "one actual reading (value) against its household-month quartiles q25, q75",
    "gap": "the run of missing half hours between two valid readings of a household",
}
PARAMETER = re.compile(r"\$([A-Za-z_]\w*)")


@dataclass(frozen=True)
class Rule:
    rule_id: str
    action: str  # one of ACTIONS
    description: str
    scope: str  # one of SCOPES: what the predicate's columns describe
    predicate: str  # boolean SQL over the scope's columns; thresholds as $parameters

    @property
    def parameters(self) -> tuple[str, ...]:
        """Names of the ``$parameters`` the predicate reads, in order of first use."""
        return tuple(dict.fromkeys(PARAMETER.findall(self.predicate)))


RULES: tuple[Rule, ...] = (
    # First: a file whose interval the pipeline cannot use is refused as a whole (every line, whatever
    # else is wrong with it): hourly or irregular readings are never interpolated into half hours.
    Rule(
        "V13_UNSUPPORTED_INTERVAL",
        "quarantine",
        "the file's readings are not half-hourly or finer: its spacing (modal difference between a household's "
        "consecutive stamps) does not divide 30 minutes, or it has too few stamps to tell and they are off the "
        ":00/:30 grid; never interpolated into half hours",
        "raw row",
        "parts_per_half_hour IS NULL",
    ),
    # Then: a cut line usually fails other rules too (fields missing), but the cause is the cut.
    Rule(
        "V12_TRUNCATED_LAST_LINE",
        "quarantine",
        "last line of a file without a final newline, cut short: it does not end like the file's other lines",
        "raw row",
        "source_line = truncated_last_line",
    ),
    Rule(
        "V01_MALFORMED_LINE",
        "quarantine",
        "wrong number of fields for the file's layout (truncated or extra columns)",
        "raw row",
        "field_count <> $layout_field_counts[source_layout]",
    ),
    Rule("V02_MISSING_HOUSEHOLD", "quarantine", "household id is empty", "raw row", "household_id IS NULL"),
    # Ids are stable, so the newer rules keep their numbers; their place in the catalogue is their
    # precedence: an id the register would refuse is reported as such whatever else is wrong.
    Rule(
        "V10_INVALID_HOUSEHOLD_ID",
        "quarantine",
        "household id breaks the register rule (letters, digits, _ and - only: no spaces, quotes, odd bytes)",
        "raw row",
        "NOT regexp_matches(household_id, $household_id_pattern)",
    ),
    Rule("V03_BAD_TIMESTAMP", "quarantine", "timestamp cannot be parsed", "raw row", "reading_end_utc IS NULL"),
    # Ingest files a line under its own month only when that month is a partition; any other
    # stamp (before the trial, in the gap, after the current month) is filed under its neighbours' month.
    Rule(
        "V11_OUT_OF_RANGE_TIMESTAMP",
        "quarantine",
        "timestamp in a month that can hold no readings (before the trial, the gap after it, the future): "
        "filed under its neighbours' month",
        "raw row",
        "CAST(date_trunc('month', reading_end_utc) AS DATE) <> reading_month",
    ),
    Rule(
        "V04_OFF_GRID_TIMESTAMP",
        "quarantine",
        "timestamp is not on the grid of the file's interval (:00/:30 for half-hourly files, every 15 minutes "
        "for 15-minute files, ...)",
        "raw row",
        "(minute(reading_end_utc) * 60) % interval_seconds <> 0 "
        "OR date_trunc('minute', reading_end_utc) <> reading_end_utc",
    ),
    Rule(
        "V05_NULL_VALUE",
        "quarantine",
        "value is empty or the string Null",
        "raw row",
        "kwh_text IS NULL OR lower(kwh_text) IN ('null', 'nan', 'na', '')",
    ),
    Rule(
        "V06_NON_NUMERIC_VALUE",
        "quarantine",
        "value is not a number",
        "raw row",
        "value IS NULL OR isnan(value) OR value IN (CAST('Infinity' AS DOUBLE), CAST('-Infinity' AS DOUBLE))",
    ),
    Rule("V07_NEGATIVE_VALUE", "quarantine", "negative import reading", "raw row", "value < 0"),
    Rule(
        "V08_IMPLAUSIBLE_VALUE",
        "quarantine",
        "value above the plausible maximum per half hour (pro rata for a shorter interval)",
        "raw row",
        "value * parts_per_half_hour > $max_kwh_per_half_hour",
    ),
    Rule(
        "V09_CONFLICTING_DUPLICATE",
        "quarantine",
        "same household and half hour (or sub-interval stamp) read twice with different values",
        "half hour",
        "n_values > 1",
    ),
    # After V09 (a conflicting part leaves its half hour incomplete) and before D01 (the copies of a
    # part of an incomplete half hour are quarantined, not collapsed): energy is never invented.
    Rule(
        "V14_INCOMPLETE_HALF_HOUR",
        "quarantine",
        "a part of a half hour of sub-half-hourly readings (e.g. 15- or 5-minute) whose half hour is incomplete "
        "(a part missing, invalid or conflicting) or mixes intervals: summed only when whole",
        "sub-interval half hour",
        "n_parts <> max_parts OR min_parts <> max_parts OR half_hourly_rows > 0",
    ),
    Rule(
        "D01_EXACT_DUPLICATE",
        "collapse",
        "same household, half hour (or sub-interval stamp) and value read more than once: kept once, counted",
        "half hour",
        "n_rows > 1 AND n_values = 1",
    ),
    Rule(
        "F01_SPIKE",
        "flag",
        "value far above the household's usual range in the month: flagged, kept",
        "household-month",
        "value > q75 + $spike_iqr_multiplier * (q75 - q25) AND value >= $spike_min_kwh",
    ),
    Rule(
        "E01_SHORT_GAP_INTERPOLATED",
        "estimate",
        "gap of at most the configured length filled by linear interpolation",
        "gap",
        "missing BETWEEN 1 AND $max_gap_half_hours_to_estimate",
    ),
)

# The reading intervals the clean stage sums into half hours: whole minutes that divide 30 (1, 2, 3, 5, 6,
# 10, 15, 30). The file's interval (``interval_seconds``, detected by ingest: assets/ingest/sql/file_intervals.sql)
# becomes the raw-row column parts_per_half_hour; NULL (V13) for any other interval or none.
HALF_HOUR_SECONDS = 1800
PARTS_PER_HALF_HOUR = (
    "CASE WHEN interval_seconds BETWEEN 60 AND 1800 AND interval_seconds % 60 = 0 AND 1800 % interval_seconds = 0 "
    "THEN CAST(1800 / interval_seconds AS INTEGER) END"
)

RULES_BY_ID = {rule.rule_id: rule for rule in RULES}
QUARANTINE_RULES = frozenset(r.rule_id for r in RULES if r.action == "quarantine")
ROW_RULES = tuple(r for r in RULES if r.scope == "raw row")


# Expected fields per text layout (V01); Parquet rows have no line to count and never fail V01.
def layout_field_counts() -> dict[str, int]:
    """Fields per line of each text layout (the one home is ``assets.ingest.source_layouts.LAYOUTS``)."""
    from assets.ingest.source_layouts import LAYOUTS  # polars: imported when a run needs it

    return {name: layout.field_count for name, layout in LAYOUTS.items()}


RULE_ID = re.compile(r"[A-Z][0-9]{2}_[A-Z_]+")  # ids are written into SQL as literals: keep them plain
for _rule in RULES:
    if not (RULE_ID.fullmatch(_rule.rule_id) and _rule.action in ACTIONS and _rule.scope in SCOPES):
        raise ValueError(f"malformed VEE rule {_rule}")


def first_failing_row_rule() -> str:
    """SQL ``CASE`` giving the id of the first row rule (catalogue order) whose predicate holds, else NULL."""
    whens = "".join(f"\n        WHEN {r.predicate} THEN '{r.rule_id}'" for r in ROW_RULES)
    return f"CASE{whens}\n    END"


def predicates() -> dict[str, str]:
    """Each rule's predicate, parenthesised, by rule id: the fragments the clean SQL is assembled from."""
    return {r.rule_id: f"({r.predicate})" for r in RULES}


def _threshold(default: float, description: str, **bounds: float) -> Any:
    return Field(default, description=description, allow_inf_nan=False, **bounds)


@pydantic_dataclass(frozen=True)
class VeeSettings:
    """Thresholds of the VEE rules (utility-configurable): the one home of their defaults and bounds.

    NaN, infinite or out-of-bounds values and inconsistent combinations raise a pydantic
    ``ValidationError`` (a ``ValueError``) naming the field, before any SQL runs. ``VeeConfig``
    (the Dagster run config) takes its fields from here (:meth:`config_field`).
    """

    max_kwh_per_half_hour: float = _threshold(
        24.0, "V08: readings above this many kWh per half hour are implausible (200 A x 240 V).", gt=0, le=1000
    )
    max_gap_half_hours_to_estimate: int = _threshold(
        6, "E01: gaps of at most this many half hours (3 h) are interpolated; 0 = never estimate.", ge=0, le=48
    )
    spike_iqr_multiplier: float = _threshold(
        6.0, "F01: a spike is above q75 + this x IQR of the household-month ...", gt=0, le=1000
    )
    spike_min_kwh: float = _threshold(2.0, "F01: ... and at least this many kWh.", ge=0, le=1000)

    @model_validator(mode="after")
    def _consistent(self) -> VeeSettings:
        if self.spike_min_kwh > self.max_kwh_per_half_hour:
            raise ValueError(
                f"spike_min_kwh ({self.spike_min_kwh}) must not exceed max_kwh_per_half_hour "
                f"({self.max_kwh_per_half_hour}): readings above the maximum are quarantined, so no spike "
                "could ever be flagged"
            )
        return self

    @classmethod
    def config_field(cls, name: str) -> FieldInfo:
        """A copy of one threshold's pydantic field (default, description, bounds), for ``VeeConfig``."""
        return copy(cls.__pydantic_fields__[name])


def rule_parameters(settings: VeeSettings) -> dict[str, Any]:
    """Every value a rule predicate may read, by ``$parameter`` name."""
    from assets.ingest.schemas.households import HOUSEHOLD_ID_PATTERN  # pandera: imported when a run needs it

    counts = layout_field_counts()
    return {
        **{f.name: getattr(settings, f.name) for f in fields(settings)},
        # anchored with \A and \z: a full match in RE2 (DuckDB) and java.util.regex (Spark) alike
        # ("$" would let a final newline through on Spark)
        "household_id_pattern": rf"\A(?:{HOUSEHOLD_ID_PATTERN})\z",
        # key/value lists make the DuckDB client bind a MAP (a plain dict would bind a STRUCT)
        "layout_field_counts": {"key": list(counts), "value": list(counts.values())},
    }
