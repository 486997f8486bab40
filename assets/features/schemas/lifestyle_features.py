"""Schemas of the lifestyle (load-shape) block: ``features.baseline_features`` and
``features.normal_day_lifestyle`` (the same features over the trial year's days without any High/Low
half hour). Definitions in assets/features/lifestyle.py. Times are UK local clock time of
the interval START; windows are local dates.
"""

from __future__ import annotations

import polars as pl

from assets.common.column_spec import Col, table_model

N_SLOTS = 48
SHAPE_COLUMNS = [f"shape_s{i:02d}" for i in range(N_SLOTS)]
PROFILE_COLUMNS = [f"profile_kwh_s{i:02d}" for i in range(N_SLOTS)]


def _slot_label(i: int) -> str:
    return f"{i // 2:02d}:{30 * (i % 2):02d}-{(i + 1) // 2:02d}:{30 * ((i + 1) % 2):02d}"


F = pl.Float64
NULLABLE = {"nullable": True}

COVERAGE_COLS: list[Col] = [
    Col(
        "coverage",
        F,
        "Actual (quality A) half hours / half hours of the window's included local days.",
        {"ge": 0, "le": 1},
    ),
    Col(
        "actual_half_hours",
        pl.Int64,
        "Actual half-hourly readings in the included local days of the window.",
        {"ge": 0},
    ),
    Col(
        "expected_half_hours",
        pl.Int64,
        "Half hours in the included local days of the window (46/48/50 per local day).",
        {"ge": 0},
    ),
    Col(
        "complete_days",
        pl.Int32,
        "Local days with an actual reading in every one of their half hours.",
        {"ge": 0},
    ),
]

# The lifestyle block of the household_features contract (CONTRACTS.md), in contract order.
FEATURE_COLS: list[Col] = [
    Col(
        "mean_daily_kwh",
        F,
        "Mean total kWh of complete local days (46/48/50 half hours).",
        {"nullable": True, "ge": 0},
    ),
    Col(
        "mean_kwh_per_half_hour",
        F,
        "Mean of the 48 local-slot profile values (kWh per half hour).",
        {"nullable": True, "ge": 0},
    ),
    Col(
        "peak_kwh_per_half_hour",
        F,
        "Mean profile kWh per half hour over the peak hours (default 16:00-20:00 local).",
        {"nullable": True, "ge": 0},
    ),
    Col(
        "peak_offpeak_ratio",
        F,
        "peak_kwh_per_half_hour / mean profile kWh of all other slots; None if off-peak is 0.",
        {"nullable": True, "ge": 0},
    ),
    Col(
        "daily_cv",
        F,
        "Daily volatility: sample SD / mean of complete-day totals; None with < 2 complete days.",
        {"nullable": True, "ge": 0},
    ),
    Col(
        "load_factor",
        F,
        "mean_kwh_per_half_hour / the largest actual half-hourly reading.",
        {"nullable": True, "ge": 0},
    ),
    Col(
        "base_load_kwh",
        F,
        "Base load: p10 (linear interpolation) of actual readings starting 01:00-05:00 local.",
        {"nullable": True, "ge": 0},
    ),
    Col(
        "morning_peak_hour",
        F,
        "Local start hour (x.0/x.5) of the largest profile slot in 05:00-12:00.",
        {"nullable": True, "ge": 0, "lt": 24},
    ),
    Col(
        "evening_peak_hour",
        F,
        "Local start hour (x.0/x.5) of the largest profile slot in 16:00-24:00.",
        {"nullable": True, "ge": 0, "lt": 24},
    ),
    Col(
        "weekday_weekend_ratio",
        F,
        "Mean profile kWh on weekdays / on weekends (Sat, Sun and England & Wales bank holidays).",
        {"nullable": True, "ge": 0},
    ),
    Col(
        "winter_summer_ratio",
        F,
        "Mean profile kWh in Dec-Feb / in Jun-Aug; None if either season has < 14 days of readings.",
        {"nullable": True, "ge": 0},
    ),
    Col(
        "shape_entropy",
        F,
        "Normalised Shannon entropy (0..1) of complete days over 7 daily-shape types (dominant 4-h block, or flat).",
        {"nullable": True, "ge": 0, "le": 1.0000001},
    ),
    Col(
        "night_share",
        F,
        "Share of the mean daily profile's kWh in 00:00-07:00 local.",
        {"nullable": True, "ge": 0, "le": 1.0000001},
    ),
    Col(
        "daytime_share",
        F,
        "Share of the mean daily profile's kWh in 10:00-16:00 local.",
        {"nullable": True, "ge": 0, "le": 1.0000001},
    ),
    Col(
        "evening_share",
        F,
        "Share of the mean daily profile's kWh in 16:00-22:00 local.",
        {"nullable": True, "ge": 0, "le": 1.0000001},
    ),
]
SHAPE_COLS: list[Col] = [
    Col(
        name,
        F,
        f"Local slot {_slot_label(i)}: mean kWh / mean_kwh_per_half_hour (the 48 values average 1).",
        {"nullable": True, "ge": 0},
    )
    for i, name in enumerate(SHAPE_COLUMNS)
]
PROFILE_COLS: list[Col] = [
    Col(
        name,
        F,
        f"Local slot {_slot_label(i)}: mean kWh of the actual readings starting in it.",
        {"nullable": True, "ge": 0},
    )
    for i, name in enumerate(PROFILE_COLUMNS)
]

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
