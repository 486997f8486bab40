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
              * never measured, when the response model beat ranking by peak load out of sample (its
                held-out gain over peak load with an interval above 0 and a permutation p below 0.05:
                model/response_model.py): the model's evening prediction, from PRE-PERIOD (baseline-year)
                lifestyle features and Acorn only; interval: the 2.5-97.5 % quantiles of the held-out
                residuals (measured - predicted) added to it;
              * otherwise (never on the tariff): the intention-to-treat figure of the program the toolkit
                offers it (offered_program_evidence: interventions.choose_unselected_program over
                program_evidence.csv, only figures measured on everyone offered the program), the same % for
                every such household; interval: the trials' lowest to highest figure (a range over trials, not
                a sampling interval). The recruited volunteers' response is never transported to them.
              nothing is clipped: a measured increase is negative, no cap applies
    expected_kw = load_i * r_i / 100, interval load_i * [r_low, r_high] / 100 (the load is the
              household's own measured mean; the interval is the response's).
Ranking: expected_kw descending, household_id ascending on ties.

Without the evening event rows (``add_evening_response`` not applied), every measured household uses
its all-event estimate (``response_basis`` = 'all High events').

Textbook rule: every household of the highest-load cluster of the K=3 load-shape segmentation
(highest mean peak_kw of its members). The ranking selects the same number of households (or
``dr_budget_households``) so the rules are compared on kW captured for equal effort. Peak-load rule (the
one a utility uses without us): the top households by peak_load_kw, as many as the ranking selects.

Captured kW of a rule (compare_rules, captured_kw_interval): total T = sum_i expected_kw_i over the
selected households (unclipped). Interval: the measured and model households' part T_m +- z sd with
    sd^2 = sum_i (L_i s_i / 100)^2
