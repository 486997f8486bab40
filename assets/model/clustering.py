"""Shared clustering machinery: fitted-model wrapper, deterministic relabelling, partition metrics.

scikit-learn numbers clusters arbitrarily (they depend on the seed and the row order). A
:class:`FittedClusters` carries a ``label_map`` that renumbers them canonically: by size
(largest = 0), ties by the cluster's mean position in model space. Names never come from numbers.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:  # pragma: no cover
    from sklearn.pipeline import Pipeline


@dataclass
class FittedClusters:
    """A fitted sklearn pipeline plus the canonical renumbering and the clusters' names."""

    pipeline: Pipeline
    family: str  # "kmeans" | "gmm"
    k: int
    label_map: np.ndarray  # sklearn label -> canonical label
    names: tuple[str, ...] = ()
    name_reasons: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict)

    def model_space(self, x: np.ndarray) -> np.ndarray:
        """The matrix the final estimator sees (after normalisation / scaling / PCA)."""
        return self.pipeline[:-1].transform(x)

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.label_map[self.pipeline.predict(x)]

    def distance_to_centroid(self, x: np.ndarray) -> np.ndarray | None:
        """K-means only: Euclidean distance of each row to its own centroid in model space."""
        if self.family != "kmeans":
            return None
        d = self.pipeline.transform(x)  # KMeans.transform: distance to every centre
        return d.min(axis=1)

    def membership_probability(self, x: np.ndarray) -> np.ndarray | None:
        """GMM only: posterior probability of the assigned component."""
        if self.family != "gmm":
            return None
        return self.pipeline.predict_proba(x).max(axis=1)


def canonical_label_map(raw_labels: np.ndarray, space: np.ndarray, k: int) -> np.ndarray:
    """Renumber raw labels 0..k-1 by size (desc), ties by the members' mean coordinates.

    Components that received no member (possible with GMM) are numbered last, in raw order.
    """
    keys = []
    for lab in range(k):
        members = raw_labels == lab
        n = int(members.sum())
        centre = tuple(np.round(space[members].mean(axis=0), 9)) if n else ()
        keys.append((-n, centre, lab))
    order = [lab for *_, lab in sorted(keys)]
    label_map = np.empty(k, dtype=np.int64)
    for new, old in enumerate(order):
        label_map[old] = new
    return label_map


def load_native_libraries() -> None:
    """Import the modules that load the BLAS / OpenMP libraries the model uses (scipy's own OpenBLAS
    comes with ``scipy.linalg``; scikit-learn's OpenMP with its estimators).

    ``threadpoolctl.threadpool_limits`` limits only libraries already loaded when it is entered: a
    library imported inside the ``with`` block runs with one thread per core. On a shared, loaded
    machine those threads spin against each other, so that small linear-algebra calls (a GMM's
    20 x 20 triangular solves) become many times slower and the model's K sweep and bootstrap cost
    grows with the machine's load, whatever the data size. Call this before entering the limits.
    """
    import scipy.linalg  # noqa: F401
    import sklearn.cluster
    import sklearn.decomposition
    import sklearn.metrics
    import sklearn.mixture  # noqa: F401


def fit_quietly(pipeline: Pipeline, x: np.ndarray) -> Pipeline:
    """Fit, turning sklearn's convergence chatter off (we report stability and metrics instead)."""
    with warnings.catch_warnings():
        from sklearn.exceptions import ConvergenceWarning  # lazy: scikit-learn is slow to import

        warnings.simplefilter("ignore", ConvergenceWarning)
        pipeline.fit(x)
    return pipeline


def partition_metrics(space: np.ndarray, labels: np.ndarray, random_state: int, max_samples: int) -> dict:
    """Silhouette, Davies-Bouldin, Calinski-Harabasz and within-cluster SS of a partition.

    NaN where undefined (fewer than 2 distinct labels, or as many labels as rows).
    """
    n = space.shape[0]
    distinct = np.unique(labels)
    out = {
        "silhouette": float("nan"),
        "davies_bouldin": float("nan"),
        "calinski_harabasz": float("nan"),
        "within_ss": float(
            sum(((space[labels == lab] - space[labels == lab].mean(axis=0)) ** 2).sum() for lab in distinct)
        ),
        "n_distinct": len(distinct),
        "smallest_cluster": int(min(np.sum(labels == lab) for lab in distinct)),
    }
    out["smallest_share"] = out["smallest_cluster"] / n if n else float("nan")
    if 2 <= len(distinct) <= n - 1:
        # lazy: scikit-learn is slow to import
        from sklearn.metrics import calinski_harabasz_score, davies_bouldin_score, silhouette_score

        sample = max_samples if n > max_samples else None
        out["silhouette"] = float(silhouette_score(space, labels, sample_size=sample, random_state=random_state))
        out["davies_bouldin"] = float(davies_bouldin_score(space, labels))
        out["calinski_harabasz"] = float(calinski_harabasz_score(space, labels))
    return out
