"""Load-shape segmentation (the textbook path): K-means on shape-normalised daily profiles.

Each household's 48 ``shape_sNN`` values (UK local half hours, divided by the household's mean,
so mean = 1) are re-normalised by their own mean inside the pipeline (scale cannot leak into
shape whatever is fed in), optionally averaged to 24 hourly values, and clustered by K-means.

K sweep: K = k_min..k_max, inertia (elbow) and silhouette, plus Davies-Bouldin, Calinski-Harabasz,
a subsample-stability ARI and the gap statistic. K = textbook_k (3) is always fitted and kept as the
comparison.

Gap statistic (Tibshirani, Walther & Hastie 2001, JRSS B 63(2)): Gap(K) = E*[log W*_K] - log W_K,
W_K the K-means within-cluster sum of squares in the model space and E* its mean over
``gap_references`` reference data sets drawn uniformly in the box aligned with the data's principal
axes (their reference (b)); s(K) = sd*(log W*_K) sqrt(1 + 1/B). Why not silhouette: household
profiles are a continuum of blended routines, and silhouette rewards the coarsest split -- on five
planted archetypes blended with noise (silhouette ~0.24) it picks K=2 (adjusted Rand index ~0.2 with
the truth), while the gap rule finds K=5 (ARI ~0.8; tests/model/test_k_choice.py).

Chosen-K rule (:func:`choose_load_shape_k`):
1. eligible K: the smallest cluster has >= load_shape_min_cluster_size households AND >=
   min_cluster_share of the households fitted (5 %: a utility cannot run a programme for a handful
   of homes, and a K whose silhouette comes from splitting off 5 outliers -- K=2 with silhouette 0.62
   on the real LCL sample: 196 vs 5 households -- is an outlier split, not a segmentation), and the
   stability ARI is >= min_stability_ari (if no K is eligible, all are). A K may keep clusters below
   the share only as an OUTLIER GROUP beside its main clusters: at least 2 main clusters (>= the
   share) and the outlier clusters together hold <= max_outlier_share of the households (a genuine
   rare archetype such as night storage heating, ~1 % of LCL, is reported that way: its name says
   "(outlier group)"). K=2 = 196 vs 5 is therefore not eligible: it has ONE main cluster;
2. ``k_rule = "gap"`` (default): the smallest eligible K with Gap(K) >= Gap(K+1) - s(K+1) (the
   paper's rule; K+1 is read from the sweep whether or not it is eligible). If no eligible K
   satisfies it, the eligible K with the largest Gap (the reason says so). K=1 is not a candidate
   (the pipeline must segment): on structureless data the rule stops at k_min, and the silhouette
   beside it (about 0.02 on one Gaussian blob) says there is no structure;
   ``k_rule = "silhouette"`` (the earlier rule, kept for comparison): best silhouette among eligible K,
   every K within ``silhouette_tie_tolerance`` of it tied, ties broken by closeness to the elbow of the
   inertia curve (kneedle), then by smaller K.
Expect low silhouettes on real households (about 0.13 at K=3 on LCL): profiles form a continuum.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from assets.model.clustering import (
    FittedClusters,
    canonical_label_map,
    fit_quietly,
    partition_metrics,
)
from assets.model.inputs import row_normalise, to_hourly
from assets.model.persona_naming import (
    cluster_levels,
    disambiguate,
    levels_from_profile,
    name_from_levels,
    population_levels,
)
from assets.model.settings import SegmentationSettings
from assets.model.stability import bootstrap_stability

if TYPE_CHECKING:  # pragma: no cover
    from sklearn.pipeline import Pipeline


@dataclass(frozen=True)
class KChoice:
    k: int
    reason: str
    # The best-silhouette K over ALL K when it was ineligible because of a cluster below the minimum
    # share: (K, smallest cluster size) -- reported beside the chosen K as an outlier group.
    outlier_split: tuple[int, int] | None = None


def make_load_shape_pipeline(k: int, settings: SegmentationSettings, seed: int | None = None) -> Pipeline:
    from sklearn.cluster import KMeans  # lazy: scikit-learn costs ~2.5 s to import
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import FunctionTransformer

    steps: list = [("shape_normalise", FunctionTransformer(row_normalise))]
    if settings.load_shape_resolution == "hourly":
        steps.append(("hourly", FunctionTransformer(to_hourly)))
    steps.append(
        (
            "kmeans",
            KMeans(
                n_clusters=k,
                n_init=settings.kmeans_n_init,
                random_state=settings.random_state if seed is None else seed,
            ),
        )
    )
    return Pipeline(steps)


def sweep_load_shape_k(shapes: np.ndarray, settings: SegmentationSettings) -> pl.DataFrame:
    """One row per K: inertia, silhouette, Davies-Bouldin, Calinski-Harabasz, stability, gap, smallest."""
    n = shapes.shape[0]
    rows = []
    space = None
    for k in range(settings.k_min, settings.k_max + 1):
        if k >= n:
            break
        pipe = fit_quietly(make_load_shape_pipeline(k, settings), shapes)
        labels = pipe.predict(shapes)
        space = pipe[:-1].transform(shapes)
        m = partition_metrics(space, labels, settings.random_state, settings.silhouette_max_samples)
        small = _small_clusters(labels, k, settings)
        ari, _ = bootstrap_stability(
            lambda seed, k=k: make_load_shape_pipeline(k, settings, seed),
            shapes,
            labels,
            settings.load_shape_bootstrap,
            settings.bootstrap_fraction,
            settings.random_state,
        )
        rows.append(
            {
                "k": k,
                "inertia": float(pipe[-1].inertia_),
                "silhouette": m["silhouette"],
                "davies_bouldin": m["davies_bouldin"],
                "calinski_harabasz": m["calinski_harabasz"],
                "stability_ari": ari,
                "gap": None,
                "gap_se": None,
                "smallest_cluster": m["smallest_cluster"],
                "smallest_share": m["smallest_share"],
                "outlier_clusters": len(small),
                "outlier_share": float(sum(np.sum(labels == lab) for lab in small) / n),
            }
        )
    if not rows:
        raise ValueError(f"too few households ({n}) for a K sweep from K={settings.k_min}")
    gaps = gap_statistic(space, {r["k"]: r["inertia"] for r in rows}, settings)
    for r in rows:
        r["gap"], r["gap_se"] = gaps[r["k"]]
    return pl.DataFrame(
        rows,
        schema={
            "k": pl.Int32,
            "inertia": pl.Float64,
            "silhouette": pl.Float64,
            "davies_bouldin": pl.Float64,
            "calinski_harabasz": pl.Float64,
            "stability_ari": pl.Float64,
            "gap": pl.Float64,
            "gap_se": pl.Float64,
            "smallest_cluster": pl.Int64,
            "smallest_share": pl.Float64,
            "outlier_clusters": pl.Int64,
            "outlier_share": pl.Float64,
        },
    )


def gap_statistic(space: np.ndarray, inertia: dict[int, float], settings: SegmentationSettings) -> dict[int, tuple]:
    """{K: (Gap(K), s(K))} for the K-means within-cluster sums of squares ``inertia`` ({K: W_K}) fitted in
    the model space ``space`` (module docstring); (None, None) per K when ``gap_references`` = 0.
    Seeded: the same data and settings give the same curve."""
    if settings.gap_references <= 0 or not inertia:
        return {k: (None, None) for k in inertia}
    from sklearn.cluster import KMeans  # lazy: scikit-learn costs ~2.5 s to import

    rng = np.random.default_rng(settings.random_state)
    centre = space.mean(axis=0)
    _, _, axes = np.linalg.svd(space - centre, full_matrices=False)
    rotated = (space - centre) @ axes.T
    low, high = rotated.min(axis=0), rotated.max(axis=0)
    # uniform in the principal-axes box; rotating back leaves W unchanged, so the references stay rotated
    references = [rng.uniform(low, high, size=rotated.shape) for _ in range(settings.gap_references)]
    n_init, seed = settings.gap_reference_n_init, settings.random_state
    out = {}
    for k, w in inertia.items():
        log_ref = np.array(
            [
                np.log(
                    fit_quietly(
                        KMeans(n_clusters=k, n_init=n_init, random_state=seed + b),
                        ref,
                    ).inertia_
                )
                for b, ref in enumerate(references, start=1)
            ]
        )
        gap = float(log_ref.mean() - np.log(max(w, np.finfo(np.float64).tiny)))
        out[k] = (gap, float(log_ref.std() * np.sqrt(1.0 + 1.0 / len(references))))
    return out


def _small_clusters(labels: np.ndarray, k: int, settings: SegmentationSettings) -> list[int]:
    """Cluster labels holding fewer than min_cluster_share of the households."""
    n = labels.shape[0]
    return [lab for lab in range(k) if np.sum(labels == lab) < settings.min_cluster_share * n]


def elbow_k(ks: np.ndarray, inertia: np.ndarray) -> int:
    """Kneedle elbow: the K whose (normalised) inertia lies farthest below the first-last chord."""
    ks = np.asarray(ks, dtype=np.float64)
    y = np.asarray(inertia, dtype=np.float64)
    if len(ks) <= 2 or np.ptp(y) == 0:
        return int(ks[0])
    xn = (ks - ks[0]) / (ks[-1] - ks[0])
    yn = (y - y.min()) / np.ptp(y)
    chord = yn[0] + (yn[-1] - yn[0]) * xn
    gap = chord - yn
    return int(ks[int(np.argmax(gap))])


def share_eligibility(settings: SegmentationSettings, columns: list[str] | tuple[str, ...]) -> pl.Expr:
    """Smallest cluster >= settings.min_cluster_share of the households. A sweep must report
    ``smallest_share``: without it, or where it is null, a candidate is NOT eligible (an unmeasured share
    cannot pass a minimum)."""
    if "smallest_share" not in columns:
        return pl.lit(False)
    return pl.col("smallest_share").fill_null(-1.0) >= settings.min_cluster_share


def load_shape_eligibility(settings: SegmentationSettings, columns: list[str] | tuple[str, ...] = ()) -> pl.Expr:
    stable = pl.col("stability_ari").is_null() | (pl.col("stability_ari") >= settings.min_stability_ari)
    shares = pl.lit(True)
    if "outlier_clusters" in columns:  # small clusters only as an outlier group beside >= 2 main clusters
        shares = ((pl.col("k") - pl.col("outlier_clusters")) >= 2) & (
            pl.col("outlier_share") <= settings.max_outlier_share
        )
    return (pl.col("smallest_cluster") >= settings.load_shape_min_cluster_size) & stable & shares


def choose_load_shape_k(sweep: pl.DataFrame, settings: SegmentationSettings) -> KChoice:
    """Apply the documented rule (module docstring) to a sweep table."""
    frame = sweep.sort("k")
    eligible = frame.filter(load_shape_eligibility(settings, frame.columns) & pl.col("silhouette").is_not_nan())
    note = ""
    if eligible.height == 0:
        eligible = frame.filter(pl.col("silhouette").is_not_nan())
        note = (
            f" (no K had every cluster >= {settings.load_shape_min_cluster_size} households, >= 2 clusters of "
            f">= {settings.min_cluster_share:.0%} of them, and stability ARI >= "
            f"{settings.min_stability_ari}, so all K were considered)"
        )
    if eligible.height == 0:
        k = settings.textbook_k
        return KChoice(k, f"K={k}: no K had a defined silhouette; fell back to the textbook K")
    if settings.k_rule == "gap" and "gap" in frame.columns and frame["gap"].null_count() < frame.height:
        k, reason = _gap_choice(frame, eligible, settings)
    else:
        k, reason = _silhouette_choice(frame, eligible, settings)
    chosen_row = frame.filter(pl.col("k") == k).row(0, named=True)
    if chosen_row.get("outlier_clusters"):
        reason += (
            f"; {chosen_row['outlier_clusters']} of its clusters hold < {settings.min_cluster_share:.0%} of the "
            f"households ({chosen_row['outlier_share']:.1%} together) and are reported as an outlier group"
        )
    outlier = _outlier_split(frame, settings, k)
    if outlier is not None:
        reason += (
            f"; K={outlier[0]} has a higher silhouette but only because it splits off an outlier group of "
            f"{outlier[1]} household(s) (< {settings.min_cluster_share:.0%} of them), reported beside K={k}"
        )
    return KChoice(k, reason + note, outlier)


def _silhouette_choice(frame: pl.DataFrame, eligible: pl.DataFrame, settings: SegmentationSettings) -> tuple[int, str]:
    """k_rule = "silhouette": best silhouette, ties within the tolerance broken by the inertia elbow."""
    best = float(eligible["silhouette"].max())
    tied = eligible.filter(pl.col("silhouette") >= best - settings.silhouette_tie_tolerance)
    elbow = elbow_k(frame["k"].to_numpy(), frame["inertia"].to_numpy())
    ranked = sorted(tied["k"].to_list(), key=lambda k: (abs(k - elbow), k))
    k = int(ranked[0])
    sil = float(eligible.filter(pl.col("k") == k)["silhouette"][0])
    if tied.height == 1:
        return k, f"K={k}: best silhouette ({sil:.3f}) among the eligible K of {settings.k_min}..{settings.k_max}"
    return k, (
        f"K={k}: silhouette {sil:.3f}; K in {sorted(tied['k'].to_list())} are within "
        f"{settings.silhouette_tie_tolerance} of the best ({best:.3f}), and K={k} is closest to the "
        f"inertia elbow (K={elbow})"
    )


def _gap_choice(frame: pl.DataFrame, eligible: pl.DataFrame, settings: SegmentationSettings) -> tuple[int, str]:
    """k_rule = "gap": the smallest eligible K with Gap(K) >= Gap(K+1) - s(K+1), else the largest Gap."""
    gap = {int(r["k"]): (r["gap"], r["gap_se"]) for r in frame.iter_rows(named=True)}
    candidates = [int(k) for k in eligible.sort("k")["k"].to_list() if gap[int(k)][0] is not None]
    sil = {int(r["k"]): r["silhouette"] for r in frame.iter_rows(named=True)}
    for k in candidates:
        nxt = gap.get(k + 1)
        if nxt is not None and nxt[0] is not None and gap[k][0] >= nxt[0] - nxt[1]:
            return k, (
                f"K={k}: the smallest eligible K whose gap statistic is within one standard error of the next "
                f"K's (Gap({k}) = {gap[k][0]:.3f} >= Gap({k + 1}) - s = {nxt[0]:.3f} - {nxt[1]:.3f}; "
                f"Tibshirani et al. 2001, {settings.gap_references} uniform references); silhouette {sil[k]:.3f}"
            )
    if not candidates:
        return _silhouette_choice(frame, eligible, settings)
    k = max(candidates, key=lambda c: (gap[c][0], -c))
    return k, (
        f"K={k}: no eligible K of {settings.k_min}..{settings.k_max} met the gap rule (Gap(K) >= Gap(K+1) - "
        f"s(K+1)), so the eligible K with the largest gap statistic ({gap[k][0]:.3f}); silhouette {sil[k]:.3f}"
    )


def _outlier_split(frame: pl.DataFrame, settings: SegmentationSettings, chosen: int) -> tuple[int, int] | None:
    """(K, smallest cluster) of the best-silhouette K over all K if a too-small cluster excluded it."""
    if "smallest_share" not in frame.columns:
        return None
    defined = frame.filter(pl.col("silhouette").is_not_nan()).sort(["silhouette", "k"], descending=[True, False])
    if defined.height == 0:
        return None
    top = defined.row(0, named=True)
    if top["k"] == chosen or top["smallest_share"] is None or top["smallest_share"] >= settings.min_cluster_share:
        return None
    return int(top["k"]), int(top["smallest_cluster"])


def fit_load_shape(
    shapes: np.ndarray, mean_daily_kwh: np.ndarray, k: int, settings: SegmentationSettings
) -> FittedClusters:
    """Fit K-means with K clusters, renumber canonically, and name each cluster by rule."""
    pipe = fit_quietly(make_load_shape_pipeline(k, settings), shapes)
    raw = pipe.predict(shapes)
    space = pipe[:-1].transform(shapes)
    label_map = canonical_label_map(raw, space, k)
    fitted = FittedClusters(pipeline=pipe, family="kmeans", k=k, label_map=label_map)
    labels = fitted.predict(shapes)
    profiles, kwh, names, reasons = [], [], [], []
    normalised = row_normalise(shapes)
    population = population_levels(normalised, mean_daily_kwh)
    for lab in range(k):
        members = labels == lab
        profile = normalised[members].mean(axis=0) if members.any() else np.ones(shapes.shape[1])
        level = float(np.mean(mean_daily_kwh[members])) if members.any() else float("nan")
        levels = (
            cluster_levels(normalised[members], mean_daily_kwh[members], settings.naming)
            if members.any()
            else levels_from_profile(profile, level)
        )
        name, reason = name_from_levels(levels, settings.naming, population)
        profiles.append(profile)
        kwh.append(level)
        names.append(name)
        reasons.append(reason)
    small = set(_small_clusters(labels, k, settings))
    unique = disambiguate(names, [v if np.isfinite(v) else -1.0 for v in kwh])
    fitted.names = tuple(f"{nm} (outlier group)" if lab in small else nm for lab, nm in enumerate(unique))
    fitted.name_reasons = tuple(reasons)
    fitted.extra = {"centroid_profiles": np.vstack(profiles), "mean_daily_kwh": np.asarray(kwh)}
    return fitted
