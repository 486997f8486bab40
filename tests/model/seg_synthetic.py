"""Synthetic ``features.household_features`` frames with planted archetypes and planted responders.

``make_household_features`` builds, per household, a 48-slot daily profile from one of five
clearly separated archetypes (evening peaker, daytime at home, flat baseload, night storage
heating, morning+evening double peak) with multiplicative noise, a level (kWh/day) and derived
lifestyle features computed from the profile the way the contract defines them. A share of
households is treated (ToU); a share of those are responders with a High-period DiD of about
-20 % (high_did_pct = -0.20, a fraction as in the contract), the others about 0 %, every estimate
with a 3 % standard error and the matching one-sided p-value. Controls have no response. Acorn group is
associated with the archetype (for the stage-2 tests).
"""

from __future__ import annotations

import numpy as np
import polars as pl
from scipy import stats

ARCHETYPES = ("evening", "daytime", "flat", "night", "double")

ACORN_BY_GROUP = {
    "Affluent": ["ACORN-A", "ACORN-B", "ACORN-C", "ACORN-D", "ACORN-E"],
    "Comfortable": ["ACORN-F", "ACORN-G", "ACORN-H", "ACORN-I", "ACORN-J"],
    "Adversity": ["ACORN-K", "ACORN-L", "ACORN-M", "ACORN-N", "ACORN-O", "ACORN-P", "ACORN-Q"],
}
GROUP_PROBS = {  # Affluent, Comfortable, Adversity
    "evening": (0.6, 0.3, 0.1),
    "daytime": (0.1, 0.3, 0.6),
    "flat": (0.2, 0.4, 0.4),
    "night": (0.1, 0.2, 0.7),
    "double": (0.5, 0.4, 0.1),
}
LEVEL_KWH = {"evening": 10.0, "daytime": 12.0, "flat": 6.0, "night": 18.0, "double": 11.0}


def _slots(start_h: float, end_h: float) -> slice:
    return slice(int(start_h * 2), int(end_h * 2))


def archetype_profile(name: str) -> np.ndarray:
    p = np.full(48, 0.6)
    if name == "evening":
        p[_slots(7, 8.5)] = 0.9
        p[_slots(17, 21.5)] = 2.4
    elif name == "daytime":
        p[_slots(9.5, 16)] = 1.8
        p[_slots(17, 20)] = 1.2
    elif name == "flat":
        p[:] = 1.0
        p[_slots(18, 20)] = 1.15
    elif name == "night":
        p[_slots(0, 7)] = 2.3
        p[_slots(7, 24)] = 0.45
    elif name == "double":
        p[_slots(0, 6)] = 0.45
        p[_slots(6.5, 9)] = 2.1
        p[_slots(9, 16.5)] = 0.6
        p[_slots(17, 21)] = 2.0
    else:
        raise ValueError(name)
    return p / p.mean()


def features_from_profiles(profiles: np.ndarray, daily_kwh: np.ndarray) -> dict[str, np.ndarray]:
    shape = profiles / profiles.mean(axis=1, keepdims=True)
    total = shape.sum(axis=1)
    peak = shape[:, 32:40].mean(axis=1)
    off = np.concatenate([shape[:, :32], shape[:, 40:]], axis=1).mean(axis=1)
    prob = shape / total[:, None]
    mean_hh = daily_kwh / 48.0
    return {
        "mean_daily_kwh": daily_kwh,
        "mean_kwh_per_half_hour": mean_hh,
        "peak_kwh_per_half_hour": mean_hh * peak,
        "peak_offpeak_ratio": peak / off,
        "load_factor": 1.0 / shape.max(axis=1),
        "base_load_kwh": mean_hh * shape.min(axis=1),
        "morning_peak_hour": (np.argmax(shape[:, 10:22], axis=1) + 10) / 2.0,
        "evening_peak_hour": (np.argmax(shape[:, 32:44], axis=1) + 32) / 2.0,
        "shape_entropy": -(prob * np.log(prob)).sum(axis=1),
        "night_share": shape[:, 0:14].sum(axis=1) / total,
        "daytime_share": shape[:, 20:32].sum(axis=1) / total,
        "evening_share": shape[:, 32:44].sum(axis=1) / total,
        "shape": shape,
    }


