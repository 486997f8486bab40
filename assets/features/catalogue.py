"""The feature catalogue: ONE entry per household feature (name, unit, hour window, formula, description).

Open this file to find a feature such as ``evening_share``. Everything else is derived from the entries:

* the pandera schemas (``schemas/lifestyle_features.py``, ``schemas/household_features.py``,
  ``schemas/treatment_features.py``) take their columns, dtypes, checks and descriptions from here;
* the computation (``lifestyle.py``) reads each feature's hour window through :meth:`Feature.slots`
  and dispatches on its ``formula``;
* the column lineage (``lineage.py``) reads each feature's ``source``;
* the persona naming rules (``assets/model/persona_naming.py``) take their share / peak windows from
  :func:`window_slots`.

Hour windows are NOT written here: ``hours`` names the :class:`FeatureSettings` field that holds them (UK
local clock hours of the interval start, ``[start, end)``), and descriptions quote the default values
through ``{hours}``. Formulas (lifestyle, over the window's actual readings in local slot NN of the
interval start; see local_time.py for the DST rule):

* ``window_share``: share of the mean daily profile's kWh in the window (profile = mean kWh per slot);
* ``window_mean``: mean profile kWh per half hour over the window's slots;
* ``window_peak_hour``: local start hour (x.0 / x.5) of the largest profile slot in the window
  (earliest slot on ties);
* ``window_quantile``: ``base_load_quantile`` (linear interpolation) of the actual readings starting
  in the window;
* ``custom``: written out in ``lifestyle.py`` / ``treatment_features.py`` (the description says what).

Lifestyle definitions in full (local clock slot of the interval START; windows are the defaults):

- profile_kwh_sNN: mean kWh of the household's actual readings in local slot NN (mean over readings).
- mean_kwh_per_half_hour: mean of the 48 profile values (slot-balanced; equals the plain mean of the
  readings when every slot is equally observed). shape_sNN = profile_kwh_sNN / mean_kwh_per_half_hour,
  so the shape values average exactly 1.
- mean_daily_kwh, daily_cv: mean and sample CV (ddof=1) of the totals of COMPLETE local days (every
  half hour of the local day - 46, 48 or 50 - has an actual reading).
- peak_kwh_per_half_hour: mean profile over the peak slots; peak_offpeak_ratio: that / mean profile
  over all other slots.
- load_factor: mean_kwh_per_half_hour / the largest actual half-hourly reading.
- base_load_kwh: the ``base_load_quantile`` (linear interpolation) of actual readings in its
  window (``base_load_hours``).
- morning/evening_peak_hour: local start hour (x.0 or x.5) of the largest profile slot in the window
  (earliest slot on ties).
- weekday_weekend_ratio, winter_summer_ratio: ratio of the slot-balanced mean profiles of the two
  day types / seasons (bank holidays count as weekend). winter_summer_ratio is None when either season
  has fewer than ``min_season_half_hours`` actual readings.
- shape_entropy: normalised Shannon entropy (0..1) of the distribution of the household's complete,
  non-zero days over a fixed dictionary of daily-shape types: the 4-hour local block that holds the
  largest share of the day's kWh (6 types), or 'flat' when no block holds ``entropy_flat_max_share``
  of the day (1 type). Entropy = -sum p ln p / ln 7: 0 = every day has the same shape type,
  1 = days spread evenly over all 7 types. A rule-based dictionary keeps the feature reproducible and
  SQL-cheap at LCL scale (a learned k-means dictionary, as in Kwac et al., would need every day shape).
- night_share, daytime_share, evening_share: share of the mean daily profile's kWh in those hours.
- coverage: usable actual half hours (local days without a meter-health flag: meter_health.py) / half
  hours of the included local days of the window.
- winter_weekday_peak_kw: 2 x the slot-balanced mean kWh per half hour over the peak slots
  (``peak_hours``) of weekdays (bank holidays count as weekend) in ``winter_months``; None when those
  days hold fewer than ``min_season_half_hours / 48 * (peak slots)`` actual peak readings (14 days' worth)
  or a peak slot has none. It is the load a winter evening DR event acts on (expected kW in dr_targets).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any, Literal

import polars as pl

from assets.common.column_spec import Col
from assets.features.settings import FeatureSettings
from assets.features.slots import PROFILE_COLUMNS, SHAPE_COLUMNS

DEFAULT_SETTINGS = FeatureSettings()

Formula = Literal["window_share", "window_mean", "window_peak_hour", "window_quantile", "custom"]
# Lineage of a feature column: 'kwh' = actual kWh readings, 'actual' = counts of actual half hours,
# 'did' = readings + tariff schedule + tariff groups (difference in differences).
Source = Literal["kwh", "actual", "did"]


def clock(hour: float) -> str:
    """``16.5`` -> ``'16:30'`` (24 -> ``'24:00'``)."""
    return f"{int(hour):02d}:{round(60 * (hour - int(hour))):02d}"


def hours_label(hours: tuple[float, float]) -> str:
    """``(16.0, 22.0)`` -> ``'16:00-22:00'``."""
    return f"{clock(hours[0])}-{clock(hours[1])}"


def slot_label(i: int) -> str:
    """Local slot ``i`` (0..47) as ``'hh:mm-hh:mm'``."""
    return hours_label((i / 2, (i + 1) / 2))


@dataclass(frozen=True)
class Feature:
    """Definition of one feature column."""

    name: str
    unit: str
    description: str  # ``{hours}`` is replaced by the default window, e.g. '16:00-22:00'
    checks: Mapping[str, Any] = field(default_factory=dict)  # pandera Field kwargs
    hours: str | None = None  # the FeatureSettings field holding the (start, end) local hours
    formula: Formula = "custom"
    source: Source = "kwh"
    dtype: Any = pl.Float64

    def window(self, settings: FeatureSettings = DEFAULT_SETTINGS) -> tuple[float, float]:
        if self.hours is None:
            raise ValueError(f"feature {self.name!r} has no hour window")
        return getattr(settings, self.hours)

    def slots(self, settings: FeatureSettings = DEFAULT_SETTINGS) -> tuple[int, int]:
        """[first, last) local half-hour slots of the feature's window."""
        return settings.slots(self.window(settings))

    @property
    def text(self) -> str:
        """The description with the default window filled in."""
        return self.description.format(hours=hours_label(self.window()) if self.hours else "")

    def column(self) -> Col:
        return Col(self.name, self.dtype, self.text, dict(self.checks))


