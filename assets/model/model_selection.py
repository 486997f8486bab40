"""Behavioural model selection: K-means vs Gaussian mixture over a K range.

For every (family, K): silhouette, Davies-Bouldin, Calinski-Harabasz and within-cluster sum of
squares (all in the same model space, so families are comparable), BIC (GMM only) and the
subsample-stability ARI (stability.py).

Choice rule (:func:`choose_behaviour_model`):
1. eligible candidates: every cluster non-empty, smallest cluster >= min_cluster_size and >=
   min_cluster_share of the households, or, as for load shapes, the clusters below that share together an
   outlier group of at most max_outlier_share beside at least two main clusters (the sweep fills
   ``smallest_share`` and the outlier columns; a candidate without them is not eligible),
   stability ARI >= min_stability_ari, and for GMM a BIC within ``bic_delta`` (10 = "very strong
   evidence" on Kass & Raftery's scale) of the best GMM BIC. If nothing is eligible, every
   candidate with defined metrics is considered (the reason says so).
2. rank eligible candidates on silhouette (high), Davies-Bouldin (low) and Calinski-Harabasz (high);
   the lowest mean rank wins;
3. ties: higher stability, then smaller K, then K-means before GMM (the simpler model).
``settings.persona_family`` / ``settings.persona_k`` force a choice (the metrics are still reported).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from assets.model.behavioural import make_behaviour_pipeline
from assets.model.clustering import fit_quietly, partition_metrics
from assets.model.load_shape import share_eligibility
from assets.model.settings import SegmentationSettings
from assets.model.stability import bootstrap_stability

METRICS_SCHEMA = {
    "model_family": pl.String,
    "k": pl.Int32,
    "silhouette": pl.Float64,
    "davies_bouldin": pl.Float64,
    "calinski_harabasz": pl.Float64,
    "bic": pl.Float64,
    "inertia": pl.Float64,
    "stability_ari": pl.Float64,
    "smallest_cluster": pl.Int64,
    "n_distinct": pl.Int64,
    "smallest_share": pl.Float64,
    "outlier_clusters": pl.Int64,
    "outlier_share": pl.Float64,
}


def monte_carlo_se(values: list[float]) -> float | None:
    """Standard error of the mean of replicate values (None with fewer than two)."""
    if len(values) < 2:
        return None
    return float(np.std(values, ddof=1) / np.sqrt(len(values)))


@dataclass(frozen=True)
class ModelChoice:
    family: str
    k: int
    reason: str


def sweep_behaviour_models(x: np.ndarray, settings: SegmentationSettings) -> pl.DataFrame:
    """Metrics for every model family and K in persona_k_min..persona_k_max."""
    n = x.shape[0]
    rows = []
    for family in settings.model_families:
        for k in range(settings.persona_k_min, settings.persona_k_max + 1):
            if k >= n:
                break
            pipe = fit_quietly(make_behaviour_pipeline(family, k, settings), x)
            labels = pipe.predict(x)
            space = pipe[:-1].transform(x)
            m = partition_metrics(space, labels, settings.random_state, settings.silhouette_max_samples)
            sizes = np.bincount(labels)
            small = sizes[(sizes > 0) & (sizes < settings.min_cluster_share * n)]
            ari, aris = bootstrap_stability(
                lambda seed, family=family, k=k: make_behaviour_pipeline(family, k, settings, seed),
                x,
                labels,
                settings.n_bootstrap,
                settings.bootstrap_fraction,
                settings.random_state,
            )
            rows.append(
                {
                    "model_family": family,
                    "k": k,
                    "silhouette": m["silhouette"],
                    "davies_bouldin": m["davies_bouldin"],
                    "calinski_harabasz": m["calinski_harabasz"],
                    "bic": float(pipe[-1].bic(space)) if family == "gmm" else None,
                    "inertia": m["within_ss"],
                    "stability_ari": ari,
                    "stability_ari_se": monte_carlo_se(aris),
                    "smallest_cluster": m["smallest_cluster"],
                    "n_distinct": m["n_distinct"],
                    "smallest_share": m["smallest_share"],
                    "outlier_clusters": int(small.size),
                    "outlier_share": float(small.sum() / n),
                }
            )
    if not rows:
        raise ValueError(f"too few households ({n}) for K={settings.persona_k_min}")
    # stability_ari_se: Monte Carlo standard error of stability_ari (sd of the replicate ARIs / sqrt of
    # their count): the precision n_bootstrap buys, reported beside the threshold it is compared to.
    return pl.DataFrame(rows, schema={**METRICS_SCHEMA, "stability_ari_se": pl.Float64})


def _eligibility(metrics: pl.DataFrame, settings: SegmentationSettings) -> pl.Expr:
    best_bic = metrics.filter(pl.col("model_family") == "gmm")["bic"].min()
    bic_ok = pl.lit(True)
    if best_bic is not None:
        bic_ok = (pl.col("model_family") != "gmm") | (pl.col("bic") <= float(best_bic) + settings.bic_delta)
    stab_ok = pl.col("stability_ari").is_null() | (pl.col("stability_ari") >= settings.min_stability_ari)
    # every cluster >= min_cluster_share, or (the load-shape rule) the small ones together an outlier group of
    # <= max_outlier_share beside >= 2 main clusters: a genuine small archetype (night storage heating) stays a
    # persona of its own rather than being merged into an unrelated one
    outlier_group = pl.lit(False)
    if {"outlier_clusters", "outlier_share"} <= set(metrics.columns):
        outlier_group = (
            (pl.col("k") - pl.col("outlier_clusters") >= 2) & (pl.col("outlier_share") <= settings.max_outlier_share)
        ).fill_null(False)
    return (
        (pl.col("n_distinct") == pl.col("k"))
        & (pl.col("smallest_cluster") >= settings.min_cluster_size)
        & (share_eligibility(settings, metrics.columns) | outlier_group)
        & stab_ok
        & bic_ok
        & pl.col("silhouette").is_not_nan()
    )


def rank_candidates(metrics: pl.DataFrame, settings: SegmentationSettings) -> pl.DataFrame:
    """The metrics with ``eligible`` and ``mean_rank`` (null if ineligible), best first."""
    frame = metrics.with_columns(_eligibility(metrics, settings).alias("eligible"))
    pool_expr = pl.col("eligible")
    if not frame["eligible"].any():
        pool_expr = pl.col("silhouette").is_not_nan()
    pool = frame.filter(pool_expr)
    ranked = pool.with_columns(
        (
            (
                pl.col("silhouette").rank("min", descending=True)
                + pl.col("davies_bouldin").rank("min")
                + pl.col("calinski_harabasz").rank("min", descending=True)
            )
            / 3.0
        ).alias("mean_rank")
    ).select("model_family", "k", "mean_rank")
    out = frame.join(ranked, on=["model_family", "k"], how="left")
    return (
        out.with_columns(
            pl.col("stability_ari").fill_null(0.0).alias("_stab"),
            (pl.col("model_family") != "kmeans").cast(pl.Int8).alias("_family_order"),
        )
        .sort(
            ["mean_rank", "_stab", "k", "_family_order"],
            descending=[False, True, False, False],
            nulls_last=True,
        )
        .drop("_stab", "_family_order")
    )


def choose_behaviour_model(metrics: pl.DataFrame, settings: SegmentationSettings) -> ModelChoice:
    """Apply the documented rule (module docstring) to a metrics table."""
    if settings.persona_family is not None or settings.persona_k is not None:
        family = settings.persona_family or settings.model_families[0]
        k = settings.persona_k or settings.persona_k_min
        return ModelChoice(family, k, f"{family} with K={k}: forced by settings")
    ranked = rank_candidates(metrics, settings)
    top = ranked.row(0, named=True)
    if top["mean_rank"] is None:
        raise ValueError("no behavioural model candidate has defined metrics")
    n_eligible = int(ranked["eligible"].sum())
    stab = "n/a" if top["stability_ari"] is None else f"{top['stability_ari']:.2f}"
    if top.get("stability_ari_se") is not None:
        stab += f" (Monte Carlo SE {top['stability_ari_se']:.3f} over {settings.n_bootstrap} subsamples)"
    reason = (
        f"{top['model_family']} with K={top['k']}: best mean rank ({top['mean_rank']:.2f}) on silhouette "
        f"({top['silhouette']:.3f}), Davies-Bouldin ({top['davies_bouldin']:.2f}) and Calinski-Harabasz "
        f"({top['calinski_harabasz']:.0f}) among {n_eligible} eligible candidate(s) "
        f"(stability ARI >= {settings.min_stability_ari}, every cluster >= {settings.min_cluster_size} "
        f"households and >= {settings.min_cluster_share:.0%} of them, "
        f"GMM BIC within {settings.bic_delta:g} of its best); stability ARI {stab}"
    )
    if n_eligible == 0:
        reason += "; NOTE: no candidate met the eligibility rules, so all were ranked"
    return ModelChoice(str(top["model_family"]), int(top["k"]), reason)
