"""Baseline-year lifestyle features, gated on coverage, with every exclusion recorded."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import polars as pl

from assets.common.column_spec import conform
from assets.common.table_model import validate
from assets.features import aggregate_reads, aggregates, meter_health
from assets.features.duck import distinct_households
from assets.features.lifestyle import compute_lifestyle_features, expected_half_hours
from assets.features.schemas.feature_exclusions import EXCLUSION_COLS, BaselineExclusions
from assets.features.schemas.lifestyle_features import BaselineFeatures
from assets.features.settings import FeatureSettings


@dataclass(frozen=True)
class BaselineResult:
    """features: schema BaselineFeatures; exclusions: schema BaselineExclusions."""

    features: pl.DataFrame
    exclusions: pl.DataFrame


def gate_on_coverage(
    lifestyle: pl.DataFrame,
    universe: pl.DataFrame,
    settings: FeatureSettings,
    window: str,
    stage: str,
    expected: int,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Split ``universe`` households into (lifestyle rows passing coverage, exclusion rows)."""
    threshold = settings.coverage_threshold
    passed = lifestyle.filter(pl.col("coverage") >= threshold)
    below = lifestyle.filter(pl.col("coverage") < threshold).select(
        "household_id",
        "coverage",
        # usable actual half hours: those on meter-flagged days count as missing (meter_health.py)
        actual_half_hours=pl.col("actual_half_hours") - pl.col("meter_flagged_half_hours"),
        expected_half_hours="expected_half_hours",
        reason=pl.coalesce(meter_health.meter_reason(threshold), pl.lit("below_coverage_threshold")),
        meter=meter_health.meter_detail(),
    )
    absent = (
        universe.join(lifestyle.select("household_id"), on="household_id", how="anti")
        .select("household_id")
        .with_columns(
            coverage=pl.lit(0.0),
            actual_half_hours=pl.lit(0, dtype=pl.Int64),
            expected_half_hours=pl.lit(expected, dtype=pl.Int64),
            reason=pl.lit("no_actual_readings_in_window"),
            meter=pl.lit(""),
        )
    )
    excluded = pl.concat([below, absent], how="vertical_relaxed").with_columns(
        stage=pl.lit(stage),
        lifestyle_window=pl.lit(window),
        coverage_threshold=pl.lit(threshold),
        detail=pl.format(
            "{} window: coverage {} ({} of {} half hours) < threshold {}{}",
            pl.lit(window),
            pl.col("coverage").round(4),
            pl.col("actual_half_hours"),
            pl.col("expected_half_hours"),
            pl.lit(threshold),
            pl.col("meter"),
        ),
    )
    return passed, conform(excluded, EXCLUSION_COLS).sort("household_id")


def compute_baseline_features(con: duckdb.DuckDBPyConnection, settings: FeatureSettings) -> BaselineResult:
    """Lifestyle features over the baseline window for households with coverage >= threshold.

    Every household with any clean reading but no baseline row is in ``exclusions`` with its coverage
    and a reason ('below_coverage_threshold', 'no_actual_readings_in_window', or a meter-health reason
    of meter_health.py when flagged days, counted as missing, took it below the gate).
    """
    lifestyle = compute_lifestyle_features(con, settings, "baseline")
    if aggregate_reads.aggregates_usable(con, settings):
        universe = aggregate_reads.households_with_readings(con)
        aggregate_reads.answered(con, "households with readings", aggregates.DAYS_TABLE)
    else:
        universe = distinct_households(con, settings.readings_table)
        aggregate_reads.answered(con, "households with readings", settings.readings_table)
    expected = expected_half_hours(con, settings, "baseline")
    passed, excluded = gate_on_coverage(lifestyle, universe, settings, "baseline", "baseline_features", expected)
    return BaselineResult(
        features=validate(BaselineFeatures, passed, "features.baseline_features"),
        exclusions=validate(BaselineExclusions, excluded, "features.baseline_exclusions"),
    )
