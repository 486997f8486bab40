"""Schema of ``model.segment_assignments``: one row per household, both segmentations."""

import pandera.polars as pa
import polars as pl

from assets.common.table_model import TableModel


class SegmentAssignments(TableModel):
    household_id: pl.String = pa.Field(unique=True, description="LCLid.")
    load_shape_cluster: pl.Int32 = pa.Field(
        ge=0, description="Load-shape cluster at the chosen K (0 = largest cluster)."
    )
    load_shape_name: pl.String = pa.Field(
        description="Rule-derived name of the load-shape cluster (e.g. 'evening peaker')."
    )
    load_shape_distance: pl.Float64 = pa.Field(
        ge=0, description="Euclidean distance of the household's shape-normalised profile to its cluster centroid."
    )
    textbook_cluster: pl.Int32 = pa.Field(
        ge=0, description="Cluster of the textbook K=3 load-shape K-means (0 = largest)."
    )
    textbook_cluster_name: pl.String = pa.Field(description="Rule-derived name of the textbook K=3 cluster.")
    segment: pl.Int32 = pa.Field(ge=0, description="Behavioural lifestyle segment (0 = largest).")
    segment_name: pl.String = pa.Field(description="Rule-derived name of the lifestyle segment.")
    persona_id: pl.String = pa.Field(
        str_matches=r"^[a-z0-9-]+$", description="Persona id: slug of the persona name (stable across re-fits)."
    )
    persona_name: pl.String = pa.Field(
        description="Human persona name derived by rules (lifestyle + measured responsiveness)."
    )
    is_price_responsive_persona: pl.Boolean = pa.Field(
        description="The household is in the price-responsive split of its segment (a measured responder)."
    )
    response_measured: pl.Boolean = pa.Field(
        description="The household's price response was measured (dynamic-tariff household with a DiD estimate)."
    )
    persona_distance: pl.Float64 = pa.Field(
        nullable=True,
        ge=0,
        description="K-means only: distance to the segment centroid in the scaled feature space; None for GMM.",
    )
    persona_probability: pl.Float64 = pa.Field(
        nullable=True,
        ge=0,
        le=1,
        description="GMM only: posterior probability of the assigned segment; None for K-means.",
    )
    pca_1: pl.Float64 = pa.Field(
        description="First principal component of the scaled lifestyle features (for the persona scatter)."
    )
    pca_2: pl.Float64 = pa.Field(description="Second principal component of the scaled lifestyle features.")
    used_in_fit: pl.Boolean = pa.Field(
        description="False for households left out of fitting (mean daily kWh below settings.min_daily_kwh_for_fit: vacant homes / metering faults); they are assigned all the same."
    )
