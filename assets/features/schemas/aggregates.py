"""Schemas of the per-household-month aggregates (monthly partitions of the feature layer).

``features.household_month_slots``: per partition month, household, local month, day type and local
slot, the kWh sum and count of actual readings. ``features.household_days``: per partition month,
household and local day, the readings, actual readings, their kWh sum and largest value, and the kWh
of each 4-hour block of the day. Both are built from ``clean.clean_readings`` one month at a time
(``assets/features/aggregates.py``); a local month or day that straddles two partition months (UTC
months of the end stamps) has one row in each, which the feature layer sums.
"""

from __future__ import annotations

import polars as pl

from assets.common.column_spec import Col, table_model

PARTITION = Col("reading_month", pl.Date, "Partition: UTC month of the readings' end stamps (as clean_readings).")
HOUSEHOLD = Col("household_id", pl.String, "LCLid.")

SLOT_COLS: list[Col] = [
    PARTITION,
    HOUSEHOLD,
    Col("local_month", pl.Date, "First day of the UK local month of the interval start."),
    Col(
        "day_type",
        pl.String,
        "'weekend' on Saturdays, Sundays and England and Wales bank holidays (FeatureSettings default), "
        "else 'weekday'.",
        {"isin": ["weekday", "weekend"]},
    ),
    Col("slot", pl.Int16, "Local clock half-hour slot of the interval start (0 = 00:00-00:30).", {"ge": 0, "le": 47}),
    Col("kwh", pl.Float64, "Sum of the actual (quality A) readings' kWh.", {"ge": 0}),
    Col("n", pl.Int64, "Actual readings summed.", {"gt": 0}),
]

BLOCK_HOURS = 4  # the FeatureSettings default of entropy_block_hours (checked in aggregates.py)
N_BLOCKS = 24 // BLOCK_HOURS
DAY_COLS: list[Col] = [
    PARTITION,
    HOUSEHOLD,
    Col("local_date", pl.Date, "UK local date of the interval start."),
    Col("n_readings", pl.Int64, "Clean readings of any quality (actual or estimated).", {"gt": 0}),
    Col("n_actual", pl.Int64, "Actual (quality A) readings.", {"ge": 0}),
    Col("kwh", pl.Float64, "Sum of the actual readings' kWh (None without any).", {"nullable": True, "ge": 0}),
    Col("max_kwh", pl.Float64, "Largest actual reading (None without any).", {"nullable": True, "ge": 0}),
    *(
        Col(
            f"kwh_block_{b}",
            pl.Float64,
            f"kWh of the actual readings in local hours [{b * BLOCK_HOURS}, {(b + 1) * BLOCK_HOURS}) (0 without any).",
            {"ge": 0},
        )
        for b in range(N_BLOCKS)
    ),
]

HouseholdMonthSlots = table_model(
    "HouseholdMonthSlots",
    "features.household_month_slots: one row per (partition month, household, local month, day type, slot).",
    SLOT_COLS,
    __name__,
)
HouseholdDays = table_model(
    "HouseholdDays",
    "features.household_days: one row per (partition month, household, local day).",
    DAY_COLS,
    __name__,
)
