"""'Flat' is relative to the population, and storage heaters are never 'flat'.

The personas (and load-shape clusters) are built from data; each test measures the named group's
average day against the all-household average day computed here from the same data, never with the
naming rule's own thresholds.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from assets.model.inputs import prepare_features, row_normalise, shape_matrix
from assets.model.load_shape import fit_load_shape
from assets.model.personas import build_persona_catalogue
from assets.model.responsiveness import estimate_household_response, fit_response_prior
from tests.model.seg_synthetic import make_household_features


def _bumped(morning: float, evening: float) -> np.ndarray:
    p = np.full(48, 0.8)
    p[12:20] += morning  # 06:00-10:00
    p[34:42] += evening  # 17:00-21:00
    return p


EARLY, LATE = _bumped(0.7, 0.0), _bumped(0.0, 0.7)
# the average of the two routines: with equal group sizes it IS the population's average day (max/mean
# 1.25, 28 % of use 16-22): the old absolute rule (max/mean <= 1.5, evening share < 32 %) called it flat
MIDDLE = (EARLY / EARLY.mean() + LATE / LATE.mean()) / 2
STORAGE = np.where(np.arange(48) < 14, 2.2, 1.0)  # night storage heating: 48 % of use 00:00-07:00


def _peak_offpeak(profile: np.ndarray) -> float:
    peak = np.zeros(48, dtype=bool)
    peak[32:40] = True  # 16:00-20:00
    return float(profile[peak].mean() / profile[~peak].mean())


def _day(profiles: np.ndarray) -> dict[str, float]:
    """The average day of a group of shape-normalised profiles: max/mean, peak/off-peak, evening share."""
    p = profiles.mean(axis=0)
    p = p / p.mean()
    return {"max_to_mean": float(p.max()), "peak_offpeak": _peak_offpeak(p), "evening": float(p[32:44].sum() / 48)}


def _catalogue(features: pl.DataFrame, truth: pl.DataFrame, segment_of: dict[str, int], settings):
    """Personas of the given lifestyle segments (archetype -> segment), built from the data."""
    frame = prepare_features(features)
    archetype = frame.select("household_id").join(truth, on="household_id", how="left")["archetype"].to_list()
    segments = np.array([segment_of[a] for a in archetype])
    prior = fit_response_prior(frame, settings)
    response = estimate_household_response(frame, prior, settings)
    catalogue = build_persona_catalogue(frame, segments, response, prior, settings)
    return frame, np.asarray(archetype), segments, catalogue


def _assert_flat_means_flatter_than_everyone(names, groups, shapes):
    population = _day(shapes)
    for name, members in zip(names, groups, strict=True):
        if "flat" in name:
            day = _day(shapes[members])
            # flatter than the average household's day on every measure, by a visible margin
            assert day["max_to_mean"] < population["max_to_mean"] - 0.1, (name, day, population)
            assert day["peak_offpeak"] < population["peak_offpeak"], (name, day, population)
            assert day["evening"] < population["evening"], (name, day, population)


def test_the_population_average_day_is_not_flat(fast_settings):
    features, truth = make_household_features(
        n_per_archetype=0, archetypes=(), custom={"early": (EARLY, 60), "late": (LATE, 60), "middle": (MIDDLE, 60)}
    )
    frame, _, segments, catalogue = _catalogue(features, truth, {"early": 0, "late": 1, "middle": 2}, fast_settings)
    shapes = row_normalise(shape_matrix(frame))
    names = [e.segment_name for e in catalogue]
    _assert_flat_means_flatter_than_everyone(names, [segments == e.segment for e in catalogue], shapes)
    # the load-shape (textbook) path names clusters with the same rule
    fitted = fit_load_shape(shape_matrix(frame), frame["mean_daily_kwh"].to_numpy(), 3, fast_settings)
    labels = fitted.predict(shape_matrix(frame))
    _assert_flat_means_flatter_than_everyone(fitted.names, [labels == lab for lab in range(3)], shapes)


def test_a_genuinely_flat_group_is_still_flat(fast_settings):
    features, truth = make_household_features(n_per_archetype=60, archetypes=("flat", "evening", "daytime"), seed=4)
    frame, _, segments, catalogue = _catalogue(features, truth, {"flat": 0, "evening": 1, "daytime": 2}, fast_settings)
    names = {e.segment: e.segment_name for e in catalogue}
    assert names[0] == "flat baseload"
    shapes = row_normalise(shape_matrix(frame))
    _assert_flat_means_flatter_than_everyone([names[0]], [segments == 0], shapes)


def test_storage_heaters_are_never_in_a_flat_persona(fast_settings):
    """Four storage-heated homes (too few for a segment of their own) share a segment with flat homes."""
    features, truth = make_household_features(
        n_per_archetype=60, archetypes=("flat", "evening"), custom={"storage": (STORAGE, 4)}, seed=4
    )
    frame, archetype, segments, catalogue = _catalogue(
        features, truth, {"flat": 0, "storage": 0, "evening": 1}, fast_settings
    )
    shapes = row_normalise(shape_matrix(frame))
    night = shapes[:, :14].sum(axis=1) / shapes.sum(axis=1)
    assert (night[archetype == "storage"] >= 0.45).all()  # they are night-heavy on their own day
    by_segment = {e.segment: e for e in catalogue}
    for seg in set(segments[archetype == "storage"].tolist()):
        entry = by_segment[seg]
        for name in (entry.base_persona_name, entry.responsive_persona_name or ""):
            assert "flat" not in name, (name, entry.naming_reason)
    # the segment's average day is still flatter than everyone's: only the storage heaters keep it from "flat"
    assert _day(shapes[segments == 0])["max_to_mean"] < _day(shapes)["max_to_mean"] - 0.1
