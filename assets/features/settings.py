"""One settings object for every feature table (baseline, treatment, summary, household features).

All hours are UK local clock hours of the START of a half hour and must sit on the half-hour grid.
Windows are half-open ranges of UK local dates: ``[start, end)``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

# England and Wales bank holidays 2011-2014 (gov.uk). The copy in the LCL sample
# (calendar/uk_bank_holidays.csv) has day and month swapped for days <= 12, so it is not used.
ENGLAND_WALES_BANK_HOLIDAYS: tuple[date, ...] = (
    date(2011, 12, 26), date(2011, 12, 27),
    date(2012, 1, 2), date(2012, 4, 6), date(2012, 4, 9), date(2012, 5, 7), date(2012, 6, 4),
    date(2012, 6, 5), date(2012, 8, 27), date(2012, 12, 25), date(2012, 12, 26),
    date(2013, 1, 1), date(2013, 3, 29), date(2013, 4, 1), date(2013, 5, 6), date(2013, 5, 27),
    date(2013, 8, 26), date(2013, 12, 25), date(2013, 12, 26),
    date(2014, 1, 1), date(2014, 4, 18), date(2014, 4, 21), date(2014, 5, 5), date(2014, 5, 26),
    date(2014, 8, 25), date(2014, 12, 25), date(2014, 12, 26),
)  # fmt: skip

CONTROL_MATCHING_MODES = ("knn", "all")
START_BUCKET_NAMES = ("night", "morning", "afternoon", "evening")
SEASON_NAMES = ("winter", "spring", "summer", "autumn")


def _half_hour_slot(hour: float, name: str) -> int:
    slot = hour * 2
    if slot != int(slot) or not 0 <= slot <= 48:
        raise ValueError(f"{name}={hour!r} must be a local hour on the half-hour grid within [0, 24]")
    return int(slot)


@dataclass(frozen=True)
class FeatureSettings:
    """Every knob of the feature layer (defaults reproduce the LCL analysis design)."""

    # --- windows (UK local dates, [start, end)) -------------------------------------------------
    baseline_start: date = date(2012, 1, 1)
    baseline_end: date = date(2013, 1, 1)
    treatment_start: date = date(2013, 1, 1)
    treatment_end: date = date(2014, 1, 1)
    timezone: str = "Europe/London"

    # --- data sufficiency -----------------------------------------------------------------------
    coverage_threshold: float = 0.8  # usable actual half hours / half hours in the window (Octopus-style gate)

    # --- meter health: local days the coverage gate counts as missing (rules, reason codes and sources:
    # assets/features/meter_health.py; README "Meter health") ----------------------------------------
    # (a) flat-lined day: a complete local day (46/48/50 actual readings) that is one non-zero value.
    # Frozen reads are a non-zero value repeated in >= 3 consecutive intervals, not genuine zeros
    # (waymark VEE); the day aggregates see runs of a whole day (the longest real LCL run is 39).
    meter_flat_days: bool = True
    # (b) zero day: a local day whose actual readings are all 0 (SERL "suspicious zeros"; CalTRACK
    # 2.2.1.4 treats electricity zeros as missing). Zero runs shorter than a day are kept.
    meter_zero_days: bool = True
    # (c) implausible level: a complete local day whose SMALLEST actual reading is at least this many kWh
    # (None = off): every half hour alone carries a whole day of Ofgem's High typical domestic
    # consumption (Profile Class 1 TDCV, 4,300 kWh/year from 1 April 2020: 4,300 / 365 = 11.78 kWh/day),
    # i.e. >= 23.6 kW for 24 hours. SERL's single-reading limit (24 kWh, V08) bounds one half hour only.
    meter_implausible_min_kwh: float | None = 4300 / 365

    # --- lifestyle features (local hours of the interval start) ----------------------------------
    peak_hours: tuple[float, float] = (16.0, 20.0)
    base_load_hours: tuple[float, float] = (1.0, 5.0)
    base_load_quantile: float = 0.10
    morning_peak_window: tuple[float, float] = (5.0, 12.0)
    evening_peak_window: tuple[float, float] = (16.0, 24.0)
    night_share_hours: tuple[float, float] = (0.0, 7.0)
    daytime_share_hours: tuple[float, float] = (10.0, 16.0)
    evening_share_hours: tuple[float, float] = (16.0, 22.0)
    morning_share_hours: tuple[float, float] = (6.0, 10.0)  # derived by the persona model (catalogue)
    winter_months: tuple[int, ...] = (12, 1, 2)
    summer_months: tuple[int, ...] = (6, 7, 8)
    min_season_half_hours: int = 14 * 48  # fewer actual half hours in a season -> ratio is None
    entropy_block_hours: int = 4  # daily-shape types: the 4-h block with the largest share ...
    entropy_flat_max_share: float = 0.25  # ... or 'flat' when no block holds this share of the day
    bank_holidays: tuple[date, ...] = ENGLAND_WALES_BANK_HOLIDAYS  # count as weekend days

    # --- response (difference in differences) ----------------------------------------------------
    reference_weeks: int = 3  # within-window reference: event week +- this many local weeks
    # Reference days must be this many local days away from any day with a High/Low half hour
    # (0 = only the event-free rule). The main run keeps 0 (LCL has events on 115 of 365 days, so
    # +-1 day removes most reference days); the sensitivity run uses sensitivity_adjacent_days.
    reference_exclude_adjacent_days: int = 0
    sensitivity_adjacent_days: int = 1  # spillover check: reference days +-1 day from events excluded
    baseline_month_tolerance: int = 1  # baseline-year reference: same calendar month +- this
    prefer_baseline_year: bool = True  # primary method where the household passed baseline coverage
    # 'knn': nearest controls on PRE-PERIOD (baseline-window) behaviour only; households without a
    # baseline lifestyle use the stated fallback design (all controls at the same half hour, the
    # baseline-free normalisation of Schofield et al.). 'all': everybody uses the fallback.
    control_matching: str = "knn"
    n_matched_controls: int = 20
    balance_smd_target: float = 0.1  # |standardised mean difference| below this = balanced (Austin 2009)
    rebound_hours: float = 3.0
    preload_hours: float = 3.0
    min_reference_kwh: float = 0.005  # % response is None when the reference mean is below this
    start_buckets: tuple[tuple[str, float, float], ...] = (
        ("night", 23.0, 5.0),
        ("morning", 5.0, 11.0),
        ("afternoon", 11.0, 17.0),
        ("evening", 17.0, 23.0),
    )
    # meteorological seasons of the event's local start month (the season breakdown of the summary)
    seasons: tuple[tuple[str, tuple[int, ...]], ...] = (
        ("winter", (12, 1, 2)),
        ("spring", (3, 4, 5)),
        ("summer", (6, 7, 8)),
        ("autumn", (9, 10, 11)),
    )

    # --- significance and summary ------------------------------------------------------------------
    fdr_alpha: float = 0.10
    bootstrap_replicates: int = 500
    # per-household uncertainty: bootstrap over the household's own events, resampled in the same
    # week blocks as the summary (events in one block share reference days)
    household_bootstrap_replicates: int = 400
    bootstrap_block_days: int = 7  # events are resampled in blocks of local weeks (Mon-Sun) ...
    bootstrap_households: bool = True  # ... and households independently (two-way bootstrap)
    ci_level: float = 0.95
    seed: int = 20130101
    winsor_quantiles: tuple[float, float] = (0.01, 0.99)
    placebo_shift_days: int = 364  # whole weeks: weekdays and local clock times are preserved
    # Pseudo-treatment placebo (assets/features/pseudo_placebo.py): this many random subsets of the
    # controls, each the size of the measured treated group, scored against the remaining controls with
    # the production estimator, bootstrap and BH. 200 draws put the Monte-Carlo error of a share near
    # 95 % (the CI coverage) at sqrt(0.95 * 0.05 / 200) = 1.5 points (about +-3 points at 95 %), and of
    # a share near the FDR level (0.10) at 2.1 points; each draw costs one population bootstrap per band.
    placebo_draws: int = 200
    placebo_seed: int = 20130202  # seed of the draws (subset d uses [placebo_seed, d])
    # A check fails when its share is further than this many Monte-Carlo standard errors on the wrong
    # side of its nominal value (coverage below ci_level, any-flag share above fdr_alpha): z = 2 is a
    # one-sided 2.3 % false alarm per share when the pipeline is calibrated.
    placebo_tolerance_z: float = 2.0
    responder_thresholds: tuple[float, ...] = tuple(round(0.01 * i, 2) for i in range(0, 31))
    fdr_curve_levels: tuple[float, ...] = (0.01, 0.05, 0.10, 0.20, 0.30, 0.50)

    # --- inputs ------------------------------------------------------------------------------------
    readings_table: str = "clean.clean_readings"
    tariff_table: str = "ingest.tariff_schedule"
    households_table: str = "ingest.households"
    control_group: str = "Std"
    treated_group: str = "ToU"

    def __post_init__(self) -> None:
        if not self.baseline_start < self.baseline_end <= self.treatment_start < self.treatment_end:
            raise ValueError(
                "windows must be ordered: baseline_start < baseline_end <= treatment_start < treatment_end "
                f"(got {self.baseline_start}, {self.baseline_end}, {self.treatment_start}, {self.treatment_end})"
            )
        if not 0 < self.coverage_threshold <= 1:
            raise ValueError("coverage_threshold must be in (0, 1]")
        if self.meter_implausible_min_kwh is not None and not self.meter_implausible_min_kwh > 0:
            raise ValueError("meter_implausible_min_kwh must be > 0 (None switches the rule off)")
        for name in (
            "peak_hours", "base_load_hours", "morning_peak_window", "evening_peak_window",
            "night_share_hours", "daytime_share_hours", "evening_share_hours", "morning_share_hours",
        ):  # fmt: skip
            lo, hi = getattr(self, name)
            if _half_hour_slot(lo, name) >= _half_hour_slot(hi, name):
                raise ValueError(f"{name} must be an increasing (start, end) pair of local hours")
        if tuple(b[0] for b in self.start_buckets) != START_BUCKET_NAMES:
            raise ValueError(f"start_buckets must be named {START_BUCKET_NAMES} (the table columns use them)")
        for name, start, end in self.start_buckets:
            _half_hour_slot(start, f"start_buckets[{name}]")
            _half_hour_slot(end, f"start_buckets[{name}]")
        if self.control_matching not in CONTROL_MATCHING_MODES:
            raise ValueError(f"control_matching must be one of {CONTROL_MATCHING_MODES}")
        if tuple(name for name, _ in self.seasons) != SEASON_NAMES or sorted(
            m for _, months in self.seasons for m in months
        ) != list(range(1, 13)):
            raise ValueError(f"seasons must be named {SEASON_NAMES} and cover the 12 months once")
        if self.reference_exclude_adjacent_days < 0 or self.sensitivity_adjacent_days < 0:
            raise ValueError("reference_exclude_adjacent_days and sensitivity_adjacent_days must be >= 0")
        if self.household_bootstrap_replicates < 2:
            raise ValueError("household_bootstrap_replicates must be >= 2")
        if self.placebo_draws < 0 or self.placebo_tolerance_z <= 0:
            raise ValueError(
                "placebo_draws must be >= 0 (0 switches the pseudo-treatment placebo off) and placebo_tolerance_z > 0"
            )
        if self.placebo_shift_days % 7:
            raise ValueError("placebo_shift_days must be whole weeks to keep weekdays")
        if 24 % self.entropy_block_hours:
            raise ValueError("entropy_block_hours must divide 24")
        if self.bootstrap_replicates < 1 or self.reference_weeks < 0 or self.n_matched_controls < 1:
            raise ValueError("bootstrap_replicates, n_matched_controls >= 1 and reference_weeks >= 0")
        _half_hour_slot(self.rebound_hours, "rebound_hours")
        _half_hour_slot(self.preload_hours, "preload_hours")

    # slot helpers (local half-hour slot 0..47 of the interval start)
    @staticmethod
    def slots(hours: tuple[float, float]) -> tuple[int, int]:
        """[first, last) local slots of an (start, end) pair of local hours."""
        return int(hours[0] * 2), int(hours[1] * 2)
