"""Schema of ``model.cluster_metrics``: every candidate of both segmentations and its metrics."""

import pandera.polars as pa
import polars as pl

from assets.common.table_model import TableModel


class ClusterMetrics(TableModel):
    segmentation: pl.String = pa.Field(
        isin=["load_shape", "behaviour"],
        description="load_shape = K-means on shape-normalised daily profiles (textbook path); behaviour = lifestyle personas (stage 1).",
    )
    model_family: pl.String = pa.Field(isin=["kmeans", "gmm"], description="kmeans = K-means; gmm = Gaussian mixture.")
    k: pl.Int32 = pa.Field(ge=2, description="Number of clusters / mixture components.")
    silhouette: pl.Float64 = pa.Field(
        nullable=True,
        ge=-1,
        le=1,
        description="Mean silhouette in the model space (higher is better; ~0.13 is typical for real household shapes, > 0.5 suspicious).",
    )
    davies_bouldin: pl.Float64 = pa.Field(nullable=True, ge=0, description="Davies-Bouldin index (lower is better).")
    calinski_harabasz: pl.Float64 = pa.Field(
        nullable=True, ge=0, description="Calinski-Harabasz index (higher is better)."
    )
    bic: pl.Float64 = pa.Field(
        nullable=True,
        description="Bayesian information criterion of the Gaussian mixture (lower is better); None for K-means.",
    )
    inertia: pl.Float64 = pa.Field(
        nullable=True, ge=0, description="Within-cluster sum of squares in the model space (elbow curve)."
    )
    stability_ari: pl.Float64 = pa.Field(
        nullable=True,
        ge=-1,
        le=1,
        description="Mean adjusted Rand index between the full fit and seeded re-fits on subsamples; None if no bootstrap was run.",
    )
    gap: pl.Float64 = pa.Field(
        nullable=True,
        description="Load shape only: gap statistic (Tibshirani et al. 2001), E*[log W*_K] - log W_K against uniform references in the principal-axes box; the chosen K is the smallest eligible K with gap(K) >= gap(K+1) - gap_se(K+1). None for behaviour rows.",
    )
    gap_se: pl.Float64 = pa.Field(
        nullable=True,
        ge=0,
        description="Load shape only: s(K) = sd of the references' log W*_K x sqrt(1 + 1/B), the gap rule's tolerance.",
    )
    smallest_cluster: pl.Int64 = pa.Field(ge=0, description="Households in the smallest cluster of the full fit.")
    smallest_share: pl.Float64 = pa.Field(
        nullable=True, ge=0, le=1, description="Smallest cluster as a share of the households fitted."
    )
    outlier_clusters: pl.Int64 = pa.Field(
        nullable=True,
        ge=0,
        description="Load shape only: clusters below min_cluster_share, reported as an outlier group beside the main clusters.",
    )
    eligible: pl.Boolean = pa.Field(
        description="Candidate passed the eligibility rules of its chosen-K rule (cluster size, stability, BIC)."
    )
    mean_rank: pl.Float64 = pa.Field(
        nullable=True,
        ge=1,
        description="Behaviour only: mean rank over silhouette, Davies-Bouldin and Calinski-Harabasz among the ranked candidates (lowest wins).",
    )
    chosen: pl.Boolean = pa.Field(description="This candidate is the model in use.")
    textbook_default: pl.Boolean = pa.Field(description="The textbook K=3 load-shape comparison model.")
