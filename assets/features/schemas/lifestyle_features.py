"""Schemas of the lifestyle (load-shape) block: ``features.baseline_features`` and
``features.normal_day_lifestyle`` (the same features over the trial year's days without any High/Low
half hour). Feature definitions: assets/features/catalogue.py; computation: assets/features/lifestyle.py.
Times are UK local clock time of the interval START; windows are local dates.
"""

from __future__ import annotations

import polars as pl

from assets.common.column_spec import Col, table_model
from assets.features import catalogue

# Column definitions live in the feature catalogue (assets/features/catalogue.py); the lists below are
# derived from it so that name, order, dtype, checks and description have one home.
COVERAGE_COLS: list[Col] = catalogue.columns(catalogue.COVERAGE)
# The lifestyle block of the household_features contract (CONTRACTS.md), in contract order.
FEATURE_COLS: list[Col] = catalogue.columns(catalogue.LIFESTYLE)
SHAPE_COLS: list[Col] = catalogue.columns(catalogue.SHAPE)
PROFILE_COLS: list[Col] = catalogue.columns(catalogue.PROFILE)
# Lifestyle features outside the contract block (after the profile; extra columns of household_features).
PEAK_LOAD_COLS: list[Col] = catalogue.columns(catalogue.PEAK_LOAD)

LIFESTYLE_COLS: list[Col] = [
    Col("household_id", pl.String, "LCLid.", {"unique": True}),
    Col(
        "lifestyle_window",
        pl.String,
        "'baseline' (baseline year) or 'treatment_normal_days' (trial-year days without any High/Low half hour).",
        {"isin": ["baseline", "treatment_normal_days"]},
    ),
    *COVERAGE_COLS,
    *FEATURE_COLS,
    *SHAPE_COLS,
    *PROFILE_COLS,
    *PEAK_LOAD_COLS,
]
LIFESTYLE_COLUMNS: list[tuple[str, object]] = [(c.name, c.dtype) for c in LIFESTYLE_COLS]


def _window_col(value: str) -> Col:
    return Col("lifestyle_window", pl.String, f"Always '{value}' in this table.", {"isin": [value]})


BaselineFeatures = table_model(
    "BaselineFeatures",
    "features.baseline_features: one row per household that passed baseline coverage.",
    [LIFESTYLE_COLS[0], _window_col("baseline"), *LIFESTYLE_COLS[2:]],
    __name__,
)
NormalDayLifestyle = table_model(
    "NormalDayLifestyle",
    "features.normal_day_lifestyle: lifestyle features over the trial year's event-free local days, "
    "every household with an actual reading there (no coverage gate; gate on coverage).",
    [LIFESTYLE_COLS[0], _window_col("treatment_normal_days"), *LIFESTYLE_COLS[2:]],
    __name__,
)