_POS = MappingProxyType({"nullable": True, "ge": 0})
_SHARE = MappingProxyType({"nullable": True, "ge": 0, "le": 1.0000001})

# --- coverage of the lifestyle window -------------------------------------------------------------
COVERAGE: tuple[Feature, ...] = (
    Feature(
        "coverage",
        "fraction",
        "Usable actual (quality A) half hours / half hours of the window's included local days: actual half "
        "hours on local days with a meter-health flag count as missing (assets/features/meter_health.py).",
        {"ge": 0, "le": 1},
        source="actual",
    ),
    Feature(
        "actual_half_hours",
        "half hours",
        "Actual half-hourly readings in the included local days of the window.",
        {"ge": 0},
        source="actual",
        dtype=pl.Int64,
    ),
    Feature(
        "expected_half_hours",
        "half hours",
        "Half hours in the included local days of the window (46/48/50 per local day).",
        {"ge": 0},
        source="actual",
        dtype=pl.Int64,
    ),
    Feature(
        "complete_days",
        "days",
        "Local days with an actual reading in every one of their half hours.",
        {"ge": 0},
        source="actual",
        dtype=pl.Int32,
    ),
    Feature(
        "meter_flagged_half_hours",
        "half hours",
        "Actual half hours on local days with a meter-health flag (flat-lined, implausible level, all zero): "
        "missing for coverage.",
        {"ge": 0},
        source="actual",
        dtype=pl.Int64,
    ),
    Feature(
        "flat_lined_days",
        "days",
        "Complete local days whose actual readings are all one non-zero value (meter_flat_days).",
        {"ge": 0},
        source="kwh",
        dtype=pl.Int32,
    ),
    Feature(
        "implausible_level_days",
        "days",
        "Complete local days whose smallest actual reading is >= meter_implausible_min_kwh.",
        {"ge": 0},
        source="kwh",
        dtype=pl.Int32,
    ),
    Feature(
        "zero_days",
        "days",
        "Local days whose actual readings are all 0 (meter_zero_days).",
        {"ge": 0},
        source="kwh",
        dtype=pl.Int32,
    ),
)

