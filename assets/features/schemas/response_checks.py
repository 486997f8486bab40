"""Schemas of the checks that can fail (docs/METHOD.md section 3).

``features.placebo_draws``: one row per draw x band of the pseudo-treatment placebo: a random subset of
controls, the size of the measured treated group, scored against the remaining controls with the
production estimator, bootstrap and Benjamini-Hochberg (assets/features/pseudo_placebo.py).
``features.response_checks``: one row per check x band with its reading and verdict: the pseudo-treatment
placebo (null range, the treated estimate placed in it, share of draws with any flag, the CI's real
coverage), the baseline-year placebo (trial schedule moved onto the baseline year) and the paired
adjacent-day sensitivity (main minus sensitivity estimate, paired bootstrap).
"""

from __future__ import annotations

import polars as pl

from assets.common.column_spec import Col, table_model

F = pl.Float64
N = {"nullable": True}
SHARE = {"nullable": True, "ge": 0, "le": 1}
BANDS = ["High", "Low"]
CHECKS = ["pseudo_treatment_placebo", "baseline_year_placebo", "sensitivity_adjacent_days"]
VERDICTS = ["passes", "fails", "differs", "no difference detected", "not run"]

PLACEBO_DRAW_COLS: list[Col] = [
    Col(
        "draw",
        pl.Int32,
        "Draw number (its subset is seeded by [placebo_seed, draw]; the same for both bands).",
        {"ge": 0},
    ),
    Col("band", pl.String, "Price band of the events.", {"isin": BANDS}),
    Col("n_pseudo_treated", pl.Int32, "Pseudo-treated controls with an event DiD in this band.", {"ge": 0}),
    Col("n_remaining_controls", pl.Int32, "Measured controls left as the comparison group.", {"ge": 0}),
    Col("n_events", pl.Int32, "Events contributing.", {"ge": 0}),
    Col("effect_kwh", F, "Pooled effect of the pseudo-treated, kWh per half hour (mean household DiD).", N),
    Col("effect_pct", F, "Pooled relative effect of the pseudo-treated (sum DiD / sum reference; fraction).", N),
    Col("ci_low_pct", F, "Lower bound of its two-way bootstrap CI (event blocks x households), as in production.", N),
    Col("ci_high_pct", F, "Upper bound of that CI.", N),
    Col(
        "ci_covers_zero", pl.Boolean, "ci_low_pct <= 0 <= ci_high_pct (the true effect of a pseudo-treatment is 0).", N
    ),
    Col(
        "n_flagged",
        pl.Int32,
        "Pseudo-treated households BH flags at fdr_alpha (empirical p-values against the remaining controls); "
        "High only (production flags responders on High events), None for Low.",
        {"nullable": True, "ge": 0},
    ),
    Col("share_flagged", F, "n_flagged / pseudo-treated households with a p-value.", SHARE),
]

PlaceboDraws = table_model(
    "PlaceboDraws",
    "features.placebo_draws: the pseudo-treatment placebo, one row per draw x band.",
    PLACEBO_DRAW_COLS,
    __name__,
)

RESPONSE_CHECK_COLS: list[Col] = [
    Col(
        "check",
        pl.String,
        "'pseudo_treatment_placebo' (random control subsets scored as if treated against the remaining controls), "
        "'baseline_year_placebo' (the trial schedule moved onto the baseline year, treated households), "
        "'sensitivity_adjacent_days' (main within-window estimate minus the one without reference days next to "
        "events).",
        {"isin": CHECKS},
    ),
    Col("band", pl.String, "Price band of the events.", {"isin": BANDS}),
    Col(
        "n_households",
        pl.Int32,
        "Households scored: pseudo-treated per draw (the measured treated group's size); treated households "
        "with baseline-year data (baseline_year_placebo, its n); treated households (sensitivity).",
        {"ge": 0},
    ),
    Col(
        "n_controls",
        pl.Int32,
        "Measured controls the pseudo-treated are drawn from (None for the other checks).",
        {"nullable": True, "ge": 0},
    ),
    Col("n_events", pl.Int32, "Events contributing (largest over draws for the pseudo-treatment).", {"ge": 0}),
    Col(
        "n_draws",
        pl.Int32,
        "Pseudo-treatment draws with an estimate, or bootstrap replicates (other checks).",
        {"ge": 0},
    ),
    Col(
        "estimate_pct",
        F,
        "pseudo_treatment_placebo: the treated households' production estimate, to be placed in the null; "
        "baseline_year_placebo: its effect; sensitivity: main minus sensitivity estimate (fraction).",
        N,
    ),
    Col(
        "low_pct",
        F,
        "pseudo_treatment_placebo: 2.5th percentile of the draws' pooled effect (null range); baseline_year_placebo: "
        "lower CI bound; sensitivity: lower bound of the paired bootstrap interval of the difference.",
        N,
    ),
    Col("high_pct", F, "The matching upper bound (97.5th percentile or upper CI bound).", N),
    Col("estimate_percentile", F, "Share of draws with a pooled effect <= the treated estimate.", SHARE),
    Col(
        "permutation_p_value",
        F,
        "Two-sided permutation p-value of the treated estimate: (1 + draws with |effect| >= |estimate|) / (1 + draws).",
        SHARE,
    ),
    Col(
        "share_draws_any_flagged",
        F,
        "Share of draws in which BH flags any pseudo-treated household (High; at most about fdr_alpha when calibrated).",
        SHARE,
    ),
    Col(
        "mean_flagged",
        F,
        "Mean number of pseudo-treated households flagged per draw (High).",
        {"nullable": True, "ge": 0},
    ),
    Col("ci_coverage", F, "Share of draws whose CI covers 0: the CI's real coverage (nominal ci_level).", SHARE),
    Col(
        "coverage_mc_se",
        F,
        "Monte-Carlo standard error of a share at ci_level over the draws.",
        {"nullable": True, "ge": 0},
    ),
    Col(
        "verdict",
        pl.String,
        "'passes' / 'fails' (placebos), 'differs' / 'no difference detected' (sensitivity), or 'not run'.",
        {"isin": VERDICTS},
    ),
    Col("reason", pl.String, "The verdict's reason in one sentence."),
]

ResponseChecks = table_model(
    "ResponseChecks",
    "features.response_checks: the placebo and sensitivity checks, each with a verdict that can fail.",
    RESPONSE_CHECK_COLS,
    __name__,
)
