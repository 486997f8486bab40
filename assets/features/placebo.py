"""Placebo test: the trial schedule shifted ``placebo_shift_days`` (364 = 52 weeks) back onto the
baseline year, where nobody faced a price signal. The same event-level DiD (within-window reference,
same matched controls) is computed there, and the population effect over treated households must
have a CI covering 0; otherwise the estimator, the clock alignment or the group balance is biased.

The shift is done on the schedule's LOCAL labels (then re-localised), so events keep their local
clock time and weekday; the last trial day lands outside the baseline window and is dropped.
"""

from __future__ import annotations

import duckdb
import numpy as np
import polars as pl

from assets.features.bootstrap import PopulationEffect, population_effect
from assets.features.event_response import compute_event_responses
from assets.features.local_time import local_grid
from assets.features.schedule import build_event_schedule, load_schedule, shift_schedule
from assets.features.settings import FeatureSettings


def compute_placebo_event_responses(
    con: duckdb.DuckDBPyConnection,
    settings: FeatureSettings,
    households: pl.DataFrame,
    pairs: pl.DataFrame,
    schedule: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Event-level rows (schema of treatment_event_responses, method 'within') of the placebo events."""
    raw = load_schedule(con, settings) if schedule is None else schedule
    shifted = shift_schedule(raw, settings.placebo_shift_days, settings)
    window = (settings.baseline_start, settings.baseline_end)
    events = build_event_schedule(shifted, local_grid(*window, settings), settings)
    return compute_event_responses(
        con, settings, events, window, households, pairs, methods=("within",), source="placebo"
    )


def placebo_effects(
    rows: pl.DataFrame, households: pl.DataFrame, settings: FeatureSettings, seed_offset: int = 1000
) -> dict[str, PopulationEffect]:
    """Population placebo effect of treated households per band ('High', 'Low')."""
    treated = households.filter(pl.col("tariff_group") == settings.treated_group).select("household_id")
    rows = rows.join(treated, on="household_id", how="semi").filter(pl.col("kind") == "event")
    out = {}
    for i, band in enumerate(("High", "Low")):
        rng = np.random.default_rng([settings.seed, seed_offset + i])
        effect = population_effect(rows.filter(pl.col("band") == band), settings, rng)
        if effect.n_households == 0:
            effect = PopulationEffect(
                0, 0, 0, None, None, None, None, None, None, None,
                "no treated household has baseline-window readings at placebo events",
            )  # fmt: skip
        out[band] = effect
    return out


def compute_placebo_effect(
    con: duckdb.DuckDBPyConnection,
    settings: FeatureSettings,
    households: pl.DataFrame,
    pairs: pl.DataFrame,
    band: str = "High",
) -> PopulationEffect:
    """The placebo population effect (with block-bootstrap CI) of one band."""
    rows = compute_placebo_event_responses(con, settings, households, pairs)
    return placebo_effects(rows, households, settings)[band]
