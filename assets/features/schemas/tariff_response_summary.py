"""Schemas of the population-level response summary.

``features.tariff_response_summary``: population effects (mean over treated households of their DiD)
with block-bootstrap CIs over events, for the trial (by band, window kind and event start bucket) and
for the placebo (trial schedule shifted onto the baseline year).
``features.responder_share_curve``: share of treated (and, as false-positive baseline, control)
households called responders, over a range of thresholds.
"""

from __future__ import annotations

import polars as pl

from assets.common.column_spec import Col, table_model

F = pl.Float64
N = {"nullable": True}

ANALYSES = [
    "treatment",
    "placebo",
    "responders_heldout",
    "responders_in_sample",
    "sensitivity_adjacent_days",
]
SUMMARY_COLS: list[Col] = [
    Col(
        "analysis",
        pl.String,
        "'treatment' (treated, trial year); 'placebo' (treated with a baseline year, trial schedule shifted "
        "onto it; its reading and verdict: features.response_checks); "
        "'responders_heldout' / 'responders_in_sample' (cross-fitting: BH-flagged households' effect on the "
        "events that did not / did flag them); 'sensitivity_adjacent_days' (reference days +-"
        "sensitivity_adjacent_days from event days excluded; compare with treatment/method 'within'; the paired "
        "difference and its verdict: features.response_checks).",
        {"isin": ANALYSES},
    ),
    Col("band", pl.String, "Price band of the events.", {"isin": ["High", "Low"]}),
    Col(
        "window_kind",
        pl.String,
        "'event' half hours, or the Normal half hours of the 3 h 'rebound' after / 'preload' before.",
        {"isin": ["event", "rebound", "preload"]},
    ),
    Col(
        "start_bucket",
        pl.String,
        "'all' or the local start-time bucket of the events "
        "(night 23-05, morning 05-11, afternoon 11-17, evening 17-23).",
        {"isin": ["all", "night", "morning", "afternoon", "evening"]},
    ),
    Col(
        "season",
        pl.String,
        "'all' or the meteorological season of the events' local start (winter DJF, spring MAM, summer JJA, "
        "autumn SON).",
        {"isin": ["all", "winter", "spring", "summer", "autumn"]},
    ),
    Col(
        "method",
        pl.String,
        "'primary' (each household's response_method) or 'within' (within-window reference; placebo).",
        {"isin": ["primary", "within"]},
    ),
    Col("n_households", pl.Int32, "Treated households with an event DiD.", {"ge": 0}),
    Col("n_events", pl.Int32, "Events contributing.", {"ge": 0}),
    Col("n_blocks", pl.Int32, "Bootstrap blocks (local weeks of event start) the events fall in.", {"ge": 0}),
    Col("effect_kwh", F, "Mean over households of the household DiD, kWh per half hour.", N),
    Col("ci_low_kwh", F, "Lower percentile bound of effect_kwh (block bootstrap over events).", N),
    Col("ci_high_kwh", F, "Upper percentile bound of effect_kwh.", N),
    Col(
        "effect_pct",
        F,
        "Pooled relative effect: sum of household DiD / sum of household references (fraction).",
        N,
    ),
    Col("ci_low_pct", F, "Lower percentile bound of effect_pct.", N),
    Col("ci_high_pct", F, "Upper percentile bound of effect_pct.", N),
    Col(
        "mean_household_pct_winsorised",
        F,
        "Mean of household DiD fractions winsorised at winsor_quantiles (point estimate only).",
        N,
    ),
    Col("ci_covers_zero", pl.Boolean, "ci_low_kwh <= 0 <= ci_high_kwh; None without a CI.", N),
    Col(
        "n_flagged",
        pl.Int32,
        "Households flagged by BH at fdr_alpha: treated responders (treatment, High, all); (household, fold) "
        "selections (responders_*). None otherwise (controls: features.placebo_draws).",
        {"nullable": True, "ge": 0},
    ),
    Col(
        "share_flagged", F, "n_flagged / households (or household-folds) scored.", {"nullable": True, "ge": 0, "le": 1}
    ),
    Col("bootstrap_replicates", pl.Int32, "Bootstrap replicates.", {"ge": 1}),
    Col("ci_level", F, "Confidence level of the intervals.", {"gt": 0, "lt": 1}),
    Col("note", pl.String, "Why a row is empty or degenerate; None otherwise.", N),
]

TariffResponseSummaryTable = table_model(
    "TariffResponseSummaryTable",
    "features.tariff_response_summary: population DiD effects with event-block bootstrap CIs.",
    SUMMARY_COLS,
    __name__,
)

CURVE_COLS: list[Col] = [
    Col(
        "criterion",
        pl.String,
        "'high_did_pct_below' (high_did_pct < -threshold) or "
        "'bh_fdr' (Benjamini-Hochberg discovery at FDR = threshold).",
        {"isin": ["high_did_pct_below", "bh_fdr"]},
    ),
    Col("threshold", F, "Reduction threshold (fraction) or FDR level.", {"ge": 0, "le": 1}),
    Col("n_treated", pl.Int32, "Treated households with a value for the criterion.", {"ge": 0}),
    Col(
        "share_treated",
        F,
        "Share of those treated households meeting the criterion.",
        {"nullable": True, "ge": 0, "le": 1},
    ),
    Col("n_control", pl.Int32, "Control households with a value (scored as if treated).", {"ge": 0}),
    Col(
        "share_control",
        F,
        "Share of control households meeting it (false-positive baseline). For 'bh_fdr': the mean share of "
        "pseudo-treated controls BH flags at that FDR over the pseudo-treatment draws (features.placebo_draws); "
        "None without draws.",
        {"nullable": True, "ge": 0, "le": 1},
    ),
    Col("excess_share", F, "share_treated - share_control: a rough estimate of the truly responsive share.", N),
]

ResponderShareCurve = table_model(
    "ResponderShareCurve",
    "features.responder_share_curve: responder share of treated vs control households over thresholds.",
    CURVE_COLS,
    __name__,
)
