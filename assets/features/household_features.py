"""``features.household_features``: lifestyle block + Acorn + response, one row per household.

Lifestyle block: the baseline features where the household passed baseline coverage
(``lifestyle_window='baseline'``), otherwise the same lifestyle function over the trial year's days
without any High/Low half hour (``'treatment_normal_days'``) if that passes the same coverage gate.
Households of ``households`` with neither are excluded and recorded with the reason (a meter-health
reason of ``meter_health.py`` when flagged days, counted as missing, took a window below the gate); so
are households with clean readings that ``households`` lacks (``not_in_register``: no trial group to
place them in).
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from assets.common.column_spec import conform
from assets.common.table_model import validate
from assets.features import meter_health
from assets.features.baseline_features import BaselineResult
from assets.features.catalogue import SHAPE_COLUMNS
from assets.features.meter_health import METER_REASONS
from assets.features.schemas.feature_exclusions import EXCLUSION_COLS, HouseholdFeatureExclusions
from assets.features.schemas.household_features import HOUSEHOLD_FEATURE_COLS, HouseholdFeatures
from assets.features.schemas.lifestyle_features import FEATURE_COLS, PEAK_LOAD_COLS
from assets.features.settings import FeatureSettings
from assets.features.treatment_features import TreatmentResult

LIFESTYLE_KEEP = [
    "household_id",
    "lifestyle_window",
    "coverage",
    *[c.name for c in FEATURE_COLS],
    *SHAPE_COLUMNS,
    *[c.name for c in PEAK_LOAD_COLS],
]
TREATMENT_KEEP = [
    "household_id", "response_method", "response_status", "treatment_coverage", "n_high_events",
    "n_low_events",
    "high_did_kwh", "high_did_pct", "low_did_kwh", "low_did_pct", "rebound_did_kwh", "rebound_did_pct",
    "preload_did_kwh", "preload_did_pct", "high_did_pct_night", "high_did_pct_morning",
    "high_did_pct_afternoon", "high_did_pct_evening", "high_t_stat", "high_p_value", "responder",
    "comparison_design", "high_did_pct_se", "high_did_pct_ci_low", "high_did_pct_ci_high", "crossfit_folds_flagged",
    "high_did_pct_heldout",
]  # fmt: skip


@dataclass(frozen=True)
class HouseholdFeaturesResult:
    """features: HouseholdFeatures; exclusions: HouseholdFeatureExclusions."""

    features: pl.DataFrame
    exclusions: pl.DataFrame


def build_household_features(
    baseline: BaselineResult,
    treatment: TreatmentResult,
    households: pl.DataFrame,
    settings: FeatureSettings,
) -> HouseholdFeaturesResult:
    """Join lifestyle, Acorn and response per CONTRACTS.md; ``households`` is ingest.households."""
    threshold = settings.coverage_threshold
    base = baseline.features.select(LIFESTYLE_KEEP)
    normal_all = treatment.normal_day_lifestyle
    normal = normal_all.filter(pl.col("coverage") >= threshold).join(base, on="household_id", how="anti")
    lifestyle = pl.concat([base, normal.select(LIFESTYLE_KEEP)], how="vertical_relaxed")

    hh = households.select("household_id", "tariff_group", "acorn", "acorn_group")
    features = (
        hh.join(lifestyle, on="household_id", how="inner")
        .join(treatment.features.select(TREATMENT_KEEP), on="household_id", how="left")
        .with_columns(
            is_treated=pl.col("tariff_group") == settings.treated_group,
            response_method=pl.col("response_method").fill_null("none"),
            response_status=pl.col("response_status").fill_null("no_treatment_readings"),
            treatment_coverage=pl.col("treatment_coverage").fill_null(0.0),
            n_high_events=pl.col("n_high_events").fill_null(0),
            n_low_events=pl.col("n_low_events").fill_null(0),
            crossfit_folds_flagged=pl.col("crossfit_folds_flagged").fill_null(0),
            responder=pl.col("responder").fill_null(False) & (pl.col("tariff_group") == settings.treated_group),
        )
        .sort("household_id")
    )

    missing = hh.join(lifestyle, on="household_id", how="anti").select("household_id")
    # a meter-health reason (meter_health.py) of either window names why; else no_lifestyle_window
    baseline_meter = baseline.exclusions.select(
        "household_id",
        baseline_coverage="coverage",
        baseline_meter=pl.when(pl.col("reason").is_in(METER_REASONS)).then(pl.col("reason")),
    )
    tried = (
        missing.join(
            normal_all.select(
                "household_id",
                "coverage",
                # usable actual half hours: those on meter-flagged days count as missing
                actual_half_hours=pl.col("actual_half_hours") - pl.col("meter_flagged_half_hours"),
                expected_half_hours="expected_half_hours",
                normal_meter=meter_health.meter_reason(threshold),
                meter=meter_health.meter_detail(),
            ),
            on="household_id",
            how="inner",
        )
        .with_columns(lifestyle_window=pl.lit("treatment_normal_days"))
        .join(baseline_meter, on="household_id", how="left")
    )
    tried = tried.with_columns(
        reason=pl.coalesce("normal_meter", "baseline_meter", pl.lit("no_lifestyle_window")),
        detail=pl.format(
            "baseline coverage {} and treatment normal-days coverage {} ({} of {} half hours) both < {}{}",
            pl.col("baseline_coverage").fill_null(0.0).round(4),
            pl.col("coverage").round(4),
            pl.col("actual_half_hours"),
            pl.col("expected_half_hours"),
            pl.lit(threshold),
            pl.col("meter"),
        ),
    ).drop("baseline_coverage", "baseline_meter", "normal_meter", "meter")
    base_only = (
        missing.join(tried, on="household_id", how="anti")
        .join(
            baseline.exclusions.select(
                "household_id", "coverage", "actual_half_hours", "expected_half_hours", baseline_reason="reason"
            ),
            on="household_id",
            how="inner",
        )
        .with_columns(
            lifestyle_window=pl.lit("baseline"),
            reason=pl.when(pl.col("baseline_reason").is_in(METER_REASONS))
            .then(pl.col("baseline_reason"))
            .otherwise(pl.lit("no_lifestyle_window")),
            detail=pl.format(
                "baseline coverage {} < {} ({}) and no actual reading on treatment normal days",
                pl.col("coverage").round(4),
                pl.lit(threshold),
                pl.col("baseline_reason"),
            ),
        )
    )
    none = (
        missing.join(tried, on="household_id", how="anti")
        .join(base_only, on="household_id", how="anti")
        .with_columns(
            lifestyle_window=pl.lit(None, dtype=pl.String),
            coverage=pl.lit(None, dtype=pl.Float64),
            actual_half_hours=pl.lit(None, dtype=pl.Int64),
            expected_half_hours=pl.lit(None, dtype=pl.Int64),
            reason=pl.lit("no_readings"),
            detail=pl.lit("no actual reading in the baseline window or on treatment normal days"),
        )
    )
    unregistered = (
        pl.concat([baseline.features.select("household_id"), baseline.exclusions.select("household_id")])
        .unique()
        .join(hh, on="household_id", how="anti")
        .with_columns(
            lifestyle_window=pl.lit(None, dtype=pl.String),
            coverage=pl.lit(None, dtype=pl.Float64),
            actual_half_hours=pl.lit(None, dtype=pl.Int64),
            expected_half_hours=pl.lit(None, dtype=pl.Int64),
            reason=pl.lit("not_in_register"),
            detail=pl.format(
                "{} has readings but no line in the household register (informations_households.csv) and its "
                "readings file carries no tariff group: add a line '{},<Std|ToU>,<Acorn>,<Acorn_grouped>' to the "
                "register",
                pl.col("household_id"),
                pl.col("household_id"),
            ),
        )
    )
    exclusions = (
        pl.concat(
            [
                f.select(
                    "household_id",
                    "lifestyle_window",
                    "coverage",
                    "actual_half_hours",
                    "expected_half_hours",
                    "reason",
                    "detail",
                )
                for f in (tried, base_only, none, unregistered)
            ],
            how="vertical_relaxed",
        )
        .with_columns(stage=pl.lit("household_features"), coverage_threshold=pl.lit(threshold))
        .sort("household_id")
    )
    return HouseholdFeaturesResult(
        features=validate(HouseholdFeatures, conform(features, HOUSEHOLD_FEATURE_COLS), "features.household_features"),
        exclusions=validate(
            HouseholdFeatureExclusions,
            conform(exclusions, EXCLUSION_COLS),
            "features.household_feature_exclusions",
        ),
    )
