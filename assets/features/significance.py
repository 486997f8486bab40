"""Household-level significance of the High-event response against the control (placebo) distribution.

Score: the studentised event-level DiD, ``t = mean_e did(e) / (sd_e did(e) / sqrt(n_e))`` over the
household's High events (primary method). Studentising makes noisy and quiet households comparable,
so the tail of the placebo distribution is not just the noisiest controls.

Empirical one-sided p-value (alternative: the household REDUCED load in High events):
``p_i = (1 + #{controls j != i : t_j <= t_i}) / (1 + #{controls j != i})``. Controls get the same
leave-one-out p-value, which is a calibration check (uniform under no effect).

Responders: Benjamini-Hochberg at ``fdr_alpha`` over the treated households' p-values.
"""

from __future__ import annotations

import numpy as np
import polars as pl


def studentised_score(event_did: pl.DataFrame, value: str = "did_kwh") -> pl.DataFrame:
    """(household_id, n_events, t_stat) from one row per (household, event)."""
    stats = event_did.group_by("household_id").agg(
        n_events=pl.col(value).count().cast(pl.Int32),
        mean=pl.col(value).mean(),
        sd=pl.col(value).std(ddof=1),
    )
    se = pl.col("sd") / pl.col("n_events").cast(pl.Float64).sqrt()
    t = (
        pl.when(pl.col("n_events") < 2)
        .then(None)
        .when(pl.col("sd") > 0)
        .then(pl.col("mean") / se)
        .when(pl.col("mean") < 0)
        .then(float("-inf"))
        .when(pl.col("mean") > 0)
        .then(float("inf"))
        .otherwise(0.0)
    )
    return stats.select("household_id", "n_events", t_stat=t)


def empirical_p_values(scores: np.ndarray, is_control: np.ndarray) -> np.ndarray:
    """One-sided (small = reduction) empirical p-values against the controls, leave-one-out.

    NaN scores get NaN p-values and are not part of the reference distribution.
    """
    scores = np.asarray(scores, dtype=float)
    is_control = np.asarray(is_control, dtype=bool)
    ref = np.sort(scores[is_control & ~np.isnan(scores)])
    p = np.full(scores.shape, np.nan)
    if ref.size == 0:
        return p
    ok = ~np.isnan(scores)
    at_or_below = np.searchsorted(ref, scores[ok], side="right").astype(float)
    n_ref = np.full(at_or_below.shape, float(ref.size))
    self_in_ref = is_control[ok]
    at_or_below -= self_in_ref  # a control does not count itself
    n_ref -= self_in_ref
    with np.errstate(invalid="ignore", divide="ignore"):
        p[ok] = np.where(n_ref > 0, (1.0 + at_or_below) / (1.0 + n_ref), np.nan)
    return p


def adjust_p_values(p_values, method: str = "bh") -> np.ndarray:
    """Multiple-testing adjusted p-values: Benjamini-Hochberg (``"bh"``, FDR, via
    :func:`scipy.stats.false_discovery_control`) or Holm (``"holm"``, FWER). NaN p-values stay NaN and
    do not count in the number of tests m. The one home of p-value adjustment for every stage."""
    p = np.asarray(p_values, dtype=np.float64)
    out = np.full(p.shape, np.nan)
    ok = np.isfinite(p)
    q = p[ok]
    m = q.size
    if method not in ("bh", "holm"):
        raise ValueError(f"unknown p-value adjustment {method!r}")
    if m == 0:
        return out
    if method == "bh":
        from scipy.stats import false_discovery_control  # lazy: scipy is slow to import

        out[ok] = false_discovery_control(q, method="bh")
        return out
    # Holm step-down (scipy has no Holm): sorted p_(i) * (m - i + 1), running maximum, capped at 1.
    order = np.argsort(q, kind="mergesort")
    adj = np.maximum.accumulate(q[order] * (m - np.arange(m)))
    back = np.empty(m)
    back[order] = np.minimum(adj, 1.0)
    out[ok] = back
    return out


def benjamini_hochberg(p_values: np.ndarray, alpha: float) -> np.ndarray:
    """Boolean discoveries of the Benjamini-Hochberg step-up procedure at FDR ``alpha``: BH-adjusted
    p-value <= alpha. NaN p-values are never flagged and do not count in m."""
    adjusted = adjust_p_values(p_values, "bh")
    with np.errstate(invalid="ignore"):
        return np.asarray(adjusted <= alpha, dtype=bool)
