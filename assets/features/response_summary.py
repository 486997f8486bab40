"""Population summary of the tariff response: effects with event-block bootstrap CIs (by band, event
start bucket, rebound, preload), the responder-share curve over thresholds, and the checks that can
fail (features.response_checks): the pseudo-treatment placebo (features.placebo_draws), the
baseline-year placebo and the paired adjacent-day sensitivity.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import duckdb
import numpy as np
import polars as pl

from assets.common.column_spec import conform
from assets.common.table_model import validate
from assets.features.bootstrap import PopulationEffect, paired_difference, population_effect
from assets.features.event_response import compute_event_responses
from assets.features.local_time import local_grid
from assets.features.placebo import compute_placebo_event_responses, placebo_effects
from assets.features.pseudo_placebo import PseudoPlacebo, pseudo_treatment_placebo, summarise_draws
from assets.features.schedule import build_event_schedule, load_schedule
from assets.features.schemas.response_checks import (
    PLACEBO_DRAW_COLS,
    RESPONSE_CHECK_COLS,
    PlaceboDraws,
    ResponseChecks,
)
from assets.features.schemas.tariff_response_summary import (
    CURVE_COLS,
    SUMMARY_COLS,
    ResponderShareCurve,
    TariffResponseSummaryTable,
)
from assets.features.settings import FeatureSettings
from assets.features.significance import benjamini_hochberg
from assets.features.treatment_features import LABEL_METHOD, TreatmentResult, read_households


@dataclass(frozen=True)
class TariffResponseSummary:
    """effects: TariffResponseSummaryTable rows; responder_curve: ResponderShareCurve rows;
    placebo_event_responses: the placebo event-level rows (treatment_event_responses schema);
    placebo_draws: PlaceboDraws rows; checks: ResponseChecks rows."""

    effects: pl.DataFrame
    responder_curve: pl.DataFrame
    placebo_event_responses: pl.DataFrame
    placebo_draws: pl.DataFrame
    checks: pl.DataFrame

    @property
    def placebo(self) -> pl.DataFrame:
        return self.effects.filter(pl.col("analysis") == "placebo")


def primary_rows(treatment: TreatmentResult, settings: FeatureSettings, group: str | None = None) -> pl.DataFrame:
    """Event rows of the households of ``group`` (default: the treated) under their primary method."""
    primary = treatment.features.filter(
        (pl.col("tariff_group") == (group or settings.treated_group)) & (pl.col("response_method") != "none")
    ).select("household_id", method=pl.col("response_method").replace_strict(LABEL_METHOD, return_dtype=pl.String))
    return treatment.event_responses.join(primary, on=["household_id", "method"], how="inner")


def _row(
    analysis: str,
    band: str,
    kind: str,
    bucket: str,
    method: str,
    eff: PopulationEffect,
    s: FeatureSettings,
    season: str = "all",
    flagged: tuple[int, int] | None = None,
):
    n_flagged, n_scored = flagged if flagged is not None else (None, 0)
    return {
        "analysis": analysis,
        "band": band,
        "window_kind": kind,
        "start_bucket": bucket,
        "season": season,
        "method": method,
        **eff.as_row(),
        "n_flagged": n_flagged,
        "share_flagged": n_flagged / n_scored if n_flagged is not None and n_scored else None,
        "bootstrap_replicates": s.bootstrap_replicates,
        "ci_level": s.ci_level,
    }


def with_season(rows: pl.DataFrame, events: pl.DataFrame, settings: FeatureSettings) -> pl.DataFrame:
    """``rows`` plus ``season``: the meteorological season (settings.seasons) of the event's local start."""
    month = pl.col("event_start_local").dt.month()
    expr: pl.Expr = pl.lit(None, dtype=pl.String)
    for name, months in settings.seasons:
        expr = pl.when(month.is_in(list(months))).then(pl.lit(name)).otherwise(expr)
    season = events.select("event_id", season=expr)
    return rows.join(season, on="event_id", how="left")


