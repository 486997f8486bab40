"""Schemas of ``model.dr_targets`` (ranked households) and its rule comparison."""

import pandera.polars as pa
import polars as pl

from assets.common.table_model import TableModel


class DrTargets(TableModel):
    rank: pl.Int64 = pa.Field(
        unique=True, ge=1, description="1 = largest expected kW reduction at peak (ties: household_id ascending)."
    )
    household_ref: pl.String = pa.Field(
        unique=True, description="LCLid, or its keyed pseudonym (HMAC-SHA256) when settings.pseudonymise."
    )
    persona_id: pl.String = pa.Field(description="Persona id.")
    persona_name: pl.String = pa.Field(description="Persona name.")
    textbook_cluster: pl.Int32 = pa.Field(ge=0, description="Cluster of the textbook K=3 load-shape K-means.")
    peak_kw: pl.Float64 = pa.Field(ge=0, description="peak_kwh_per_half_hour x 2: mean kW over 16:00-20:00 local.")
    response_source: pl.String = pa.Field(
        isin=["measured", "response model", "segment prior"],
        description="measured = shrunk DiD estimate of this household; response model = predicted from lifestyle and Acorn (used only when it beat the segment prior and the textbook rule out of sample); segment prior = mean of its lifestyle segment's measured households (shrunk to the global mean).",
    )
    expected_reduction_pct: pl.Float64 = pa.Field(
        ge=0,
        le=100,
        description="Expected reduction of peak load in High-price periods (%), clipped at 0 and settings.max_reduction_fraction.",
    )
    expected_kw_reduction: pl.Float64 = pa.Field(ge=0, description="peak_kw x expected_reduction_pct / 100 (kW).")
    selected_by_ranking: pl.Boolean = pa.Field(
        description="Among the top N of the ranking (N = textbook selection size or settings.dr_budget_households)."
    )
    selected_by_textbook: pl.Boolean = pa.Field(
        description="Member of the highest-load K=3 load-shape cluster (the textbook rule)."
    )


class DrTargetComparison(TableModel):
    rule: pl.String = pa.Field(unique=True, description="Selection rule.")
    n_households: pl.Int64 = pa.Field(ge=0, description="Households selected by the rule.")
    expected_kw_captured: pl.Float64 = pa.Field(
        ge=0, description="Sum of expected kW reduction of the selected households."
    )
    mean_expected_kw_per_household: pl.Float64 = pa.Field(ge=0, description="expected_kw_captured / n_households.")
    peak_kw_covered: pl.Float64 = pa.Field(ge=0, description="Sum of peak kW of the selected households.")
    share_of_total_expected_kw: pl.Float64 = pa.Field(
        ge=0, le=1, description="Share of all households' expected kW reduction captured."
    )
    measured_responders_selected: pl.Int64 = pa.Field(
        ge=0, description="Selected households that are measured responders."
    )
    overlap_households: pl.Int64 = pa.Field(ge=0, description="Households selected by both rules.")
    jaccard: pl.Float64 = pa.Field(ge=0, le=1, description="Overlap / union of the two selections.")
