"""Fitting the whole cluster model and assigning households (the ``cluster_model`` and
``segment_assignments`` assets, minus Dagster).

``fit_cluster_model(features, settings)`` fits, deterministically for given data and settings:
1. the load-shape K sweep, the chosen-K K-means and the textbook K=3 K-means (load_shape.py);
2. the behavioural model sweep (K-means vs GMM), the chosen pipeline (model_selection.py) and the
   2-D PCA for pictures (behavioural.py);
3. the responsiveness prior (responsiveness.py) and the persona catalogue (personas.py).
Rows are sorted by household_id first, so shuffled inputs give the same model.

``assign_segments(features, model)`` applies the stored pipelines, names and catalogue.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import polars as pl
from threadpoolctl import threadpool_limits

from assets.model.behavioural import fit_behaviour, fit_scatter_pca, scatter_coordinates
from assets.model.clustering import FittedClusters, load_native_libraries
from assets.model.fingerprint import fingerprint_frame, model_version_string
from assets.model.inputs import (
    DERIVED_COLUMNS,
    behaviour_matrix,
    check_enough_households,
    fit_mask,
    minimum_households,
    prepare_features,
    shape_matrix,
    unusable_households,
)
from assets.model.load_shape import (
    KChoice,
    choose_load_shape_k,
    fit_load_shape,
    load_shape_eligibility,
    sweep_load_shape_k,
)
from assets.model.model_selection import (
    ModelChoice,
    choose_behaviour_model,
    rank_candidates,
    sweep_behaviour_models,
)
from assets.model.personas import SegmentEntry, assign_personas, build_persona_catalogue
from assets.model.responsiveness import (
    ResponsePrior,
    estimate_household_response,
    fit_response_prior,
)
from assets.model.settings import REQUIRED_COLUMNS, SegmentationSettings

if TYPE_CHECKING:  # pragma: no cover
    from sklearn.decomposition import PCA


@dataclass
class ClusterModel:
    """Everything needed to reproduce segment assignments: persisted by model_store."""

    version: str
    fingerprint: str
    settings: SegmentationSettings
    sklearn_version: str
    n_households: int
    load_shape: FittedClusters
    load_shape_choice: KChoice
    load_shape_sweep: pl.DataFrame
    textbook: FittedClusters
    behaviour: FittedClusters
    behaviour_choice: ModelChoice
    behaviour_metrics: pl.DataFrame
    scatter_pca: PCA
    response_prior: ResponsePrior
    catalogue: tuple[SegmentEntry, ...]
    excluded_from_fit: tuple[str, ...] = ()
    unusable: tuple[str, ...] = ()


def training_columns(settings: SegmentationSettings, features: pl.DataFrame | None = None) -> list[str]:
    """Columns whose values define the training data (and hence the fingerprint)."""
    extra = [c for c in settings.lifestyle_features if c not in REQUIRED_COLUMNS and c not in DERIVED_COLUMNS]
    if settings.t_stat_column and (features is None or settings.t_stat_column in features.columns):
        extra.append(settings.t_stat_column)
    if features is not None:
        extra = [c for c in extra if c in features.columns]
    return [*REQUIRED_COLUMNS, *extra]


def fit_cluster_model(features: pl.DataFrame, settings: SegmentationSettings | None = None) -> ClusterModel:
    """Fit load-shape and behavioural segmentations and the persona catalogue (see module doc)."""
    settings = settings or SegmentationSettings()
    load_native_libraries()  # before the limits: they apply only to libraries already loaded
    with threadpool_limits(limits=settings.n_threads):
        return _fit(features, settings)


def _fit(features: pl.DataFrame, settings: SegmentationSettings) -> ClusterModel:
    import sklearn  # lazy: scikit-learn is slow to import

    everyone = prepare_features(features)
    fingerprint = fingerprint_frame(features, training_columns(settings, features))
    keep = fit_mask(everyone, settings)
    if int(keep.sum()) < minimum_households(settings):
        check_enough_households(everyone, pl.DataFrame(schema={"reason": pl.String}), settings)
    frame = everyone.filter(pl.Series(keep))
    shapes = shape_matrix(frame)
    kwh = frame["mean_daily_kwh"].to_numpy().astype(np.float64)

    sweep = sweep_load_shape_k(shapes, settings)
    choice = choose_load_shape_k(sweep, settings)
    load_shape = fit_load_shape(shapes, kwh, choice.k, settings)
    textbook = fit_load_shape(shapes, kwh, settings.textbook_k, settings)

    x = behaviour_matrix(frame, settings)
    metrics = sweep_behaviour_models(x, settings)
    model_choice = choose_behaviour_model(metrics, settings)
    behaviour = fit_behaviour(x, model_choice.family, model_choice.k, settings)
    segments = behaviour.predict(x)
    pca = fit_scatter_pca(behaviour, x, settings)

    prior = fit_response_prior(frame, settings)
    response = estimate_household_response(frame, prior, settings)
    catalogue = build_persona_catalogue(frame, segments, response, prior, settings)
    behaviour.names = tuple(e.segment_name for e in catalogue)
    behaviour.name_reasons = tuple(e.naming_reason for e in catalogue)

    return ClusterModel(
        version=model_version_string(settings, fingerprint),
        fingerprint=fingerprint,
        settings=settings,
        sklearn_version=sklearn.__version__,
        n_households=frame.height,
        load_shape=load_shape,
        load_shape_choice=choice,
        load_shape_sweep=sweep,
        textbook=textbook,
        behaviour=behaviour,
        behaviour_choice=model_choice,
        behaviour_metrics=rank_candidates(metrics, settings),
        scatter_pca=pca,
        response_prior=prior,
        catalogue=catalogue,
        excluded_from_fit=tuple(everyone.filter(~pl.Series(keep))["household_id"].to_list()),
        unusable=tuple(unusable_households(features)["household_id"].sort().to_list()),
    )


def household_response(features: pl.DataFrame, model: ClusterModel) -> pl.DataFrame:
    """Shrunk responsiveness of each household under the model's stored prior."""
    return estimate_household_response(prepare_features(features), model.response_prior, model.settings)


