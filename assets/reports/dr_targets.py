"""DR targets: households ranked by expected kW reduction at peak, against the textbook rule.

Expected reduction of household i (at the 16:00-20:00 peak):
    peak_kw_i   = peak_kwh_per_half_hour_i * 2           (mean kW over the peak window)
    r_i         = shrunk measured High-period reduction (%)   if the response is measured,
                  the response model's prediction (%)         if it beat the segment prior and the
                                                              textbook rule out of sample
                                                              (model/response_model.py),
                  the prior of i's lifestyle segment (%)      otherwise (responsiveness.py),
                  clipped to [0, 100 * max_reduction_fraction]
    expected_kw = peak_kw_i * r_i / 100
Ranking: expected_kw descending, household_id ascending on ties.

Textbook rule: every household of the highest-load cluster of the K=3 load-shape segmentation
(highest mean peak_kw of its members). The ranking selects the same number of households (or
``dr_budget_households``) so both rules are compared on kW captured for equal effort.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from assets.model import response_model as rm
from assets.model.cluster_model import ClusterModel
from assets.model.inputs import prepare_features
from assets.model.settings import SegmentationSettings
from assets.reports.privacy import pseudonymise_ids

RANKING_RULE = "ranking by expected kW reduction"
TEXTBOOK_RULE = "textbook: highest-load load-shape cluster"


def response_model_inputs(
    features: pl.DataFrame, assignments: pl.DataFrame, response: pl.DataFrame, model: ClusterModel
) -> tuple[pl.DataFrame, pl.DataFrame, list[str]]:
    """(measured, never measured, Acorn groups): the frames the response model trains and predicts on."""
    s = model.settings
    prepared = prepare_features(features)
    cols = [c for c in ("high_did_pct_evening", "high_did_pct", "responder") if c in prepared.columns]
    frame = (
        prepared.select("household_id", "peak_kw", "acorn_group", *s.lifestyle_features, *cols)
        .join(assignments.select("household_id", "segment", "textbook_cluster"), on="household_id", how="inner")
        .join(response.select("household_id", "response_measured", "is_responsive"), on="household_id", how="left")
        .sort("household_id")
    )
    top = textbook_cluster_choice(frame)
    frame = frame.with_columns(
        (pl.col("textbook_cluster") == top).alias("is_textbook_top"),
        rm.evening_reduction_pct(frame, s.did_pct_multiplier).alias("reduction_pct"),
        pl.col("is_responsive").fill_null(False).alias("responded"),
    )
    measured = frame.filter(pl.col("response_measured").fill_null(False) & pl.col("reduction_pct").is_not_null())
    others = frame.filter(~pl.col("response_measured").fill_null(False))
    groups = sorted(set(frame["acorn_group"].cast(pl.String).fill_null(rm.UNKNOWN_GROUP).to_list()))
    return measured, others, groups


def score_response_model(
    features: pl.DataFrame, assignments: pl.DataFrame, response: pl.DataFrame, model: ClusterModel
) -> tuple[rm.ResponseModelScores, pl.DataFrame]:
    """Cross-validated scores of the response model and its predictions for never-measured households
    (columns household_id, predicted_reduction_pct; empty when the model is not used)."""
    measured, others, groups = response_model_inputs(features, assignments, response, model)
    scores = rm.cross_validate(measured, model.settings, groups)
    if scores.use_model and others.height:
        pred = rm.fit_predict(measured, others, model.settings, groups)
        predicted = pl.DataFrame({"household_id": others["household_id"], "predicted_reduction_pct": pred})
    else:
        predicted = pl.DataFrame(schema={"household_id": pl.String, "predicted_reduction_pct": pl.Float64})
    return scores, predicted


def expected_household_reduction(
    features: pl.DataFrame,
    assignments: pl.DataFrame,
    response: pl.DataFrame,
    model: ClusterModel,
    predicted: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Per household: peak kW, flexible kW, source and size of the expected reduction.

    ``predicted``: the response model's predictions for never-measured households (used where given)."""
    s = model.settings
    priors = pl.DataFrame(
        {
            "segment": pl.Series([e.segment for e in model.catalogue], dtype=pl.Int32),
            "segment_prior_pct": [e.prior_pct for e in model.catalogue],
        }
    )
    cap = 100.0 * s.max_reduction_fraction
    frame = (
        prepare_features(features)
        .select("household_id", "peak_kw", "peak_offpeak_ratio", "mean_daily_kwh")
        .join(
            assignments.select(
                "household_id",
                "segment",
                "persona_id",
                "persona_name",
                "textbook_cluster",
                "is_price_responsive_persona",
            ),
            on="household_id",
            how="inner",
        )
        .join(
            response.select("household_id", "response_measured", "high_reduction_shrunk_pct", "is_responsive"),
            on="household_id",
            how="left",
        )
        .join(priors, on="segment", how="left")
    )
    if predicted is None:
        predicted = pl.DataFrame(schema={"household_id": pl.String, "predicted_reduction_pct": pl.Float64})
    frame = frame.join(predicted, on="household_id", how="left")
    return (
        frame.with_columns(
            pl.when(pl.col("response_measured"))
            .then(pl.lit("measured"))
            .when(pl.col("predicted_reduction_pct").is_not_null())
            .then(pl.lit("response model"))
            .otherwise(pl.lit("segment prior"))
            .alias("response_source"),
            pl.when(pl.col("response_measured"))
            .then(pl.col("high_reduction_shrunk_pct"))
            .when(pl.col("predicted_reduction_pct").is_not_null())
            .then(pl.col("predicted_reduction_pct"))
            .otherwise(pl.col("segment_prior_pct"))
            .clip(0.0, cap)
            .alias("expected_reduction_pct"),
            (pl.col("peak_kw") * (1.0 - 1.0 / pl.col("peak_offpeak_ratio").clip(lower_bound=1.0)))
            .fill_null(0.0)
            .alias("flexible_kw"),
        )
        .with_columns((pl.col("peak_kw") * pl.col("expected_reduction_pct") / 100.0).alias("expected_kw_reduction"))
        .sort("household_id")
    )