def treatment_effect_rows(
    rows: pl.DataFrame, settings: FeatureSettings, events: pl.DataFrame | None = None
) -> list[dict]:
    """Population effects of the treated: by band, event start bucket, season, rebound and preload.

    Seeds are per row position (the original rows keep their seeds when rows are appended)."""
    specs = [("High", "event", "all", "all"), *[("High", "event", b[0], "all") for b in settings.start_buckets]]
    specs += [("Low", "event", "all", "all"), ("High", "rebound", "all", "all"), ("High", "preload", "all", "all")]
    specs += [("Low", "event", b[0], "all") for b in settings.start_buckets]
    if events is not None:
        rows = with_season(rows, events, settings)
        specs += [(band, "event", "all", name) for band in ("High", "Low") for name, _ in settings.seasons]
    out = []
    for i, (band, kind, bucket, season) in enumerate(specs):
        sel = rows.filter((pl.col("band") == band) & (pl.col("kind") == kind))
        if bucket != "all":
            sel = sel.filter(pl.col("start_bucket") == bucket)
        if season != "all":
            sel = sel.filter(pl.col("season") == season)
        eff = population_effect(sel, settings, np.random.default_rng([settings.seed, i]))
        out.append(_row("treatment", band, kind, bucket, "primary", eff, settings, season=season))
    return out


def crossfit_rows(treatment: TreatmentResult, settings: FeatureSettings) -> list[dict]:
    """Flagged responders' High effect on the events that did NOT flag them (cross-fitted, both folds
    pooled) and, for comparison, on the events that did (in-sample: inflated by the selection)."""
    treated = treatment.features.filter(pl.col("tariff_group") == settings.treated_group)
    n_scored = int(treated["high_t_stat"].is_not_null().sum())
    out = []
    for i, (analysis, rows) in enumerate(
        (
            ("responders_heldout", treatment.crossfit.heldout_rows),
            ("responders_in_sample", treatment.crossfit.in_sample_rows),
        )
    ):
        eff = population_effect(rows, settings, np.random.default_rng([settings.seed, 4000 + i]))
        n_flagged = int(rows.select(pl.struct("household_id", "selected_on").n_unique()).item()) if rows.height else 0
        out.append(_row(analysis, "High", "event", "all", "primary", eff, settings, flagged=(n_flagged, 2 * n_scored)))
    return out


def sensitivity_rows(
    con: duckdb.DuckDBPyConnection, treatment: TreatmentResult, settings: FeatureSettings
) -> tuple[list[dict], dict[str, PopulationEffect]]:
    """Spillover check: the within-window DiD with reference days at least sensitivity_adjacent_days
    away from any event day, beside the same estimator with the main reference days; and per band the
    paired difference (main minus sensitivity) with one bootstrap over the same event blocks and
    households applied to both (bootstrap.paired_difference)."""
    households = read_households(con, settings)
    sens = replace(settings, reference_exclude_adjacent_days=settings.sensitivity_adjacent_days)
    window = (settings.treatment_start, settings.treatment_end)
    schedule = build_event_schedule(load_schedule(con, sens), local_grid(*window, sens), sens)
    treated = households.filter(pl.col("tariff_group") == settings.treated_group).select("household_id")
    variants = {
        "treatment": treatment.event_responses.filter(pl.col("method") == "within"),
        "sensitivity_adjacent_days": compute_event_responses(
            con, sens, schedule, window, households, treatment.matched_controls, methods=("within",)
        ),
    }
    out = []
    kept = {}
    for j, (analysis, rows) in enumerate(variants.items()):
        rows = rows.join(treated, on="household_id", how="semi").filter(pl.col("kind") == "event")
        kept[analysis] = rows
        for i, band in enumerate(("High", "Low")):
            rng = np.random.default_rng([settings.seed, 5000 + 10 * j + i])
            out.append(
                _row(
                    analysis,
                    band,
                    "event",
                    "all",
                    "within",
                    population_effect(rows.filter(pl.col("band") == band), settings, rng),
                    settings,
                )
            )
    paired = {
        band: paired_difference(
            kept["treatment"].filter(pl.col("band") == band),
            kept["sensitivity_adjacent_days"].filter(pl.col("band") == band),
            settings,
            np.random.default_rng([settings.seed, 5100 + i]),
        )
        for i, band in enumerate(("High", "Low"))
    }
    return out, paired


def _check(check: str, band: str, **values) -> dict:
    row = {c.name: None for c in RESPONSE_CHECK_COLS}
    return row | {"check": check, "band": band} | values


