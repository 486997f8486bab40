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

F = pl.Float64
N = {"nullable": True}
METHOD_VALUES = ["baseline_year_did", "within_window_did", "none"]
STATUS_VALUES = ["ok", "no_events_in_window", "no_event_response"]
BUCKETS = ["night", "morning", "afternoon", "evening"]
BUCKET_HOURS = {"night": "23-05", "morning": "05-11", "afternoon": "11-17", "evening": "17-23"}

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
        "Matched control households (0 = leave-one-out mean of all controls used).",
        {"ge": 0},
    ),
    Col("n_high_events", pl.Int32, "High events with a DiD value (primary method).", {"ge": 0}),
    Col("n_low_events", pl.Int32, "Low events with a DiD value (primary method).", {"ge": 0}),
    Col("high_half_hours", pl.Int32, "Actual High half hours behind high_did_kwh.", {"ge": 0}),
    Col("low_half_hours", pl.Int32, "Actual Low half hours behind low_did_kwh.", {"ge": 0}),
    Col("high_ref_kwh", F, "Household's own reference mean over its High half hours (kWh per half hour).", N),
    Col(
        "high_did_kwh",
        F,
        "High-event DiD, kWh per half hour: (own - reference) - matched controls' (own - reference).",
        N,
    ),
    Col(
        "high_did_pct",
        F,
        "high_did_kwh / high_ref_kwh (fraction); None if the reference < min_reference_kwh.",
        N,
    ),
    Col("low_ref_kwh", F, "Household's own reference mean over its Low half hours (kWh per half hour).", N),
    Col("low_did_kwh", F, "Low-event DiD, kWh per half hour.", N),
    Col("low_did_pct", F, "low_did_kwh / low_ref_kwh (fraction).", N),
    Col(
        "rebound_did_kwh",
        F,
        "DiD in the Normal half hours of the 3 h after High events, kWh per half hour.",
        N,
    ),
    Col("rebound_did_pct", F, "rebound_did_kwh / own reference over those half hours (fraction).", N),
    Col(
        "preload_did_kwh",
        F,
        "DiD in the Normal half hours of the 3 h before High events, kWh per half hour.",
        N,
    ),
    Col("preload_did_pct", F, "preload_did_kwh / own reference over those half hours (fraction).", N),
    *[
        Col(
            f"high_did_pct_{b}",
            F,
            f"High-event DiD (fraction) for events starting {BUCKET_HOURS[b]} local ({b}).",
            N,
        )
        for b in BUCKETS
    ],
    *[
        Col(
            f"high_did_kwh_{b}",
            F,
            f"High-event DiD (kWh per half hour) for events starting {BUCKET_HOURS[b]} local.",
            N,
        )
        for b in BUCKETS
    ],
    Col(
        "high_did_pct_within",
        F,
        "High-event DiD (fraction) with the within-window reference, whatever the primary method.",
        N,
    ),
    Col(
        "high_did_pct_baseline",
        F,
        "High-event DiD (fraction) with the baseline-year reference (None without baseline data).",
        N,
    ),
    Col(
        "high_t_stat",
        F,
        "Studentised High DiD over events: mean / (sd / sqrt(n)); +-inf if sd = 0; None with < 2 events.",
        N,
    ),
    Col(
        "high_p_value",
        F,
        "One-sided empirical p-value of high_t_stat against the control households (leave-one-out).",
        {"nullable": True, "ge": 0, "le": 1},
    ),
    Col(
        "responder",
        pl.Boolean,
        "Treated and discovered by Benjamini-Hochberg at fdr_alpha over treated p-values; False for controls.",
    ),
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
