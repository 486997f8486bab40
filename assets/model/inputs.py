"""Reading ``features.household_features`` for segmentation: checks, canonical order, matrices.

Every model in this package sees the households sorted by ``household_id``: the input row order
can never change a label, a name or the data fingerprint.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from assets.features.catalogue import window_slots
from assets.model.settings import (
    N_SLOTS,
    REQUIRED_COLUMNS,
    SHAPE_COLUMNS,
    SegmentationSettings,
)

MORNING_COLUMNS = SHAPE_COLUMNS[window_slots("morning_share")]  # 06:00-10:00 local
PEAK_COLUMNS = SHAPE_COLUMNS[window_slots("peak_kwh_per_half_hour")]  # 16:00-20:00 local
DERIVED_COLUMNS = ("log_mean_daily_kwh", "peak_kw", "morning_share")


class FeatureContractError(ValueError):
    """household_features does not carry what segmentation needs."""


class TooFewHouseholds(FeatureContractError):
    """Fewer households can be fitted than the K sweep needs; the message is one sentence with the cause."""


# Human labels of the feature layer's exclusion reasons (features.household_feature_exclusions.reason).
EXCLUSION_LABELS = {
    "no_lifestyle_window": "too little data in every lifestyle window",
    "no_readings": "no actual reading in any lifestyle window",
    "not_in_register": "not in the household register",
    "meter_flat_lined": "a flat-lined (stuck) meter",
    "meter_all_zero": "an all-zero meter",
    "meter_zero_days": "too many all-zero days",
    "meter_implausible_level": "an implausible level for a domestic meter",
}


def minimum_households(settings: SegmentationSettings) -> int:
    """Households the fit needs: one more than the largest K tried (a K sweep up to K needs K + 1)."""
    return max(settings.k_max, settings.persona_k_max) + 1


def check_enough_households(features: pl.DataFrame, exclusions: pl.DataFrame, settings: SegmentationSettings) -> None:
    """Raise :class:`TooFewHouseholds` naming the real cause when fewer than :func:`minimum_households`
    households pass into the fit. ``exclusions``: features.household_feature_exclusions (reason column)."""
    need = minimum_households(settings)
    usable = features.filter(_usable()) if features.height else features
    fit = int(fit_mask(usable, settings).sum()) if usable.height else 0
    if fit >= need:
        return
    # households of the register without any reading in the data are not part of this data set's shortfall
    with_readings = exclusions.filter(pl.col("reason") != "no_readings")
    causes = [
        f"{n:,} {EXCLUSION_LABELS.get(reason, reason)}"
        for reason, n in with_readings.group_by("reason").len().sort(["len", "reason"], descending=[True, False]).rows()
    ]
    low = with_readings.filter(pl.col("reason") == "no_lifestyle_window")
    if low.height and "coverage" in low.columns and low["coverage"].max() is not None:
        causes[[c.endswith(EXCLUSION_LABELS["no_lifestyle_window"]) for c in causes].index(True)] += (
            f" (the best covers {low['coverage'].max():.0%} of its window; the gate is "
            f"{low['coverage_threshold'].max():.0%})"
        )
    if features.height - usable.height:
        causes.append(f"{features.height - usable.height:,} an incomplete daily shape")
    if usable.height - fit:
        causes.append(f"{usable.height - fit:,} a mean daily use below {settings.min_daily_kwh_for_fit} kWh")
    total = features.height + with_readings.height
    why = f"of the {total:,} households with readings, " + ", ".join(causes) if causes else "no household has readings"
    raise TooFewHouseholds(
        f"Segmentation needs at least {need} households with enough data (one more than the largest number of "
        f"groups tried, k_max {settings.k_max} / persona_k_max {settings.persona_k_max}) and only {fit} have it "
        f"({why}): load more households or a longer period, or lower k_max and persona_k_max in the cluster_model "
        "config."
    )


def _usable() -> pl.Expr:
    shape_ok = pl.all_horizontal([pl.col(c).is_not_null() & pl.col(c).is_finite() for c in SHAPE_COLUMNS])
    return (
        shape_ok
        & (pl.sum_horizontal(pl.col(SHAPE_COLUMNS)) > 0)
        & pl.col("mean_daily_kwh").is_not_null()
        & (pl.col("mean_daily_kwh") > 0)
    )


def _check_contract(features: pl.DataFrame) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in features.columns]
    if missing:
        raise FeatureContractError(f"household_features lacks column(s): {missing}")
    if features["household_id"].null_count() or features["household_id"].n_unique() != features.height:
        raise FeatureContractError("household_id must be non-null and unique")


def unusable_households(features: pl.DataFrame) -> pl.DataFrame:
    """Households that cannot be segmented: a null/non-finite shape value or no positive daily kWh."""
    _check_contract(features)
    return features.filter(~_usable()).select(
        "household_id",
        pl.when(pl.col("mean_daily_kwh").is_null() | (pl.col("mean_daily_kwh") <= 0))
        .then(pl.lit("no positive mean_daily_kwh"))
        .otherwise(pl.lit("incomplete daily shape"))
        .alias("reason"),
    )


def prepare_features(features: pl.DataFrame) -> pl.DataFrame:
    """Check the contract, keep the households that can be segmented, sort by household_id.

    Dropped (see :func:`unusable_households`): a null or non-finite shape value, or a null / zero
    mean_daily_kwh. Adds the derived columns used downstream: ``log_mean_daily_kwh``, ``peak_kw``
    (= peak_kwh_per_half_hour * 2: mean kW over the 16:00-20:00 local window; from the shape and
    the daily kWh where peak_kwh_per_half_hour is null) and ``morning_share`` (share of the shape
    profile in 06:00-10:00 local, slots 12..19: the contract has night/daytime/evening shares but
    no morning one, which the double-peak archetype needs).
    """
    _check_contract(features)
    usable = features.filter(_usable())
    if usable.height == 0:
        raise FeatureContractError("no household of household_features can be segmented")
    peak_from_shape = pl.col("mean_daily_kwh") / 48.0 * pl.mean_horizontal(pl.col(PEAK_COLUMNS))
    return usable.sort("household_id").with_columns(
        pl.col("mean_daily_kwh").log().alias("log_mean_daily_kwh"),
        (pl.coalesce(pl.col("peak_kwh_per_half_hour"), peak_from_shape) * 2.0).alias("peak_kw"),
        (pl.sum_horizontal(pl.col(MORNING_COLUMNS)) / pl.sum_horizontal(pl.col(SHAPE_COLUMNS))).alias("morning_share"),
    )


def fit_mask(features: pl.DataFrame, settings: SegmentationSettings) -> np.ndarray:
    """Households used to FIT the models: mean daily kWh >= settings.min_daily_kwh_for_fit.

    Everybody is assigned afterwards; the excluded ones are flagged (``used_in_fit``).
    """
    return (features["mean_daily_kwh"] >= settings.min_daily_kwh_for_fit).fill_null(False).to_numpy()


def shape_matrix(features: pl.DataFrame) -> np.ndarray:
    """The 48 shape columns as a float matrix (rows in the frame's order)."""
    return features.select(pl.col(SHAPE_COLUMNS).cast(pl.Float64)).to_numpy()


def row_normalise(x: np.ndarray) -> np.ndarray:
    """Divide each profile by its own mean, so that level cannot leak into shape.

    The contract already delivers shape columns with mean 1; doing it again inside the model makes
    the load-shape pipeline scale-invariant whatever it is fed (e.g. raw kWh profiles).
    """
    x = np.asarray(x, dtype=np.float64)
    means = x.mean(axis=1, keepdims=True)
    means = np.where(means > 0, means, 1.0)
    return x / means


def to_hourly(x: np.ndarray) -> np.ndarray:
    """48 half-hourly slots -> 24 hourly means."""
    x = np.asarray(x, dtype=np.float64)
    if x.shape[1] != N_SLOTS:
        raise ValueError(f"expected {N_SLOTS} slots, got {x.shape[1]}")
    return x.reshape(x.shape[0], N_SLOTS // 2, 2).mean(axis=2)


def behaviour_matrix(features: pl.DataFrame, settings: SegmentationSettings) -> np.ndarray:
    """The lifestyle features as a float matrix (NaN where null: the pipeline imputes medians)."""
    missing = [c for c in settings.lifestyle_features if c not in features.columns]
    if missing:
        raise FeatureContractError(f"lifestyle feature(s) not in household_features: {missing}")
    return (
        features.select(pl.col(list(settings.lifestyle_features)).cast(pl.Float64).fill_nan(None))
        .to_numpy()
        .astype(np.float64)
    )