def pseudo_placebo_check_rows(
    pp: PseudoPlacebo, treated: dict[str, float | None], settings: FeatureSettings
) -> list[dict]:
    """One row per band: the null range of the pooled effect, the treated estimate placed in it, the
    share of draws with any flag, the CI's real coverage and the verdict (pseudo_placebo.summarise_draws)."""
    out = []
    for band in ("High", "Low"):
        s = summarise_draws(pp.draws, band, treated.get(band), settings, pp.note)
        rows = pp.draws.filter(pl.col("band") == band)
        out.append(
            _check(
                "pseudo_treatment_placebo",
                band,
                n_households=pp.n_treated,
                n_controls=pp.n_controls,
                n_events=int(rows["n_events"].max() or 0) if rows.height else 0,
                n_draws=s.n_draws,
                estimate_pct=s.estimate_pct,
                low_pct=s.null_low_pct,
                high_pct=s.null_high_pct,
                estimate_percentile=s.estimate_percentile,
                permutation_p_value=s.permutation_p_value,
                share_draws_any_flagged=s.share_any_flagged,
                mean_flagged=s.mean_flagged,
                ci_coverage=s.ci_coverage,
                coverage_mc_se=s.coverage_mc_se,
                verdict=s.verdict,
                reason=s.reason,
            )
        )
    return out


def baseline_placebo_check_rows(effects: dict[str, PopulationEffect], settings: FeatureSettings) -> list[dict]:
    """The baseline-year (fake schedule) placebo as a check with its n: 'fails' when its CI excludes 0."""
    out = []
    for band, eff in effects.items():
        if eff.ci_low_pct is None or eff.ci_high_pct is None:
            verdict, reason = "not run", eff.note or "no CI (too few households or events)"
        elif eff.ci_low_pct <= 0 <= eff.ci_high_pct:
            verdict = "passes"
            reason = f"the CI covers 0 over {eff.n_households} treated household(s) with baseline-year readings" + (
                " (little power with so few)" if eff.n_households < 10 else ""
            )
        else:
            verdict, reason = "fails", f"the CI excludes 0 over {eff.n_households} treated household(s)"
        out.append(
            _check(
                "baseline_year_placebo",
                band,
                n_households=eff.n_households,
                n_events=eff.n_events,
                n_draws=settings.bootstrap_replicates,
                estimate_pct=eff.effect_pct,
                low_pct=eff.ci_low_pct,
                high_pct=eff.ci_high_pct,
                verdict=verdict,
                reason=reason,
            )
        )
    return out


def sensitivity_check_rows(paired: dict[str, PopulationEffect], settings: FeatureSettings) -> list[dict]:
    """The paired adjacent-day sensitivity: 'differs' when the difference's interval excludes 0."""
    out = []
    level = f"{100 * settings.ci_level:.0f}%"
    for band, eff in paired.items():
        if eff.ci_low_pct is None or eff.ci_high_pct is None:
            verdict, reason = "not run", eff.note or "no paired interval"
        elif eff.ci_low_pct <= 0 <= eff.ci_high_pct:
            verdict = "no difference detected"
            reason = (
                f"main minus sensitivity {100 * eff.effect_pct:+.1f} points, {level} paired interval "
                f"{100 * eff.ci_low_pct:+.1f} to {100 * eff.ci_high_pct:+.1f} covers 0"
            )
        else:
            verdict = "differs"
            reason = (
                f"main minus sensitivity {100 * eff.effect_pct:+.1f} points, {level} paired interval "
                f"{100 * eff.ci_low_pct:+.1f} to {100 * eff.ci_high_pct:+.1f} excludes 0: reference days next to "
                "events are not like the others (spillover)"
            )
        out.append(
            _check(
                "sensitivity_adjacent_days",
                band,
                n_households=eff.n_households,
                n_events=eff.n_events,
                n_draws=settings.bootstrap_replicates,
                estimate_pct=eff.effect_pct,
                low_pct=eff.ci_low_pct,
                high_pct=eff.ci_high_pct,
                verdict=verdict,
                reason=reason,
            )
        )
    return out


