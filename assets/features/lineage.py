"""Column lineage of the feature tables: for each output column, the input (table, column) pairs
that feed it. Plain data, for Dagster's ``TableColumnLineage`` metadata.

Input table names are the asset names: clean_readings, tariff_schedule, households, and the feature
tables themselves for the downstream ones.
"""

from __future__ import annotations

from assets.features.catalogue import CATALOGUE
from assets.features.schemas.feature_exclusions import EXCLUSION_COLS
from assets.features.schemas.household_features import HOUSEHOLD_FEATURE_COLS
from assets.features.schemas.lifestyle_features import LIFESTYLE_COLS
from assets.features.schemas.tariff_response_summary import CURVE_COLS, SUMMARY_COLS
from assets.features.schemas.treatment_features import EVENT_RESPONSE_COLS, TREATMENT_COLS

Lineage = dict[str, list[tuple[str, str]]]

_R = "clean_readings"
_S = "tariff_schedule"
_H = "households"
ID = [(_R, "household_id")]
ACTUAL = [(_R, "household_id"), (_R, "interval_start_utc"), (_R, "quality_code")]
KWH = [*ACTUAL, (_R, "kwh")]
SCHEDULE = [(_S, "interval_start_utc"), (_S, "band"), (_S, "event_id")]
EVENTS = [*SCHEDULE, (_S, "event_start_local")]
GROUP = [(_H, "household_id"), (_H, "tariff_group")]
DID = [*KWH, *EVENTS, *GROUP]
# inputs of a catalogued feature, by its ``source`` (assets/features/catalogue.py)
SOURCES = {"actual": ACTUAL, "kwh": KWH, "did": DID}


def _lifestyle(with_schedule: bool) -> Lineage:
    extra = [(_S, "interval_start_utc"), (_S, "band")] if with_schedule else []
    out: Lineage = {}
    for col in LIFESTYLE_COLS:
        if col.name == "household_id":
            out[col.name] = list(ID)
        elif col.name == "lifestyle_window":
            out[col.name] = []
        else:
            out[col.name] = [*SOURCES[CATALOGUE[col.name].source], *extra]
    return out


def _treatment() -> Lineage:
    out: Lineage = {}
    for col in TREATMENT_COLS:
        n = col.name
        if n == "household_id":
            out[n] = [*ID, (_H, "household_id")]
        elif n in ("tariff_group", "is_treated"):
            out[n] = [(_H, "tariff_group")]
        elif n in ("treatment_coverage", "treatment_actual_half_hours", "baseline_coverage"):
            out[n] = list(ACTUAL)
        elif n in ("n_matched_controls",):
            out[n] = [*KWH, *GROUP]
        elif n in CATALOGUE:
            out[n] = list(SOURCES[CATALOGUE[n].source])
        else:
            out[n] = list(DID)
    return out


def _event_responses() -> Lineage:
    out: Lineage = {}
    for col in EVENT_RESPONSE_COLS:
        n = col.name
        if n == "household_id":
            out[n] = list(ID)
        elif n in ("event_id", "band", "kind", "start_bucket", "block_id"):
            out[n] = list(EVENTS)
        elif n in ("kwh", "n_half_hours"):
            out[n] = [*KWH, *SCHEDULE]
        else:
            out[n] = list(DID)
    return out


def _summary() -> Lineage:
    src = [
        ("treatment_event_responses", "did_kwh"),
        ("treatment_event_responses", "ref_kwh"),
        ("treatment_event_responses", "n_half_hours"),
        ("treatment_event_responses", "block_id"),
        ("treatment_features", "response_method"),
        (_S, "local_label_start"),
        *KWH,
    ]
    label = {
        "analysis",
        "band",
        "window_kind",
        "start_bucket",
        "season",
        "method",
        "bootstrap_replicates",
        "ci_level",
        "note",
    }
    return {c.name: ([] if c.name in label else list(src)) for c in SUMMARY_COLS}


def _curve() -> Lineage:
    src = [("treatment_features", "high_did_pct"), ("treatment_features", "high_p_value"),
           ("treatment_features", "tariff_group")]  # fmt: skip
    return {c.name: ([] if c.name in ("criterion", "threshold") else list(src)) for c in CURVE_COLS}


def _household_features() -> Lineage:
    treatment_cols = {c.name for c in TREATMENT_COLS}
    lifestyle_cols = {c.name for c in LIFESTYLE_COLS}
    out: Lineage = {}
    for col in HOUSEHOLD_FEATURE_COLS:
        n = col.name
        if n == "household_id":
            out[n] = [
                (_H, "household_id"),
                ("baseline_features", "household_id"),
                ("normal_day_lifestyle", "household_id"),
            ]
        elif n in ("tariff_group", "acorn", "acorn_group"):
            out[n] = [(_H, n)]
        elif n == "is_treated":
            out[n] = [(_H, "tariff_group")]
        elif n in lifestyle_cols:
            out[n] = [("baseline_features", n), ("normal_day_lifestyle", n)]
        elif n in treatment_cols:
            out[n] = [("treatment_features", n)]
        else:  # pragma: no cover - guarded by the tests
            raise KeyError(n)
    return out


def _exclusions(upstream: list[tuple[str, str]]) -> Lineage:
    return {c.name: list(upstream) for c in EXCLUSION_COLS}


def column_lineage(table: str | None = None) -> dict:
    """``column_lineage('baseline_features')`` -> {column: [(input_table, input_column), ...]};
    without an argument, {table: that dict} for every feature table."""
    tables = {
        "baseline_features": _lifestyle(False),
        "baseline_exclusions": _exclusions(ACTUAL),
        "normal_day_lifestyle": _lifestyle(True),
        "treatment_features": _treatment(),
        "treatment_event_responses": _event_responses(),
        "tariff_response_summary": _summary(),
        "responder_share_curve": _curve(),
        "household_features": _household_features(),
        "household_feature_exclusions": _exclusions(
            [(_H, "household_id"), ("baseline_exclusions", "coverage"), ("normal_day_lifestyle", "coverage")]
        ),
    }
    return tables if table is None else tables[table]
