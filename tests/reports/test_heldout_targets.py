"""DR targets issue 11: the rules compared on held-out events (planted fold responses) and the
captured-kW interval checked against a brute-force simulation."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

from assets.reports.expected_kw import (
    PEAK_LOAD_RULE,
    PROGRAM_EVIDENCE,
    RANKING_RULE,
    RULES,
    TEXTBOOK_RULE,
    captured_kw_interval,
    textbook_cluster_choice,
)
from assets.reports.heldout_comparison import heldout_event_comparison

N_EVENTS_PER_FOLD = 6
NOISE = 0.002  # +-0.2 % per event, cancelling within a fold: each fold's mean is exactly the planted value


def _planted_rows(ids: list[str], a_pct: np.ndarray, b_pct: np.ndarray) -> pl.DataFrame:
    """Evening High event rows: events 0, 2, 4.. (fold 0) carry reduction a_i, odd events (fold 1) b_i."""
    rows = []
    for i, hid in enumerate(ids):
        for e in range(2 * N_EVENTS_PER_FOLD):
            fold = e % 2
            r = (a_pct if fold == 0 else b_pct)[i] / 100.0
            noise = NOISE if (e // 2) % 2 == 0 else -NOISE
            rows.append((hid, e, "baseline", e // 2, 6, -(r + noise), 1.0, fold))
    return pl.DataFrame(
        rows,
        schema={
            "household_id": pl.String,
            "event_id": pl.Int32,
            "method": pl.String,
            "block_id": pl.Int32,
            "n_half_hours": pl.Int32,
            "did_kwh": pl.Float64,
            "ref_kwh": pl.Float64,
            "fold": pl.Int8,
        },
        orient="row",
    )


def _planted(outputs):
    e = outputs["expectations"]
    measured = e.filter(pl.col("response_measured")).sort("household_id")
    n = measured.height
    rng = np.random.default_rng(3)
    a = rng.permutation(np.linspace(2.0, 30.0, n))  # fold-0 reduction (%)
    b = 32.0 - a  # fold-1 reduction: the opposite order, so in-sample and held-out scores differ a lot
    return e, measured, a, b


def _brute_force(measured: pl.DataFrame, a: np.ndarray, b: np.ndarray, top: int) -> tuple[float, float, float]:
    """(ranking, textbook, peak load) kW on held-out events from the planted fold values."""
    load = measured["peak_load_kw"].to_numpy() / 100.0
    tb = (measured["textbook_cluster"] == top).to_numpy()
    n = int(tb.sum())
    rank = []
    for fit, test in ((a, b), (b, a)):
        order = np.argsort(-(fit * load), kind="stable")[:n]
        rank.append(float((test * load)[order].sum()))
    text = [float((test * load)[tb].sum()) for test in (b, a)]
    by_load = np.argsort(-load, kind="stable")[:n]
    peak = [float((test * load)[by_load].sum()) for test in (b, a)]
    return float(np.mean(rank)), float(np.mean(text)), float(np.mean(peak))


def test_heldout_comparison_scores_each_half_on_the_other(outputs):
    e, measured, a, b = _planted(outputs)
    model = outputs["model"]
    rows = _planted_rows(measured["household_id"].to_list(), a, b)
    result = heldout_event_comparison(rows, outputs["features"], e, model.settings)
    assert result.reason is None and result.n_households == measured.height
    top = textbook_cluster_choice(e)
    rank, text, peak = _brute_force(measured, a, b, top)
    assert result.n_selected == int((measured["textbook_cluster"] == top).sum())
    assert result.captured[RANKING_RULE][0] == pytest.approx(rank, rel=1e-6)
    assert result.captured[TEXTBOOK_RULE][0] == pytest.approx(text, rel=1e-6)
    assert result.captured[PEAK_LOAD_RULE][0] == pytest.approx(peak, rel=1e-6)
    assert result.difference[0] == pytest.approx(rank - text, rel=1e-6)
    assert result.versus_peak_load[RANKING_RULE][0] == pytest.approx(rank - peak, rel=1e-6)
    assert result.versus_peak_load[TEXTBOOK_RULE][0] == pytest.approx(text - peak, rel=1e-6)
    # scoring the ranking on its own events (a wrong split) would give far more: the halves disagree
    load = measured["peak_load_kw"].to_numpy() / 100.0
    in_sample = np.mean([np.sort(v * load)[::-1][: result.n_selected].sum() for v in (a, b)])
    assert in_sample > rank * 1.5
    # intervals: a paired bootstrap over households that contains the estimate
    for rule in RULES:
        v, lo, hi = result.captured[rule]
        assert lo <= v <= hi and lo < hi
    # the curve ends, for all three rules, at all households' realised kW (same set, any order)
    ends = result.curve.group_by("rule").agg(pl.col("cumulative_kw").last())["cumulative_kw"].to_list()
    total = float(((a + b) / 2 * load).sum())
    assert ends == pytest.approx([total, total, total])
    assert set(result.curve["rule"].unique()) == set(RULES)
    # the curve's difference with the peak-load rule, at the selection size, is the table's
    at_n = result.curve.filter((pl.col("rule") == RANKING_RULE) & (pl.col("n_targeted") == result.n_selected))
    assert at_n["minus_peak_load_kw"].item() == pytest.approx(rank - peak, rel=1e-6)
    assert result.curve.filter(pl.col("rule") == PEAK_LOAD_RULE)["minus_peak_load_kw"].null_count() == measured.height
    assert set(result.curve["measured_on"].unique()) == {result.measured_on}
    assert result.measured_on.startswith(f"{measured.height} measured ToU households, held-out events")


def test_heldout_ranking_wins_when_the_halves_agree(outputs):
    """Planted stable responses (same in both halves): the ranking captures the most by construction."""
    e, measured, a, _ = _planted(outputs)
    rows = _planted_rows(measured["household_id"].to_list(), a, a)
    result = heldout_event_comparison(rows, outputs["features"], e, outputs["model"].settings)
    rank, text, _ = _brute_force(measured, a, a, textbook_cluster_choice(e))
    assert result.captured[RANKING_RULE][0] == pytest.approx(rank, rel=1e-6)
    assert result.captured[TEXTBOOK_RULE][0] == pytest.approx(text, rel=1e-6)
    assert result.difference[0] > 0
    assert result.versus_peak_load[RANKING_RULE][0] > 0


def test_heldout_ranking_claims_no_gain_over_peak_load_where_load_alone_is_best(outputs):
    """Planted: one half of the events carries a household-specific reduction that does not repeat, the other
    the same reduction for everyone, so the held-out kW follows load alone. The ranking must not claim a gain
    over rank-by-peak-load: the interval of its difference covers 0 or lies below it."""
    e, measured, a, _ = _planted(outputs)
    same = np.full_like(a, 16.0)
    rows = _planted_rows(measured["household_id"].to_list(), a, same)
    result = heldout_event_comparison(rows, outputs["features"], e, outputs["model"].settings)
    rank, _, peak = _brute_force(measured, a, same, textbook_cluster_choice(e))
    est, lo, hi = result.versus_peak_load[RANKING_RULE]
    assert est == pytest.approx(rank - peak, rel=1e-6, abs=1e-9)
    assert est <= 0 and lo <= 0, (est, lo, hi)
    from assets.reports.heldout_comparison import add_heldout
    from assets.reports.report_text import heldout_sentence

    # the same reduction for everyone in both halves: the ranking IS the peak-load order, so their
    # difference is 0 in every bootstrap draw and the two rules' kW and intervals coincide
    rows = _planted_rows(measured["household_id"].to_list(), same, same)
    equal = heldout_event_comparison(rows, outputs["features"], e, outputs["model"].settings)
    assert equal.versus_peak_load[RANKING_RULE] == pytest.approx((0.0, 0.0, 0.0), abs=1e-12)
    assert equal.captured[RANKING_RULE] == pytest.approx(equal.captured[PEAK_LOAD_RULE], abs=1e-12)
    comp = add_heldout(_comparison_stub(result), result)
    words = heldout_sentence(comp)
    assert "cannot tell" in words or "peak load captures more" in words, words
    assert "ranking captures more than ranking by peak load" not in words, words


def _comparison_stub(result) -> pl.DataFrame:
    """The in-sample columns add_heldout extends (their values do not matter to the held-out sentence)."""
    return pl.DataFrame({"rule": list(RULES), "n_households": [result.n_selected] * 3})


def test_heldout_needs_events_in_both_halves(outputs):
    e, measured, a, b = _planted(outputs)
    rows = _planted_rows(measured["household_id"].to_list(), a, b).filter(pl.col("fold") == 0)
    result = heldout_event_comparison(rows, outputs["features"], e, outputs["model"].settings)
    assert result.reason is not None and result.curve.height == 0
    assert result.measured_on.startswith("no held-out comparison: 0 measured ToU households")


def test_captured_interval_matches_a_brute_force_simulation():
    """Measured households' errors independent (normal, total +- z sd); the program-evidence households'
    trial range added as one shared range (dr_targets docstring); nothing clipped: a total whose measured
    part is negative keeps a negative low bound."""
    rng = np.random.default_rng(11)
    n = 60
    evidence = rng.random(n) < 0.7  # 70 % of households sized by the offered program's evidence
    load = rng.uniform(0.3, 2.0, n)
    own = rng.uniform(1.0, 6.0, n)  # posterior SD of the measured households
    pct = np.where(evidence, 10.0, -3.0)  # measured households: a mean evening increase
    frame = pl.DataFrame(
        {
            "response_source": np.where(evidence, PROGRAM_EVIDENCE, "measured"),
            "peak_load_kw": load,
            "reduction_own_sd_pct": np.where(evidence, np.nan, own),
            "expected_kw_reduction": load * pct / 100,
            "expected_kw_ci_low": np.where(evidence, 0.0, load * (pct - 1.96 * own) / 100),
            "expected_kw_ci_high": np.where(evidence, load * 0.10, load * (pct + 1.96 * own) / 100),
        }
    ).with_columns(pl.col("reduction_own_sd_pct").fill_nan(None))
    lo, hi, sd = captured_kw_interval(frame)
    draws = 40_000
    m = ~evidence
    totals = ((pct[m] + rng.normal(0.0, 1.0, (draws, int(m.sum()))) * own[m]) * load[m] / 100).sum(axis=1)
    assert sd == pytest.approx(float(totals.std()), rel=0.03)
    ev_lo, ev_hi = 0.0, float((load[evidence] * 0.10).sum())
    q_lo, q_hi = np.percentile(totals, [2.5, 97.5])
    assert (lo, hi) == pytest.approx((q_lo + ev_lo, q_hi + ev_hi), rel=0.03)
    assert q_lo < 0 and lo < ev_lo  # the measured part's negative low bound is not floored
    # the measured part is far narrower than the sum of its household bounds
    assert q_hi - q_lo < 0.5 * float(
        frame.filter(pl.col("response_source") == "measured")
        .select(pl.col("expected_kw_ci_high") - pl.col("expected_kw_ci_low"))
        .sum()
        .item()
    )


def test_heldout_rows_take_the_features_folds_in_order_of_event_start():
    """Folds alternate in order of the High events' START (features/crossfit.event_folds), not of id."""
    from datetime import datetime, timedelta

    import duckdb

    from assets.reports.heldout_comparison import read_heldout_event_rows

    t0 = datetime(2013, 1, 7, 17, 0)
    starts = {7: 0, 3: 1, 9: 2, 1: 3}  # event id -> order of its start
    schedule = pl.DataFrame(
        [(t0 + timedelta(days=d, minutes=30 * h), "High", eid) for eid, d in starts.items() for h in range(3)]
        + [(t0 + timedelta(days=10), "Normal", None)],
        schema={"interval_start_utc": pl.Datetime("us"), "band": pl.String, "event_id": pl.Int32},
        orient="row",
    )
    rows = pl.DataFrame(
        {
            "household_id": ["A"] * 4,
            "event_id": list(starts),
            "method": ["within"] * 4,
            "block_id": [1, 1, 2, 2],
            "n_half_hours": [3] * 4,
            "did_kwh": [-0.1] * 4,
            "ref_kwh": [1.0] * 4,
            "band": ["High"] * 4,
            "kind": ["event"] * 4,
            "start_bucket": ["evening"] * 4,
        }
    ).cast({"event_id": pl.Int32, "block_id": pl.Int32, "n_half_hours": pl.Int32})
    con = duckdb.connect()
    con.execute("CREATE SCHEMA ingest; CREATE SCHEMA features")
    con.register("s", schedule)
    con.register("r", rows)
    con.execute("CREATE TABLE ingest.tariff_schedule AS SELECT * FROM s")
    con.execute("CREATE TABLE features.treatment_event_responses AS SELECT * FROM r")
    out = read_heldout_event_rows(con)
    con.close()
    folds = dict(zip(out["event_id"].to_list(), out["fold"].to_list(), strict=True))
    assert folds == {eid: order % 2 for eid, order in starts.items()}
