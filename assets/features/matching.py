"""Matched control households (nearest neighbours on load level and daily shape).

Each household (treated and control alike, so that controls can be scored "as if treated") gets the
``n_matched_controls`` nearest control households, itself excluded, with replacement across
households. The matching vector is built from the household's lifestyle block (the baseline year when
it passed baseline coverage, else the trial year's event-free days):

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
    if not frames:
        return pl.DataFrame(schema={"household_id": pl.String, "mean_kwh_per_half_hour": pl.Float64})
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
    from sklearn.neighbors import NearestNeighbors  # lazy: scikit-learn costs ~2.5 s to import

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
