"""The DR list's rules compared out of sample, on held-out events of the measured households.

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
from assets.model.inputs import prepare_features
from assets.model.settings import SegmentationSettings
from assets.reports.expected_kw import (
    DID_METHODS,
    EVENING_COLUMNS,
    EVENT_ROWS_TABLE,
    PEAK_LOAD_RULE,
    RANKING_RULE,
    RULES,
    TEXTBOOK_RULE,
    evening_estimates,
    evening_response,
    read_evening_event_rows,
    textbook_cluster_choice,
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
        "household_id", pl.col("response_method").replace_strict(DID_METHODS, default=None).alias("method")
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