# --- the lifestyle block of the household_features contract (CONTRACTS.md), in contract order ----
LIFESTYLE: tuple[Feature, ...] = (
    Feature("mean_daily_kwh", "kWh/day", "Mean total kWh of complete local days (46/48/50 half hours).", _POS),
    Feature(
        "mean_kwh_per_half_hour",
        "kWh per half hour",
        "Mean of the 48 local-slot profile values (kWh per half hour).",
        _POS,
    ),
    Feature(
        "peak_kwh_per_half_hour",
        "kWh per half hour",
        "Mean profile kWh per half hour over the peak hours (default {hours} local).",
        _POS,
        hours="peak_hours",
        formula="window_mean",
    ),
    Feature(
        "peak_offpeak_ratio",
        "ratio",
        "peak_kwh_per_half_hour / mean profile kWh of all other slots; None if off-peak is 0.",
        _POS,
        hours="peak_hours",
    ),
    Feature(
        "daily_cv",
        "ratio",
        "Daily volatility: sample SD / mean of complete-day totals; None with < 2 complete days.",
        _POS,
    ),
    Feature("load_factor", "ratio", "mean_kwh_per_half_hour / the largest actual half-hourly reading.", _POS),
    Feature(
        "base_load_kwh",
        "kWh per half hour",
        "Base load: p10 (linear interpolation) of actual readings starting {hours} local.",
        _POS,
        hours="base_load_hours",
        formula="window_quantile",
    ),
    Feature(
        "morning_peak_hour",
        "local hour",
        "Local start hour (x.0/x.5) of the largest profile slot in {hours}.",
        {"nullable": True, "ge": 0, "lt": 24},
        hours="morning_peak_window",
        formula="window_peak_hour",
    ),
    Feature(
        "evening_peak_hour",
        "local hour",
        "Local start hour (x.0/x.5) of the largest profile slot in {hours}.",
        {"nullable": True, "ge": 0, "lt": 24},
        hours="evening_peak_window",
        formula="window_peak_hour",
    ),
    Feature(
        "weekday_weekend_ratio",
        "ratio",
        "Mean profile kWh on weekdays / on weekends (Sat, Sun and England & Wales bank holidays).",
        _POS,
    ),
    Feature(
        "winter_summer_ratio",
        "ratio",
        "Mean profile kWh in Dec-Feb / in Jun-Aug; None if either season has < 14 days of readings.",
        _POS,
    ),
    Feature(
        "shape_entropy",
        "0..1",
        "Normalised Shannon entropy (0..1) of complete days over 7 daily-shape types (dominant 4-h block, or flat).",
        _SHARE,
    ),
    Feature(
        "night_share",
        "fraction",
        "Share of the mean daily profile's kWh in {hours} local.",
        _SHARE,
        hours="night_share_hours",
        formula="window_share",
    ),
    Feature(
        "daytime_share",
        "fraction",
        "Share of the mean daily profile's kWh in {hours} local.",
        _SHARE,
        hours="daytime_share_hours",
        formula="window_share",
    ),
    Feature(
        "evening_share",
        "fraction",
        "Share of the mean daily profile's kWh in {hours} local.",
        _SHARE,
        hours="evening_share_hours",
        formula="window_share",
    ),
)

# --- lifestyle features outside the contract block (after the profile columns, and extra columns of
# household_features; the DR target list's expected kW reads them) ---------------------------------
PEAK_LOAD: tuple[Feature, ...] = (
    Feature(
        "winter_weekday_peak_kw",
        "kW",
        "Winter weekday peak load: mean kW (2 x kWh per half hour, slot-balanced) over {hours} local on "
        "weekdays (not weekends or bank holidays) in Dec-Feb of the window; None with < 14 days of such "
        "readings or a peak slot without any.",
        _POS,
        hours="peak_hours",
    ),
)

