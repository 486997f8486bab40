"""Schemas of the response model's cross-validated scores and the held-out capture curve."""

import pandera.polars as pa
import polars as pl

from assets.common.table_model import TableModel


class ResponseModelScores(TableModel):
    method: pl.String = pa.Field(
        isin=["response model", "segment prior", "textbook rule"], description="Method scored out of sample."
    )
    metric: pl.String = pa.Field(
        description="spearman_reduction / spearman_kw (rank correlation with the measured evening reduction / kW), "
        "auc_responder, brier_responder, mean_predicted_probability, observed_responder_rate, "
        "spearman_gain_over_prior / _textbook (difference of rank correlations)."
    )
    estimate: pl.Float64 = pa.Field(
        nullable=True, description="On the out-of-fold predictions of all measured households."
    )
    ci_low: pl.Float64 = pa.Field(nullable=True, description="2.5 % percentile of the bootstrap over households.")
    ci_high: pl.Float64 = pa.Field(nullable=True, description="97.5 % percentile of the bootstrap over households.")
    n_households: pl.Int64 = pa.Field(ge=0, description="Measured ToU households scored (held out in K-fold CV).")


class CaptureCurve(TableModel):
    rule: pl.String = pa.Field(
        isin=[
            "response model",
            "textbook rule",
            "ranking by expected kW reduction",
            "textbook: highest-load load-shape cluster",
        ],
        description="Targeting rule (response-model CV curve: 'response model' / 'textbook rule'; held-out-event "
        "curve: the DR target rules).",
    )
    n_targeted: pl.Int64 = pa.Field(ge=1, description="Households targeted, in the rule's out-of-fold order.")
    cumulative_kw: pl.Float64 = pa.Field(
        description="Realised kW (measured evening reduction x winter weekday 16-20 h load, all-day 16-20 h where unknown) "
        "of the households targeted so far."
    )
    cumulative_kw_ci_low: pl.Float64 = pa.Field(
        nullable=True, description="2.5 % of the bootstrap over households (held-out-event curve; null otherwise)."
    )
    cumulative_kw_ci_high: pl.Float64 = pa.Field(
        nullable=True, description="97.5 % of the bootstrap over households (held-out-event curve; null otherwise)."
    )
    measured_on: pl.String = pa.Field(description="What the curve was measured on (households, held-out what).")
