"""Per-household uncertainty of the High-event response, from the household's own event-level DiD.

For household i with High events e (primary method), half hours n_e, DiD d_e and reference r_e
(kWh per half hour), the estimate is the pooled ratio

    pct_i = sum_e n_e d_e / sum_e n_e r_e            (= high_did_pct)

Its standard error is the standard deviation of the same ratio over ``household_bootstrap_replicates``
resamples of the household's events, drawn with replacement in the summary's blocks (``block_id``:
local weeks of the event start). Events of one block share most of their reference days (the
within-window reference is the same slot on event-free days of the week +- reference_weeks), so
they are resampled together; a household whose events fall in one block gets no standard error.
Nothing is clipped or capped: a household with few, noisy events gets a wide interval, and the
downstream shrinkage (assets/model/responsiveness.py) reads ``high_did_pct_se`` directly.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from assets.features.settings import FeatureSettings

UNCERTAINTY_SCHEMA = {
    "household_id": pl.String,
    "high_did_pct_se": pl.Float64,
    "high_did_pct_ci_low": pl.Float64,
    "high_did_pct_ci_high": pl.Float64,
    "high_bootstrap_blocks": pl.Int32,
}


def household_event_bootstrap(rows: pl.DataFrame, settings: FeatureSettings, seed_offset: int = 2000) -> pl.DataFrame:
    """(household_id, high_did_pct_se, high_did_pct_ci_low, high_did_pct_ci_high, high_bootstrap_blocks).

    ``rows``: one row per (household, event) with n_half_hours, did_kwh, ref_kwh, block_id (High
    events, one method per household)."""
    rows = rows.filter(pl.col("did_kwh").is_not_null() & (pl.col("n_half_hours") > 0)).sort("household_id", "event_id")
    if rows.height == 0:
        return pl.DataFrame(schema=UNCERTAINTY_SCHEMA)
    rng = np.random.default_rng([settings.seed, seed_offset])
    reps = settings.household_bootstrap_replicates
    alpha = 1.0 - settings.ci_level
    out: dict[str, list] = {k: [] for k in UNCERTAINTY_SCHEMA}
    for (hid,), part in rows.group_by(["household_id"], maintain_order=True):
        n = part["n_half_hours"].cast(pl.Float64).to_numpy()
        num_e = n * part["did_kwh"].to_numpy()
        den_e = n * part["ref_kwh"].to_numpy()
        blocks, inverse = np.unique(part["block_id"].to_numpy(), return_inverse=True)
        num_b = np.bincount(inverse, weights=num_e, minlength=blocks.size)
        den_b = np.bincount(inverse, weights=den_e, minlength=blocks.size)
        se = lo = hi = None
        if blocks.size >= 2:
            draws = rng.integers(0, blocks.size, size=(reps, blocks.size))
            num = num_b[draws].sum(axis=1)
            den = den_b[draws].sum(axis=1)
            ok = den > 0
            with np.errstate(divide="ignore", invalid="ignore"):
                pct = np.where(ok, num / np.where(ok, den, 1.0), np.nan)
            pct = pct[np.isfinite(pct)]
            if pct.size >= 2 and den_b.sum() / n.sum() >= settings.min_reference_kwh:
                se = float(np.std(pct, ddof=1))
                lo, hi = (float(x) for x in np.quantile(pct, [alpha / 2, 1 - alpha / 2]))
        out["household_id"].append(hid)
        out["high_did_pct_se"].append(se)
        out["high_did_pct_ci_low"].append(lo)
        out["high_did_pct_ci_high"].append(hi)
        out["high_bootstrap_blocks"].append(int(blocks.size))
    return pl.DataFrame(out, schema=UNCERTAINTY_SCHEMA)
