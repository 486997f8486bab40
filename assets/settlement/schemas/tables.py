"""Schemas of the settlement tables (strict, ordered; ``assets/common/table_model.py``).

kWh are sums over the event window (or the named window) of one household at one event; a settled
reduction is baseline - actual (positive = less than the baseline, what a programme pays for).
"""

from __future__ import annotations

import polars as pl

from assets.common.column_spec import Col, table_model
from assets.settlement.settings import METHODS, ROLES, SCHEDULES

WINDOWS_TABLE = "settlement.event_day_windows"
SETTLEMENT_TABLE = "settlement.event_settlement"
ACCURACY_TABLE = "settlement.baseline_accuracy"
RECOMMENDATION_TABLE = "settlement.baseline_recommendation"
PRELOADING_TABLE = "settlement.preloading_effect"
DELIVERY_TABLE = "settlement.program_delivery"
CALIBRATION_TABLE = "settlement.dr_target_calibration"

N = {"nullable": True}
F = pl.Float64
SCHEDULE = Col(
    "schedule",
    pl.String,
    "'tariff' = a real High event; 'placebo' = its local clock window laid on an "
    "event-free day of the same weekday (settings.py).",
    {"isin": list(SCHEDULES)},
)
EVENT = Col("event_id", pl.Int32, "The tariff schedule's event id (a placebo event carries its real event's id).")
HOUSEHOLD = Col("household_id", pl.String, "LCLid.")
PERSONA = Col("persona_id", pl.String, "Persona of the household (model.segment_assignments); 'all' = every persona.")
PERSONA_NAME = Col("persona_name", pl.String, "Persona name; 'all households' for the 'all' rows.")
CI = "95 % two-way bootstrap interval (households and events resampled independently)"

WINDOW_COLS = [
    Col("day_month", pl.Date, "Partition: first day of the month of local_date (the local day the window is on)."),
    HOUSEHOLD,
    SCHEDULE,
    EVENT,
    Col("local_date", pl.Date, "UK local date the window is laid on (the event's day or a baseline / fitting day)."),
    Col(
        "role",
        pl.String,
        "Window: event, preload (3 h before), caiso_adjust (4 h to 1 h before), clear_adjust "
        "(the adjustment window moved clear of the 3 h before), snapback (3 h after); relative to the event's "
        "local clock start.",
        {"isin": list(ROLES)},
    ),
    Col("kwh", F, "kWh of the window's actual readings (every half hour of the window is actual).", {"ge": 0}),
    Col("n_half_hours", pl.Int32, "Half hours in the window on that day (46/50-half-hour days differ).", {"gt": 0}),
]
EventDayWindows = table_model(
    "EventDayWindows",
    f"{WINDOWS_TABLE}: one row per (household, schedule, event, local day, role) with a complete window.",
    WINDOW_COLS,
    __name__,
)

