"""Population summary of the tariff response: effects with event-block bootstrap CIs (by band, event
start bucket, rebound, preload), the responder-share curve over thresholds, and the placebo result.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import polars as pl

from assets.common.column_spec import conform
from assets.common.table_model import validate
from assets.features.bootstrap import PopulationEffect, population_effect
from assets.features.placebo import compute_placebo_event_responses, placebo_effects
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


def primary_rows(treatment: TreatmentResult, settings: FeatureSettings) -> pl.DataFrame:
    """Event rows of treated households under their primary method."""
    primary = treatment.features.filter(
        (pl.col("tariff_group") == settings.treated_group) & (pl.col("response_method") != "none")
    ).select("household_id", method=pl.col("response_method").replace_strict(LABEL_METHOD, return_dtype=pl.String))
    return treatment.event_responses.join(primary, on=["household_id", "method"], how="inner")


def _row(analysis: str, band: str, kind: str, bucket: str, method: str, eff: PopulationEffect, s: FeatureSettings):
    return {
        "analysis": analysis,
        "band": band,
        "window_kind": kind,
        "start_bucket": bucket,
        "method": method,
        **eff.as_row(),
        "bootstrap_replicates": s.bootstrap_replicates,
        "ci_level": s.ci_level,
    }


def treatment_effect_rows(rows: pl.DataFrame, settings: FeatureSettings) -> list[dict]:
    specs = [("High", "event", "all"), *[("High", "event", b[0]) for b in settings.start_buckets]]
    specs += [("Low", "event", "all"), ("High", "rebound", "all"), ("High", "preload", "all")]
    out = []
    for i, (band, kind, bucket) in enumerate(specs):
        sel = rows.filter((pl.col("band") == band) & (pl.col("kind") == kind))
        if bucket != "all":
            sel = sel.filter(pl.col("start_bucket") == bucket)
        eff = population_effect(sel, settings, np.random.default_rng([settings.seed, i]))
        out.append(_row("treatment", band, kind, bucket, "primary", eff, settings))
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
    rows = treatment_effect_rows(primary_rows(treatment, settings), settings)
    households = read_households(con, settings)
    placebo_rows = compute_placebo_event_responses(con, settings, households, treatment.matched_controls)
    for band, eff in placebo_effects(placebo_rows, households, settings).items():
        rows.append(_row("placebo", band, "event", "all", "within", eff, settings))
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
