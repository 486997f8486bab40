"""DR targets: households ranked by expected kW reduction at the winter evening peak, against the
textbook rule. Every expected kW carries a 95 % interval and says what it was measured on.

Expected reduction of household i:
    load_i  = winter_weekday_peak_kw_i: mean kW 16:00-20:00 local on winter (Dec-Feb) weekdays of its
              lifestyle window (catalogue); the all-day 16:00-20:00 mean (peak_kw) where it has no winter
              weekdays. ``peak_load_basis`` says which, and from which window (baseline year or the
              trial year's event-free days).
    r_i     = its EVENING-event reduction (%): High events of the features' 'evening' start bucket
              (17:00-23:00 local; on LCL 31 of the 34 start at 17:00 and cover the 16-20 h peak):
              * measured ToU household: its own evening DiD (pooled over its evening events, primary
                method), shrunk by empirical Bayes (DerSimonian-Laird prior over the measured
                households' evening estimates, the SE from a week-block bootstrap of its evening events);
                the all-event estimate where it has no evening event (``response_basis`` says so);
                interval: the normal posterior interval shrunk +- z sqrt(B) se;
              * never measured, when the response model beat the segment prior and the textbook rule
                out of sample (model/response_model.py): the model's evening prediction, from
                PRE-PERIOD (baseline-year) lifestyle features and Acorn only; interval: the 2.5-97.5 %
                quantiles of the held-out residuals (measured - predicted) added to it;
              * otherwise: the lifestyle segment's prior (shrunk mean of its measured households'
                evening responses, responsiveness.segment_priors); interval: prior +- z sqrt(tau2 +
                se(mu)^2), the between-household spread of the measured evening responses;
              clipped to [0, 100 * max_reduction_fraction]
    expected_kw = load_i * r_i / 100, interval load_i * [r_low, r_high] / 100 (the load is the
              household's own measured mean; the interval is the response's).
Ranking: expected_kw descending, household_id ascending on ties.

Without the evening event rows (``add_evening_response`` not applied), every measured household uses
its all-event estimate (``response_basis`` = 'all High events').

Textbook rule: every household of the highest-load cluster of the K=3 load-shape segmentation
(highest mean peak_kw of its members). The ranking selects the same number of households (or
``dr_budget_households``) so both rules are compared on kW captured for equal effort.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import polars as pl

from assets.common.sql import load_sql, qualified_name
from assets.features.settings import FeatureSettings
from assets.model import response_model as rm
from assets.model.cluster_model import ClusterModel
from assets.model.inputs import prepare_features
from assets.model.responsiveness import estimate_household_response, fit_response_prior, segment_priors
from assets.model.settings import SegmentationSettings
from assets.reports.privacy import pseudonymise_ids

RANKING_RULE = "ranking by expected kW reduction"
TEXTBOOK_RULE = "textbook: highest-load load-shape cluster"
EVENT_ROWS_TABLE = "features.treatment_event_responses"
EVENING_BUCKET = "evening"  # the features' start bucket of the evening events (FeatureSettings.start_buckets)
EVENING_COLUMNS = {
    "evening_did_pct": pl.Float64,
    "evening_did_pct_se": pl.Float64,
    "evening_events": pl.Int32,
}
_METHODS = {"baseline_year_did": "baseline", "within_window_did": "within"}
EVENING_BASIS = "evening High events"
ALL_EVENTS_BASIS = "all High events (no evening event measured)"
ALL_EVENTS_ONLY_BASIS = "all High events"
INTERVAL_OWN = "household's own events: empirical-Bayes posterior (bootstrap SE)"
INTERVAL_MODEL = "response model: held-out residual quantiles"
INTERVAL_PRIOR = "spread of measured households' responses (DerSimonian-Laird tau)"


def read_evening_event_rows(con: duckdb.DuckDBPyConnection, table: str = EVENT_ROWS_TABLE) -> pl.DataFrame:
    """The (household, evening High event, method) DiD rows of the features layer."""
    sql = load_sql(__file__, "evening_event_rows").format(events=qualified_name(table))
    return con.sql(sql, params={"bucket": EVENING_BUCKET}).pl()


def evening_response(
    rows: pl.DataFrame, features: pl.DataFrame, settings: FeatureSettings | None = None
) -> pl.DataFrame:
    """Per household with evening events under its primary method: the pooled evening DiD (fraction,
    as high_did_pct_evening) and its week-block event-bootstrap SE (features/uncertainty.py)."""
    from assets.features.treatment_features import household_did
    from assets.features.uncertainty import household_event_bootstrap

    settings = settings or FeatureSettings()
    primary = features.select(
        "household_id", pl.col("response_method").replace_strict(_METHODS, default=None).alias("method")
    ).drop_nulls()
    own = rows.join(primary, on=["household_id", "method"], how="inner")
    if own.height == 0:
        return pl.DataFrame(schema={"household_id": pl.String, **EVENING_COLUMNS})
    did = household_did(own, settings, "e")
    boot = household_event_bootstrap(own, settings, seed_offset=3000)
    return did.join(boot, on="household_id", how="left").select(
        "household_id",
        pl.col("e_did_pct").alias("evening_did_pct"),
        pl.col("high_did_pct_se").alias("evening_did_pct_se"),
        pl.col("e_events").cast(pl.Int32).alias("evening_events"),
    )


def add_evening_response(
    con: duckdb.DuckDBPyConnection, features: pl.DataFrame, settings: FeatureSettings | None = None
) -> pl.DataFrame:
    """``features`` (household_features) with the evening response columns (EVENING_COLUMNS)."""
    evening = evening_response(read_evening_event_rows(con), features, settings)
    return features.drop([c for c in EVENING_COLUMNS if c in features.columns]).join(
        evening, on="household_id", how="left"
    )


def _peak_load(frame: pl.DataFrame) -> list[pl.Expr]:
    """peak_load_kw and peak_load_basis (module docstring)."""
    winter = pl.col("winter_weekday_peak_kw") if "winter_weekday_peak_kw" in frame.columns else pl.lit(None, pl.Float64)
    window = (
        pl.col("lifestyle_window").replace_strict(
            {"baseline": "baseline year", "treatment_normal_days": "trial-year event-free days"}, default="?"
        )
        if "lifestyle_window" in frame.columns
        else pl.lit("lifestyle window")
    )
    return [
        pl.coalesce(winter, pl.col("peak_kw")).alias("peak_load_kw"),
        pl.when(winter.is_not_null())
        .then(pl.format("winter weekday 16:00-20:00 mean kW, {}", window))
        .otherwise(pl.format("all-day 16:00-20:00 mean kW (no winter weekdays), {}", window))
        .alias("peak_load_basis"),
    ]


def response_model_inputs(
    features: pl.DataFrame, assignments: pl.DataFrame, response: pl.DataFrame, model: ClusterModel
) -> tuple[pl.DataFrame, pl.DataFrame, list[str]]:
    """(measured, never measured, Acorn groups): the frames the response model trains and predicts on.

    Only households whose lifestyle block comes from the PRE-PERIOD (``lifestyle_window ==
    'baseline'``) enter either frame: a treated household's trial-year lifestyle is post-treatment,
    so the model never sees a treated-year feature (rm.check_pre_period checks the feature list)."""
    s = model.settings
    rm.check_pre_period(s.lifestyle_features)
    prepared = prepare_features(features)
    if "lifestyle_window" in prepared.columns:
        prepared = prepared.filter(pl.col("lifestyle_window") == rm.PRE_PERIOD_WINDOW)
    cols = [c for c in ("high_did_pct_evening", "high_did_pct", "responder") if c in prepared.columns]
    frame = (
        prepared.with_columns(_peak_load(prepared))
        .select("household_id", "peak_kw", "peak_load_kw", "acorn_group", *s.lifestyle_features, *cols)
        .join(assignments.select("household_id", "segment", "textbook_cluster"), on="household_id", how="inner")
        .join(response.select("household_id", "response_measured", "is_responsive"), on="household_id", how="left")
        .sort("household_id")
    )
    top = textbook_cluster_choice(
        assignments.join(prepare_features(features).select("household_id", "peak_kw"), on="household_id")
    )
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
    with a pre-period lifestyle (columns household_id, predicted_reduction_pct and its interval
    predicted_ci_low_pct / predicted_ci_high_pct; empty when the model is not used)."""
    measured, others, groups = response_model_inputs(features, assignments, response, model)
    scores = rm.cross_validate(measured, model.settings, groups)
    if scores.use_model and others.height:
        pred = rm.fit_predict(measured, others, model.settings, groups)
        lo, hi = scores.residual_interval
        predicted = pl.DataFrame(
            {"household_id": others["household_id"], "predicted_reduction_pct": pred}
        ).with_columns(
            (pl.col("predicted_reduction_pct") + lo).alias("predicted_ci_low_pct"),
            (pl.col("predicted_reduction_pct") + hi).alias("predicted_ci_high_pct"),
        )
    else:
        predicted = pl.DataFrame(schema=PREDICTED_SCHEMA)
    return scores, predicted