def make_household_features(
    n_per_archetype: int = 50,
    archetypes: tuple[str, ...] = ARCHETYPES,
    treated_share: float = 0.4,
    responder_share: float = 0.5,
    responder_effect_pct: float = -20.0,
    seed: int = 0,
    noise: float = 0.08,
    custom: dict[str, tuple[np.ndarray, int]] | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(household_features-like frame, ground truth: household_id, archetype, is_responder).

    ``custom``: more archetypes, name -> (48-slot profile, number of households), at 10 kWh/day and
    an even Acorn mix, appended after the named ``archetypes``.
    """
    rng = np.random.default_rng(seed)
    custom = custom or {}
    arch = np.concatenate(
        [np.repeat(np.array(archetypes), n_per_archetype), *[np.repeat(name, m) for name, (_, m) in custom.items()]]
    )
    n = arch.size
    shapes = {a: archetype_profile(a) for a in archetypes} | {name: p / p.mean() for name, (p, _) in custom.items()}
    profiles = np.vstack([shapes[a] for a in arch])
    profiles = profiles * rng.lognormal(0.0, noise, size=profiles.shape)
    level = np.array([LEVEL_KWH.get(a, 10.0) for a in arch]) * rng.lognormal(0.0, 0.25, size=n)
    f = features_from_profiles(profiles, level)
    treated = rng.random(n) < treated_share
    responder = treated & (rng.random(n) < responder_share)
    # the contract's DiD columns are FRACTIONS of the household's reference; p one-sided ("reduced")
    # the estimates carry a 3 % standard error; p = P(reduction this large | no effect), floored like an
    # empirical p-value against ~10,000 controls
    high = np.where(responder, rng.normal(responder_effect_pct, 3.0, n), rng.normal(0.0, 3.0, n)) / 100.0
    p_val = np.clip(stats.norm.sf(-high * 100.0 / 3.0), 1e-4, 1.0)
    groups = np.array(
        [rng.choice(["Affluent", "Comfortable", "Adversity"], p=GROUP_PROBS.get(a, (1 / 3,) * 3)) for a in arch],
        dtype=object,
    )
    acorn = np.array([rng.choice(ACORN_BY_GROUP[g]) for g in groups], dtype=object)
    unknown = rng.random(n) < 0.03
    groups[unknown] = None
    acorn[unknown] = None
    ids = [f"MAC{100000 + i:06d}" for i in range(n)]
    cols: dict[str, object] = {
        "household_id": ids,
        "tariff_group": np.where(treated, "ToU", "Std"),
        "acorn": pl.Series(acorn.tolist(), dtype=pl.String),
        "acorn_group": pl.Series(groups.tolist(), dtype=pl.String),
        "is_treated": treated,
        "lifestyle_window": ["baseline"] * n,
        "coverage": rng.uniform(0.9, 1.0, n),
        "mean_daily_kwh": f["mean_daily_kwh"],
        "mean_kwh_per_half_hour": f["mean_kwh_per_half_hour"],
        "peak_kwh_per_half_hour": f["peak_kwh_per_half_hour"],
        "peak_offpeak_ratio": f["peak_offpeak_ratio"],
        "daily_cv": np.where(arch == "flat", 0.1, 0.3) * rng.lognormal(0, 0.1, n),
        "load_factor": f["load_factor"],
        "base_load_kwh": f["base_load_kwh"],
        "morning_peak_hour": f["morning_peak_hour"],
        "evening_peak_hour": f["evening_peak_hour"],
        "weekday_weekend_ratio": np.where(arch == "daytime", 0.92, 1.02) * rng.lognormal(0, 0.03, n),
        "winter_summer_ratio": pl.Series(rng.lognormal(0.3, 0.1, n)),
        "shape_entropy": f["shape_entropy"],
        "night_share": f["night_share"],
        "daytime_share": f["daytime_share"],
        "evening_share": f["evening_share"],
    }
    for i in range(48):
        cols[f"shape_s{i:02d}"] = f["shape"][:, i]
    mean_hh = f["mean_kwh_per_half_hour"]
    cols.update(
        {
            "response_method": np.where(treated, "baseline_year_did", "none"),
            "high_did_kwh": pl.Series(np.where(treated, high * mean_hh, np.nan)).fill_nan(None),
            "high_did_pct": pl.Series(np.where(treated, high, np.nan)).fill_nan(None),
            "low_did_kwh": pl.Series(np.where(treated, 0.01, np.nan)).fill_nan(None),
            "low_did_pct": pl.Series(np.where(treated, rng.normal(0.05, 0.03, n), np.nan)).fill_nan(None),
            "rebound_did_pct": pl.Series(np.where(treated, rng.normal(0.005, 0.01, n), np.nan)).fill_nan(None),
            "preload_did_pct": pl.Series(np.where(treated, rng.normal(0.002, 0.01, n), np.nan)).fill_nan(None),
            "high_p_value": pl.Series(np.where(treated, p_val, np.nan)).fill_nan(None),
            "responder": responder,
        }
    )
    frame = pl.DataFrame(cols)
    truth = pl.DataFrame({"household_id": ids, "archetype": arch.tolist(), "is_responder": responder})
    return frame, truth


def assert_same_assignments(left: pl.DataFrame, right: pl.DataFrame) -> None:
    """Labels, names and ids identical; float columns equal up to rounding (BLAS kernels may differ
    in the last bit with memory alignment, e.g. after a joblib round trip)."""
    from polars.testing import assert_frame_equal

    floats = [c for c, t in left.schema.items() if t.is_float()]
    assert_frame_equal(left.drop(floats), right.drop(floats), check_exact=True)
    assert_frame_equal(left.select(floats), right.select(floats), check_exact=False, rel_tol=1e-9, abs_tol=1e-12)
