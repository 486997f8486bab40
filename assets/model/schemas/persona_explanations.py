"""Schemas of the stage-2 explanation tables: global tests and per-persona contrasts."""

import pandera.polars as pa
import polars as pl

from assets.common.table_model import TableModel


class PersonaFeatureTests(TableModel):
    feature: pl.String = pa.Field(unique=True, description="Feature tested (across the groups in compared_across).")
    role: pl.String = pa.Field(
        isin=["outside_covariate", "descriptive", "response_among_measured"],
        description="outside_covariate: a register field the personas were not built from (the only evidence); "
        "descriptive: a feature the personas are built from or defined by (differences hold by construction); "
        "response_among_measured: measured High reduction across lifestyle segments, measured ToU households only.",
    )
    feature_label: pl.String = pa.Field(description="Plain-words label of the feature.")
    kind: pl.String = pa.Field(isin=["categorical", "continuous"], description="Feature type.")
    test: pl.String = pa.Field(
        isin=["chi_square", "chi_square_permutation", "kruskal_wallis"],
        description="Pearson chi-square (categorical, no continuity correction; 'chi_square_permutation': its "
        "p-value by permutation of the group labels because the table is sparse, Cochran's rule) or Kruskal-Wallis "
        "H (continuous).",
    )
    statistic: pl.Float64 = pa.Field(
        nullable=True,
        ge=0,
        description="Chi-square or H statistic; None when undefined (one level / one group / constant values).",
    )
    dof: pl.Int64 = pa.Field(ge=0, description="Degrees of freedom.")
    n: pl.Int64 = pa.Field(ge=0, description="Households with a value.")
    p_value: pl.Float64 = pa.Field(nullable=True, ge=0, le=1, description="Unadjusted p-value.")
    p_adjusted: pl.Float64 = pa.Field(
        nullable=True,
        ge=0,
        le=1,
        description="p-value adjusted within the tests of the same role (Benjamini-Hochberg or Holm, see settings.p_adjust).",
    )
    effect_size: pl.Float64 = pa.Field(
        nullable=True, ge=0, description="Cramer's V (categorical) or epsilon-squared = H/(n-1) (continuous)."
    )
    effect_size_name: pl.String = pa.Field(isin=["cramers_v", "epsilon_squared"], description="Which effect size.")
    significant: pl.Boolean = pa.Field(description="p_adjusted < settings.alpha.")
    compared_across: pl.String = pa.Field(
        isin=["personas", "lifestyle_segments"],
        description="Groups compared: outside covariates and the response test across the lifestyle segments (the "
        "personas split segments by ToU-measured response, which would mix ToU status into Acorn); the rest across personas.",
    )
    min_detectable_difference: pl.Float64 = pa.Field(
        nullable=True,
        ge=0,
        description="Response test only: difference in mean reduction (percentage points) between the largest and the "
        "smallest segment detectable with settings.power_target (80 %) power at settings.alpha, two-sided, normal "
        "approximation with the pooled SD. None elsewhere or with < 2 segments of >= 2 measured households.",
    )


class PersonaFeatureContrasts(TableModel):
    persona_id: pl.String = pa.Field(description="Persona id.")
    feature: pl.String = pa.Field(description="Feature contrasted.")
    feature_label: pl.String = pa.Field(description="Plain-words label of the feature.")
    kind: pl.String = pa.Field(isin=["categorical", "continuous"], description="Feature type.")
    level: pl.String = pa.Field(nullable=True, description="Categorical level (None for continuous features).")
    persona_value: pl.Float64 = pa.Field(
        description="Median in the persona (continuous) or share of the level in the persona (categorical)."
    )
    rest_value: pl.Float64 = pa.Field(description="Same for all other households.")
    direction: pl.String = pa.Field(
        isin=["higher", "lower", "over-represented", "under-represented"],
        description="Direction of the persona against the rest.",
    )
    effect_size: pl.Float64 = pa.Field(
        ge=-1, le=1, description="Cliff's delta (continuous) or share difference (categorical)."
    )
    effect_size_name: pl.String = pa.Field(isin=["cliffs_delta", "share_difference"], description="Which effect size.")
    feature_significant: pl.Boolean = pa.Field(
        description="The feature's global test is significant after p-value adjustment."
    )
    rank: pl.Int32 = pa.Field(
        ge=1, description="Rank within the persona: significant features first, then by |effect size|."
    )
