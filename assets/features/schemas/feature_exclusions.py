"""Schemas of the exclusion logs of the feature layer: every household left out, with why.

``features.baseline_exclusions``: households with clean readings that did not get baseline features.
``features.household_feature_exclusions``: households of ``ingest.households`` without a row in
``features.household_features`` (no window with enough data), and households with clean readings that
``ingest.households`` lacks (``not_in_register``: no register line, and their files carry no group).
"""

from __future__ import annotations

import polars as pl

from assets.common.column_spec import Col, table_model
from assets.features.meter_health import METER_REASONS

# meter-health reasons (meter_health.py): flagged days counted as missing took the household below the gate
BASELINE_REASONS = ["no_actual_readings_in_window", "below_coverage_threshold", *METER_REASONS]
HOUSEHOLD_REASONS = ["no_readings", "no_lifestyle_window", "not_in_register", *METER_REASONS]

EXCLUSION_COLS: list[Col] = [
    Col("household_id", pl.String, "LCLid.", {"unique": True}),
    Col(
        "stage",
        pl.String,
        "Feature table the household is missing from.",
        {"isin": ["baseline_features", "household_features"]},
    ),
    Col(
        "lifestyle_window",
        pl.String,
        "Window that was tried last ('baseline' or 'treatment_normal_days'); None if no readings.",
        {"nullable": True},
    ),
    Col(
        "coverage",
        pl.Float64,
        "Usable actual half hours / half hours of that window (None if not computed).",
        {"nullable": True, "ge": 0, "le": 1},
    ),
    Col(
        "actual_half_hours",
        pl.Int64,
        "Usable actual half hours in that window (those on meter-flagged days count as missing).",
        {"nullable": True, "ge": 0},
    ),
    Col("expected_half_hours", pl.Int64, "Half hours in that window.", {"nullable": True, "ge": 0}),
    Col("coverage_threshold", pl.Float64, "The coverage gate in force.", {"gt": 0, "le": 1}),
    Col(
        "reason",
        pl.String,
        "Machine-readable reason code.",
        {"isin": list(dict.fromkeys(BASELINE_REASONS + HOUSEHOLD_REASONS))},
    ),
    Col("detail", pl.String, "Human-readable explanation with the numbers."),
]

BaselineExclusions = table_model(
    "BaselineExclusions",
    "features.baseline_exclusions: households with clean readings but no baseline features.",
    [
        *EXCLUSION_COLS[:1],
        Col("stage", pl.String, "Always 'baseline_features'.", {"isin": ["baseline_features"]}),
        *EXCLUSION_COLS[2:7],
        Col("reason", pl.String, "Machine-readable reason code.", {"isin": BASELINE_REASONS}),
        EXCLUSION_COLS[8],
    ],
    __name__,
)
HouseholdFeatureExclusions = table_model(
    "HouseholdFeatureExclusions",
    "features.household_feature_exclusions: households without household features.",
    [
        *EXCLUSION_COLS[:1],
        Col("stage", pl.String, "Always 'household_features'.", {"isin": ["household_features"]}),
        *EXCLUSION_COLS[2:7],
        Col("reason", pl.String, "Machine-readable reason code.", {"isin": HOUSEHOLD_REASONS}),
        EXCLUSION_COLS[8],
    ],
    __name__,
)
