"""Cluster stability: adjusted Rand index between the full fit and seeded re-fits on subsamples.

For b = 1..B: draw ``fraction * n`` households without replacement (seed ``random_state + b``),
re-fit the same pipeline (estimator seed ``random_state + b``), predict labels for *all*
households, and compare with the full-data labels by ARI (label-permutation invariant). The
stability is the mean ARI. Subsampling (not resampling with replacement) avoids duplicated rows,
which distort K-means and GMM. Same inputs and seed -> same ARI.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np

from assets.model.clustering import fit_quietly

if TYPE_CHECKING:  # pragma: no cover
    from sklearn.pipeline import Pipeline


def bootstrap_stability(
    make_pipeline: Callable[[int], Pipeline],
    x: np.ndarray,
    reference_labels: np.ndarray,
    n_bootstrap: int,
    fraction: float,
    random_state: int,
) -> tuple[float | None, list[float]]:
    """(mean ARI, per-replicate ARIs); (None, []) when ``n_bootstrap == 0``.

    ``make_pipeline(seed)`` must return an unfitted pipeline seeded with ``seed``.
    """
    if n_bootstrap <= 0:
        return None, []
    from sklearn.metrics import adjusted_rand_score  # lazy: scikit-learn is slow to import

    n = x.shape[0]
    m = max(2, round(fraction * n))
    aris: list[float] = []
    for b in range(1, n_bootstrap + 1):
        rng = np.random.default_rng(random_state + b)
        idx = np.sort(rng.choice(n, size=min(m, n), replace=False))
        pipe = fit_quietly(make_pipeline(random_state + b), x[idx])
        labels = pipe.predict(x)
        aris.append(float(adjusted_rand_score(reference_labels, labels)))
    return float(np.mean(aris)), aris
