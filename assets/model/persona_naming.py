"""Human names for clusters, derived by RULES from feature levels: never a cluster number.

Inputs are the *levels* of a cluster: its mean 48-slot shape profile (UK local time, mean 1), the
mean daily kWh of its members and how many of its members are night-heavy; and the *population's*
levels (the all-household centroid and the spread of households), against which "flat" and "high use"
are judged. Rules, first match wins (thresholds in ``NamingRules``; the hour windows are the features'
own, from assets/features/catalogue.py, quoted here with their defaults). Windows that show a PEAK are
tested before "flat": a centroid with 34 % of its use between 16:00 and 22:00 and a max/mean of 1.46 is
an evening peaker, not flat baseload (the real LCL sample):

1. ``night storage heating``   night (00:00-07:00) share >= night_heavy_share
2. ``morning and evening double peak``
                               morning (06-10) and evening (16-22) peaks both >= double_peak_min
                               and morning peak >= double_peak_morning_vs_evening x evening peak,
                               separated by a midday trough (11-15 mean <= double_peak_max_trough
                               x the lower peak)
3. ``daytime at home``         daytime (10:00-16:00) share >= daytime_share and >= evening share
4. ``evening peaker``          evening (16:00-22:00) share >= evening_share
5. FLAT -- flatter than the population by a margin, and no storage heater among the members:
   * profile max/mean <= flat_max_to_mean (absolute cap), and
   * max/mean <= the population centroid's max/mean - flat_margin_sd x the households' SD of max/mean
     (flat_margin_sd = 0.2: Cohen's "small" standardised difference; on the real LCL sample the
     all-home centroid has max/mean 1.46 and the households an SD of 0.73, so "flat" needs <= 1.31;
     the population's own average day is therefore never "flat"), and
   * none of its members is night-heavy (household night share >= night_heavy_share): storage heating
     is never "flat" (for DR it is a load to shift), so such a cluster is ``all-day mixed use``.
   The peak/off-peak ratio is not used: a population mixing evening peakers with storage heaters has
   a centroid flattened in that ratio (1.23 with flat homes at 1.08), which would deny genuinely flat
   homes their name.
   Then ``high all-day user`` if mean daily kWh >= high_use_vs_population x the population's median
   (high_use_daily_kwh without a population), else ``flat baseload``.
   Without population levels (constructed centroids) only the absolute cap applies.
6. ``all-day mixed use``       otherwise

Responsiveness qualifiers (personas only):
* a persona made of measured responders of a segment: ``price-responsive <shifter form>`` (e.g.
  ``price-responsive evening shifter``);
* a segment whose measured members respond little (segment prior < unresponsive_below_pct with at
  least min_measured_for_label measured members): ``unresponsive <name>``.

Duplicates (two clusters with the same name) are disambiguated deterministically by use level:
the mean daily kWh orders them ``high-use`` / ``low-use`` (``high-use``/``mid-use``/``low-use``
for three; ``use level i of n`` beyond). Persona ids are slugs of the names, so they are stable
across re-fits whatever label numbers scikit-learn gives.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

import numpy as np

from assets.features.catalogue import window_slots
from assets.features.settings import FeatureSettings
from assets.features.slots import N_SLOTS
from assets.model.settings import NamingRules

# Windows of a 48-slot profile (UK local slots). The share / peak windows are the features' own
# (assets/features/catalogue.py and FeatureSettings); only the midday trough is a naming rule.
NIGHT = window_slots("night_share")  # 00:00-07:00
MORNING = window_slots("morning_share")  # 06:00-10:00
DAYTIME = window_slots("daytime_share")  # 10:00-16:00
EVENING = window_slots("evening_share")  # 16:00-22:00
PEAK = window_slots("peak_kwh_per_half_hour")  # 16:00-20:00
MIDDAY = slice(*FeatureSettings.slots(NamingRules.double_peak_trough_hours))  # 11:00-15:00


def _clock(slot: int) -> str:
    return "midnight" if slot == 0 else f"{slot // 2:02d}:{30 * (slot % 2):02d}"


def _between(window: slice) -> str:
    """'between 10:00 and 16:00' for a slot window."""
    return f"between {_clock(window.start)} and {_clock(window.stop)}"


def _hours(window: slice) -> str:
    """'06-10' for a slot window (whole hours)."""
    return f"{window.start // 2:02d}-{window.stop // 2:02d}"


def _flat_share(window: slice) -> str:
    """Share of daily use a flat profile puts in the window, e.g. '25%'."""
    return f"{(window.stop - window.start) / N_SLOTS:.0%}"


SHIFTER_FORMS = {
    "night storage heating": "night-storage shifter",
    "high all-day user": "high all-day shifter",
    "flat baseload": "flat-load shifter",
    "morning and evening double peak": "double-peak shifter",
    "daytime at home": "daytime-at-home shifter",
    "evening peaker": "evening shifter",
    "all-day mixed use": "mixed-use shifter",
}


@dataclass(frozen=True)
class ProfileLevels:
    """Levels of a cluster used by the naming rules (all from its mean profile + mean kWh)."""

    night_share: float
    morning_share: float
    daytime_share: float
    evening_share: float
    max_to_mean: float
    morning_peak: float
    evening_peak: float
    peak_offpeak_ratio: float
    mean_daily_kwh: float
    midday_level: float = 0.0  # mean of 11:00-15:00 (the trough a double peak must have)
    night_heavy_members: int = 0  # members whose own night share >= night_heavy_share (cluster_levels)


@dataclass(frozen=True)
class PopulationLevels:
    """What "flatter than the population" is measured against: the all-household centroid's levels, the
    spread (SD) across households of their max/mean, and the median daily kWh."""

    centroid: ProfileLevels
    sd_max_to_mean: float
    median_daily_kwh: float


def levels_from_profile(profile: Sequence[float] | np.ndarray, mean_daily_kwh: float) -> ProfileLevels:
    """Window shares and peak ratios of a 48-slot profile (any scale: it is normalised first)."""
    p = np.asarray(profile, dtype=np.float64)
    if p.shape != (N_SLOTS,):
        raise ValueError(f"a profile has {N_SLOTS} slots, got shape {p.shape}")
    mean = p.mean()
    if not mean > 0:
        raise ValueError("profile mean must be > 0")
    p = p / mean
    total = p.sum()
    peak_mask = np.zeros(N_SLOTS, dtype=bool)
    peak_mask[PEAK] = True
    return ProfileLevels(
        night_share=float(p[NIGHT].sum() / total),
        morning_share=float(p[MORNING].sum() / total),
        daytime_share=float(p[DAYTIME].sum() / total),
        evening_share=float(p[EVENING].sum() / total),
        max_to_mean=float(p.max()),
        morning_peak=float(p[MORNING].max()),
        evening_peak=float(p[EVENING].max()),
        peak_offpeak_ratio=float(p[peak_mask].mean() / p[~peak_mask].mean()),
        mean_daily_kwh=float(mean_daily_kwh),
        midday_level=float(p[MIDDAY].mean()),
    )


def cluster_levels(member_profiles: np.ndarray, member_daily_kwh: np.ndarray, rules: NamingRules) -> ProfileLevels:
    """Levels of a cluster from its members' shape-normalised profiles (rows) and daily kWh: the centroid's
    levels plus how many members are night-heavy on their own profile."""
    levels = levels_from_profile(member_profiles.mean(axis=0), float(np.mean(member_daily_kwh)))
    night = member_profiles[:, NIGHT].sum(axis=1) / member_profiles.sum(axis=1)
    return replace(levels, night_heavy_members=int(np.sum(night >= rules.night_heavy_share)))


def population_levels(profiles: np.ndarray, daily_kwh: np.ndarray) -> PopulationLevels:
    """The population's levels from every household's shape-normalised profile (rows) and daily kWh."""
    p = np.asarray(profiles, dtype=np.float64)
    max_to_mean = p.max(axis=1) / p.mean(axis=1)
    return PopulationLevels(
        centroid=levels_from_profile(p.mean(axis=0), float(np.mean(daily_kwh))),
        sd_max_to_mean=float(np.std(max_to_mean)),
        median_daily_kwh=float(np.median(daily_kwh)),
    )


def flat_limit(rules: NamingRules, population: PopulationLevels | None) -> float:
    """The max/mean a profile must not exceed to be called flat (module docstring, rule 5)."""
    if population is None:
        return rules.flat_max_to_mean
    relative = population.centroid.max_to_mean - rules.flat_margin_sd * population.sd_max_to_mean
    return min(rules.flat_max_to_mean, relative)


def name_from_levels(
    levels: ProfileLevels, rules: NamingRules, population: PopulationLevels | None = None
) -> tuple[str, str]:
    """(name, reason): the first rule that matches the levels, and why, in plain words.

    ``population``: the population's levels (:func:`population_levels`), for the relative "flat" and
    "high use" rules; without it only the absolute thresholds apply.
    """
    lv = levels
    if lv.night_share >= rules.night_heavy_share:
        return "night storage heating", (
            f"{lv.night_share:.0%} of daily use falls {_between(NIGHT)} "
            f"(rule: >= {rules.night_heavy_share:.0%}; a flat day would give {_flat_share(NIGHT)})"
        )
    if (
        lv.morning_peak >= rules.double_peak_min
        and lv.evening_peak >= rules.double_peak_min
        and lv.morning_peak >= rules.double_peak_morning_vs_evening * lv.evening_peak
        and lv.midday_level <= rules.double_peak_max_trough * min(lv.morning_peak, lv.evening_peak)
    ):
        return "morning and evening double peak", (
            f"two peaks: morning ({_hours(MORNING)}) {lv.morning_peak:.2f} x and evening ({_hours(EVENING)}) "
            f"{lv.evening_peak:.2f} x "
            f"the mean (rule: both >= {rules.double_peak_min}, morning >= "
            f"{rules.double_peak_morning_vs_evening:.0%} of evening, with a midday trough of "
            f"{lv.midday_level:.2f} x <= {rules.double_peak_max_trough:.0%} of the lower peak)"
        )
    if lv.daytime_share >= rules.daytime_share and lv.daytime_share >= lv.evening_share:
        return "daytime at home", (
            f"{lv.daytime_share:.0%} of daily use falls {_between(DAYTIME)} "
            f"(rule: >= {rules.daytime_share:.0%} and >= the evening share; a flat day would give "
            f"{_flat_share(DAYTIME)})"
        )
    if lv.evening_share >= rules.evening_share:
        return "evening peaker", (
            f"{lv.evening_share:.0%} of daily use falls {_between(EVENING)} "
            f"(rule: >= {rules.evening_share:.0%}; a flat day would give {_flat_share(EVENING)})"
        )
    limit = flat_limit(rules, population)
    flat = lv.max_to_mean <= limit
    if population is None:
        flat_words = f"highest half hour {lv.max_to_mean:.2f} x the mean, rule <= {limit:.2f}"
    else:
        flat_words = (
            f"highest half hour {lv.max_to_mean:.2f} x the mean, against {population.centroid.max_to_mean:.2f} for "
            f"the average of all households; rule: <= {limit:.2f}, {rules.flat_margin_sd:g} household SD below it "
            f"and <= {rules.flat_max_to_mean:g}"
        )
    if flat and lv.night_heavy_members > 0:
        return "all-day mixed use", (
            f"the average day is flat ({flat_words}), but it includes night-storage-heated households (their "
            f"own night share >= {rules.night_heavy_share:.0%}), which are never called flat"
        )
    if flat:
        if population is not None and population.median_daily_kwh > 0:
            high_at = rules.high_use_vs_population * population.median_daily_kwh
            basis = (
                f"rule >= {rules.high_use_vs_population:g} x the median household's "
                f"{population.median_daily_kwh:.1f} kWh/day = {high_at:.1f}"
            )
        else:
            high_at = rules.high_use_daily_kwh
            basis = f"rule >= {rules.high_use_daily_kwh:g}"
        if lv.mean_daily_kwh >= high_at:
            return "high all-day user", (
                f"the daily profile is flat ({flat_words}; no peak window rule matched) at a high level "
                f"({lv.mean_daily_kwh:.1f} kWh/day, {basis})"
            )
        return "flat baseload", (
            f"the daily profile is flatter than the population's ({flat_words}; no peak window rule matched)"
        )
    return "all-day mixed use", f"no window dominates the daily profile and it is not flat ({flat_words})"


def responsive_name(base_name: str) -> str:
    """Name of the price-responsive split of a segment: ``price-responsive <shifter form>``."""
    for stem, shifter in SHIFTER_FORMS.items():
        if base_name.endswith(stem):
            prefix = base_name[: -len(stem)]
            return f"price-responsive {prefix}{shifter}"
    return f"price-responsive {base_name}"


def unresponsive_name(base_name: str) -> str:
    return f"unresponsive {base_name}"


def _level_labels(n: int) -> list[str]:
    if n == 2:
        return ["high-use", "low-use"]
    if n == 3:
        return ["high-use", "mid-use", "low-use"]
    return [f"use level {i + 1} of {n}" for i in range(n)]


def disambiguate(names: Sequence[str], mean_daily_kwh: Sequence[float]) -> list[str]:
    """Make names unique: duplicates get a use-level prefix ordered by mean daily kWh (desc).

    Ties in kWh fall back to the position in the input, so the result is deterministic.
    """
    out = list(names)
    for name in sorted(set(names)):
        idx = [i for i, n in enumerate(names) if n == name]
        if len(idx) < 2:
            continue
        order = sorted(idx, key=lambda i: (-float(mean_daily_kwh[i]), i))
        for label, i in zip(_level_labels(len(order)), order, strict=True):
            out[i] = f"{label} {name}"
    if len(set(out)) != len(out):  # a prefixed name can collide with an existing one
        seen: dict[str, int] = {}
        for i, n in enumerate(out):
            seen[n] = seen.get(n, 0) + 1
            if seen[n] > 1:
                out[i] = f"{n} ({seen[n]})"
    return out


def slugify(name: str) -> str:
    """Stable persona id from a name: lower-case words joined by '-'."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    if not slug:
        raise ValueError(f"cannot slugify {name!r}")
    return slug