# --- the 48-slot daily profile -------------------------------------------------------------------
SHAPE: tuple[Feature, ...] = tuple(
    Feature(
        name,
        "ratio to the mean",
        f"Local slot {slot_label(i)}: mean kWh / mean_kwh_per_half_hour (the 48 values average 1).",
        {"nullable": True, "ge": 0},
    )
    for i, name in enumerate(SHAPE_COLUMNS)
)
PROFILE: tuple[Feature, ...] = tuple(
    Feature(
        name,
        "kWh per half hour",
        f"Local slot {slot_label(i)}: mean kWh of the actual readings starting in it.",
        {"nullable": True, "ge": 0},
    )
    for i, name in enumerate(PROFILE_COLUMNS)
)

# --- trial-year price response (per household; method: event_response.py / treatment_features.py) --
_N = MappingProxyType({"nullable": True})
_REBOUND = f"{DEFAULT_SETTINGS.rebound_hours:g} h"
_PRELOAD = f"{DEFAULT_SETTINGS.preload_hours:g} h"


def _bucket_hours(name: str) -> str:
    """'17-23' for a start bucket of the default settings."""
    start, end = next((s, e) for n, s, e in DEFAULT_SETTINGS.start_buckets if n == name)
    return f"{start:02g}-{end:02g}"


