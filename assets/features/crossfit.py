"""Cross-fitting: flag responders on one half of the High events, report their effect on the other.

Selecting households on noisy event-level data and reporting their effect on the same events
inflates the reported effect (winner's curse: a household is more likely flagged when its noise
happened to point the right way). The High events of the window are split in two folds by start
order (odd/even: every other event, so both folds span the whole year, all seasons and start
times). For fold f:

- score every household on the events of fold f (studentised DiD, empirical p-value against the
  controls, Benjamini-Hochberg at ``fdr_alpha`` over the treated; assets/features/significance.py);
- estimate the flagged households' response on the events of the OTHER fold.

Then the folds swap. A household's held-out response (``high_did_pct_heldout``) is the mean of its
other-fold estimates over the folds that flagged it; the population rows of the summary pool the
held-out event rows of the flagged households (and, for comparison, the in-sample rows that flagged
them).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from assets.features.settings import FeatureSettings
from assets.features.significance import benjamini_hochberg, empirical_p_values, studentised_score

N_FOLDS = 2
CROSSFIT_SCHEMA = {"household_id": pl.String, "crossfit_folds_flagged": pl.Int8, "high_did_pct_heldout": pl.Float64}


@dataclass(frozen=True)
class CrossFit:
    """households: CROSSFIT_SCHEMA per scored household; heldout_rows / in_sample_rows: the event rows
    of flagged households on the other fold / on the fold that flagged them (with a ``fold`` column)."""

    households: pl.DataFrame
    heldout_rows: pl.DataFrame
    in_sample_rows: pl.DataFrame


def event_folds(events: pl.DataFrame) -> pl.DataFrame:
    """(event_id, fold) of the High events: alternately 0 and 1 in order of the event start."""
    high = events.filter(pl.col("band") == "High").sort("event_start_utc", "event_id")
    return high.select("event_id", fold=(pl.int_range(pl.len()) % N_FOLDS).cast(pl.Int8))


def _pooled_pct(rows: pl.DataFrame, settings: FeatureSettings) -> pl.DataFrame:
    n = pl.col("n_half_hours").cast(pl.Float64)
    agg = rows.group_by("household_id").agg(
        num=(n * pl.col("did_kwh")).sum(), den=(n * pl.col("ref_kwh")).sum(), n=n.sum()
    )
    return agg.select(
        "household_id",
        pct=pl.when(pl.col("den") / pl.col("n") >= settings.min_reference_kwh).then(pl.col("num") / pl.col("den")),
    )


def flag_on(rows: pl.DataFrame, tariff: pl.DataFrame, settings: FeatureSettings) -> pl.DataFrame:
    """(household_id, tariff_group, p_value, flagged) scored on ``rows`` (High event rows)."""
    scores = tariff.join(studentised_score(rows), on="household_id", how="left")
    t = scores["t_stat"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    is_control = (scores["tariff_group"] == settings.control_group).to_numpy()
    treated = (scores["tariff_group"] == settings.treated_group).to_numpy()
    p = empirical_p_values(t, is_control)
    flags = np.zeros(len(p), dtype=bool)
    flags[treated] = benjamini_hochberg(p[treated], settings.fdr_alpha)
    return scores.select("household_id", "tariff_group").with_columns(
        p_value=pl.Series(p, dtype=pl.Float64).fill_nan(None), flagged=pl.Series(flags, dtype=pl.Boolean)
    )


def cross_fit(
    high_rows: pl.DataFrame, events: pl.DataFrame, tariff: pl.DataFrame, settings: FeatureSettings
) -> CrossFit:
    """``high_rows``: High event rows (one method per household, treated and controls, did not null);
    ``events``: the schedule's events; ``tariff``: (household_id, tariff_group) of the scored households."""
    rows = high_rows.filter(pl.col("did_kwh").is_not_null()).join(event_folds(events), on="event_id", how="inner")
    tariff = tariff.join(rows.select("household_id").unique(), on="household_id", how="semi")
    heldout, in_sample, per_fold = [], [], []
    for f in range(N_FOLDS):
        flags = flag_on(rows.filter(pl.col("fold") == f), tariff, settings).filter(pl.col("flagged"))
        chosen = flags.select("household_id")
        other = rows.filter(pl.col("fold") != f).join(chosen, on="household_id", how="semi")
        heldout.append(other.with_columns(selected_on=pl.lit(f, dtype=pl.Int8)))
        in_sample.append(
            rows.filter(pl.col("fold") == f)
            .join(chosen, on="household_id", how="semi")
            .with_columns(selected_on=pl.lit(f, dtype=pl.Int8))
        )
        per_fold.append(chosen.join(_pooled_pct(other, settings), on="household_id", how="left"))
    flagged = pl.concat(per_fold)
    households = (
        tariff.select("household_id")
        .join(
            flagged.group_by("household_id").agg(
                crossfit_folds_flagged=pl.len().cast(pl.Int8), high_did_pct_heldout=pl.col("pct").mean()
            ),
            on="household_id",
            how="left",
        )
        .with_columns(pl.col("crossfit_folds_flagged").fill_null(0))
        .cast(CROSSFIT_SCHEMA)  # type: ignore[arg-type]
    )
    return CrossFit(households=households, heldout_rows=pl.concat(heldout), in_sample_rows=pl.concat(in_sample))
