"""Behavioural segmentation, stage 1: lifestyle segments from a scikit-learn pipeline.

Pipeline: median imputation (for the odd null feature) -> StandardScaler -> optional PCA ->
KMeans or GaussianMixture. Only lifestyle features that exist for every household are clustered
(settings.lifestyle_features); price responsiveness, which is measured only for dynamic-tariff
households, is handled afterwards by the persona catalogue (see personas.py): a segment's measured
responders form a separate ``price-responsive`` persona, and its unmeasured members inherit the
segment's responsiveness prior. A separate 2-component PCA of the scaled features gives the
coordinates of the persona scatter plot.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from assets.model.clustering import FittedClusters, canonical_label_map, fit_quietly
from assets.model.settings import SegmentationSettings

if TYPE_CHECKING:  # pragma: no cover
    from sklearn.decomposition import PCA
    from sklearn.pipeline import Pipeline


def make_behaviour_pipeline(family: str, k: int, settings: SegmentationSettings, seed: int | None = None) -> Pipeline:
    seed = settings.random_state if seed is None else seed
    from sklearn.cluster import KMeans  # lazy: scikit-learn is slow to import
    from sklearn.decomposition import PCA
    from sklearn.impute import SimpleImputer
    from sklearn.mixture import GaussianMixture
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    steps: list = [("impute", SimpleImputer(strategy="median")), ("scale", StandardScaler())]
    if settings.pca_components is not None:
        steps.append(("pca", PCA(n_components=settings.pca_components, svd_solver="full", random_state=seed)))
    if family == "kmeans":
        model = KMeans(n_clusters=k, n_init=settings.kmeans_n_init, random_state=seed)
    elif family == "gmm":
        model = GaussianMixture(
            n_components=k,
            covariance_type=settings.gmm_covariance_type,
            n_init=settings.gmm_n_init,
            reg_covar=settings.gmm_reg_covar,
            max_iter=300,
            random_state=seed,
        )
    else:
        raise ValueError(f"unknown model family {family!r}")
    steps.append((family, model))
    return Pipeline(steps)


def fit_behaviour(x: np.ndarray, family: str, k: int, settings: SegmentationSettings) -> FittedClusters:
    """Fit the chosen pipeline and renumber its segments canonically (size, then position)."""
    pipe = fit_quietly(make_behaviour_pipeline(family, k, settings), x)
    raw = pipe.predict(x)
    label_map = canonical_label_map(raw, pipe[:-1].transform(x), k)
    return FittedClusters(pipeline=pipe, family=family, k=k, label_map=label_map)


def fit_scatter_pca(fitted: FittedClusters, x: np.ndarray, settings: SegmentationSettings) -> PCA:
    """2-D PCA of the imputed + scaled features (the picture's coordinates; not the model space)."""
    scaled = fitted.pipeline[:2].transform(x)
    n_comp = min(2, scaled.shape[1], scaled.shape[0])
    from sklearn.decomposition import PCA  # lazy: scikit-learn is slow to import

    return PCA(n_components=n_comp, svd_solver="full", random_state=settings.random_state).fit(scaled)


def scatter_coordinates(fitted: FittedClusters, pca: PCA, x: np.ndarray) -> np.ndarray:
    coords = pca.transform(fitted.pipeline[:2].transform(x))
    if coords.shape[1] < 2:
        coords = np.hstack([coords, np.zeros((coords.shape[0], 2 - coords.shape[1]))])
    # PCA signs are arbitrary: fix them so that each axis' largest loading is positive
    signs = np.sign(pca.components_[np.arange(pca.components_.shape[0]), np.abs(pca.components_).argmax(axis=1)])
    signs = np.concatenate([signs, np.ones(2 - len(signs))]) if len(signs) < 2 else signs
    return coords * signs