_METHOD_DOC = {
    "control_group": "the household's CAISO 10-in-10 baseline plus the mean change (actual - own 10-in-10) of the "
    "control households in the same event (leave-one-out for a control): the product's DiD design",
    "caiso": "CAISO 10-in-10: mean of the event window on the 10 most recent similar non-event days (4-in-4 weekends)",
    "caiso_adjusted": "caiso x the day-of ratio over 4 h to 1 h before the event, capped to [0.8, 1.2]",
    "caiso_adjusted_clear": "caiso_adjusted with its adjustment window moved to end 3 h before the event",
    "dfs": "DFS domestic: mean over the 10 most recent working days outside events (4 weekend days for a weekend event)",
    "dfs_adjusted": "dfs + the in-day adjustment (mean actual - baseline per half hour over the 3 h before), uncapped",
    "dfs_adjusted_clear": "dfs_adjusted with its adjustment window moved to end 3 h before the event",
    "towt": "time-of-week regression on +- 4 weeks of non-event days (towt.py)",
}
SETTLEMENT_COLS = [
    SCHEDULE,
    EVENT,
    HOUSEHOLD,
    Col("tariff_group", pl.String, "Std (control) or ToU (on the dynamic tariff).", {"isin": ["Std", "ToU"]}),
    Col("persona_id", pl.String, "Persona of the household (None: not segmented).", N),
    Col("persona_name", pl.String, "Persona name (None: not segmented).", N),
    Col("event_start_utc", pl.Datetime("us"), "Start of the (placebo) event window, naive UTC."),
    Col("target_date", pl.Date, "UK local date of the (placebo) event start."),
    Col(
        "season", pl.String, "Meteorological season of target_date.", {"isin": ["winter", "spring", "summer", "autumn"]}
    ),
    Col(
        "day_type", pl.String, "weekday, or weekend (Saturday, Sunday, bank holiday).", {"isin": ["weekday", "weekend"]}
    ),
    Col("event_half_hours", pl.Int32, "Half hours of the event.", {"gt": 0}),
    Col("actual_kwh", F, "Delivered: kWh in the event window (every half hour an actual reading).", {"ge": 0}),
    Col("mean_kw", F, "actual_kwh / the window's hours: mean kW in the event window.", {"ge": 0}),
    *(
        Col(
            f"baseline_{m}_kwh",
            F,
            f"Baseline kWh of the event window: {_METHOD_DOC[m]}; None without enough complete baseline days.",
            N,
        )
        for m in METHODS
    ),
    Col("caiso_days", pl.Int32, "CAISO baseline days with a complete event window.", {"ge": 0}),
    Col("dfs_days", pl.Int32, "DFS baseline days with a complete event window.", {"ge": 0}),
    Col("towt_days", pl.Int32, "Regression fitting days with a complete event window.", {"ge": 0}),
    Col("caiso_adjustment_ratio", F, "The day-of ratio before the cap (actual / 10-in-10 over 4 h to 1 h before).", N),
    Col("preload_excess_kwh", F, "Actual - 10-in-10 baseline in the 3 h before the event (pre-loading shows here).", N),
    Col("snapback_kwh", F, "Actual - 10-in-10 baseline in the 3 h after the event (own; positive = snapback).", N),
    Col(
        "snapback_control_kwh", F, "snapback_kwh minus the control households' mean snapback_kwh in the same event.", N
    ),
    Col(
        "product_reduction_kwh",
        F,
        "Real events: the product's event DiD (features.treatment_event_responses, the "
        "household's primary method) as a reduction over the event: -did_kwh x event_half_hours.",
        N,
    ),
]
EventSettlement = table_model(
    "EventSettlement",
    f"{SETTLEMENT_TABLE}: one row per (schedule, event, household) with a complete event window.",
    SETTLEMENT_COLS,
    __name__,
)

POPULATIONS = ["placebo events, all households", "real events, control households"]
SEASON_ALL = ["all", "winter", "spring", "summer", "autumn"]
ACCURACY_COLS = [
    Col(
        "population",
        pl.String,
        "Where the true reduction is 0: placebo events (every household), or the control households at real events.",
        {"isin": POPULATIONS},
    ),
    Col("method", pl.String, "Baseline method (settings.METHODS).", {"isin": list(METHODS)}),
    PERSONA,
    PERSONA_NAME,
    Col("season", pl.String, "Season of the events, or 'all'.", {"isin": SEASON_ALL}),
    Col("n_households", pl.Int64, "Households scored.", {"ge": 0}),
    Col("n_events", pl.Int64, "Events scored.", {"ge": 0}),
    Col("n_settlements", pl.Int64, "(household, event) pairs with an actual and a baseline.", {"ge": 0}),
    Col("mean_load_kwh", F, "Mean actual kWh per settlement (the load the bias is a share of).", N),
    Col(
        "bias_pct",
        F,
        "100 x sum(baseline - actual) / sum(actual): positive = the baseline over-states load, so "
        "a programme pays for reductions nobody made.",
        N,
    ),
    Col("bias_ci_low_pct", F, f"Lower bound of bias_pct: {CI}.", N),
    Col("bias_ci_high_pct", F, f"Upper bound of bias_pct: {CI}.", N),
    Col("cv_rmse", F, "sqrt(mean((baseline - actual)^2)) / mean(actual) over the settlements.", N),
    Col("cv_rmse_ci_low", F, f"Lower bound of cv_rmse: {CI}.", N),
    Col("cv_rmse_ci_high", F, f"Upper bound of cv_rmse: {CI}.", N),
    Col(
        "share_paid",
        F,
        "Share of settlements whose settled reduction (baseline - actual) exceeds the payment "
        "threshold: paid for nothing.",
        N,
    ),
    Col("share_paid_ci_low", F, f"Lower bound of share_paid: {CI}.", N),
    Col("share_paid_ci_high", F, f"Upper bound of share_paid: {CI}.", N),
    Col("bias_flagged", pl.Boolean, "The bias interval excludes 0 (do not settle this persona with this method).", N),
    Col("note", pl.String, "Why a figure is missing, or what it was measured on."),
]
BaselineAccuracy = table_model(
    "BaselineAccuracy", f"{ACCURACY_TABLE}: one row per (population, method, persona, season).", ACCURACY_COLS, __name__
)

