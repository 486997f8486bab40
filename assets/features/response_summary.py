"""Population summary of the tariff response: effects with event-block bootstrap CIs (by band, event
start bucket, rebound, preload), the responder-share curve over thresholds, and the placebo result.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import duckdb
import numpy as np
import polars as pl

from assets.common.column_spec import conform
from assets.common.table_model import validate
from assets.features.bootstrap import PopulationEffect, population_effect
from assets.features.event_response import compute_event_responses
from assets.features.local_time import local_grid
from assets.features.placebo import compute_placebo_event_responses, placebo_effects
from assets.features.schedule import build_event_schedule, load_schedule
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
    placebo_event_responses: the placebo event-level rows (treatment_event_responses schema)."""

    effects: pl.DataFrame
    responder_curve: pl.DataFrame
    placebo_event_responses: pl.DataFrame

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


def control_placebo_rows(treatment: TreatmentResult, settings: FeatureSettings) -> list[dict]:
    """Population placebo: the controls scored exactly as the treated, in the trial year, as if treated.

    Their population High/Low effect must have a CI covering 0; ``share_flagged`` is the share of
    controls Benjamini-Hochberg flags at fdr_alpha over the controls' own (leave-one-out) p-values,
    which should sit near 0 (at most about fdr_alpha)."""
    rows = primary_rows(treatment, settings, settings.control_group).filter(pl.col("kind") == "event")
    controls = treatment.features.filter(pl.col("tariff_group") == settings.control_group)
    p = controls["high_p_value"].drop_nulls().to_numpy()
    flagged = (int(benjamini_hochberg(p, settings.fdr_alpha).sum()), int(p.size))
    out = []
    for i, band in enumerate(("High", "Low")):
        eff = population_effect(
            rows.filter(pl.col("band") == band), settings, np.random.default_rng([settings.seed, 3000 + i])
        )
        out.append(
            _row(
                "placebo_controls",
                band,
                "event",
                "all",
                "primary",
                eff,
                settings,
                flagged=flagged if band == "High" else None,
            )
        )
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
) -> list[dict]:
    """Spillover check: the within-window DiD with reference days at least sensitivity_adjacent_days
    away from any event day, beside the same estimator with the main reference days."""
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
    for j, (analysis, rows) in enumerate(variants.items()):
        rows = rows.join(treated, on="household_id", how="semi").filter(pl.col("kind") == "event")
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
    return out


def responder_curve(features: pl.DataFrame, settings: FeatureSettings) -> pl.DataFrame:
    """Share of treated vs control households meeting each threshold (see ResponderShareCurve)."""
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
                share(benjamini_hochberg(c_p, q)),
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
    households = read_households(con, settings)
    placebo_rows = compute_placebo_event_responses(con, settings, households, treatment.matched_controls)
    for band, eff in placebo_effects(placebo_rows, households, settings).items():
        rows.append(_row("placebo", band, "event", "all", "within", eff, settings))
    rows += control_placebo_rows(treatment, settings)
    rows += crossfit_rows(treatment, settings)
    rows += sensitivity_rows(con, treatment, settings)
    effects = conform(pl.DataFrame(rows, infer_schema_length=None), SUMMARY_COLS)
    return TariffResponseSummary(
        effects=validate(TariffResponseSummaryTable, effects, "features.tariff_response_summary"),
        responder_curve=validate(
            ResponderShareCurve,
            responder_curve(treatment.features, settings),
            "features.responder_share_curve",
        ),
        placebo_event_responses=placebo_rows,
    )
