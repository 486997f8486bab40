"""Schemas of the trial-year response tables.

``features.treatment_features``: one row per household (treated AND control) with an actual reading in
the treatment window. DiD values are kWh per half hour and fractions (-0.15 = 15 % less than the
household's own reference), treated minus matched controls; controls are scored the same way against
other controls (the placebo distribution). Method details: assets/features/event_response.py.

``features.treatment_event_responses``: the (household, event, window kind, method) rows everything
above is aggregated from (the bootstrap in the summary resamples events from it).
"""

from __future__ import annotations

import polars as pl

from assets.common.column_spec import Col, table_model
from assets.features import catalogue

F = pl.Float64
N = {"nullable": True}
METHOD_VALUES = ["baseline_year_did", "within_window_did", "none"]
STATUS_VALUES = ["ok", "no_events_in_window", "no_event_response"]
DESIGN_VALUES = ["matched_pre_period", "all_controls"]
BUCKETS = catalogue.START_BUCKETS

TREATMENT_COLS: list[Col] = [
    Col("household_id", pl.String, "LCLid.", {"unique": True}),
    Col("tariff_group", pl.String, "Std (control) or ToU (treated).", {"isin": ["Std", "ToU"]}),
    Col("is_treated", pl.Boolean, "tariff_group == 'ToU'."),
    Col("treatment_coverage", F, "Actual half hours / half hours of the treatment window.", {"ge": 0, "le": 1}),
    Col("treatment_actual_half_hours", pl.Int64, "Actual half hours in the treatment window.", {"ge": 0}),
    Col(
        "baseline_coverage",
        F,
        "Coverage of the baseline window (0 without baseline readings).",
        {"ge": 0, "le": 1},
    ),
    Col(
        "response_method",
        pl.String,
        "Primary DiD: 'baseline_year_did' (household passed baseline coverage; reference = baseline-year "
        "same slot/day type/month+-1), 'within_window_did' (reference = event-free days +-N weeks), "
        "or 'none'.",
        {"isin": METHOD_VALUES},
    ),
    Col(
        "response_status",
        pl.String,
        "'ok', 'no_events_in_window' or 'no_event_response' "
        "(no actual reading with a reference and controls in any event half hour).",
        {"isin": STATUS_VALUES},
    ),
    Col(
        "n_matched_controls",
        pl.Int32,
        "Matched control households (0 = the all_controls design).",
        {"ge": 0},
    ),
    Col(
        "comparison_design",
        pl.String,
        "Comparison group: 'matched_pre_period' (the n_matched_controls nearest controls on baseline-window "
        "level and shape) or 'all_controls' (no pre-period profile: every control at the same half hour, "
        "leave-one-out for controls; never matched on the treated year).",
        {"isin": DESIGN_VALUES},
    ),
    *catalogue.columns(catalogue.RESPONSE),  # the response features: assets/features/catalogue.py
]

TreatmentFeatures = table_model(
    "TreatmentFeatures",
    "features.treatment_features: trial-year DiD response per household.",
    TREATMENT_COLS,
    __name__,
)

EVENT_RESPONSE_COLS: list[Col] = [
    Col("household_id", pl.String, "LCLid."),
    Col("event_id", pl.Int32, "Event (run of High or Low) of the tariff schedule."),
    Col("band", pl.String, "Band of the event.", {"isin": ["High", "Low"]}),
    Col(
        "kind",
        pl.String,
        "'event' (its half hours), 'rebound' / 'preload' (Normal half hours in the 3 h after / before a High event).",
        {"isin": ["event", "rebound", "preload"]},
    ),
    Col(
        "method",
        pl.String,
        "Reference: 'within' (event-free days +-N weeks) or 'baseline' (baseline year, month+-1).",
        {"isin": ["within", "baseline"]},
    ),
    Col("start_bucket", pl.String, "Start-time bucket of the event (local).", {"isin": BUCKETS}),
    Col("block_id", pl.Int32, "Bootstrap block of the event (local weeks of its start)."),
    Col(
        "n_half_hours",
        pl.Int32,
        "Household's actual half hours in the window that have a reference.",
        {"gt": 0},
    ),
    Col("kwh", F, "Mean actual kWh per half hour in those half hours."),
    Col("ref_kwh", F, "Mean own reference kWh per half hour for those half hours."),
    Col("own_change_kwh", F, "kwh - ref_kwh."),
    Col(
        "control_change_kwh",
        F,
        "Mean own_change_kwh of the matched controls (or leave-one-out all controls).",
        N,
    ),
    Col("n_controls", pl.Int32, "Control households behind control_change_kwh.", {"ge": 0}),
    Col("did_kwh", F, "own_change_kwh - control_change_kwh.", N),
]

TreatmentEventResponses = table_model(
    "TreatmentEventResponses",
    "features.treatment_event_responses: event-level DiD rows (household x event x window kind x method).",
    EVENT_RESPONSE_COLS,
    __name__,
)

BALANCE_COLS: list[Col] = [
    Col(
        "covariate",
        pl.String,
        "Pre-period (baseline window) covariate matched on: ln_mean_kwh = ln(mean kWh per half hour + 0.01), "
        "shape_hHH = hourly shape (household mean = 1) of local hour HH.",
        {"unique": True},
    ),
    Col("n_treated", pl.Int32, "Treated households in matched sets (with a pre-period profile).", {"ge": 0}),
    Col("n_controls", pl.Int32, "Control households with a pre-period profile.", {"ge": 0}),
    Col("n_matched_controls", pl.Int32, "Distinct controls used in the treated households' matched sets.", {"ge": 0}),
    Col("mean_treated", F, "Mean over matched treated households.", N),
    Col("mean_all_controls", F, "Mean over all controls with a profile (before matching).", N),
    Col("mean_matched_controls", F, "Mean over matched controls, each weighing 1/k per treated household.", N),
    Col("smd_unmatched", F, "Standardised mean difference treated vs all controls (pooled unmatched sd).", N),
    Col("smd_matched", F, "Standardised mean difference treated vs matched controls (same sd).", N),
    Col("balanced", pl.Boolean, "|smd_matched| < balance_smd_target (0.1); None without matched sets.", N),
]

ComparisonBalance = table_model(
    "ComparisonBalance",
    "features.comparison_balance: covariate balance of the pre-period matched comparison groups.",
    BALANCE_COLS,
    __name__,
)
