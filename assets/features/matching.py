"""Matched control households (nearest neighbours on load level and daily shape).

Each household (treated and control alike, so that controls can be scored "as if treated") gets the
``n_matched_controls`` nearest control households, itself excluded, with replacement across
households. The matching vector is built from the household's PRE-PERIOD lifestyle (the baseline year;
only households that passed baseline coverage are profiled). The trial year is never used: it is
post-treatment, and a household that shifted load would attract flatter controls. Households without a
pre-period profile get no pairs: their stated design is all controls at the same half hour
(``DESIGN_ALL_CONTROLS``). :func:`covariate_balance` reports standardised mean differences. The vector:

    [ z(ln(mean_kwh_per_half_hour + 0.01)),  z(hourly shape_h) / sqrt(24) for h = 0..23 ]

where z() standardises over all households and hourly shape is the mean of the two half-hour shape
values; level and shape therefore weigh equally in the Euclidean distance. Missing shape slots count
as 1 (the household's mean).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from assets.features.catalogue import SHAPE_COLUMNS
from assets.features.settings import FeatureSettings

PAIRS_SCHEMA = {"household_id": pl.String, "control_id": pl.String, "rank": pl.Int32, "distance": pl.Float64}


def matching_profiles(*lifestyles: pl.DataFrame) -> pl.DataFrame:
    """One lifestyle row per household: the first frame that has the household wins."""
    frames = [f.select("household_id", "mean_kwh_per_half_hour", *SHAPE_COLUMNS) for f in lifestyles if f.height]
    if not frames:  # no household has a pre-period profile: every household uses the fallback design
        return pl.DataFrame(
            schema={"household_id": pl.String, "mean_kwh_per_half_hour": pl.Float64}
            | dict.fromkeys(SHAPE_COLUMNS, pl.Float64)
        )
    return (
        pl.concat(frames, how="vertical_relaxed")
        .filter(pl.col("mean_kwh_per_half_hour").is_not_null())
        .unique("household_id", keep="first", maintain_order=True)
    )


def _vectors(profiles: pl.DataFrame) -> np.ndarray:
    level = np.log(profiles["mean_kwh_per_half_hour"].to_numpy() + 0.01)[:, None]
    shape = profiles.select(SHAPE_COLUMNS).fill_null(1.0).to_numpy()
    hourly = (shape[:, 0::2] + shape[:, 1::2]) / 2.0
    x = np.hstack([level, hourly])
    sd = x.std(axis=0)
    z = (x - x.mean(axis=0)) / np.where(sd > 0, sd, 1.0)
    z[:, 1:] /= np.sqrt(hourly.shape[1])
    return z


def match_controls(profiles: pl.DataFrame, households: pl.DataFrame, settings: FeatureSettings) -> pl.DataFrame:
    """(household_id, control_id, rank, distance): the k nearest controls of every profiled household.

    ``households`` has household_id and tariff_group. Empty when control_matching == 'all' or when
    there are no profiled controls; the response code then uses the leave-one-out mean of all controls.
    """
    if settings.control_matching == "all":
        return pl.DataFrame(schema=PAIRS_SCHEMA)
    prof = profiles.join(households.select("household_id", "tariff_group"), on="household_id", how="inner").sort(
        "household_id"
    )
    if prof.height == 0:
        return pl.DataFrame(schema=PAIRS_SCHEMA)
    z = _vectors(prof)
    is_control = (prof["tariff_group"] == settings.control_group).to_numpy()
    controls = np.flatnonzero(is_control)
    if controls.size == 0:
        return pl.DataFrame(schema=PAIRS_SCHEMA)
    ids = prof["household_id"].to_numpy()
    k = min(settings.n_matched_controls + 1, controls.size)
    from sklearn.neighbors import NearestNeighbors  # lazy: scikit-learn is slow to import

    nn = NearestNeighbors(n_neighbors=k).fit(z[controls])
    dist, idx = nn.kneighbors(z)
    rows_h, rows_c, ranks, dists = [], [], [], []
    for i in range(len(ids)):
        r = 0
        for d, j in zip(dist[i], idx[i], strict=True):
            cid = ids[controls[j]]
            if cid == ids[i] or r >= settings.n_matched_controls:
                continue
            r += 1
            rows_h.append(ids[i])
            rows_c.append(cid)
            ranks.append(r)
            dists.append(float(d))
    return pl.DataFrame(
        {"household_id": rows_h, "control_id": rows_c, "rank": ranks, "distance": dists}, schema=PAIRS_SCHEMA
    )


DESIGN_MATCHED = "matched_pre_period"
DESIGN_ALL_CONTROLS = "all_controls"
BALANCE_SCHEMA = {
    "covariate": pl.String,
    "n_treated": pl.Int32,
    "n_controls": pl.Int32,
    "n_matched_controls": pl.Int32,
    "mean_treated": pl.Float64,
    "mean_all_controls": pl.Float64,
    "mean_matched_controls": pl.Float64,
    "smd_unmatched": pl.Float64,
    "smd_matched": pl.Float64,
    "balanced": pl.Boolean,
}


def balance_covariates(profiles: pl.DataFrame) -> pl.DataFrame:
    """household_id + the matched-on covariates in natural units: ln(mean kWh/half hour + 0.01) and
    the 24 hourly shape values (mean of the two half-hour shape values)."""
    shape = profiles.select(SHAPE_COLUMNS).fill_null(1.0)
    hourly = {f"shape_h{h:02d}": (shape[:, 2 * h] + shape[:, 2 * h + 1]) / 2.0 for h in range(24)}
    return pl.DataFrame(
        {
            "household_id": profiles["household_id"],
            "ln_mean_kwh": np.log(profiles["mean_kwh_per_half_hour"].to_numpy() + 0.01),
            **hourly,
        }
    )


def covariate_balance(
    profiles: pl.DataFrame, households: pl.DataFrame, pairs: pl.DataFrame, settings: FeatureSettings
) -> pl.DataFrame:
    """Standardised mean differences of the pre-period covariates, treated vs controls, before
    matching (all profiled controls) and after (each treated household's matched controls weigh 1/k).

    SMD = (mean_treated - mean_controls) / sqrt((var_treated + var_controls) / 2), with the variances
    of the unmatched samples in both (so that matching cannot shrink the yardstick);
    ``balanced`` = |smd_matched| < balance_smd_target. Treated households without a pre-period profile
    are not in the matched sets (they use the fallback design) and not in this table. Empty when no
    treated household was matched (no pre-period profiles, or no profiled controls): there is nothing
    to balance, and the report says why.
    """
    cov = balance_covariates(profiles).join(
        households.select("household_id", "tariff_group"), on="household_id", how="inner"
    )
    names = [c for c in cov.columns if c not in ("household_id", "tariff_group")]
    treated = cov.filter(pl.col("tariff_group") == settings.treated_group)
    controls = cov.filter(pl.col("tariff_group") == settings.control_group)
    matched_t = treated.join(pairs.select("household_id").unique(), on="household_id", how="semi")
    if matched_t.height == 0:
        return pl.DataFrame(schema=BALANCE_SCHEMA)
    weights = (
        pairs.join(matched_t.select("household_id"), on="household_id", how="semi")
        .with_columns(w=1.0 / pl.len().over("household_id"))
        .group_by("control_id")
        .agg(pl.col("w").sum())
    )
    matched_c = controls.join(weights.rename({"control_id": "household_id"}), on="household_id", how="inner")
    rows = []
    for name in names:
        t = matched_t[name].to_numpy()
        c_all = controls[name].to_numpy()
        c = matched_c[name].to_numpy()
        w = matched_c["w"].to_numpy() if matched_c.height else np.array([])
        mt = float(t.mean()) if t.size else None
        mc = float(c_all.mean()) if c_all.size else None
        mm = float(np.average(c, weights=w)) if c.size else None
        sd = np.sqrt((t.var(ddof=1) + c_all.var(ddof=1)) / 2.0) if t.size > 1 and c_all.size > 1 else np.nan
        ok = np.isfinite(sd) and sd > 0
        smd_u = (mt - mc) / sd if ok and mt is not None and mc is not None else None
        smd_m = (mt - mm) / sd if ok and mt is not None and mm is not None else None
        rows.append(
            (name, t.size, c_all.size, c.size, mt, mc, mm, smd_u, smd_m,
             None if smd_m is None else abs(smd_m) < settings.balance_smd_target)
        )  # fmt: skip
    return pl.DataFrame(rows, schema=BALANCE_SCHEMA, orient="row")
