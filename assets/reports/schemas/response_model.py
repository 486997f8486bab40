"""Schemas of the response model's cross-validated scores and the held-out capture curves."""

import pandera.polars as pa
import polars as pl

from assets.common.table_model import TableModel
from assets.model.response_model import FAMILIES, METHODS
from assets.reports.expected_kw import RULES


class ResponseModelScores(TableModel):
    method: pl.String = pa.Field(
        isin=METHODS,
        description="Rule scored out of sample: 'response model' (the chosen family), 'response model: <family>' "
        "(every candidate), 'segment prior', 'textbook rule', 'peak load rule' (rank by winter weekday 16-20 h load).",
    )
    family: pl.String = pa.Field(
        nullable=True, isin=list(FAMILIES), description="Model family of a response-model row (null otherwise)."
    )
    metric: pl.String = pa.Field(
        description="spearman_kw (rank correlation of the rule's score with the held-out households' realised kW), "
        "captured_kw_top_share (realised kW of each held-out fold's top share, summed over a repeat's folds), "
        "spearman_kw_gain_over_peak_load / captured_kw_gain_over_peak_load (rule minus the peak load rule), "
        "<gain>_null (the same gain with the responses shuffled: the permutation null), auc_responder, "
        "observed_responder_rate."
    )
    estimate: pl.Float64 = pa.Field(
        nullable=True,
        description="Mean over the repeats x folds of repeated K-fold CV over measured households (a _null row: "
        "the null's median).",
    )
    ci_low: pl.Float64 = pa.Field(nullable=True, description="95 % low (interval_basis); null without an interval.")
    ci_high: pl.Float64 = pa.Field(nullable=True, description="95 % high (interval_basis); null without an interval.")
    p_value: pl.Float64 = pa.Field(
        nullable=True,
        ge=0,
        le=1,
        description="Gain rows: permutation p-value, (1 + null draws >= observed) / (1 + draws); the family choice "
        "is repeated in every draw.",
    )
    n_households: pl.Int64 = pa.Field(ge=0, description="Measured ToU households scored (held out in K-fold CV).")
    interval_basis: pl.String = pa.Field(
        description="What the interval is: the corrected repeated-CV t interval (Nadeau-Bengio), the permutation "
        "null's 95 % range, or none."
    )


class CaptureCurve(TableModel):
    rule: pl.String = pa.Field(
        isin=[*RULES, "response model", "segment prior", "textbook rule", "peak load rule"],
        description="Targeting rule (response-model CV curve: 'response model' / 'segment prior' / 'textbook rule' / "
        "'peak load rule'; held-out-event curve: the DR target rules).",
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
    minus_peak_load_kw: pl.Float64 = pa.Field(
        nullable=True,
        description="Held-out-event curve: cumulative_kw minus the peak-load rule's at the same number of households "
        "(null on the peak-load rule's rows and on the response-model CV curve).",
    )
    minus_peak_load_ci_low: pl.Float64 = pa.Field(
        nullable=True, description="2.5 % of the paired bootstrap over households of minus_peak_load_kw."
    )
    minus_peak_load_ci_high: pl.Float64 = pa.Field(
        nullable=True, description="97.5 % of the paired bootstrap over households of minus_peak_load_kw."
    )
    measured_on: pl.String = pa.Field(description="What the curve was measured on (households, held-out what).")
