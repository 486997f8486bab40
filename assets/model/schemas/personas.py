"""Schema of ``model.personas``: one row per persona, named by rule, with its centroid profile."""

import pandera.polars as pa
import polars as pl

from assets.common.table_model import TableModel


class Personas(TableModel):
    persona_id: pl.String = pa.Field(
        unique=True,
        str_matches=r"^[a-z0-9-]+$",
        description="Slug of the persona name: stable across re-fits (never a cluster number).",
    )
    persona_name: pl.String = pa.Field(
        unique=True, description="Human name derived by rules from the persona's levels and measured responsiveness."
    )
    segment: pl.Int32 = pa.Field(
        ge=0, description="Behavioural lifestyle segment the persona belongs to (0 = largest)."
    )
    segment_name: pl.String = pa.Field(description="Rule-derived name of the lifestyle segment.")
    is_price_responsive: pl.Boolean = pa.Field(
        description="The persona is the price-responsive split of its segment (measured responders)."
    )
    n_households: pl.Int64 = pa.Field(ge=1, description="Households in the persona.")
    share: pl.Float64 = pa.Field(gt=0, le=1, description="Share of all households.")
    n_measured: pl.Int64 = pa.Field(
        ge=0, description="Members with a measured price response (dynamic-tariff households)."
    )
    n_responsive: pl.Int64 = pa.Field(
        ge=0, description="Measured members labelled responsive (settings.responsive_rule)."
    )
    mean_high_reduction_pct: pl.Float64 = pa.Field(
        nullable=True,
        description="Mean shrunk reduction in High-price periods (%) of measured members; None if none measured.",
    )
    segment_prior_reduction_pct: pl.Float64 = pa.Field(
        description=(
            "Prior reduction (%) of the lifestyle segment over all High events (responsiveness.segment_priors; "
            "covers all the segment's measured households, including responders split out into its "
            "price-responsive persona). The DR list and the report use the evening-event prior (dr_targets)."
        )
    )
    mean_daily_kwh: pl.Float64 = pa.Field(gt=0, description="Mean daily consumption of members (kWh).")
    mean_peak_kw: pl.Float64 = pa.Field(ge=0, description="Mean load 16:00-20:00 local (kW).")
    night_share: pl.Float64 = pa.Field(ge=0, le=1, description="Share of the centroid profile's daily use 00:00-07:00.")
    daytime_share: pl.Float64 = pa.Field(
        ge=0, le=1, description="Share of the centroid profile's daily use 10:00-16:00."
    )
    evening_share: pl.Float64 = pa.Field(
        ge=0, le=1, description="Share of the centroid profile's daily use 16:00-22:00."
    )
    peak_offpeak_ratio: pl.Float64 = pa.Field(
        ge=0, description="Centroid profile: mean 16:00-20:00 over mean of the other hours."
    )
    naming_rule: pl.String = pa.Field(
        description="Which naming rule fired and the levels that triggered it, in plain words."
    )
    distinguishing_features: pl.String = pa.Field(
        description="Top features against all other households, with direction and effect size (Cliff's delta or share difference)."
    )
    explanation: pl.String = pa.Field(description="Plain-words description of the persona for a DR program manager.")
    centroid_s00: pl.Float64 = pa.Field(
        ge=0,
        description="Centroid profile, half hour starting 00:00 local: mean of members' shape (1 = the household's mean half hour).",
    )
    centroid_s01: pl.Float64 = pa.Field(
        ge=0,
        description="Centroid profile, half hour starting 00:30 local: mean of members' shape (1 = the household's mean half hour).",
    )
    centroid_s02: pl.Float64 = pa.Field(
        ge=0,
        description="Centroid profile, half hour starting 01:00 local: mean of members' shape (1 = the household's mean half hour).",
    )
    centroid_s03: pl.Float64 = pa.Field(
        ge=0,
        description="Centroid profile, half hour starting 01:30 local: mean of members' shape (1 = the household's mean half hour).",
    )
    centroid_s04: pl.Float64 = pa.Field(
        ge=0,
        description="Centroid profile, half hour starting 02:00 local: mean of members' shape (1 = the household's mean half hour).",
    )
    centroid_s05: pl.Float64 = pa.Field(
        ge=0,
        description="Centroid profile, half hour starting 02:30 local: mean of members' shape (1 = the household's mean half hour).",
    )
    centroid_s06: pl.Float64 = pa.Field(
        ge=0,
        description="Centroid profile, half hour starting 03:00 local: mean of members' shape (1 = the household's mean half hour).",
    )
    centroid_s07: pl.Float64 = pa.Field(
        ge=0,
        description="Centroid profile, half hour starting 03:30 local: mean of members' shape (1 = the household's mean half hour).",
    )
    centroid_s08: pl.Float64 = pa.Field(
        ge=0,
        description="Centroid profile, half hour starting 04:00 local: mean of members' shape (1 = the household's mean half hour).",
    )
    centroid_s09: pl.Float64 = pa.Field(
        ge=0,
        description="Centroid profile, half hour starting 04:30 local: mean of members' shape (1 = the household's mean half hour).",
    )
    centroid_s10: pl.Float64 = pa.Field(
        ge=0,
        description="Centroid profile, half hour starting 05:00 local: mean of members' shape (1 = the household's mean half hour).",
    )
    centroid_s11: pl.Float64 = pa.Field(
        ge=0,
        description="Centroid profile, half hour starting 05:30 local: mean of members' shape (1 = the household's mean half hour).",
    )
    centroid_s12: pl.Float64 = pa.Field(
        ge=0,
        description="Centroid profile, half hour starting 06:00 local: mean of members' shape (1 = the household's mean half hour).",
    )
    centroid_s13: pl.Float64 = pa.Field(
        ge=0,
        description="Centroid profile, half hour starting 06:30 local: mean of members' shape (1 = the household's mean half hour).",
    )
    centroid_s14: pl.Float64 = pa.Field(
        ge=0,
        description="Centroid profile, half hour starting 07:00 local: mean of members' shape (1 = the household's mean half hour).",
    )
    centroid_s15: pl.Float64 = pa.Field(
        ge=0,
        description="Centroid profile, half hour starting 07:30 local: mean of members' shape (1 = the household's mean half hour).",
    )
    centroid_s16: pl.Float64 = pa.Field(
        ge=0,
        description="Centroid profile, half hour starting 08:00 local: mean of members' shape (1 = the household's mean half hour).",
    )
    centroid_s17: pl.Float64 = pa.Field(
        ge=0,
        description="Centroid profile, half hour starting 08:30 local: mean of members' shape (1 = the household's mean half hour).",
    )
    centroid_s18: pl.Float64 = pa.Field(
        ge=0,
        description="Centroid profile, half hour starting 09:00 local: mean of members' shape (1 = the household's mean half hour).",
    )
    centroid_s19: pl.Float64 = pa.Field(
        ge=0,
        description="Centroid profile, half hour starting 09:30 local: mean of members' shape (1 = the household's mean half hour).",
    )
    centroid_s20: pl.Float64 = pa.Field(
        ge=0,
        description="Centroid profile, half hour starting 10:00 local: mean of members' shape (1 = the household's mean half hour).",
    )
    centroid_s21: pl.Float64 = pa.Field(
        ge=0,
        description="Centroid profile, half hour starting 10:30 local: mean of members' shape (1 = the household's mean half hour).",
    )
    centroid_s22: pl.Float64 = pa.Field(
        ge=0,
        description="Centroid profile, half hour starting 11:00 local: mean of members' shape (1 = the household's mean half hour).",
    )
    centroid_s23: pl.Float64 = pa.Field(
        ge=0,
        description="Centroid profile, half hour starting 11:30 local: mean of members' shape (1 = the household's mean half hour).",
    )
    centroid_s24: pl.Float64 = pa.Field(
        ge=0,
        description="Centroid profile, half hour starting 12:00 local: mean of members' shape (1 = the household's mean half hour).",
    )
    centroid_s25: pl.Float64 = pa.Field(
        ge=0,
        description="Centroid profile, half hour starting 12:30 local: mean of members' shape (1 = the household's mean half hour).",
    )
    centroid_s26: pl.Float64 = pa.Field(
        ge=0,
        description="Centroid profile, half hour starting 13:00 local: mean of members' shape (1 = the household's mean half hour).",
    )
    centroid_s27: pl.Float64 = pa.Field(
        ge=0,
        description="Centroid profile, half hour starting 13:30 local: mean of members' shape (1 = the household's mean half hour).",
    )
    centroid_s28: pl.Float64 = pa.Field(
        ge=0,
        description="Centroid profile, half hour starting 14:00 local: mean of members' shape (1 = the household's mean half hour).",
    )
    centroid_s29: pl.Float64 = pa.Field(
        ge=0,
        description="Centroid profile, half hour starting 14:30 local: mean of members' shape (1 = the household's mean half hour).",
    )
    centroid_s30: pl.Float64 = pa.Field(
        ge=0,
        description="Centroid profile, half hour starting 15:00 local: mean of members' shape (1 = the household's mean half hour).",
    )
    centroid_s31: pl.Float64 = pa.Field(
        ge=0,
        description="Centroid profile, half hour starting 15:30 local: mean of members' shape (1 = the household's mean half hour).",
    )
    centroid_s32: pl.Float64 = pa.Field(
        ge=0,
        description="Centroid profile, half hour starting 16:00 local: mean of members' shape (1 = the household's mean half hour).",
    )
    centroid_s33: pl.Float64 = pa.Field(
        ge=0,
        description="Centroid profile, half hour starting 16:30 local: mean of members' shape (1 = the household's mean half hour).",
    )
    centroid_s34: pl.Float64 = pa.Field(
        ge=0,
        description="Centroid profile, half hour starting 17:00 local: mean of members' shape (1 = the household's mean half hour).",
    )
    centroid_s35: pl.Float64 = pa.Field(
        ge=0,
        description="Centroid profile, half hour starting 17:30 local: mean of members' shape (1 = the household's mean half hour).",
    )
    centroid_s36: pl.Float64 = pa.Field(
        ge=0,
        description="Centroid profile, half hour starting 18:00 local: mean of members' shape (1 = the household's mean half hour).",
    )
    centroid_s37: pl.Float64 = pa.Field(
        ge=0,
        description="Centroid profile, half hour starting 18:30 local: mean of members' shape (1 = the household's mean half hour).",
    )
    centroid_s38: pl.Float64 = pa.Field(
        ge=0,
        description="Centroid profile, half hour starting 19:00 local: mean of members' shape (1 = the household's mean half hour).",
    )
    centroid_s39: pl.Float64 = pa.Field(
        ge=0,
        description="Centroid profile, half hour starting 19:30 local: mean of members' shape (1 = the household's mean half hour).",
    )
    centroid_s40: pl.Float64 = pa.Field(
        ge=0,
        description="Centroid profile, half hour starting 20:00 local: mean of members' shape (1 = the household's mean half hour).",
    )
    centroid_s41: pl.Float64 = pa.Field(
        ge=0,
        description="Centroid profile, half hour starting 20:30 local: mean of members' shape (1 = the household's mean half hour).",
    )
    centroid_s42: pl.Float64 = pa.Field(
        ge=0,
        description="Centroid profile, half hour starting 21:00 local: mean of members' shape (1 = the household's mean half hour).",
    )
    centroid_s43: pl.Float64 = pa.Field(
        ge=0,
        description="Centroid profile, half hour starting 21:30 local: mean of members' shape (1 = the household's mean half hour).",
    )
    centroid_s44: pl.Float64 = pa.Field(
        ge=0,
        description="Centroid profile, half hour starting 22:00 local: mean of members' shape (1 = the household's mean half hour).",
    )
    centroid_s45: pl.Float64 = pa.Field(
        ge=0,
        description="Centroid profile, half hour starting 22:30 local: mean of members' shape (1 = the household's mean half hour).",
    )
    centroid_s46: pl.Float64 = pa.Field(
        ge=0,
        description="Centroid profile, half hour starting 23:00 local: mean of members' shape (1 = the household's mean half hour).",
    )
    centroid_s47: pl.Float64 = pa.Field(
        ge=0,
        description="Centroid profile, half hour starting 23:30 local: mean of members' shape (1 = the household's mean half hour).",
    )
