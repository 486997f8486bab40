"""Planted load-shape archetypes: mean daily shapes in UK LOCAL time (Europe/London).

Each archetype is a sum of smooth components over the 48 local half-hour slots of a day (slot ``s``
covers local clock time ``s/2`` h to ``s/2 + 0.5`` h). A household draws its own jittered copy
(peak times shifted by up to ±30 min, amplitudes ±15 %), so households of one archetype are alike
but not identical, while the five archetypes stay far apart once each profile is divided by its mean.

Shapes are normalised so that the weekday shape has mean 1; ``scale`` (kWh per half hour) then sets
a household's level. Night storage heaters additionally carry a heating component, multiplied by a
winter-only season factor in :mod:`assets.synthetic.load`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EVENING_PEAKER = "evening_peaker"
DAYTIME_AT_HOME = "daytime_at_home"
FLAT_BASELOAD = "flat_baseload"
NIGHT_STORAGE_HEATING = "night_storage_heating"
MORNING_EVENING_DOUBLE_PEAK = "morning_evening_double_peak"

ARCHETYPES: tuple[str, ...] = (
    EVENING_PEAKER,
    DAYTIME_AT_HOME,
    FLAT_BASELOAD,
    NIGHT_STORAGE_HEATING,
    MORNING_EVENING_DOUBLE_PEAK,
)

# Share of households per archetype (storage heating: 3-5 % of homes, as asked).
ARCHETYPE_SHARES: dict[str, float] = {
    EVENING_PEAKER: 0.30,
    DAYTIME_AT_HOME: 0.20,
    FLAT_BASELOAD: 0.18,
    NIGHT_STORAGE_HEATING: 0.04,
    MORNING_EVENING_DOUBLE_PEAK: 0.28,
}

ACORN_GROUPS: tuple[str, ...] = ("Affluent", "Comfortable", "Adversity")

# P(Acorn group | archetype): a moderate association for socio-demographic explanation to find.
# Working families (double peak) lean Affluent/Comfortable, people at home in the day and storage
# heating (social-housing flats) lean Adversity, always-on big homes (flat base load) lean Affluent.
ACORN_GROUP_GIVEN_ARCHETYPE: dict[str, tuple[float, float, float]] = {
    EVENING_PEAKER: (0.36, 0.30, 0.34),
    DAYTIME_AT_HOME: (0.22, 0.30, 0.48),
    FLAT_BASELOAD: (0.52, 0.28, 0.20),
    NIGHT_STORAGE_HEATING: (0.10, 0.25, 0.65),
    MORNING_EVENING_DOUBLE_PEAK: (0.42, 0.38, 0.20),
}

# Acorn categories of each group (CACI: A-E Affluent, F-J Comfortable, K-Q Adversity).
ACORN_CATEGORIES: dict[str, tuple[str, ...]] = {
    "Affluent": tuple(f"ACORN-{c}" for c in "ABCDE"),
    "Comfortable": tuple(f"ACORN-{c}" for c in "FGHIJ"),
    "Adversity": tuple(f"ACORN-{c}" for c in "KLMNOPQ"),
}

# Level of consumption by Acorn group (multiplies the household's lognormal scale).
ACORN_GROUP_SCALE: dict[str, float] = {"Affluent": 1.2, "Comfortable": 1.0, "Adversity": 0.85}

SLOTS_PER_DAY = 48
_HOURS = (np.arange(SLOTS_PER_DAY) + 0.5) / 2.0  # local clock time at the middle of each slot


def bump(centre: float, width: float) -> np.ndarray:
    """Gaussian bump on the 24 h circle, peak 1 at ``centre`` (hours)."""
    d = (_HOURS - centre + 12.0) % 24.0 - 12.0
    return np.exp(-0.5 * (d / width) ** 2)


def window(start: float, end: float, soft: float = 0.35) -> np.ndarray:
    """Smooth 0..1 window from ``start`` to ``end`` hours (``end`` may pass midnight)."""
    if end < start:
        end += 24.0
    out = np.zeros(SLOTS_PER_DAY)
    for shift in (-24.0, 0.0, 24.0):
        h = _HOURS + shift
        out += 1.0 / (1.0 + np.exp(-(h - start) / soft)) / (1.0 + np.exp(-(end - h) / soft))
    return np.clip(out, 0.0, 1.0)


@dataclass(frozen=True)
class HouseholdShape:
    """One household's expected-load shapes (relative units, weekday mean = 1)."""

    weekday: np.ndarray  # (48,)
    weekend: np.ndarray  # (48,)
    heating: np.ndarray  # (48,) winter-only component (zeros except storage heating)