def assign_segments(features: pl.DataFrame, model: ClusterModel) -> pl.DataFrame:
    """``segment_assignments``: one row per segmentable household (sorted by household_id).

    Households without a complete shape or a positive mean daily kWh are not assigned
    (inputs.unusable_households lists them; the model records those seen at fit time).
    """
    load_native_libraries()
    with threadpool_limits(limits=model.settings.n_threads):
        return _assign(features, model)


def _assign(features: pl.DataFrame, model: ClusterModel) -> pl.DataFrame:
    frame = prepare_features(features)
    settings = model.settings
    excluded = set(model.excluded_from_fit)
    shapes = shape_matrix(frame)
    ls = model.load_shape.predict(shapes)
    tb = model.textbook.predict(shapes)
    x = behaviour_matrix(frame, settings)
    seg = model.behaviour.predict(x)
    response = estimate_household_response(frame, model.response_prior, settings)
    pid, pname, pflag = assign_personas(seg, response["is_responsive"].to_numpy(), model.catalogue)
    seg_names = {e.segment: e.segment_name for e in model.catalogue}
    coords = scatter_coordinates(model.behaviour, model.scatter_pca, x)
    dist = model.behaviour.distance_to_centroid(x)
    prob = model.behaviour.membership_probability(x)
    n = frame.height
    return pl.DataFrame(
        {
            "household_id": frame["household_id"],
            "load_shape_cluster": pl.Series(ls, dtype=pl.Int32),
            "load_shape_name": [model.load_shape.names[i] for i in ls],
            "load_shape_distance": pl.Series(model.load_shape.distance_to_centroid(shapes), dtype=pl.Float64),
            "textbook_cluster": pl.Series(tb, dtype=pl.Int32),
            "textbook_cluster_name": [model.textbook.names[i] for i in tb],
            "segment": pl.Series(seg, dtype=pl.Int32),
            "segment_name": [seg_names[int(s)] for s in seg],
            "persona_id": pid,
            "persona_name": pname,
            "is_price_responsive_persona": pl.Series(pflag, dtype=pl.Boolean),
            "response_measured": response["response_measured"],
            "persona_distance": pl.Series(dist if dist is not None else [None] * n, dtype=pl.Float64),
            "persona_probability": pl.Series(prob if prob is not None else [None] * n, dtype=pl.Float64),
            "pca_1": pl.Series(coords[:, 0], dtype=pl.Float64),
            "pca_2": pl.Series(coords[:, 1], dtype=pl.Float64),
            "used_in_fit": pl.Series([h not in excluded for h in frame["household_id"].to_list()], dtype=pl.Boolean),
        }
    )


def cluster_metrics_table(model: ClusterModel) -> pl.DataFrame:
    """The metrics of every candidate of both segmentations, with the chosen ones flagged."""
    s = model.settings
    ls = model.load_shape_sweep.select(
        pl.lit("load_shape").alias("segmentation"),
        pl.lit("kmeans").alias("model_family"),
        "k",
        "silhouette",
        "davies_bouldin",
        "calinski_harabasz",
        pl.lit(None, dtype=pl.Float64).alias("bic"),
        "inertia",
        "stability_ari",
        *(
            (pl.col("gap"), pl.col("gap_se"))
            if "gap" in model.load_shape_sweep.columns
            else (pl.lit(None, dtype=pl.Float64).alias("gap"), pl.lit(None, dtype=pl.Float64).alias("gap_se"))
        ),
        "smallest_cluster",
        "smallest_share",
        pl.col("outlier_clusters").cast(pl.Int64)
        if "outlier_clusters" in model.load_shape_sweep.columns
        else pl.lit(None, dtype=pl.Int64).alias("outlier_clusters"),
        load_shape_eligibility(s, model.load_shape_sweep.columns).alias("eligible"),
        pl.lit(None, dtype=pl.Float64).alias("mean_rank"),
        (pl.col("k") == model.load_shape.k).alias("chosen"),
        (pl.col("k") == s.textbook_k).alias("textbook_default"),
    )
    bh = model.behaviour_metrics.select(
        pl.lit("behaviour").alias("segmentation"),
        "model_family",
        "k",
        "silhouette",
        "davies_bouldin",
        "calinski_harabasz",
        "bic",
        "inertia",
        "stability_ari",
        pl.lit(None, dtype=pl.Float64).alias("gap"),
        pl.lit(None, dtype=pl.Float64).alias("gap_se"),
        "smallest_cluster",
        "smallest_share",
        pl.col("outlier_clusters").cast(pl.Int64),
        "eligible",
        "mean_rank",
        ((pl.col("model_family") == model.behaviour.family) & (pl.col("k") == model.behaviour.k)).alias("chosen"),
        pl.lit(False).alias("textbook_default"),
    ).sort("model_family", "k")
    out = pl.concat([ls, bh], how="vertical")
    return out.with_columns(
        pl.col(c).fill_nan(None) for c in ("silhouette", "davies_bouldin", "calinski_harabasz", "bic", "inertia")
    )
