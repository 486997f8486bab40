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


def benjamini_hochberg(p_values: np.ndarray, alpha: float) -> np.ndarray:
    """Boolean discoveries of the Benjamini-Hochberg step-up procedure; NaN p-values are never flagged
    and do not count in m."""
    p = np.asarray(p_values, dtype=float)
    flags = np.zeros(p.shape, dtype=bool)
    ok = np.flatnonzero(~np.isnan(p))
    m = ok.size
    if m == 0:
        return flags
    order = ok[np.argsort(p[ok], kind="stable")]
    thresholds = alpha * np.arange(1, m + 1) / m
    passed = np.flatnonzero(p[order] <= thresholds)
    if passed.size:
        flags[order[: passed.max() + 1]] = True
    return flags