RECOMMENDATION_COLS = [
    PERSONA,
    PERSONA_NAME,
    Col("recommended_method", pl.String, "Method to settle this persona with (None: every method is biased here).", N),
    Col("bias_pct", F, "Its placebo bias (% of load).", N),
    Col("bias_ci_low_pct", F, "Lower bound of its placebo bias.", N),
    Col("bias_ci_high_pct", F, "Upper bound of its placebo bias.", N),
    Col("cv_rmse", F, "Its placebo CV(RMSE).", N),
    Col("flagged_methods", pl.String, "Methods whose placebo bias interval excludes 0 for this persona (comma list)."),
    Col("rule", pl.String, "How the method was chosen."),
]
BaselineRecommendation = table_model(
    "BaselineRecommendation",
    f"{RECOMMENDATION_TABLE}: which baseline to trust for whom, one row per persona (and 'all').",
    RECOMMENDATION_COLS,
    __name__,
)

PRELOAD_POPULATIONS = ["real events, ToU households", "placebo events, all households"]
PRELOADING_COLS = [
    Col("population", pl.String, "Households and events compared.", {"isin": PRELOAD_POPULATIONS}),
    Col("method", pl.String, "Adjusted method.", {"isin": ["caiso_adjusted", "dfs_adjusted"]}),
    PERSONA,
    PERSONA_NAME,
    Col("n_households", pl.Int64, "Households.", {"ge": 0}),
    Col("n_events", pl.Int64, "Events.", {"ge": 0}),
    Col(
        "reduction_with_kwh",
        F,
        "Mean settled reduction with the method's adjustment window (it reads the hours just before the event).",
        N,
    ),
    Col("reduction_without_kwh", F, "Mean settled reduction with the window moved clear of the 3 h before.", N),
    Col(
        "effect_pct",
        F,
        "100 x (with - without) / actual load: what the 3 h before the event add to the settled "
        "reduction (pre-loading inflates it).",
        N,
    ),
    Col("effect_ci_low_pct", F, f"Lower bound of effect_pct: {CI}.", N),
    Col("effect_ci_high_pct", F, f"Upper bound of effect_pct: {CI}.", N),
    Col(
        "preload_excess_pct",
        F,
        "100 x load in the 3 h before the event above its 10-in-10 baseline / the event "
        "window's actual load (what households did before the event).",
        N,
    ),
    Col("preload_excess_ci_low_pct", F, f"Lower bound of preload_excess_pct: {CI}.", N),
    Col("preload_excess_ci_high_pct", F, f"Upper bound of preload_excess_pct: {CI}.", N),
    Col("note", pl.String, "Why a figure is missing, or what it was measured on."),
]
PreloadingEffect = table_model(
    "PreloadingEffect",
    f"{PRELOADING_TABLE}: one row per (population, adjusted method, persona).",
    PRELOADING_COLS,
    __name__,
)

