"""Household price responsiveness: measured where possible, shrunk, and a prior where not.

Measured response
    A household has a *measured* response when it was on the dynamic tariff (``is_treated``), the
    features layer estimated a DiD (``response_method != 'none'``) and ``high_did_pct`` is not null.
    Control (Std) households never saw a price signal: their responsiveness is *unknown*, not zero.

High-event reduction
    ``high_reduction_pct = -100 * high_did_pct`` (high_did_pct is a fraction of the household's
    reference; positive = less load in High-price periods).

Empirical-Bayes shrinkage (per household)
    Standard error: ``100 * high_did_pct_se`` (``se_column``), the features layer's bootstrap over the
    household's own High events in week blocks (assets/features/uncertainty.py). It is derived from the
    event-level estimates themselves, so nothing is clipped or capped and the estimate is used as is:
    a -76 % household with a tight bootstrap keeps its estimate, a near-zero noisy one gets a wide SE.

    Fallback, only for rows without that SE (older frames, households with one event block): the
    legacy ``se = |est / t|`` from the studentised DiD ``high_t_stat`` (|t| capped at max_abs_t, the
    estimate clipped to +-max_abs_reduction_pct), else from the p-value: ``t = Phi^-1(1 - p)`` for the
    one-sided p-value (``Phi^-1(1 - p/2)`` if p_value_sides = 2); households with none of these get
    the spread of all estimates (weak evidence). Prior over measured households: between-household
    variance ``tau2`` and mean ``mu`` by DerSimonian-Laird (:func:`fit_response_prior`).
    ``shrunk = mu + B (est - mu)`` with ``B = tau2 / (tau2 + se^2)``.

No measured household at all: the prior mean is settings.external_prior_reduction_pct (None = 0 %).

Segment prior (the persona table's prior; the DR list sizes never-measured households with program evidence)
    ``prior_s = (sum_{measured i in s} shrunk_i + n0 * mu) / (n_s + n0)``: the lifestyle segment's mean,
    pulled toward the global mean when the segment has few measured members. The strength ``n0`` is
    estimated from the data (:func:`segment_prior_strength`): ``n0 = sigma_w^2 / tau_b^2`` with the
    within-segment variance ``sigma_w^2`` and the between-segment variance ``tau_b^2`` of the measured
    households' values by one-way random-effects ANOVA (method of moments for unbalanced groups; Searle,
    Casella & McCulloch 1992, Variance Components, sec. 3.5; the empirical-Bayes reading is Efron & Morris
    1975). When the segment means differ no more than chance (``tau_b^2 <= 0``) ``n0`` is infinite and
    every segment gets the global mean. The prior is taken over the *lifestyle segment* (base persona +
    its price-responsive split), not over the persona: splitting measured responders out of a persona
    would otherwise bias the prior of its unmeasured members downward.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from assets.model.settings import SegmentationSettings

TAU2_FLOOR = 1e-6


@dataclass(frozen=True)
class ResponsePrior:
    """Population prior of the High-event reduction (in %), fitted on measured households."""

    mean_pct: float
    tau2: float
    fallback_se: float
    n_measured: int


def measured_mask(features: pl.DataFrame) -> pl.Expr:
    return (
        pl.col("is_treated").fill_null(False)
        & (pl.col("response_method").fill_null("none") != "none")
        & pl.col("high_did_pct").is_not_null()
        & pl.col("high_did_pct").is_finite()
    )


def _raw_estimates(features: pl.DataFrame, settings: SegmentationSettings) -> pl.DataFrame:
    cap = settings.max_abs_reduction_pct
    se = (
        pl.col(settings.se_column).cast(pl.Float64) * settings.did_pct_multiplier
        if settings.se_column and settings.se_column in features.columns
        else pl.lit(None, dtype=pl.Float64)
    )
    has_se = se.is_not_null() & se.is_finite() & (se > 0)
    est = -pl.col("high_did_pct").cast(pl.Float64) * settings.did_pct_multiplier
    return features.select(
        "household_id",
        measured_mask(features).alias("response_measured"),
        pl.when(has_se).then(est).otherwise(est.clip(-cap, cap)).alias("high_reduction_pct"),
        pl.when(has_se).then(se).otherwise(None).alias("se_event_bootstrap"),
        pl.col("high_p_value").cast(pl.Float64).alias("p"),
        (
            pl.col(settings.t_stat_column).cast(pl.Float64)
            if settings.t_stat_column and settings.t_stat_column in features.columns
            else pl.lit(None, dtype=pl.Float64)
        ).alias("t"),
        pl.col("responder").fill_null(False).alias("responder"),
    ).with_columns(
        pl.when(pl.col("response_measured"))
        .then(pl.col("high_reduction_pct"))
        .otherwise(None)
        .alias("high_reduction_pct")
    )


def _standard_errors(raw: pl.DataFrame, fallback: float, settings: SegmentationSettings) -> np.ndarray:
    """The event-bootstrap SE where the row has one; else |est / t| (t from the t-statistic if finite,
    else from the p-value), else the fallback."""
    est = raw["high_reduction_pct"].to_numpy().astype(np.float64)
    t = raw["t"].fill_nan(None).to_numpy().astype(np.float64)
    p = raw["p"].fill_nan(None).to_numpy().astype(np.float64)
    p_c = np.clip(np.nan_to_num(p, nan=0.5), 1e-9, 1.0 - 1e-9)
    from scipy import stats  # lazy: scipy is slow to import

    t_from_p = stats.norm.isf(p_c / 2.0) if settings.p_value_sides == 2 else stats.norm.isf(p_c)
    t_abs = np.where(np.isnan(t), np.where(np.isnan(p), np.nan, np.abs(t_from_p)), np.abs(t))
    t_abs = np.minimum(t_abs, settings.max_abs_t)
    se = np.full(est.shape, fallback, dtype=np.float64)
    ok = np.isfinite(t_abs) & np.isfinite(est) & (est != 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        se[ok] = np.where(t_abs[ok] > 1e-9, np.abs(est[ok]) / t_abs[ok], np.inf)
    boot = raw["se_event_bootstrap"].fill_nan(None).to_numpy().astype(np.float64)
    return np.where(np.isfinite(boot), boot, se)


def fit_response_prior(features: pl.DataFrame, settings: SegmentationSettings) -> ResponsePrior:
    """Prior mean and between-household variance of measured High-event reductions.

    DerSimonian-Laird random-effects estimate: weights ``w = 1/se^2``, Cochran's
    ``Q = sum w (y - ybar_w)^2``, ``tau2 = max(0, (Q - (m - 1)) / (sum w - sum w^2 / sum w))``, and the
    prior mean is the ``1/(se^2 + tau2)``-weighted mean. Estimates with a huge standard error get
    almost no weight (a plain method of moments would let them swamp tau2 and shrink everybody).
    """
    raw = _raw_estimates(features, settings).filter(pl.col("response_measured"))
    est = raw["high_reduction_pct"].to_numpy().astype(np.float64)
    if est.size == 0:
        mean = settings.external_prior_reduction_pct or 0.0
        return ResponsePrior(mean_pct=float(mean), tau2=TAU2_FLOOR, fallback_se=np.inf, n_measured=0)
    spread = float(np.std(est, ddof=1)) if est.size > 1 else 0.0
    fallback = spread if spread > 0 else 1.0
    se = _standard_errors(raw, fallback, settings)
    w = np.where(np.isfinite(se) & (se > 0), 1.0 / np.maximum(se, 1e-9) ** 2, 0.0)
    if est.size < 2 or w.sum() <= 0:
        return ResponsePrior(float(np.mean(est)), max(spread**2, TAU2_FLOOR), fallback, int(est.size))
    ybar = float(np.sum(w * est) / w.sum())
    q = float(np.sum(w * (est - ybar) ** 2))
    c = float(w.sum() - np.sum(w**2) / w.sum())
    m = int(np.count_nonzero(w))
    tau2 = max((q - (m - 1)) / c, TAU2_FLOOR) if c > 0 else max(spread**2, TAU2_FLOOR)
    w_star = np.where(np.isfinite(se), 1.0 / (se**2 + tau2), 0.0)
    mu = float(np.sum(w_star * est) / w_star.sum()) if w_star.sum() > 0 else float(np.mean(est))
    return ResponsePrior(mean_pct=mu, tau2=float(tau2), fallback_se=fallback, n_measured=int(est.size))


def estimate_household_response(
    features: pl.DataFrame, prior: ResponsePrior, settings: SegmentationSettings
) -> pl.DataFrame:
    """Per household: measured flag, raw and shrunk High reduction (%), responsiveness label.

    Columns: household_id, response_measured, high_reduction_pct (raw, null if unmeasured),
    high_reduction_se, shrinkage_weight, high_reduction_shrunk_pct (null if unmeasured),
    is_responsive (False if unmeasured).
    """
    raw = _raw_estimates(features, settings)
    est = raw["high_reduction_pct"].to_numpy().astype(np.float64)
    measured = raw["response_measured"].to_numpy()
    fallback = prior.fallback_se if np.isfinite(prior.fallback_se) else 1.0
    se = _standard_errors(raw, fallback, settings)
    with np.errstate(invalid="ignore", divide="ignore"):
        weight = np.where(np.isfinite(se), prior.tau2 / (prior.tau2 + se**2), 0.0)
    shrunk = prior.mean_pct + weight * (est - prior.mean_pct)
    shrunk = np.where(measured, shrunk, np.nan)
    if settings.responsive_rule == "responder_flag":
        responsive = measured & raw["responder"].to_numpy() & (np.nan_to_num(est) > 0)
    else:
        responsive = measured & (np.nan_to_num(shrunk, nan=-np.inf) >= settings.responsive_min_reduction_pct)
    return pl.DataFrame(
        {
            "household_id": raw["household_id"],
            "response_measured": pl.Series(measured, dtype=pl.Boolean),
            "high_reduction_pct": raw["high_reduction_pct"],
            "high_reduction_se": pl.Series(np.where(measured, se, np.nan), dtype=pl.Float64).fill_nan(None),
            "shrinkage_weight": pl.Series(np.where(measured, weight, np.nan), dtype=pl.Float64).fill_nan(None),
            "high_reduction_shrunk_pct": pl.Series(shrunk, dtype=pl.Float64).fill_nan(None),
            "is_responsive": pl.Series(responsive, dtype=pl.Boolean),
        }
    )


def segment_prior_strength(values: np.ndarray, groups: np.ndarray) -> float:
    """n0 = sigma_w^2 / tau_b^2 of ``values`` grouped by ``groups`` (module docstring): one-way
    random-effects ANOVA, unbalanced. inf (pool fully) when the groups do not differ beyond chance or
    there are fewer than 2 groups / no within-group replication; 0 when there is no within-group spread."""
    v = np.asarray(values, dtype=np.float64)
    g = np.asarray(groups)
    ok = np.isfinite(v)
    v, g = v[ok], g[ok]
    labels = np.unique(g)
    n_total, n_groups = v.size, labels.size
    if n_groups < 2 or n_total - n_groups < 1:
        return float("inf")
    sizes = np.array([np.sum(g == lab) for lab in labels], dtype=np.float64)
    means = np.array([v[g == lab].mean() for lab in labels])
    grand = v.mean()
    msb = float(np.sum(sizes * (means - grand) ** 2) / (n_groups - 1))
    msw = float(
        sum(np.sum((v[g == lab] - m) ** 2) for lab, m in zip(labels, means, strict=True)) / (n_total - n_groups)
    )
    n_eff = (n_total - np.sum(sizes**2) / n_total) / (n_groups - 1)
    tau_b2 = (msb - msw) / n_eff
    if tau_b2 <= 0:
        return float("inf")
    return msw / tau_b2


def segment_priors(
    response: pl.DataFrame, segments: np.ndarray, prior: ResponsePrior, settings: SegmentationSettings
) -> dict[int, dict[str, float]]:
    """Per lifestyle segment: n measured, n responsive, mean shrunk reduction, the prior (%) and the
    data's prior strength n0 (segment_prior_strength over the measured households' shrunk reductions)."""
    frame = response.select("response_measured", "high_reduction_shrunk_pct", "is_responsive").with_columns(
        pl.Series("segment", np.asarray(segments, dtype=np.int64))
    )
    measured = frame.filter(pl.col("response_measured"))
    n0 = segment_prior_strength(
        measured["high_reduction_shrunk_pct"].cast(pl.Float64).fill_null(np.nan).to_numpy(),
        measured["segment"].to_numpy(),
    )
    out: dict[int, dict[str, float]] = {}
    for seg in sorted(set(int(s) for s in segments)):
        part = measured.filter(pl.col("segment") == seg)
        n = part.height
        total = float(part["high_reduction_shrunk_pct"].sum()) if n else 0.0
        pooled = not np.isfinite(n0) or n + n0 <= 0
        prior_pct = prior.mean_pct if pooled else (total + n0 * prior.mean_pct) / (n + n0)
        out[seg] = {
            "n_measured": float(n),
            "n_responsive": float(part["is_responsive"].sum()) if n else 0.0,
            "mean_shrunk_pct": total / n if n else float("nan"),
            "prior_pct": float(prior_pct),
            "prior_strength": float(n0),
        }
    return out