def household_shape(archetype: str, rng: np.random.Generator) -> HouseholdShape:
    """Draw a jittered copy of an archetype's daily shapes."""
    shift = rng.uniform(-0.5, 0.5, size=3)  # hours

    def amp() -> float:
        return float(np.exp(rng.normal(0.0, 0.15)))

    heating = np.zeros(SLOTS_PER_DAY)
    if archetype == EVENING_PEAKER:
        base = 0.35 * amp()
        evening = 1.7 * amp()
        wd = base + 0.25 * bump(7.5 + shift[0], 1.0) + 0.12 * window(9, 16) + evening * bump(19.0 + shift[1], 1.5)
        we = (
            base
            + 0.35 * bump(9.5 + shift[0], 1.3)
            + 0.30 * window(10, 16)
            + 0.95 * evening * bump(19.0 + shift[1], 1.6)
        )
    elif archetype == MORNING_EVENING_DOUBLE_PEAK:
        base = 0.30 * amp()
        morning, evening = 1.3 * amp(), 1.3 * amp()
        wd = (
            base
            + morning * bump(7.0 + shift[0] * 0.6, 0.75)
            + 0.06 * window(9, 16)
            + evening * bump(19.5 + shift[1] * 0.6, 1.2)
        )
        we = (
            base
            + 0.85 * morning * bump(8.75 + shift[0] * 0.6, 1.0)
            + 0.30 * window(10, 16)
            + evening * bump(19.0 + shift[1] * 0.6, 1.3)
        )
    elif archetype == DAYTIME_AT_HOME:
        base = 0.35 * amp()
        day = 1.0 * amp()
        wd = (
            base
            + 0.30 * bump(8.0 + shift[0], 1.0)
            + day * window(9.5 + shift[1] * 0.5, 16.5 + shift[2] * 0.5, 0.7)
            + 0.55 * bump(18.5 + shift[2], 1.5)
        )
        we = (
            base
            + 0.30 * bump(8.5 + shift[0], 1.0)
            + 1.05 * day * window(9.5 + shift[1] * 0.5, 16.5 + shift[2] * 0.5, 0.7)
            + 0.60 * bump(18.5 + shift[2], 1.5)
        )
    elif archetype == FLAT_BASELOAD:
        base = 1.0
        wd = base + 0.15 * amp() * bump(19.0 + shift[0], 2.0) + 0.05 * window(8, 22)
        we = base + 0.18 * amp() * bump(18.5 + shift[0], 2.0) + 0.08 * window(9, 22)
    elif archetype == NIGHT_STORAGE_HEATING:
        # Economy-7 style off-peak window (local clock): immersion water heating all year and storage
        # heaters charging in winter; small daytime and evening use.
        night = window(0.5 + shift[0] * 0.5, 7.5 + shift[0] * 0.5, 0.15)
        base = 0.30 * amp()
        wd = base + 1.0 * amp() * night + 0.35 * bump(19.0 + shift[1], 1.5) + 0.15 * bump(8.0, 1.0)
        we = base + 1.0 * amp() * night + 0.40 * bump(18.5 + shift[1], 1.5) + 0.20 * bump(9.0, 1.2)
        heating = 4.0 * amp() * night
    else:
        raise ValueError(f"unknown archetype {archetype!r}")
    norm = float(np.mean(wd))
    return HouseholdShape(weekday=wd / norm, weekend=we / norm, heating=heating / norm)