def responder_curve(
    features: pl.DataFrame, settings: FeatureSettings, pseudo_share: dict[float, float] | None = None
) -> pl.DataFrame:
    """Share of treated vs control households meeting each threshold (see ResponderShareCurve).

    For 'bh_fdr' the control share is the mean share of pseudo-treated controls BH flags at that level
    over the pseudo-treatment draws (``pseudo_share``; None without draws): BH over the controls' own
    leave-one-out p-values flags none by construction (they are exactly 1/n, 2/n, ..., 1)."""
    pseudo_share = pseudo_share or {}
    treated = features.filter(pl.col("tariff_group") == settings.treated_group)
    control = features.filter(pl.col("tariff_group") == settings.control_group)
    t_pct = treated["high_did_pct"].drop_nulls().to_numpy()
    c_pct = control["high_did_pct"].drop_nulls().to_numpy()
    t_p = treated["high_p_value"].drop_nulls().to_numpy()
    c_p = control["high_p_value"].drop_nulls().to_numpy()

    def share(x: np.ndarray) -> float | None:
        return float(x.mean()) if x.size else None

    rows = []
    for thr in settings.responder_thresholds:
        rows.append(("high_did_pct_below", thr, t_pct.size, share(t_pct < -thr), c_pct.size, share(c_pct < -thr)))
    for q in settings.fdr_curve_levels:
        rows.append(
            (
                "bh_fdr",
                q,
                t_p.size,
                share(benjamini_hochberg(t_p, q)),
                c_p.size,
                pseudo_share.get(q),
            )
        )
    frame = pl.DataFrame(
        rows,
        schema=["criterion", "threshold", "n_treated", "share_treated", "n_control", "share_control"],
        orient="row",
    ).with_columns(excess_share=pl.col("share_treated") - pl.col("share_control"))
    return conform(frame, CURVE_COLS)


def compute_tariff_response_summary(
    con: duckdb.DuckDBPyConnection, treatment: TreatmentResult, settings: FeatureSettings
) -> TariffResponseSummary:
    """Summary tables from the treatment result; the placebo DiD is computed here (needs ``con``)."""
    rows = treatment_effect_rows(primary_rows(treatment, settings), settings, treatment.schedule.events)
    treated = treatment.features.filter(pl.col("tariff_group") == settings.treated_group)
    rows[0]["n_flagged"] = int(treated["responder"].sum())  # full-data responders (selection)
    rows[0]["share_flagged"] = rows[0]["n_flagged"] / max(1, int(treated["high_p_value"].is_not_null().sum()))
    estimates = {
        r["band"]: r["effect_pct"]
        for r in rows
        if r["window_kind"] == "event" and r["start_bucket"] == "all" and r["season"] == "all"
    }
    households = read_households(con, settings)
    placebo_rows = compute_placebo_event_responses(con, settings, households, treatment.matched_controls)
    baseline_placebo = placebo_effects(placebo_rows, households, settings)
    for band, eff in baseline_placebo.items():
        rows.append(_row("placebo", band, "event", "all", "within", eff, settings))
    rows += crossfit_rows(treatment, settings)
    sens_rows, paired = sensitivity_rows(con, treatment, settings)
    rows += sens_rows
    effects = conform(pl.DataFrame(rows, infer_schema_length=None), SUMMARY_COLS)
    pseudo = pseudo_treatment_placebo(
        treatment.event_responses, treatment.features, treatment.matched_controls, settings
    )
    checks = [
        *pseudo_placebo_check_rows(pseudo, estimates, settings),
        *baseline_placebo_check_rows(baseline_placebo, settings),
        *sensitivity_check_rows(paired, settings),
    ]
    check_frame = pl.DataFrame(checks, schema={c.name: c.dtype for c in RESPONSE_CHECK_COLS}, orient="row")
    return TariffResponseSummary(
        effects=validate(TariffResponseSummaryTable, effects, "features.tariff_response_summary"),
        responder_curve=validate(
            ResponderShareCurve,
            responder_curve(treatment.features, settings, pseudo.curve_share),
            "features.responder_share_curve",
        ),
        placebo_event_responses=placebo_rows,
        placebo_draws=validate(PlaceboDraws, conform(pseudo.draws, PLACEBO_DRAW_COLS), "features.placebo_draws"),
        checks=validate(ResponseChecks, conform(check_frame, RESPONSE_CHECK_COLS), "features.response_checks"),
    )
