"""Settlement on the real LCL sample (the session warehouse of conftest.py: the whole graph, settlement
included, materialized once): every figure comes with its interval, and the stage's own invariants hold."""

from __future__ import annotations

import polars as pl
import pytest

pytestmark = pytest.mark.real_data


def _table(con, name: str) -> pl.DataFrame:
    return con.sql(f"SELECT * FROM settlement.{name}").pl()


def test_real_settlement_rows(real_con):
    s = _table(real_con, "event_settlement")
    real = s.filter(pl.col("schedule") == "tariff")
    assert real["event_id"].n_unique() > 50  # the 2013 High events (69 on the full schedule)
    assert s.filter(pl.col("schedule") == "placebo")["event_id"].n_unique() > 50
    assert real["tariff_group"].unique().sort().to_list() == ["Std", "ToU"]
    assert (s["mean_kw"] >= 0).all()
    # the control-group baseline exists wherever the 10-in-10 does and other controls were read
    assert s["baseline_control_group_kwh"].is_not_null().mean() > 0.8
    assert (s["baseline_caiso_adjusted_kwh"].drop_nulls() <= 1.2 * s["baseline_caiso_kwh"].drop_nulls().max()).all()


def test_real_every_number_has_its_interval(real_con):
    accuracy = _table(real_con, "baseline_accuracy").filter(pl.col("n_households") >= 3)
    scored = accuracy.filter(pl.col("n_events") >= 2)
    for low, high, point in (
        ("bias_ci_low_pct", "bias_ci_high_pct", "bias_pct"),
        ("cv_rmse_ci_low", "cv_rmse_ci_high", "cv_rmse"),
        ("share_paid_ci_low", "share_paid_ci_high", "share_paid"),
    ):
        rows = scored.drop_nulls(point)
        assert rows[low].is_not_null().all() and rows[high].is_not_null().all(), point
        assert (rows[low] <= rows[high]).all(), point
    delivery = _table(real_con, "program_delivery").filter(pl.col("n_households") >= 3)
    assert delivery["delivered_ci_low_kw"].is_not_null().all()
    program = delivery.filter((pl.col("level") == "program") & (pl.col("method") == "control_group")).row(0, named=True)
    assert program["n_households"] > 20
    assert program["delivered_ci_low_kw"] <= program["delivered_kw"] <= program["delivered_ci_high_kw"]
    pre = _table(real_con, "preloading_effect").filter(pl.col("n_households") >= 3)
    assert pre["effect_ci_low_pct"].is_not_null().all()


def test_real_control_group_placebo_is_unbiased_for_all_households(real_con):
    accuracy = _table(real_con, "baseline_accuracy")
    row = accuracy.filter(
        (pl.col("population") == "placebo events, all households")
        & (pl.col("method") == "control_group")
        & (pl.col("persona_id") == "all")
        & (pl.col("season") == "all")
    ).row(0, named=True)
    assert row["bias_ci_low_pct"] <= 0 <= row["bias_ci_high_pct"], row


def test_real_recommendation_and_files(real_con, real_warehouse):
    rec = _table(real_con, "baseline_recommendation")
    assert "all" in rec["persona_id"].to_list()
    folder = real_warehouse.parent / "reports" / "settlement"
    csv = pl.read_csv(folder / "settlement.csv")
    assert csv.height == _table(real_con, "event_settlement").filter(pl.col("schedule") == "tariff").height
    assert (folder / "dr_target_calibration.png").read_bytes().startswith(b"\x89PNG")


def test_real_calibration_has_intervals(real_con):
    cal = _table(real_con, "dr_target_calibration")
    if cal.height == 0:
        pytest.skip("no measured household with evening events in both halves")
    rows = cal.filter(pl.col("n_households") >= 3)
    assert rows["delivered_ci_low_kw"].is_not_null().all()
