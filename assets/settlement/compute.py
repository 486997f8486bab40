"""Settlement entry points (no Dagster): the monthly windows and every unpartitioned table.

build_day_windows(con, start, end, settings)        # settlement.event_day_windows, months [start, end)
tables = compute_settlement_tables(con, settings)   # table name -> validated frame
files = settlement_files(tables)                    # reports/settlement/: CSV and PNGs
"""

from __future__ import annotations

import polars as pl

from assets.common.column_spec import conform
from assets.common.table_model import validate
from assets.settlement.accuracy import baseline_accuracy, preloading_effect, recommend
from assets.settlement.baselines import compute_event_settlement, long_settlements
from assets.settlement.calibration import dr_calibration
from assets.settlement.day_windows import build_day_windows, read_calendar  # noqa: F401  (an entry point)
from assets.settlement.program import program_delivery
from assets.settlement.schemas import tables as t
from assets.settlement.settings import FEATURE_SETTINGS, METHODS, SettlementSettings

COLUMNS = {
    t.ACCURACY_TABLE: t.ACCURACY_COLS,
    t.RECOMMENDATION_TABLE: t.RECOMMENDATION_COLS,
    t.PRELOADING_TABLE: t.PRELOADING_COLS,
    t.DELIVERY_TABLE: t.DELIVERY_COLS,
    t.CALIBRATION_TABLE: t.CALIBRATION_COLS,
    t.SETTLEMENT_TABLE: t.SETTLEMENT_COLS,
}


def _conformed(frame: pl.DataFrame, table: str) -> pl.DataFrame:
    """``frame`` with every column of the table (missing optional figures as nulls), in order, typed."""
    cols = COLUMNS[table]
    frame = frame.with_columns(pl.lit(None, c.dtype).alias(c.name) for c in cols if c.name not in frame.columns)
    if "note" in frame.columns:
        frame = frame.with_columns(pl.col("note").fill_null(""))
    return conform(frame, cols)


def compute_settlement_tables(con, settings: SettlementSettings | None = None) -> dict[str, pl.DataFrame]:
    """Every unpartitioned settlement table, validated (nothing written)."""
    settings = settings or SettlementSettings()
    fs = FEATURE_SETTINGS
    calendar, _ = read_calendar(con, settings, fs)
    settlement = compute_event_settlement(con, calendar, settings, fs)
    long = long_settlements(settlement)
    accuracy = baseline_accuracy(long, settings, fs.control_group)
    if accuracy.height:  # every column, even where no group could be scored (no event: notes only)
        accuracy = _conformed(accuracy, t.ACCURACY_TABLE)
    frames = {
        t.SETTLEMENT_TABLE: settlement,
        t.ACCURACY_TABLE: accuracy,
        t.RECOMMENDATION_TABLE: recommend(accuracy) if accuracy.height else pl.DataFrame(),
        t.PRELOADING_TABLE: preloading_effect(settlement, settings, fs.treated_group),
        t.DELIVERY_TABLE: program_delivery(long, settings, fs.treated_group),
        t.CALIBRATION_TABLE: dr_calibration(con, long, settings),
    }
    return {name: validate(t.TABLES[name], _conformed(frame, name), name) for name, frame in frames.items()}


def settlement_csv(settlement: pl.DataFrame) -> bytes:
    """The settlement file: one row per household x real event, delivered kWh and kW and the settled reduction
    (baseline - actual) under every method."""
    real = settlement.filter(pl.col("schedule") == "tariff")
    return (
        real.select(
            "household_id",
            "tariff_group",
            "persona_name",
            "event_id",
            "event_start_utc",
            "event_half_hours",
            "actual_kwh",
            "mean_kw",
            *(pl.col(f"baseline_{m}_kwh") for m in METHODS),
            *((pl.col(f"baseline_{m}_kwh") - pl.col("actual_kwh")).alias(f"reduction_{m}_kwh") for m in METHODS),
            "snapback_kwh",
            "snapback_control_kwh",
            "product_reduction_kwh",
        )
        .sort("event_start_utc", "household_id")
        .write_csv()
        .encode("utf-8")
    )


def settlement_files(tables: dict[str, pl.DataFrame]) -> dict[str, bytes]:
    """File name -> bytes of the settlement report folder (``reports/settlement/``)."""
    from assets.settlement.plots import plot_calibration, plot_placebo_bias

    return {
        "settlement.csv": settlement_csv(tables[t.SETTLEMENT_TABLE]),
        "baseline_accuracy.csv": tables[t.ACCURACY_TABLE].write_csv().encode("utf-8"),
        "dr_target_calibration.png": plot_calibration(tables[t.CALIBRATION_TABLE]),
        "placebo_bias.png": plot_placebo_bias(tables[t.ACCURACY_TABLE]),
    }
