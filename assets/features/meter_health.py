"""Meter health: local days whose readings describe the meter, not the household (VEE on the day totals).

A flagged day counts as MISSING for the coverage gate of a lifestyle window (``coverage`` = actual half
hours on unflagged days / half hours of the window), so the threshold that excludes a household is the
existing coverage gate (``FeatureSettings.coverage_threshold``), not a new constant. A household the
flagged days push below the gate is excluded with the meter-health reason (``features.baseline_exclusions``,
``features.household_feature_exclusions``) and never reaches ``household_features``, the model or the DR
list. The rules read the per-local-day rows the lifestyle windows already aggregate (``household_days``:
readings, total, largest and smallest actual reading; or the same columns from the readings when the
aggregates do not answer), so they cost no extra pass over the readings and run on both engines.

Rules (settings: ``FeatureSettings``; sources: the domain notes' VEE section, ../shared/notes/domain.md
§4; README "Meter health"):

- ``meter_flat_lined`` (``meter_flat_days``): a complete local day (46/48/50 actual readings) whose
  readings are all one non-zero value. waymark VEE: frozen reads are a non-zero value repeated in >= 3
  consecutive intervals, not genuine zeros; the day rows see runs of a whole day.
- ``meter_zero_days`` / ``meter_all_zero`` (``meter_zero_days``): a local day whose actual readings are
  all 0. SERL flags "suspicious zeros"; CalTRACK 2.2.1.4 turns electricity zeros into missing values.
- ``meter_implausible_level`` (``meter_implausible_min_kwh``): a complete local day whose smallest
  reading is at least the limit: Ofgem's High typical domestic consumption (4,300 kWh/year) / 365 days
  = 11.78 kWh in EVERY half hour. SERL's and Itron's range rules bound single readings (V08, clean).

Reasons: ``meter_all_zero`` when every actual reading of the window is 0 (whatever its coverage);
otherwise the rule with the most flagged days (ties: the order above), when the household's actual half
hours alone would pass the gate and the flagged days take it below. A household below the gate without
them stays ``below_coverage_threshold`` (the detail still counts its flagged days).

Flagged days of a household that passes the gate stay in its features: the slot sums are per local month
(``household_month_slots``) and cannot drop single days (docs: README "Meter health").
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

from assets.features.settings import FeatureSettings


@dataclass(frozen=True)
class MeterRule:
    reason: str  # exclusion reason code
    days_column: str  # lifestyle column counting the window's flagged days
    setting: str  # the FeatureSettings field that switches / parameterises it
    source: str


RULES: tuple[MeterRule, ...] = (
    MeterRule("meter_flat_lined", "flat_lined_days", "meter_flat_days", "waymark VEE frozen reads"),
    MeterRule(
        "meter_implausible_level",
        "implausible_level_days",
        "meter_implausible_min_kwh",
        "Ofgem TDCV High (4,300 kWh/year), per day",
    ),
    MeterRule("meter_zero_days", "zero_days", "meter_zero_days", "SERL suspicious zeros; CalTRACK 2.2.1.4"),
)
ALL_ZERO = "meter_all_zero"
METER_REASONS = [ALL_ZERO, *(r.reason for r in RULES)]
DAY_COUNT_COLUMNS = [r.days_column for r in RULES]
HEALTH_COLUMNS = ["meter_flagged_half_hours", *DAY_COUNT_COLUMNS]


def day_flags(day: pl.DataFrame, settings: FeatureSettings) -> pl.DataFrame:
    """``day`` (household_id, local_date, day_half_hours, n, total, max_kwh, min_kwh, ...) with one boolean
    column per rule (a day has at most one flag: flat-lined, then implausible level, then zero)."""
    complete = pl.col("n") == pl.col("day_half_hours")
    flat = complete & (pl.col("min_kwh") == pl.col("max_kwh")) & (pl.col("max_kwh") > 0)
    limit = settings.meter_implausible_min_kwh
    high = complete & (pl.col("min_kwh") >= limit) if limit is not None else pl.lit(False)
    zero = pl.col("max_kwh") == 0
    flat = flat & pl.lit(settings.meter_flat_days)
    high = high & ~flat
    zero = zero & pl.lit(settings.meter_zero_days)
    return day.with_columns(
        flat_lined_days=flat.fill_null(False),
        implausible_level_days=high.fill_null(False),
        zero_days=zero.fill_null(False),
    )


def household_health(day: pl.DataFrame, settings: FeatureSettings) -> pl.DataFrame:
    """Per household of ``day``: actual half hours on flagged days and the flagged days of each rule."""
    flagged = day_flags(day, settings)
    any_flag = pl.any_horizontal(DAY_COUNT_COLUMNS)
    return flagged.group_by("household_id").agg(
        meter_flagged_half_hours=pl.col("n").filter(any_flag).sum().cast(pl.Int64),
        **{c: pl.col(c).sum().cast(pl.Int32) for c in DAY_COUNT_COLUMNS},
    )


def meter_reason(threshold: float) -> pl.Expr:
    """The meter-health exclusion reason of a lifestyle row (columns ``actual_half_hours``,
    ``expected_half_hours`` and :data:`HEALTH_COLUMNS`) below the gate, or None when meter health did not
    decide it."""
    flagged = pl.col("meter_flagged_half_hours")
    all_zero = (pl.col("zero_days") > 0) & (flagged == pl.col("actual_half_hours"))
    for rule in RULES[:-1]:
        all_zero = all_zero & (pl.col(rule.days_column) == 0)
    raw_passes = pl.col("actual_half_hours") >= threshold * pl.col("expected_half_hours")
    most = pl.max_horizontal(DAY_COUNT_COLUMNS)
    dominant = pl.lit(None, dtype=pl.String)
    for rule in reversed(RULES):  # the first rule wins ties
        dominant = pl.when(pl.col(rule.days_column) == most).then(pl.lit(rule.reason)).otherwise(dominant)
    return (
        pl.when(all_zero)
        .then(pl.lit(ALL_ZERO))
        .when(raw_passes & (flagged > 0))
        .then(dominant)
        .otherwise(pl.lit(None, dtype=pl.String))
    )


def meter_detail() -> pl.Expr:
    """Human text of the flagged days of a lifestyle row ('' when none)."""
    return (
        pl.when(pl.col("meter_flagged_half_hours") > 0)
        .then(
            pl.format(
                "; {} actual half hours on meter-flagged days count as missing ({} flat-lined, {} implausible-level,"
                " {} all-zero days)",
                pl.col("meter_flagged_half_hours"),
                *(pl.col(c) for c in DAY_COUNT_COLUMNS),
            )
        )
        .otherwise(pl.lit(""))
    )