PREDICTED_SCHEMA = {
    "household_id": pl.String,
    "predicted_reduction_pct": pl.Float64,
    "predicted_ci_low_pct": pl.Float64,
    "predicted_ci_high_pct": pl.Float64,
}


def evening_estimates(
    features: pl.DataFrame, segments: pl.DataFrame, settings: SegmentationSettings
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(per household, per segment) of the shrunk response r_i used for the expected kW.

    Per household (measured only): response_basis, shrunk_pct, ci_low_pct, ci_high_pct.
    Per segment: segment, segment_prior_pct, prior_ci_low_pct, prior_ci_high_pct."""
    from scipy.stats import norm

    z = float(norm.ppf(0.5 + rm.INTERVAL_LEVEL / 2))
    has_evening = "evening_did_pct" in features.columns
    ev = pl.col("evening_did_pct") if has_evening else pl.lit(None, pl.Float64)
    ev_se = pl.col("evening_did_pct_se") if has_evening else pl.lit(None, pl.Float64)
    use_ev = ev.is_not_null() & ev.is_finite()
    se_col = settings.se_column if settings.se_column and settings.se_column in features.columns else None
    all_se = pl.col(se_col) if se_col else pl.lit(None, pl.Float64)
    frame = features.with_columns(
        pl.when(use_ev).then(ev).otherwise(pl.col("high_did_pct")).alias("_est"),
        pl.when(use_ev).then(ev_se).otherwise(all_se).alias("_se"),
        pl.when(use_ev)
        .then(pl.lit(EVENING_BASIS))
        .otherwise(pl.lit(ALL_EVENTS_BASIS if has_evening else ALL_EVENTS_ONLY_BASIS))
        .alias("response_basis"),
        # the t / p-value SE fallback belongs to the all-event estimate only
        *(
            [pl.when(use_ev).then(None).otherwise(pl.col(c)).alias(c) for c in ("high_t_stat",)]
            if "high_t_stat" in features.columns
            else []
        ),
        pl.when(use_ev).then(None).otherwise(pl.col("high_p_value")).alias("high_p_value"),
    )
    chosen = (
        frame.drop("high_did_pct", *([se_col] if se_col else []))
        .rename({"_est": "high_did_pct"})
        .with_columns(pl.col("_se").alias(se_col or "high_did_pct_se"))
    )
    s = settings if se_col else _with_se_column(settings)
    prior = fit_response_prior(chosen, s)
    resp = estimate_household_response(chosen, prior, s)
    post_sd = (pl.col("shrinkage_weight") * pl.col("high_reduction_se") ** 2).sqrt()
    household = resp.join(frame.select("household_id", "response_basis"), on="household_id").select(
        "household_id",
        "response_basis",
        pl.col("high_reduction_shrunk_pct").alias("shrunk_pct"),
        (pl.col("high_reduction_shrunk_pct") - z * post_sd).alias("ci_low_pct"),
        (pl.col("high_reduction_shrunk_pct") + z * post_sd).alias("ci_high_pct"),
    )
    seg = segments.join(
        resp.select(
            "household_id", "response_measured", "high_reduction_shrunk_pct", "is_responsive", "high_reduction_se"
        ),
        on="household_id",
        how="inner",
    ).sort("household_id")
    priors = segment_priors(seg, seg["segment"].to_numpy(), prior, s)
    measured = seg.filter(pl.col("response_measured"))
    se = measured["high_reduction_se"].to_numpy().astype(np.float64)
    w = 1.0 / (se[np.isfinite(se)] ** 2 + prior.tau2)
    se_mu2 = 1.0 / w.sum() if w.size and w.sum() > 0 else 0.0
    # with fewer than 2 measured households there is no spread to measure: the interval is [0, cap]
    half = z * float(np.sqrt(prior.tau2 + se_mu2)) if prior.n_measured >= 2 else float("inf")
    per_segment = pl.DataFrame(
        {
            "segment": pl.Series(list(priors), dtype=pl.Int32),
            "segment_prior_pct": [v["prior_pct"] for v in priors.values()],
        }
    ).with_columns(
        (pl.col("segment_prior_pct") - half).alias("prior_ci_low_pct"),
        (pl.col("segment_prior_pct") + half).alias("prior_ci_high_pct"),
    )
    return household, per_segment


def _with_se_column(settings: SegmentationSettings) -> SegmentationSettings:
    from dataclasses import replace

    return replace(settings, se_column="high_did_pct_se")


def expected_household_reduction(
    features: pl.DataFrame,
    assignments: pl.DataFrame,
    response: pl.DataFrame,
    model: ClusterModel,
    predicted: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Per household: peak load, source, basis and size of the expected reduction with its interval.

    ``predicted``: the response model's predictions for never-measured households (used where given);
    ``response``: household_response (its all-event shrunk estimate is kept for the persona charts)."""
    s = model.settings
    cap = 100.0 * s.max_reduction_fraction
    prepared = prepare_features(features)
    household, priors = evening_estimates(prepared, assignments.select("household_id", "segment"), s)
    frame = (
        prepared.with_columns(_peak_load(prepared))
        .select("household_id", "peak_kw", "peak_load_kw", "peak_load_basis", "peak_offpeak_ratio", "mean_daily_kwh")
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
        .join(household, on="household_id", how="left")
        .join(priors, on="segment", how="left")
    )
    if predicted is None:
        predicted = pl.DataFrame(schema=PREDICTED_SCHEMA)
    frame = frame.join(predicted, on="household_id", how="left")
    measured = pl.col("response_measured")
    by_model = pl.col("predicted_reduction_pct").is_not_null()

    def pick(own: str, model_col: str, prior_col: str) -> pl.Expr:
        return (
            pl.when(measured).then(pl.col(own)).when(by_model).then(pl.col(model_col)).otherwise(pl.col(prior_col))
        ).clip(0.0, cap)

    return (
        frame.with_columns(
            pl.when(measured)
            .then(pl.lit("measured"))
            .when(by_model)
            .then(pl.lit("response model"))
            .otherwise(pl.lit("segment prior"))
            .alias("response_source"),
            pl.when(measured)
            .then(pl.col("response_basis"))
            .when(by_model)
            .then(pl.lit("predicted evening response (pre-period lifestyle + Acorn)"))
            .otherwise(pl.lit("segment prior of evening responses"))
            .alias("response_basis"),
            pick("shrunk_pct", "predicted_reduction_pct", "segment_prior_pct").alias("expected_reduction_pct"),
            pick("ci_low_pct", "predicted_ci_low_pct", "prior_ci_low_pct").alias("expected_reduction_ci_low_pct"),
            pick("ci_high_pct", "predicted_ci_high_pct", "prior_ci_high_pct").alias("expected_reduction_ci_high_pct"),
            pl.when(measured)
            .then(pl.lit(INTERVAL_OWN))
            .when(by_model)
            .then(pl.lit(INTERVAL_MODEL))
            .otherwise(pl.lit(INTERVAL_PRIOR))
            .alias("interval_basis"),
            (pl.col("peak_kw") * (1.0 - 1.0 / pl.col("peak_offpeak_ratio").clip(lower_bound=1.0)))
            .fill_null(0.0)
            .alias("flexible_kw"),
        )
        .with_columns(
            (pl.col("peak_load_kw") * pl.col("expected_reduction_pct") / 100.0).alias("expected_kw_reduction"),
            (pl.col("peak_load_kw") * pl.col("expected_reduction_ci_low_pct") / 100.0).alias("expected_kw_ci_low"),
            (pl.col("peak_load_kw") * pl.col("expected_reduction_ci_high_pct") / 100.0).alias("expected_kw_ci_high"),
        )
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
        "peak_load_kw",
        "peak_load_basis",
        "response_source",
        "response_basis",
        "expected_reduction_pct",
        "expected_reduction_ci_low_pct",
        "expected_reduction_ci_high_pct",
        "expected_kw_reduction",
        "expected_kw_ci_low",
        "expected_kw_ci_high",
        "interval_basis",
        "selected_by_ranking",
        "selected_by_textbook",
    )
    comparison = compare_rules(ranked)
    return DrTargets(targets=targets, comparison=comparison, textbook_cluster=tb, n_selected=n_sel)


def compare_rules(ranked: pl.DataFrame) -> pl.DataFrame:
    """Two rows (ranking, textbook): households, kW captured (with the sum of the households' interval
    bounds: conservative, their errors treated as fully correlated), overlap, Jaccard, responders."""
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
                "expected_kw_captured_ci_low": float(sel["expected_kw_ci_low"].sum()),
                "expected_kw_captured_ci_high": float(sel["expected_kw_ci_high"].sum()),
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
            "expected_kw_captured_ci_low": pl.Float64,
            "expected_kw_captured_ci_high": pl.Float64,
            "mean_expected_kw_per_household": pl.Float64,
            "peak_kw_covered": pl.Float64,
            "share_of_total_expected_kw": pl.Float64,
            "measured_responders_selected": pl.Int64,
            "overlap_households": pl.Int64,
            "jaccard": pl.Float64,
        },
    )