def textbook_cluster_choice(expectations: pl.DataFrame) -> int:
    """The K=3 load-shape cluster with the highest mean peak kW (ties: lowest cluster number)."""
    by = (
        expectations.group_by("textbook_cluster")
        .agg(pl.col("peak_kw").mean().alias("mean_peak_kw"))
        .sort(["mean_peak_kw", "textbook_cluster"], descending=[True, False])
    )
    return int(by["textbook_cluster"][0])


@dataclass
class DrTargets:
    targets: pl.DataFrame
    comparison: pl.DataFrame
    textbook_cluster: int
    n_selected: int


def rank_dr_targets(expectations: pl.DataFrame, settings: SegmentationSettings) -> DrTargets:
    """The ranked household table and the two-row comparison of the selection rules."""
    tb = textbook_cluster_choice(expectations)
    ranked = expectations.sort(["expected_kw_reduction", "household_id"], descending=[True, False]).with_columns(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("rank"),
        (pl.col("textbook_cluster") == tb).alias("selected_by_textbook"),
    )
    n_text = int(ranked["selected_by_textbook"].sum())
    n_sel = settings.dr_budget_households if settings.dr_budget_households is not None else n_text
    n_sel = max(0, min(n_sel, ranked.height))
    ranked = ranked.with_columns((pl.col("rank") <= n_sel).alias("selected_by_ranking"))
    if settings.pseudonymise:
        ref = pseudonymise_ids(ranked["household_id"], settings.pseudonym_key or "", settings.pseudonym_salt)
    else:
        ref = ranked["household_id"].alias("household_ref")
    targets = ranked.with_columns(ref.alias("household_ref")).select(
        "rank",
        "household_ref",
        "persona_id",
        "persona_name",
        "textbook_cluster",
        "peak_kw",
        "response_source",
        "expected_reduction_pct",
        "expected_kw_reduction",
        "selected_by_ranking",
        "selected_by_textbook",
    )
    comparison = compare_rules(ranked)
    return DrTargets(targets=targets, comparison=comparison, textbook_cluster=tb, n_selected=n_sel)


def compare_rules(ranked: pl.DataFrame) -> pl.DataFrame:
    """Two rows (ranking, textbook): households, kW captured, overlap, Jaccard, responders."""
    total_kw = float(ranked["expected_kw_reduction"].sum())
    a = ranked["selected_by_ranking"].to_numpy()
    b = ranked["selected_by_textbook"].to_numpy()
    overlap = int(np.sum(a & b))
    union = int(np.sum(a | b))
    rows = []
    for rule, mask_col in ((RANKING_RULE, "selected_by_ranking"), (TEXTBOOK_RULE, "selected_by_textbook")):
        sel = ranked.filter(pl.col(mask_col))
        kw = float(sel["expected_kw_reduction"].sum())
        rows.append(
            {
                "rule": rule,
                "n_households": sel.height,
                "expected_kw_captured": kw,
                "mean_expected_kw_per_household": kw / sel.height if sel.height else 0.0,
                "peak_kw_covered": float(sel["peak_kw"].sum()),
                "share_of_total_expected_kw": kw / total_kw if total_kw > 0 else 0.0,
                "measured_responders_selected": int(sel["is_responsive"].fill_null(False).sum()),
                "overlap_households": overlap,
                "jaccard": overlap / union if union else 0.0,
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "rule": pl.String,
            "n_households": pl.Int64,
            "expected_kw_captured": pl.Float64,
            "mean_expected_kw_per_household": pl.Float64,
            "peak_kw_covered": pl.Float64,
            "share_of_total_expected_kw": pl.Float64,
            "measured_responders_selected": pl.Int64,
            "overlap_households": pl.Int64,
            "jaccard": pl.Float64,
        },
    )