DELIVERY_COLS = [
    Col(
        "level",
        pl.String,
        "event (one real event, every ToU household), persona (a persona's ToU households over "
        "all events) or program (every ToU household, every event).",
        {"isin": ["event", "persona", "program"]},
    ),
    Col("method", pl.String, "Baseline method of the settled reduction.", {"isin": list(METHODS)}),
    Col("event_id", pl.Int32, "The event (level 'event').", N),
    Col("event_start_utc", pl.Datetime("us"), "Its start, naive UTC (level 'event').", N),
    PERSONA,
    PERSONA_NAME,
    Col("n_households", pl.Int64, "ToU households settled.", {"ge": 0}),
    Col("n_events", pl.Int64, "Events.", {"ge": 0}),
    Col("delivered_kw", F, "Mean reduction per household: (baseline - actual) kWh / event hours (kW).", N),
    Col(
        "delivered_ci_low_kw",
        F,
        "Lower bound of delivered_kw (95 % bootstrap: households, and events above the event level, resampled).",
        N,
    ),
    Col("delivered_ci_high_kw", F, "Upper bound of delivered_kw.", N),
    Col("delivered_pct", F, "100 x sum(baseline - actual) / sum(baseline).", N),
    Col(
        "snapback_kw",
        F,
        "Mean snapback over the 3 h after (control-group difference, kW; positive = more than "
        "the baseline after the event).",
        N,
    ),
    Col("snapback_ci_low_kw", F, "Lower bound of snapback_kw (same bootstrap).", N),
    Col("snapback_ci_high_kw", F, "Upper bound of snapback_kw.", N),
    Col("note", pl.String, "Why a figure is missing, or what it was measured on."),
]
ProgramDelivery = table_model(
    "ProgramDelivery",
    f"{DELIVERY_TABLE}: delivered kW per event, per persona and for the programme, with intervals.",
    DELIVERY_COLS,
    __name__,
)

CALIBRATION_COLS = [
    Col(
        "group",
        pl.String,
        "A bin of households by the list's expected kW (quantiles), the households the list "
        "selects, or every scored household.",
        {"isin": ["bin", "selected", "all"]},
    ),
    Col("bin", pl.Int32, "Bin number (1 = smallest expected kW); None for 'selected' and 'all'.", N),
    Col("n_households", pl.Int64, "Households (each counted once per fold it was scored in).", {"ge": 0}),
    Col(
        "expected_kw",
        F,
        "Mean expected evening kW reduction of the list's rule, built on one half of the evening High events.",
        N,
    ),
    Col("expected_ci_low_kw", F, "Mean of the list's own lower bounds.", N),
    Col("expected_ci_high_kw", F, "Mean of the list's own upper bounds.", N),
    Col(
        "delivered_kw",
        F,
        "Mean kW the same households delivered on the OTHER half of the evening High events "
        "(control-group settlement).",
        N,
    ),
    Col("delivered_ci_low_kw", F, f"Lower bound of delivered_kw: {CI}.", N),
    Col("delivered_ci_high_kw", F, f"Upper bound of delivered_kw: {CI}.", N),
    Col("ratio", F, "delivered_kw / expected_kw (1 = calibrated).", N),
    Col("measured_on", pl.String, "What the row was measured on."),
]
DrTargetCalibration = table_model(
    "DrTargetCalibration",
    f"{CALIBRATION_TABLE}: did the households the DR list expects to deliver deliver it on held-out events?",
    CALIBRATION_COLS,
    __name__,
)

TABLES = {
    SETTLEMENT_TABLE: EventSettlement,
    ACCURACY_TABLE: BaselineAccuracy,
    RECOMMENDATION_TABLE: BaselineRecommendation,
    PRELOADING_TABLE: PreloadingEffect,
    DELIVERY_TABLE: ProgramDelivery,
    CALIBRATION_TABLE: DrTargetCalibration,
}