(L_i = peak_load_kw_i; s_i = ``reduction_own_sd_pct``: a measured household's posterior SD sqrt(B_i) se_i, a
model household's residual half-interval / z; errors independent), plus the program-evidence households'
summed low and high figures (one trial range shared by all of them, so added as it is). No bound is clipped.

Out-of-sample comparison (heldout_event_comparison): on held-out EVENTS of the measured ToU
households. The evening High events are split by the features' cross-fitting folds
(features/crossfit.event_folds: every other High event in order of start). For fold f, the shipped
ranking rule is rebuilt from the fold-f events only (evening DiD, event-bootstrap SE, empirical-Bayes
shrinkage, unclipped, x peak_load_kw) and the households' REALISED kW is the pooled evening DiD of the
OTHER fold x peak_load_kw (unclipped: a household may realise a negative reduction). Only households with
evening events in both folds enter. The textbook rule selects the measured members of its cluster (n);
the ranking selects its top n by the fold-f expected kW, the peak-load rule its top n by peak_load_kw. Each
rule's captured kW is the realised kW of its selection, averaged over the two fold swaps; the capture curve
is the same cumulative sum at every n (the textbook's order: cluster members first, by peak kW), with the
ranking's and the textbook's difference from the peak-load rule at every n. Intervals: percentile bootstrap
over households (settings.response_bootstrap draws, seed settings.random_state), paired: each draw resamples
households once and scores all three rules (and their differences) on it, with n recounted in the draw; the households'
fold scores are kept (the empirical-Bayes prior is not refitted per draw). Fewer than
settings.k_anonymity such households, or none in the textbook cluster: no comparison, and the report says
so in words.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import numpy as np
import polars as pl

from assets.common.sql import load_sql, qualified_name
from assets.features.settings import FeatureSettings
from assets.model import response_model as rm
from assets.model.cluster_model import ClusterModel
from assets.model.inputs import prepare_features
from assets.model.responsiveness import estimate_household_response, fit_response_prior
from assets.model.settings import SegmentationSettings
from assets.reports.privacy import pseudonymise_ids

RANKING_RULE = "ranking by expected kW reduction"
TEXTBOOK_RULE = "textbook: highest-load load-shape cluster"
PEAK_LOAD_RULE = "rank by winter weekday 16:00-20:00 peak load"
RULES = (RANKING_RULE, PEAK_LOAD_RULE, TEXTBOOK_RULE)
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
# Households never on the dynamic tariff are sized with the sourced figure of the program the toolkit offers
# them, measured on everyone OFFERED it (intention-to-treat), not with the response of recruited volunteers.
PROGRAM_EVIDENCE = "program evidence (intention-to-treat)"
INTERVAL_EVIDENCE = (
    "lowest to highest figure of the trials that measured everyone offered the program (program_evidence.csv); "
    "a range over trials, not a sampling interval"
)
MODEL_BASIS = (
    "predicted evening response of a recruited dynamic-ToU household with this pre-period lifestyle + Acorn "
    "(not an intention-to-treat figure)"
)
# No household of the data had its price response measured (no schedule, no dynamic-tariff household, no
# controls) and the utility configured no outside evidence (settings.external_prior_reduction_pct is None):
# the expected reduction is left empty and the list ranks by peak load. With it set, households are sized by
# their program's evidence like never-treated ones (the setting's comment).
NO_RESPONSE = "no response evidence"
NO_RESPONSE_BASIS = (
    "no household in these data had its price response measured: no expected reduction can be sized; "
    "ranked by peak_load_kw alone"
)


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
    cols = [
        c
        for c in ("high_did_pct_evening", "high_did_pct", "evening_did_pct_se", "high_did_pct_se", "responder")
        if c in prepared.columns
    ]
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
        rm.evening_reduction_se_pct(frame, s.did_pct_multiplier).alias(rm.SE_COLUMN),
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
        pred = rm.fit_predict(measured, others, model.settings, groups, scores.family or "ridge")
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


def evening_estimates(features: pl.DataFrame, settings: SegmentationSettings) -> pl.DataFrame:
    """Per measured household, the shrunk response r_i used for the expected kW: response_basis,
    shrunk_pct, ci_low_pct, ci_high_pct, sd_pct (the normal posterior; nothing clipped)."""
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
    return resp.join(frame.select("household_id", "response_basis"), on="household_id").select(
        "household_id",
        "response_basis",
        pl.col("high_reduction_shrunk_pct").alias("shrunk_pct"),
        (pl.col("high_reduction_shrunk_pct") - z * post_sd).alias("ci_low_pct"),
        (pl.col("high_reduction_shrunk_pct") + z * post_sd).alias("ci_high_pct"),
        post_sd.alias("sd_pct"),
    )


def _with_se_column(settings: SegmentationSettings) -> SegmentationSettings:
    from dataclasses import replace

    return replace(settings, se_column="high_did_pct_se")


def offered_program_evidence(evidence_path=None) -> dict[str, object]:
    """The program the toolkit offers households without a measured price response
    (interventions.choose_unselected_program) and its sourced figures for a whole group OFFERED it
    (interventions.program_ranges: intention-to-treat or all-participants figures, never opted-in-only):
    program, central_pct (None without a sourced central), low_pct, high_pct, basis (trial, population)."""
    from assets.reports.interventions import (
        NO_ACTION,
        choose_unselected_program,
        program_evidence,
        program_ranges,
    )

    ranges = program_ranges(program_evidence(evidence_path) if evidence_path else None)
    choice = choose_unselected_program(ranges)
    ev = ranges[choice.program]
    if choice.program == NO_ACTION or not ev.sized:
        return {
            "program": choice.program,
            "central_pct": None,
            "low_pct": None,
            "high_pct": None,
            "basis": choice.reason,
        }
    central = "no central figure" if ev.central_pct is None else f"{ev.central_pct:g} % = {ev.central_basis}"
    return {
        "program": choice.program,
        "central_pct": ev.central_pct,
        "low_pct": ev.low_pct,
        "high_pct": ev.high_pct,
        "basis": (
            f"{choice.program} offered to all: {central}; range {ev.low_pct:g}-{ev.high_pct:g} % over the trials "
            f"that measured everyone offered it ({ev.trials}; program_evidence.csv)"
        ),
    }


FLAG_EXCLUDES_ZERO = "significant responder (BH over all High events); own 95% interval excludes 0"
FLAG_COVERS_ZERO = (
    "significant responder (BH over all High events, calibrated against the controls); its own 95% interval covers 0"
)
NOT_FLAGGED = "measured, not a significant responder"
NOT_MEASURED = "not measured (never on the dynamic tariff)"


def responder_labels(prepared: pl.DataFrame) -> pl.DataFrame:
    """household_id, responder_label: the one responder definition (the features' BH flag over all High
    events with a reduction, as persona membership and the report's counts use it), with the flags whose own
    event-bootstrap interval covers 0 said so."""
    cols = set(prepared.columns)
    measured = (
        pl.col("is_treated").fill_null(False) & (pl.col("response_method").fill_null("none") != "none")
        if {"is_treated", "response_method"} <= cols
        else pl.lit(False)
    )
    flagged = (
        (pl.col("responder").fill_null(False) & (pl.col("high_did_pct") < 0)) if "responder" in cols else pl.lit(False)
    )
    covers = (
        (pl.col("high_did_pct_ci_low") <= 0) & (pl.col("high_did_pct_ci_high") >= 0)
        if {"high_did_pct_ci_low", "high_did_pct_ci_high"} <= cols
        else pl.lit(False)
    )
    label = (
        pl.when(~measured)
        .then(pl.lit(NOT_MEASURED))
        .when(flagged & covers.fill_null(False))
        .then(pl.lit(FLAG_COVERS_ZERO))
        .when(flagged)
        .then(pl.lit(FLAG_EXCLUDES_ZERO))
        .otherwise(pl.lit(NOT_FLAGGED))
    )
    return prepared.select("household_id", label.alias("responder_label"))


def expected_household_reduction(
    features: pl.DataFrame,
    assignments: pl.DataFrame,
    response: pl.DataFrame,
    model: ClusterModel,
    predicted: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Per household: peak load, source, basis and size of the expected reduction with its interval.

    ``predicted``: the response model's predictions for never-measured households (used where given);
    ``response``: household_response (its all-event shrunk estimate is kept for the persona charts).
    Nothing is clipped: a measured increase stays negative and enters every total as it is."""
    s = model.settings
    prepared = prepare_features(features)
    household = evening_estimates(prepared, s)
    offered = offered_program_evidence()
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
        .join(responder_labels(prepared), on="household_id", how="left")
    )
    if predicted is None:
        predicted = pl.DataFrame(schema=PREDICTED_SCHEMA)
    frame = frame.join(predicted, on="household_id", how="left").with_columns(
        pl.lit(offered["central_pct"], pl.Float64).alias("evidence_pct"),
        pl.lit(offered["low_pct"], pl.Float64).alias("evidence_low_pct"),
        pl.lit(offered["high_pct"], pl.Float64).alias("evidence_high_pct"),
    )
    measured = pl.col("response_measured").fill_null(False)
    by_model = pl.col("predicted_reduction_pct").is_not_null()

    def pick(own: str, model_col: str, evidence_col: str) -> pl.Expr:
        return (
            pl.when(measured).then(pl.col(own)).when(by_model).then(pl.col(model_col)).otherwise(pl.col(evidence_col))
        )

    expected = (
        frame.with_columns(
            pl.when(measured)
            .then(pl.lit("measured"))
            .when(by_model)
            .then(pl.lit("response model"))
            .otherwise(pl.lit(PROGRAM_EVIDENCE))
            .alias("response_source"),
            pl.when(measured)
            .then(pl.col("response_basis"))
            .when(by_model)
            .then(pl.lit(MODEL_BASIS))
            .otherwise(pl.lit(str(offered["basis"])))
            .alias("response_basis"),
            pick("shrunk_pct", "predicted_reduction_pct", "evidence_pct").alias("expected_reduction_pct"),
            pick("ci_low_pct", "predicted_ci_low_pct", "evidence_low_pct").alias("expected_reduction_ci_low_pct"),
            pick("ci_high_pct", "predicted_ci_high_pct", "evidence_high_pct").alias("expected_reduction_ci_high_pct"),
            pl.when(measured)
            .then(pl.lit(INTERVAL_OWN))
            .when(by_model)
            .then(pl.lit(INTERVAL_MODEL))
            .otherwise(pl.lit(INTERVAL_EVIDENCE))
            .alias("interval_basis"),
            pl.when(measured)
            .then(pl.col("sd_pct"))
            .when(by_model)
            .then((pl.col("predicted_ci_high_pct") - pl.col("predicted_ci_low_pct")) / (2.0 * _z()))
            .otherwise(None)
            .alias("reduction_own_sd_pct"),
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
    if (
        frame["response_measured"].fill_null(False).any()
        or predicted.height
        or s.external_prior_reduction_pct is not None
    ):
        return expected  # sized by measured responses, the response model, or accepted outside evidence
    nothing = pl.lit(None, dtype=pl.Float64)
    return expected.with_columns(
        response_source=pl.lit(NO_RESPONSE),
        response_basis=pl.lit(NO_RESPONSE_BASIS),
        interval_basis=pl.lit(NO_RESPONSE_BASIS),
        reduction_own_sd_pct=nothing,
        **{
            c: nothing
            for c in (
                "expected_reduction_pct",
                "expected_reduction_ci_low_pct",
                "expected_reduction_ci_high_pct",
                "expected_kw_reduction",
                "expected_kw_ci_low",
                "expected_kw_ci_high",
            )
        },
    )


def _z() -> float:
    from scipy.stats import norm

    return float(norm.ppf(0.5 + rm.INTERVAL_LEVEL / 2))


def captured_kw_interval(selected: pl.DataFrame) -> tuple[float, float, float]:
    """(low, high, sd) in kW of the summed expected_kw_reduction of ``selected`` (module docstring,
    "Captured kW of a rule"): measured and model households' errors independent (total +- z sd), the
    program-evidence households' trial range added as it is (one range shared by all of them). Nothing is
    clipped: a negative total or bound stays negative."""
    if selected.height == 0:
        return 0.0, 0.0, 0.0
    if "reduction_own_sd_pct" not in selected.columns or "response_source" not in selected.columns:
        lo, hi = float(selected["expected_kw_ci_low"].sum()), float(selected["expected_kw_ci_high"].sum())
        return lo, hi, float("inf")  # no error model given: the sum of the bounds
    evidence = pl.col("response_source") == PROGRAM_EVIDENCE
    own_part = selected.filter(~evidence)
    # a program without a central figure sizes no point value: its households are in neither the total nor
    # its interval, so the two describe the same households
    ev_part = selected.filter(evidence & pl.col("expected_kw_reduction").is_not_null())
    load = own_part["peak_load_kw"].cast(pl.Float64).fill_null(0.0) / 100.0
    own = (load * own_part["reduction_own_sd_pct"].cast(pl.Float64)).fill_null(0.0)
    var = float((own**2).sum())
    sd = float(np.sqrt(var)) if np.isfinite(var) else float("inf")
    total_own = float(own_part["expected_kw_reduction"].sum())
    z = _z()
    lo = total_own - z * sd + float(ev_part["expected_kw_ci_low"].sum())
    hi = total_own + z * sd + float(ev_part["expected_kw_ci_high"].sum())
    return lo, hi, sd


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
    heldout: HeldOutComparison | None = None


def rank_dr_targets(
    expectations: pl.DataFrame, settings: SegmentationSettings, heldout: HeldOutComparison | None = None
) -> DrTargets:
    """The ranked household table and the two-row comparison of the selection rules (with the
    held-out-event comparison's columns, null when ``heldout`` is None)."""
    tb = textbook_cluster_choice(expectations)
    # ties (and, without any response evidence, every household) are ordered by the peak load the event acts on
    ranked = expectations.sort(
        ["expected_kw_reduction", "peak_load_kw", "household_id"], descending=[True, True, False], nulls_last=True
    ).with_columns(
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
        "responder_label",
        "selected_by_ranking",
        "selected_by_textbook",
    )
    comparison = add_heldout(compare_rules(ranked), heldout)
    return DrTargets(targets=targets, comparison=comparison, textbook_cluster=tb, n_selected=n_sel)


def peak_load_selection(ranked: pl.DataFrame, n: int) -> pl.Series:
    """The peak-load rule's selection: the top ``n`` by peak_load_kw (ties: household_id ascending)."""
    top = ranked.sort(["peak_load_kw", "household_id"], descending=[True, False], nulls_last=True).head(n)
    return ranked["household_id"].is_in(top["household_id"].implode())


def compare_rules(ranked: pl.DataFrame) -> pl.DataFrame:
    """Three rows (ranking, peak load, textbook): households, kW captured (with the sum of the households'
    interval bounds: conservative, their errors treated as fully correlated), overlap with the ranking's
    selection (the ranking's row: with the textbook's), Jaccard, responders. The peak-load rule takes as many
    households as the ranking."""
    sized = ranked["expected_kw_reduction"].null_count() < ranked.height  # else: no response evidence at all
    total_kw = float(ranked["expected_kw_reduction"].sum())
    n_rank = int(ranked["selected_by_ranking"].sum())
    ranked = ranked.with_columns(peak_load_selection(ranked, n_rank).alias("selected_by_peak_load"))
    a = ranked["selected_by_ranking"].to_numpy()
    rows = []
    for rule, mask_col in (
        (RANKING_RULE, "selected_by_ranking"),
        (PEAK_LOAD_RULE, "selected_by_peak_load"),
        (TEXTBOOK_RULE, "selected_by_textbook"),
    ):
        sel = ranked.filter(pl.col(mask_col))
        other = ranked["selected_by_textbook"].to_numpy() if rule == RANKING_RULE else ranked[mask_col].to_numpy()
        overlap = int(np.sum(a & other))
        union = int(np.sum(a | other))
        kw = float(sel["expected_kw_reduction"].sum()) if sized else None
        interval = captured_kw_interval(sel) if sized else (None, None, None)
        rows.append(
            {
                "rule": rule,
                "n_households": sel.height,
                "expected_kw_captured": kw,
                "expected_kw_captured_ci_low": interval[0],
                "expected_kw_captured_ci_high": interval[1],
                "program_evidence_households": int((sel["response_source"] == PROGRAM_EVIDENCE).sum())
                if "response_source" in sel.columns
                else 0,
                "mean_expected_kw_per_household": None if kw is None else kw / sel.height if sel.height else 0.0,
                "peak_kw_covered": float(sel["peak_kw"].sum()),
                "share_of_total_expected_kw": None if kw is None else kw / total_kw if total_kw > 0 else 0.0,
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
            "program_evidence_households": pl.Int64,
            "mean_expected_kw_per_household": pl.Float64,
            "peak_kw_covered": pl.Float64,
            "share_of_total_expected_kw": pl.Float64,
            "measured_responders_selected": pl.Int64,
            "overlap_households": pl.Int64,
            "jaccard": pl.Float64,
        },
    )


HIGH_EVENT_STARTS_SQL = "high_event_starts"
CURVE_SCHEMA = {
    "rule": pl.String,
    "n_targeted": pl.Int64,
    "cumulative_kw": pl.Float64,
    "cumulative_kw_ci_low": pl.Float64,
    "cumulative_kw_ci_high": pl.Float64,
    "minus_peak_load_kw": pl.Float64,
    "minus_peak_load_ci_low": pl.Float64,
    "minus_peak_load_ci_high": pl.Float64,
    "measured_on": pl.String,
}


def read_heldout_event_rows(
    con: duckdb.DuckDBPyConnection, table: str = EVENT_ROWS_TABLE, schedule_table: str | None = None
) -> pl.DataFrame:
    """The evening High event rows (read_evening_event_rows) with the features' cross-fitting ``fold``
    of their event (features/crossfit.event_folds: every other High event in order of start)."""
    from assets.features.crossfit import event_folds

    schedule = schedule_table or FeatureSettings().tariff_table
    sql = load_sql(__file__, HIGH_EVENT_STARTS_SQL).format(schedule=qualified_name(schedule))
    starts = con.sql(sql, params={"band": "High"}).pl()
    folds = event_folds(starts).with_columns(pl.col("event_id").cast(pl.Int32))
    rows = read_evening_event_rows(con, table).with_columns(pl.col("event_id").cast(pl.Int32))
    return rows.join(folds, on="event_id", how="inner")


@dataclass
class HeldOutComparison:
    """The three rules scored on held-out events (module docstring, "Out-of-sample comparison").

    captured: rule -> (kW, 95 % low, 95 % high), mean over the two fold swaps; difference: ranking -
    textbook with its paired-bootstrap interval; versus_peak_load: rule -> (rule - peak-load rule, low,
    high) for the ranking and the textbook rule; curve: CURVE_SCHEMA rows of the three rules; reason: why
    there is no comparison (None when there is one)."""

    n_households: int
    n_selected: int
    measured_on: str
    captured: dict[str, tuple[float, float, float]]
    difference: tuple[float, float, float] | None
    curve: pl.DataFrame
    reason: str | None = None
    versus_peak_load: dict[str, tuple[float, float, float]] = field(default_factory=dict)


def _no_heldout(reason: str, n: int = 0) -> HeldOutComparison:
    empty = pl.DataFrame(schema=CURVE_SCHEMA)
    return HeldOutComparison(n, 0, f"no held-out comparison: {reason}", {}, None, empty, reason)


def heldout_event_comparison(
    rows: pl.DataFrame,
    features: pl.DataFrame,
    expectations: pl.DataFrame,
    settings: SegmentationSettings,
    feature_settings: FeatureSettings | None = None,
) -> HeldOutComparison:
    """The three rules (ranking, peak load, textbook) scored on held-out events of the measured ToU households.

    ``rows``: read_heldout_event_rows (evening High event rows with ``fold``); ``features``: the
    household features (with ``response_method``); ``expectations``: expected_household_reduction."""
    from assets.features.crossfit import N_FOLDS
    from assets.features.treatment_features import household_did

    fs = feature_settings or FeatureSettings()
    top = textbook_cluster_choice(expectations)
    primary = features.select(
        "household_id", pl.col("response_method").replace_strict(_METHODS, default=None).alias("method")
    ).drop_nulls()
    own = rows.join(primary, on=["household_id", "method"], how="inner")
    measured = expectations.filter(pl.col("response_measured").fill_null(False)).select(
        "household_id", "segment", "peak_load_kw", "peak_kw", "textbook_cluster"
    )
    both = own.group_by("household_id").agg(pl.col("fold").n_unique().alias("n_folds"))
    ids = measured.join(both.filter(pl.col("n_folds") == N_FOLDS), on="household_id", how="semi").sort("household_id")
    own = own.join(ids, on="household_id", how="semi")
    prepared = prepare_features(features).join(ids, on="household_id", how="semi")
    prepared = prepared.drop([c for c in EVENING_COLUMNS if c in prepared.columns])
    frame = ids
    for f in range(N_FOLDS):
        fit, test = own.filter(pl.col("fold") == f).drop("fold"), own.filter(pl.col("fold") != f).drop("fold")
        feat = prepared.join(evening_response(fit, features, fs), on="household_id", how="left")
        household = evening_estimates(feat, settings)
        # a household without a fold-f evening estimate would fall back to its all-event one (all
        # events, the held-out half included): it is left out of the comparison
        household = household.join(feat.filter(pl.col("evening_did_pct").is_not_null()), on="household_id", how="semi")
        realised = household_did(test, fs, "e").select(
            "household_id", (-settings.did_pct_multiplier * pl.col("e_did_pct")).alias(f"realised_pct_{f}")
        )
        frame = frame.join(
            household.select("household_id", pl.col("shrunk_pct").alias(f"score_pct_{f}")),
            on="household_id",
            how="left",
        ).join(realised, on="household_id", how="left")
    frame = frame.drop_nulls([c for c in frame.columns if c.startswith(("score_pct_", "realised_pct_"))])
    n = frame.height
    is_tb = (frame["textbook_cluster"] == top).to_numpy()
    n_tb = int(is_tb.sum())
    if n < settings.k_anonymity or n_tb == 0:
        why = (
            f"{n} measured ToU households with evening High events in both halves (at least "
            f"{settings.k_anonymity} needed)"
            if n < settings.k_anonymity
            else f"none of the {n} measured ToU households is in the textbook cluster"
        )
        return _no_heldout(why, n)
    load_kw = frame["peak_load_kw"].to_numpy()
    load = load_kw / 100.0
    peak = frame["peak_kw"].to_numpy()
    scores = np.stack([frame[f"score_pct_{f}"].to_numpy() * load for f in range(N_FOLDS)])
    realised = np.stack([frame[f"realised_pct_{f}"].to_numpy() * load for f in range(N_FOLDS)])

    def curves(idx: np.ndarray) -> dict[str, np.ndarray]:
        """Cumulative held-out kW of the households ``idx`` in each rule's order, mean over folds."""
        pos = np.arange(idx.size)
        rank = np.mean(
            [np.cumsum(realised[f, idx][np.lexsort((pos, -scores[f, idx]))]) for f in range(N_FOLDS)], axis=0
        )
        load_order = np.lexsort((pos, -load_kw[idx]))
        by_load = np.mean([np.cumsum(realised[f, idx][load_order]) for f in range(N_FOLDS)], axis=0)
        tb_order = np.lexsort((pos, -peak[idx], ~is_tb[idx]))
        text = np.mean([np.cumsum(realised[f, idx][tb_order]) for f in range(N_FOLDS)], axis=0)
        return {RANKING_RULE: rank, PEAK_LOAD_RULE: by_load, TEXTBOOK_RULE: text}

    full = curves(np.arange(n))
    rng = np.random.default_rng(settings.random_state)
    pairs = {
        "rank-text": (RANKING_RULE, TEXTBOOK_RULE),
        **{f"{r} - peak": (r, PEAK_LOAD_RULE) for r in (RANKING_RULE, TEXTBOOK_RULE)},
    }
    at_k: dict[str, list[float]] = {key: [] for key in (*RULES, *pairs)}
    curve_draws: dict[str, list[np.ndarray]] = {key: [] for key in (*RULES, RANKING_RULE + "-", TEXTBOOK_RULE + "-")}
    for _ in range(settings.response_bootstrap):
        idx = rng.integers(0, n, n)
        k = int(is_tb[idx].sum())
        c = curves(idx)
        for rule in RULES:
            curve_draws[rule].append(c[rule])
        for rule in (RANKING_RULE, TEXTBOOK_RULE):
            curve_draws[rule + "-"].append(c[rule] - c[PEAK_LOAD_RULE])
        if k == 0:
            continue
        for rule in RULES:
            at_k[rule].append(c[rule][k - 1])
        for key, (a, b) in pairs.items():
            at_k[key].append(c[a][k - 1] - c[b][k - 1])
    q = (100 * (1 - rm.INTERVAL_LEVEL) / 2, 100 * (1 + rm.INTERVAL_LEVEL) / 2)

    def interval(point: float, draws: list[float]) -> tuple[float, float, float]:
        lo, hi = np.percentile(draws, q) if draws else (np.nan, np.nan)
        return float(point), float(lo), float(hi)

    measured_on = (
        f"{n} measured ToU households, held-out events: ranked on one half of the evening High events, "
        "kW realised on the other half (halves swapped, averaged); 95% paired bootstrap over households"
    )
    captured = {rule: interval(full[rule][n_tb - 1], at_k[rule]) for rule in RULES}
    difference = interval(full[RANKING_RULE][n_tb - 1] - full[TEXTBOOK_RULE][n_tb - 1], at_k["rank-text"])
    versus = {
        rule: interval(full[rule][n_tb - 1] - full[PEAK_LOAD_RULE][n_tb - 1], at_k[f"{rule} - peak"])
        for rule in (RANKING_RULE, TEXTBOOK_RULE)
    }
    band = {key: np.percentile(np.stack(d), q, axis=0) for key, d in curve_draws.items()}
    nothing = [None] * n
    parts = []
    for rule in RULES:
        vs = rule != PEAK_LOAD_RULE
        parts.append(
            pl.DataFrame(
                {
                    "rule": [rule] * n,
                    "n_targeted": np.arange(1, n + 1, dtype=np.int64),
                    "cumulative_kw": full[rule],
                    "cumulative_kw_ci_low": band[rule][0],
                    "cumulative_kw_ci_high": band[rule][1],
                    "minus_peak_load_kw": full[rule] - full[PEAK_LOAD_RULE] if vs else nothing,
                    "minus_peak_load_ci_low": band[rule + "-"][0] if vs else nothing,
                    "minus_peak_load_ci_high": band[rule + "-"][1] if vs else nothing,
                    "measured_on": [measured_on] * n,
                },
                schema=CURVE_SCHEMA,
            )
        )
    return HeldOutComparison(n, n_tb, measured_on, captured, difference, pl.concat(parts), None, versus)


HELDOUT_COLUMNS = {
    "heldout_n_households": pl.Int64,
    "heldout_kw_captured": pl.Float64,
    "heldout_kw_ci_low": pl.Float64,
    "heldout_kw_ci_high": pl.Float64,
    "heldout_kw_minus_textbook": pl.Float64,
    "heldout_kw_minus_textbook_ci_low": pl.Float64,
    "heldout_kw_minus_textbook_ci_high": pl.Float64,
    "heldout_kw_minus_peak_load": pl.Float64,
    "heldout_kw_minus_peak_load_ci_low": pl.Float64,
    "heldout_kw_minus_peak_load_ci_high": pl.Float64,
    "heldout_measured_on": pl.String,
}


def add_heldout(comparison: pl.DataFrame, heldout: HeldOutComparison | None) -> pl.DataFrame:
    """``comparison`` (compare_rules) with the held-out columns (HELDOUT_COLUMNS; null without a comparison)."""
    rows = []
    for rule in comparison["rule"].to_list():
        value = heldout.captured.get(rule) if heldout is not None else None
        diff = heldout.difference if heldout is not None and rule == RANKING_RULE else None
        vs = heldout.versus_peak_load.get(rule) if heldout is not None else None
        rows.append(
            {
                "heldout_n_households": heldout.n_selected if value is not None else None,
                "heldout_kw_captured": value[0] if value else None,
                "heldout_kw_ci_low": value[1] if value else None,
                "heldout_kw_ci_high": value[2] if value else None,
                "heldout_kw_minus_textbook": diff[0] if diff else None,
                "heldout_kw_minus_textbook_ci_low": diff[1] if diff else None,
                "heldout_kw_minus_textbook_ci_high": diff[2] if diff else None,
                "heldout_kw_minus_peak_load": vs[0] if vs else None,
                "heldout_kw_minus_peak_load_ci_low": vs[1] if vs else None,
                "heldout_kw_minus_peak_load_ci_high": vs[2] if vs else None,
                "heldout_measured_on": heldout.measured_on if heldout is not None else "no held-out comparison run",
            }
        )
    return pl.concat([comparison, pl.DataFrame(rows, schema=HELDOUT_COLUMNS)], how="horizontal")
