"""Schemas of the per-household-month aggregates (monthly partitions of the feature layer).

``features.household_month_slots``: per partition month, household, local month, day type and local
slot, the kWh sum and count of actual readings. ``features.household_days``: per partition month,
household and local day, the readings, actual readings, their kWh sum, largest and smallest value, and the kWh
of each 4-hour block of the day. ``features.household_event_readings``: the actual readings at the
half hours the price-response analysis needs (event, rebound and preload half hours of the tariff
schedule and of its placebo shift). ``features.household_reference_slots``: per schedule, local week,
local month, day class, day type and slot, the kWh sum and count of actual readings on the
schedule's event-free days (the within-window reference and the trial year's event-free-day profile).
``features.aggregate_month_inputs``: per partition month, the fingerprint of the schedule-derived
inputs (selected half hours, day classes) and of the aggregate definition the month was built with. All are built from
``clean.clean_readings`` one month at a time (``assets/features/aggregates.py``); a local month, week
or day that straddles two partition months (UTC months of the end stamps) has one row in each, which
the feature layer sums.
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
    Col(
        "min_kwh", pl.Float64, "Smallest actual reading (None without any; meter health).", {"nullable": True, "ge": 0}
    ),
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

SCHEDULES = ["tariff", "placebo"]
DAY_CLASSES = ["reference", "reference_near", "unlabelled"]

EVENT_READING_COLS: list[Col] = [
    PARTITION,
    HOUSEHOLD,
    Col("interval_start_utc", pl.Datetime("us"), "UTC start of the half hour (a selected half hour)."),
    Col("kwh", pl.Float64, "The actual (quality A) reading.", {"ge": 0}),
]

REFERENCE_SLOT_COLS: list[Col] = [
    PARTITION,
    HOUSEHOLD,
    Col(
        "schedule",
        pl.String,
        "Whose event-free days: 'tariff' (the tariff schedule) or 'placebo' (it shifted placebo_shift_days back).",
        {"isin": SCHEDULES},
    ),
    Col("week_start", pl.Date, "Monday of the UK local week (Mon-Sun) of the interval start."),
    Col("local_month", pl.Date, "First day of the UK local month of the interval start."),
    Col(
        "day_class",
        pl.String,
        "Event-free local day of the schedule's span: 'reference' (fully labelled, no High/Low half hour, "
        "no such day within sensitivity_adjacent_days), 'reference_near' (fully labelled, no High/Low half "
        "hour, next to an event day), 'unlabelled' (no High/Low half hour, not every half hour labelled).",
        {"isin": DAY_CLASSES},
    ),
    Col("day_type", pl.String, "'weekend' (incl. bank holidays) or 'weekday'.", {"isin": ["weekday", "weekend"]}),
    Col("slot", pl.Int16, "Local clock half-hour slot of the interval start (0 = 00:00-00:30).", {"ge": 0, "le": 47}),
    Col("kwh", pl.Float64, "Sum of the actual (quality A) readings' kWh.", {"ge": 0}),
    Col("n", pl.Int64, "Actual readings summed.", {"gt": 0}),
]

INPUT_COLS: list[Col] = [
    PARTITION,
    Col(
        "inputs_fingerprint",
        pl.String,
        "SHA-256 of the month's schedule-derived inputs: the selected half hours and the event-free days with "
        "their schedule and class (FeatureSettings defaults).",
    ),
    Col("selected_half_hours", pl.Int64, "Selected half hours ending in the month.", {"ge": 0}),
    Col(
        "classified_days",
        pl.Int64,
        "Event-free days of either schedule with a half hour ending in the month.",
        {"ge": 0},
    ),
    Col(
        "definition",
        pl.String,
        "SHA-256 of the aggregate definition the month was built with (each table's SQL and columns: "
        "aggregates.DEFINITION); a month of another definition is not used.",
    ),
]

HouseholdEventReadings = table_model(
    "HouseholdEventReadings",
    "features.household_event_readings: one row per (partition month, household, selected half hour).",
    EVENT_READING_COLS,
    __name__,
)
HouseholdReferenceSlots = table_model(
    "HouseholdReferenceSlots",
    "features.household_reference_slots: one row per (partition month, household, schedule, week, local "
    "month, day class, day type, slot).",
    REFERENCE_SLOT_COLS,
    __name__,
)
AggregateMonthInputs = table_model(
    "AggregateMonthInputs",
    "features.aggregate_month_inputs: one row per partition month built.",
    INPUT_COLS,
    __name__,
)

# Where the aggregates are stored (the DuckDB warehouse, or with METER_ENGINE=spark the lake under the same
# names), and their models: one home, read by ``aggregates`` (DuckDB), ``spark_aggregates`` (the writer on
# Spark) and ``duck.lake_connection`` (the readers on Spark).
SLOTS_TABLE = "features.household_month_slots"
DAYS_TABLE = "features.household_days"
EVENTS_TABLE = "features.household_event_readings"
REFERENCE_TABLE = "features.household_reference_slots"
INPUTS_TABLE = "features.aggregate_month_inputs"  # per month: fingerprint of the schedule-derived inputs
# (table, model), the month's fingerprint row last: on Spark it is written after the four tables.
STORED_TABLES = (
    (SLOTS_TABLE, HouseholdMonthSlots),
    (DAYS_TABLE, HouseholdDays),
    (EVENTS_TABLE, HouseholdEventReadings),
    (REFERENCE_TABLE, HouseholdReferenceSlots),
    (INPUTS_TABLE, AggregateMonthInputs),
)
