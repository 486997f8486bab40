"""Schema of ``features.household_features``: the contract between features and the persona model
(docs/CONTRACTS.md). The required columns come first, in contract order; extra columns follow.
"""

from __future__ import annotations

import polars as pl

from assets.common.column_spec import Col, table_model
from assets.features import catalogue
from assets.features.schemas.lifestyle_features import FEATURE_COLS, PEAK_LOAD_COLS, SHAPE_COLS
from assets.features.schemas.treatment_features import BUCKETS, DESIGN_VALUES, METHOD_VALUES, STATUS_VALUES

F = pl.Float64


def _catalogued(*names: str) -> list[Col]:
    """Feature columns defined in the catalogue (assets/features/catalogue.py)."""
    return [catalogue.feature(name).column() for name in names]


N = {"nullable": True}

REQUIRED_COLS: list[Col] = [
    Col("household_id", pl.String, "LCLid.", {"unique": True}),
    Col(
        "tariff_group",
        pl.String,
        "Std (control, flat tariff) or ToU (dynamic time-of-use in 2013).",
        {"isin": ["Std", "ToU"]},
    ),
    Col("acorn", pl.String, "CACI Acorn category (ACORN-A..Q); None when unknown.", N),
    Col(
        "acorn_group",
        pl.String,
        "Affluent | Comfortable | Adversity; None when unknown.",
        {"nullable": True, "isin": ["Affluent", "Comfortable", "Adversity"]},
    ),
    Col("is_treated", pl.Boolean, "tariff_group == 'ToU'."),
    Col(
        "lifestyle_window",
        pl.String,
        "Window of the lifestyle block: 'baseline' if the household passed baseline coverage, else "
        "'treatment_normal_days' (trial-year days without any High/Low half hour).",
        {"isin": ["baseline", "treatment_normal_days"]},
    ),
    Col(
        "coverage",
        F,
        "Coverage of the lifestyle window used (actual / expected half hours).",
        {"ge": 0, "le": 1},
    ),
    *FEATURE_COLS,
    *SHAPE_COLS,
    Col(
        "response_method",
        pl.String,
        "'baseline_year_did', 'within_window_did' or 'none' (see treatment_features).",
        {"isin": METHOD_VALUES},
    ),
    *_catalogued(
        "high_did_kwh",
        "high_did_pct",
        "low_did_kwh",
        "low_did_pct",
        "rebound_did_pct",
        "preload_did_pct",
        "high_p_value",
        "responder",
    ),
]
EXTRA_COLS: list[Col] = [
    Col(
        "response_status",
        pl.String,
        "'ok', 'no_events_in_window', 'no_event_response' or 'no_treatment_readings'.",
        {"isin": [*STATUS_VALUES, "no_treatment_readings"]},
    ),
    Col(
        "treatment_coverage",
        F,
        "Actual half hours / half hours of the treatment window (0 without any).",
        {"ge": 0, "le": 1},
    ),
    Col(
        "comparison_design",
        pl.String,
        "'matched_pre_period' or 'all_controls' (see treatment_features); None without treatment readings.",
        {"nullable": True, "isin": DESIGN_VALUES},
    ),
    *_catalogued(
        "n_high_events",
        "n_low_events",
        "rebound_did_kwh",
        "preload_did_kwh",
        *(f"high_did_pct_{b}" for b in BUCKETS),
        "high_t_stat",
        "high_did_pct_se",
        "high_did_pct_ci_low",
        "high_did_pct_ci_high",
        "crossfit_folds_flagged",
        "high_did_pct_heldout",
    ),
    *PEAK_LOAD_COLS,  # lifestyle (same window as the lifestyle block)
]
HOUSEHOLD_FEATURE_COLS: list[Col] = [*REQUIRED_COLS, *EXTRA_COLS]

HouseholdFeatures = table_model(
    "HouseholdFeatures",
    "features.household_features: one row per household with a lifestyle window (see CONTRACTS.md).",
    HOUSEHOLD_FEATURE_COLS,
    __name__,
)