START_BUCKETS = [name for name, _, _ in DEFAULT_SETTINGS.start_buckets]
RESPONSE: tuple[Feature, ...] = (
    Feature("n_high_events", "events", "High events with a DiD value (primary method).", {"ge": 0}, dtype=pl.Int32),
    Feature("n_low_events", "events", "Low events with a DiD value (primary method).", {"ge": 0}, dtype=pl.Int32),
    Feature("high_half_hours", "half hours", "Actual High half hours behind high_did_kwh.", {"ge": 0}, dtype=pl.Int32),
    Feature("low_half_hours", "half hours", "Actual Low half hours behind low_did_kwh.", {"ge": 0}, dtype=pl.Int32),
    Feature(
        "high_ref_kwh",
        "kWh per half hour",
        "Household's own reference mean over its High half hours (kWh per half hour).",
        _N,
    ),
    Feature(
        "high_did_kwh",
        "kWh per half hour",
        "High-event DiD, kWh per half hour: (own - reference) - matched controls' (own - reference).",
        _N,
    ),
    Feature(
        "high_did_pct",
        "fraction",
        "High-event DiD as a fraction of the household's own reference (high_did_kwh / high_ref_kwh); "
        "None if the reference < min_reference_kwh.",
        _N,
    ),
    Feature(
        "low_ref_kwh",
        "kWh per half hour",
        "Household's own reference mean over its Low half hours (kWh per half hour).",
        _N,
    ),
    Feature("low_did_kwh", "kWh per half hour", "Low-event DiD, kWh per half hour.", _N),
    Feature(
        "low_did_pct",
        "fraction",
        "Low-event DiD as a fraction of the household's own reference (low_did_kwh / low_ref_kwh).",
        _N,
    ),
    Feature(
        "rebound_did_kwh",
        "kWh per half hour",
        f"DiD in the Normal half hours of the {_REBOUND} after High events, kWh per half hour.",
        _N,
    ),
    Feature(
        "rebound_did_pct",
        "fraction",
        f"Rebound DiD as a fraction of the own reference over the Normal half hours of the {_REBOUND} after "
        "High events.",
        _N,
    ),
    Feature(
        "preload_did_kwh",
        "kWh per half hour",
        f"DiD in the Normal half hours of the {_PRELOAD} before High events, kWh per half hour.",
        _N,
    ),
    Feature(
        "preload_did_pct",
        "fraction",
        f"Pre-loading DiD as a fraction of the own reference over the Normal half hours of the {_PRELOAD} before "
        "High events.",
        _N,
    ),
    *(
        Feature(
            f"high_did_pct_{b}",
            "fraction",
            f"High-event DiD (fraction) for events starting {_bucket_hours(b)} local ({b}).",
            _N,
        )
        for b in START_BUCKETS
    ),
    *(
        Feature(
            f"high_did_kwh_{b}",
            "kWh per half hour",
            f"High-event DiD (kWh per half hour) for events starting {_bucket_hours(b)} local.",
            _N,
        )
        for b in START_BUCKETS
    ),
    Feature(
        "high_did_pct_within",
        "fraction",
        "High-event DiD (fraction) with the within-window reference, whatever the primary method.",
        _N,
    ),
    Feature(
        "high_did_pct_baseline",
        "fraction",
        "High-event DiD (fraction) with the baseline-year reference (None without baseline data).",
        _N,
    ),
    Feature(
        "high_t_stat",
        "t",
        "Studentised High DiD over events: mean / (sd / sqrt(n)); +-inf if sd = 0; None with < 2 events.",
        _N,
    ),
    Feature(
        "high_p_value",
        "p",
        "One-sided empirical p-value of high_t_stat against the control households (leave-one-out).",
        {"nullable": True, "ge": 0, "le": 1},
    ),
    Feature(
        "responder",
        "flag",
        "Treated and discovered by Benjamini-Hochberg at fdr_alpha over treated p-values; False for controls. "
        "Selected on all events: report a flagged household's effect with high_did_pct_heldout.",
        dtype=pl.Boolean,
    ),
    Feature(
        "high_did_pct_se",
        "fraction",
        "Standard error of high_did_pct: sd over a bootstrap of the household's own High events, resampled "
        "in week blocks (events sharing reference days together); nothing clipped. None with < 2 blocks.",
        {"nullable": True, "ge": 0},
    ),
    Feature(
        "high_did_pct_ci_low",
        "fraction",
        "Lower percentile bound (ci_level) of high_did_pct from the same household event bootstrap.",
        _N,
    ),
    Feature(
        "high_did_pct_ci_high",
        "fraction",
        "Upper percentile bound (ci_level) of high_did_pct from the same household event bootstrap.",
        _N,
    ),
    Feature(
        "high_bootstrap_blocks",
        "blocks",
        "Week blocks the household's High events fall in (the units of its event bootstrap).",
        {"nullable": True, "ge": 0},
        dtype=pl.Int32,
    ),
    Feature(
        "crossfit_folds_flagged",
        "folds",
        "Cross-fitting: in how many of the 2 High-event folds (odd/even events) BH at fdr_alpha flagged "
        "the household (0 for controls).",
        {"ge": 0, "le": 2},
        dtype=pl.Int8,
    ),
    Feature(
        "high_did_pct_heldout",
        "fraction",
        "Cross-fitted High DiD (fraction): the household's response on the fold that did NOT flag it, "
        "averaged over the folds that did; None when never flagged. Free of selection (winner's curse).",
        _N,
    ),
)
RESPONSE = tuple(replace(f, source="did") for f in RESPONSE)  # all from the DiD inputs

# --- derived by the persona model from the shape columns (not columns of the feature tables) --------
MODEL_DERIVED: tuple[Feature, ...] = (
    Feature(
        "morning_share",
        "fraction",
        "Share of the daily shape profile in {hours} local (the double-peak archetype needs it).",
        hours="morning_share_hours",
        formula="window_share",
    ),
)

CATALOGUE: dict[str, Feature] = {
    f.name: f for f in (*COVERAGE, *LIFESTYLE, *PEAK_LOAD, *SHAPE, *PROFILE, *RESPONSE, *MODEL_DERIVED)
}


def feature(name: str) -> Feature:
    """The catalogue entry of ``name`` (KeyError names the unknown feature)."""
    try:
        return CATALOGUE[name]
    except KeyError:
        raise KeyError(f"{name!r} is not in the feature catalogue (assets/features/catalogue.py)") from None


def columns(features: tuple[Feature, ...]) -> list[Col]:
    return [f.column() for f in features]


def window_slots(name: str, settings: FeatureSettings = DEFAULT_SETTINGS) -> slice:
    """The local slots of a feature's hour window as a slice of a 48-slot profile."""
    lo, hi = feature(name).slots(settings)
    return slice(lo, hi)
