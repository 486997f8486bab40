"""The DR list's expected kW per household: load x evening-event response, with its 95 % interval and
what each was measured on (the ranking: ``dr_targets``; the held-out check: ``heldout_comparison``).

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
"""

from __future__ import annotations

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
DID_METHODS = {"baseline_year_did": "baseline", "within_window_did": "within"}
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
        "household_id", pl.col("response_method").replace_strict(DID_METHODS, default=None).alias("method")
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
