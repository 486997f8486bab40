"""Trial-year response features per household: High/Low DiD, rebound, preload, start-time buckets,
significance against the controls and the BH responder flag.

Primary method per household (``response_method``):
- 'baseline_year_did' when ``prefer_baseline_year`` and the household passed baseline coverage and
  has at least one event DiD with the baseline-year reference;
- else 'within_window_did' when it has an event DiD with the within-window reference;
- else 'none' (no events in the window, or no actual event reading with reference and controls).
Both methods' High DiD are also kept as diagnostics (high_did_pct_within / _baseline).

Comparison design per household (``comparison_design``): 'matched_pre_period' (k nearest controls on
the baseline year) or 'all_controls' (no pre-period profile). Per-household uncertainty comes from a
block bootstrap over the household's own High events (uncertainty.py); responders are also cross-fitted
over two halves of the High events (crossfit.py). See docs/METHOD.md.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import polars as pl

from assets.common.column_spec import conform
from assets.common.sql import qualified_name
from assets.common.table_model import validate
from assets.features import aggregate_reads, aggregates
from assets.features.baseline_features import BaselineResult, compute_baseline_features
from assets.features.crossfit import CrossFit, cross_fit
from assets.features.duck import fetch, statement
from assets.features.event_response import compute_event_responses
from assets.features.lifestyle import compute_lifestyle_features
from assets.features.local_time import local_grid, window_utc_bounds
from assets.features.matching import (
    DESIGN_ALL_CONTROLS,
    DESIGN_MATCHED,
    covariate_balance,
    match_controls,
    matching_profiles,
)
from assets.features.schedule import EventSchedule, build_event_schedule, load_schedule
from assets.features.schemas.lifestyle_features import NormalDayLifestyle
from assets.features.schemas.treatment_features import (
    BALANCE_COLS,
    EVENT_RESPONSE_COLS,
    TREATMENT_COLS,
    ComparisonBalance,
    TreatmentEventResponses,
    TreatmentFeatures,
)
from assets.features.settings import FeatureSettings
from assets.features.significance import benjamini_hochberg, empirical_p_values, studentised_score
from assets.features.uncertainty import household_event_bootstrap

METHOD_LABEL = {"baseline": "baseline_year_did", "within": "within_window_did"}
LABEL_METHOD = {v: k for k, v in METHOD_LABEL.items()}


@dataclass(frozen=True)
class TreatmentResult:
    """features: TreatmentFeatures; event_responses: TreatmentEventResponses (both methods);
    normal_day_lifestyle: NormalDayLifestyle (no coverage gate); matched_controls: the k-NN pairs
    (pre-period profiles only); balance: ComparisonBalance; crossfit: the cross-fitted selection."""

    features: pl.DataFrame
    event_responses: pl.DataFrame
    normal_day_lifestyle: pl.DataFrame
    matched_controls: pl.DataFrame
    schedule: EventSchedule
    balance: pl.DataFrame
    crossfit: CrossFit


def read_households(con: duckdb.DuckDBPyConnection, settings: FeatureSettings) -> pl.DataFrame:
    return fetch(
        con, f"SELECT household_id, tariff_group, acorn, acorn_group FROM {qualified_name(settings.households_table)}"
    )


def _window_counts(con: duckdb.DuckDBPyConnection, settings: FeatureSettings, start, end) -> pl.DataFrame:
    reader = f"actual half hours ({start}..{end})"
    if aggregate_reads.aggregates_usable(con, settings):
        aggregate_reads.answered(con, reader, aggregates.DAYS_TABLE)
        return aggregate_reads.actual_counts(con, start, end)
    aggregate_reads.answered(con, reader, settings.readings_table)
    lo, hi = window_utc_bounds(start, end, settings.timezone)
    return fetch(con, statement("window_counts", readings=settings.readings_table), {"lo": lo, "hi": hi})


def household_did(rows: pl.DataFrame, settings: FeatureSettings, prefix: str) -> pl.DataFrame:
    """Aggregate event rows (one method per household) to household level: half-hour-weighted DiD.

    Returns household_id, {prefix}_events, {prefix}_half_hours, {prefix}_ref_kwh, {prefix}_did_kwh,
    {prefix}_did_pct.
    """
    rows = rows.filter(pl.col("did_kwh").is_not_null())
    n = pl.col("n_half_hours").cast(pl.Float64)
    agg = rows.group_by("household_id").agg(
        pl.col("event_id").n_unique().cast(pl.Int32).alias(f"{prefix}_events"),
        pl.col("n_half_hours").sum().cast(pl.Int32).alias(f"{prefix}_half_hours"),
        ((n * pl.col("ref_kwh")).sum() / n.sum()).alias(f"{prefix}_ref_kwh"),
        ((n * pl.col("did_kwh")).sum() / n.sum()).alias(f"{prefix}_did_kwh"),
    )
    ref = pl.col(f"{prefix}_ref_kwh")
    return agg.with_columns(
        pl.when(ref >= settings.min_reference_kwh)
        .then(pl.col(f"{prefix}_did_kwh") / ref)
        .otherwise(None)
        .alias(f"{prefix}_did_pct")
    )


def choose_methods(event_rows: pl.DataFrame, baseline_passed: pl.Series, settings: FeatureSettings) -> pl.DataFrame:
    """(household_id, method) of the primary method of every household with any event DiD."""
    avail = (
        event_rows.filter((pl.col("kind") == "event") & pl.col("did_kwh").is_not_null())
        .group_by("household_id")
        .agg(
            has_within=(pl.col("method") == "within").any(),
            has_baseline=(pl.col("method") == "baseline").any(),
        )
        .with_columns(passed=pl.col("household_id").is_in(baseline_passed.implode()))
    )
    use_baseline = pl.lit(settings.prefer_baseline_year) & pl.col("has_baseline") & pl.col("passed")
    return avail.select(
        "household_id",
        method=pl.when(use_baseline)
        .then(pl.lit("baseline"))
        .when(pl.col("has_within"))
        .then(pl.lit("within"))
        .otherwise(pl.lit("baseline")),
    )


def summarise_responses(event_rows: pl.DataFrame, primary: pl.DataFrame, settings: FeatureSettings) -> pl.DataFrame:
    """Household-level response columns (primary method) from event rows."""
    rows = event_rows.join(primary, on=["household_id", "method"], how="inner")
    event = pl.col("kind") == "event"
    high = pl.col("band") == "High"
    parts = [
        household_did(rows.filter(event & high), settings, "high"),
        household_did(rows.filter(event & ~high), settings, "low"),
        household_did(rows.filter((pl.col("kind") == "rebound") & high), settings, "rebound"),
        household_did(rows.filter((pl.col("kind") == "preload") & high), settings, "preload"),
    ]
    for name, _, _ in settings.start_buckets:
        part = household_did(rows.filter(event & high & (pl.col("start_bucket") == name)), settings, "b")
        parts.append(part.select("household_id", pl.col("b_did_pct").alias(f"high_did_pct_{name}"),
                                 pl.col("b_did_kwh").alias(f"high_did_kwh_{name}")))  # fmt: skip
    for method in ("within", "baseline"):
        part = household_did(event_rows.filter(event & high & (pl.col("method") == method)), settings, "m").select(
            "household_id", pl.col("m_did_pct").alias(f"high_did_pct_{method}")
        )
        parts.append(part)
    out = primary
    for part in parts:
        out = out.join(part, on="household_id", how="left")
    high_rows = rows.filter(event & high).filter(pl.col("did_kwh").is_not_null())
    scores = studentised_score(high_rows)
    return out.join(scores.select("household_id", high_t_stat="t_stat"), on="household_id", how="left").join(
        household_event_bootstrap(high_rows, settings), on="household_id", how="left"
    )


def primary_high_rows(event_rows: pl.DataFrame, primary: pl.DataFrame) -> pl.DataFrame:
    """High event rows (kind 'event', DiD not null) of every household under its primary method."""
    return event_rows.join(primary, on=["household_id", "method"], how="inner").filter(
        (pl.col("kind") == "event") & (pl.col("band") == "High") & pl.col("did_kwh").is_not_null()
    )


def add_significance(features: pl.DataFrame, settings: FeatureSettings) -> pl.DataFrame:
    """Empirical p-values vs controls and BH responders over treated households."""
    scores = features["high_t_stat"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    is_control = (features["tariff_group"] == settings.control_group).to_numpy()
    p = empirical_p_values(scores, is_control)
    treated = (features["tariff_group"] == settings.treated_group).to_numpy()
    flags = np.zeros(len(p), dtype=bool)
    flags[treated] = benjamini_hochberg(p[treated], settings.fdr_alpha)
    return features.with_columns(
        high_p_value=pl.Series(p, dtype=pl.Float64).fill_nan(None),
        responder=pl.Series(flags, dtype=pl.Boolean),
    )


def compute_treatment_features(
    con: duckdb.DuckDBPyConnection, settings: FeatureSettings, baseline: BaselineResult | None = None
) -> TreatmentResult:
    """Response features of every household with an actual reading in the treatment window.

    ``baseline`` (from compute_baseline_features) decides who may use the baseline-year reference and
    feeds the control matching; it is computed here when not given.
    """
    window = (settings.treatment_start, settings.treatment_end)
    households = read_households(con, settings)
    schedule_raw = load_schedule(con, settings)
    schedule = build_event_schedule(schedule_raw, local_grid(*window, settings), settings)
    baseline = baseline if baseline is not None else compute_baseline_features(con, settings)
    normal = compute_lifestyle_features(con, settings, "treatment_normal_days", schedule=schedule_raw)
    # Comparison groups from PRE-PERIOD behaviour only: the trial year's lifestyle is post-treatment
    # (a household that shifted load looks flatter and would get flatter controls). Households without
    # a baseline profile get no pairs: the stated fallback design is all controls at the same half hour.
    profiles = matching_profiles(baseline.features)
    pairs = match_controls(profiles, households, settings)
    balance = covariate_balance(profiles, households, pairs, settings)
    events = compute_event_responses(con, settings, schedule, window, households, pairs)

    expected = local_grid(*window, settings).height
    counts = _window_counts(con, settings, *window).join(
        households.select("household_id", "tariff_group"), on="household_id", how="inner"
    )
    baseline_cov = pl.concat(
        [
            baseline.features.select("household_id", "coverage"),
            baseline.exclusions.select("household_id", "coverage"),
        ]
    ).unique("household_id", keep="first")
    primary = choose_methods(events, baseline.features["household_id"], settings)
    responses = summarise_responses(events, primary, settings)
    n_pairs = pairs.group_by("household_id").agg(n_matched_controls=pl.len().cast(pl.Int32))

    status = (
        pl.when(pl.lit(not schedule.has_events))
        .then(pl.lit("no_events_in_window"))
        .when(pl.col("method").is_null())
        .then(pl.lit("no_event_response"))
        .otherwise(pl.lit("ok"))
    )
    features = (
        counts.join(responses, on="household_id", how="left")
        .join(baseline_cov.rename({"coverage": "baseline_coverage"}), on="household_id", how="left")
        .join(n_pairs, on="household_id", how="left")
        .with_columns(
            is_treated=pl.col("tariff_group") == settings.treated_group,
            treatment_actual_half_hours=pl.col("actual_half_hours").cast(pl.Int64),
            treatment_coverage=pl.col("actual_half_hours") / expected,
            baseline_coverage=pl.col("baseline_coverage").fill_null(0.0),
            response_method=pl.col("method").replace_strict(METHOD_LABEL, default="none", return_dtype=pl.String),
            response_status=status,
            n_matched_controls=pl.col("n_matched_controls").fill_null(0),
            n_high_events=pl.col("high_events").fill_null(0),
            n_low_events=pl.col("low_events").fill_null(0),
            high_half_hours=pl.col("high_half_hours").fill_null(0),
            low_half_hours=pl.col("low_half_hours").fill_null(0),
        )
        .sort("household_id")
    )
    features = add_significance(features, settings).with_columns(
        comparison_design=pl.when(pl.col("n_matched_controls") > 0)
        .then(pl.lit(DESIGN_MATCHED))
        .otherwise(pl.lit(DESIGN_ALL_CONTROLS))
    )
    crossfit = cross_fit(
        primary_high_rows(events, primary), schedule.events, features.select("household_id", "tariff_group"), settings
    )
    features = features.join(crossfit.households, on="household_id", how="left").with_columns(
        crossfit_folds_flagged=pl.when(pl.col("is_treated"))
        .then(pl.col("crossfit_folds_flagged").fill_null(0))
        .otherwise(0)
        .cast(pl.Int8)
    )
    features = conform(features, TREATMENT_COLS)
    return TreatmentResult(
        features=validate(TreatmentFeatures, features, "features.treatment_features"),
        event_responses=validate(
            TreatmentEventResponses,
            conform(events, EVENT_RESPONSE_COLS),
            "features.treatment_event_responses",
        ),
        normal_day_lifestyle=validate(NormalDayLifestyle, normal, "features.normal_day_lifestyle"),
        matched_controls=pairs,
        schedule=schedule,
        balance=validate(ComparisonBalance, conform(balance, BALANCE_COLS), "features.comparison_balance"),
        crossfit=crossfit,
    )
