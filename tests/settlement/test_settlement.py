"""Settlement on generated data with a planted per-event response, snapback and pre-loading households
(settle_fixtures.py, its ground truth), and on a planted load trend that biases the day-matching baselines."""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

sys.path.insert(0, str(Path(__file__).resolve().parent))
from settle_fixtures import EVENT_DAYS, build_settlement_warehouse

from assets.settlement.baselines import long_settlements
from assets.settlement.compute import compute_settlement_tables, settlement_files
from assets.settlement.day_windows import build_day_windows, read_calendar
from assets.settlement.schemas import tables as t
from assets.settlement.settings import SettlementSettings
from assets.settlement.towt import towt_predictions

MONTHS = (date(2012, 11, 1), date(2013, 6, 1))
FAST = SettlementSettings(bootstrap_replicates=200)


@pytest.fixture(scope="module")
def planted():
    con, truth = build_settlement_warehouse()
    build_day_windows(con, *MONTHS, FAST)
    tables = compute_settlement_tables(con, FAST)
    yield con, truth, tables
    con.close()


@pytest.fixture(scope="module")
def trended():
    """Every household's load grows 4 % a week (a common trend), no day-to-day weather noise to speak of."""
    con, truth = build_settlement_warehouse(trend_per_week=0.04, day_shock_sd=0.01, seed=5)
    build_day_windows(con, *MONTHS, FAST)
    tables = compute_settlement_tables(con, FAST)
    yield con, truth, tables
    con.close()


def _program(tables, method: str) -> dict:
    d = tables[t.DELIVERY_TABLE]
    return d.filter((pl.col("level") == "program") & (pl.col("method") == method)).row(0, named=True)


def _accuracy(tables, population: str, method: str, persona: str = "all", season: str = "all") -> dict:
    a = tables[t.ACCURACY_TABLE]
    return a.filter(
        (pl.col("population") == population)
        & (pl.col("method") == method)
        & (pl.col("persona_id") == persona)
        & (pl.col("season") == season)
    ).row(0, named=True)


def test_control_group_recovers_the_planted_delivery_within_its_interval(planted):
    _, truth, tables = planted
    row = _program(tables, "control_group")
    assert row["n_households"] == len(truth.treated) and row["n_events"] == len(EVENT_DAYS)
    assert row["delivered_ci_low_kw"] <= truth.delivered_kw <= row["delivered_ci_high_kw"]
    assert row["delivered_ci_high_kw"] - row["delivered_ci_low_kw"] < truth.delivered_kw  # informative, not vacuous
    # every real event has its own figure and interval
    events = tables[t.DELIVERY_TABLE].filter(pl.col("level") == "event")
    assert events.height == len(EVENT_DAYS)
    assert events["delivered_ci_low_kw"].is_not_null().all()


def test_snapback_is_recovered(planted):
    _, truth, tables = planted
    row = _program(tables, "control_group")
    true_kw = 6 * truth.snapback / 3.0
    assert row["snapback_ci_low_kw"] <= true_kw <= row["snapback_ci_high_kw"]
    s = tables[t.SETTLEMENT_TABLE].filter((pl.col("schedule") == "tariff") & (pl.col("tariff_group") == "ToU"))
    assert s["snapback_control_kwh"].mean() == pytest.approx(6 * truth.snapback, abs=0.05)


def test_adjusted_baselines_carry_the_planted_preloading(planted):
    _, truth, tables = planted
    s = tables[t.SETTLEMENT_TABLE].filter(pl.col("schedule") == "tariff")
    pre = pl.col("household_id").is_in(truth.preloaders)
    loaded = s.filter(pre)
    honest = s.filter(~pre & (pl.col("tariff_group") == "ToU"))
    planted_kwh = 6 * truth.preload  # the 3 h before: 6 half hours
    # DFS: additive, the window IS the 3 h before: the whole pre-load lands on the baseline (L = 6 = window)
    dfs_gap = (loaded["baseline_dfs_adjusted_kwh"] - loaded["baseline_dfs_adjusted_clear_kwh"]).mean()
    assert dfs_gap == pytest.approx(planted_kwh, abs=0.12)
    assert abs((honest["baseline_dfs_adjusted_kwh"] - honest["baseline_dfs_adjusted_clear_kwh"]).mean()) < 0.12
    # CAISO: multiplicative and capped at +20 %: inflated, but by at most a fifth of the baseline
    caiso_gap = loaded["baseline_caiso_adjusted_kwh"] - loaded["baseline_caiso_adjusted_clear_kwh"]
    assert caiso_gap.mean() > 0.1
    assert (loaded["baseline_caiso_adjusted_kwh"] <= 1.2 * loaded["baseline_caiso_kwh"] + 1e-9).all()
    # the unadjusted baselines do not read the hours before the event
    assert (loaded["baseline_dfs_kwh"] - loaded["actual_kwh"]).mean() == pytest.approx(
        (honest["baseline_dfs_kwh"] - honest["actual_kwh"]).mean(), abs=0.15
    )
    # the pre-loading table: the ToU households' adjusted settlements are inflated, its interval above 0
    effect = tables[t.PRELOADING_TABLE].filter(
        (pl.col("population") == "real events, ToU households") & (pl.col("persona_id") == "all")
    )
    for row in effect.iter_rows(named=True):
        assert row["effect_ci_low_pct"] > 0, row
        assert row["preload_excess_ci_low_pct"] > 0, row


def test_placebo_bias_covers_zero_for_the_control_group_method(planted, trended):
    for _, _, tables in (planted, trended):
        row = _accuracy(tables, "placebo events, all households", "control_group")
        assert row["bias_ci_low_pct"] <= 0 <= row["bias_ci_high_pct"], row
        assert row["bias_flagged"] is False


def test_placebo_bias_is_clearly_nonzero_for_a_baseline_a_trend_biases(trended):
    """A load growing 4 % a week: the 10 most recent days sit 1-3 weeks back, so the 10-in-10 and DFS
    baselines under-state the placebo day's load by several % (negative bias), flagged; the time-of-week
    regression fits the trend and the control group shares it."""
    _, _, tables = trended
    for method in ("caiso", "dfs"):
        row = _accuracy(tables, "placebo events, all households", method)
        assert row["bias_ci_high_pct"] < -2.0, row
        assert row["bias_flagged"] is True
    towt = _accuracy(tables, "placebo events, all households", "towt")
    assert abs(towt["bias_pct"]) < 2.0
    recommendation = tables[t.RECOMMENDATION_TABLE].filter(pl.col("persona_id") == "all").row(0, named=True)
    assert "caiso" in recommendation["flagged_methods"].split(", ")
    assert recommendation["recommended_method"] not in ("caiso", "dfs")


def test_every_accuracy_figure_has_its_interval(planted):
    a = tables = planted[2][t.ACCURACY_TABLE]
    scored = a.filter((pl.col("season") == "all") & (pl.col("n_households") >= 3))
    assert scored.height == 2 * 8
    for col in ("bias", "cv_rmse", "share_paid"):
        low = f"{col}_ci_low_pct" if col == "bias" else f"{col}_ci_low"
        assert scored[low].is_not_null().all(), col
    assert (tables["cv_rmse"].drop_nulls() >= 0).all()


def test_partition_writes_are_idempotent_and_additive():
    con, _ = build_settlement_warehouse(n_controls=4, n_treated=4, n_preloaders=1)
    try:
        build_day_windows(con, *MONTHS, FAST)
        full = con.execute("SELECT count(*), sum(kwh) FROM settlement.event_day_windows").fetchone()
        build_day_windows(con, date(2013, 2, 1), date(2013, 3, 1), FAST)  # one month again
        again = con.execute("SELECT count(*), sum(kwh) FROM settlement.event_day_windows").fetchone()
        assert again[0] == full[0] and again[1] == pytest.approx(full[1])
        dups = con.execute(
            "SELECT count(*) FROM (SELECT household_id, schedule, event_id, local_date, role, count(*) n "
            "FROM settlement.event_day_windows GROUP BY ALL HAVING count(*) > 1)"
        ).fetchone()[0]
        assert dups == 0
        # a window's every half hour is an actual reading: make one estimated, the window disappears
        con.execute(
            "UPDATE clean.clean_readings SET quality_code = 'E' WHERE household_id = 'T000' AND "
            "interval_start_utc = (SELECT min(interval_start_utc) FROM ingest.tariff_schedule WHERE band = 'High')"
        )
        build_day_windows(con, date(2013, 1, 1), date(2013, 2, 1), FAST)
        gone = con.execute(
            "SELECT count(*) FROM settlement.event_day_windows WHERE household_id = 'T000' AND schedule = 'tariff' "
            "AND role = 'event' AND local_date = $d",
            {"d": EVENT_DAYS[0]},
        ).fetchone()[0]
        assert gone == 0
    finally:
        con.close()


def test_window_kwh_is_the_decimal_sum_whatever_the_order_of_addition():
    """0.1 + 0.2 is 0.30000000000000004 in binary floating point, and a parallel sum adds in no fixed
    order: the stored window kWh is rounded, so a run, a re-run and the other engine store one value."""
    con, _ = build_settlement_warehouse(n_controls=4, n_treated=4, n_preloaders=1)
    try:
        first_high = "(SELECT min(interval_start_utc) FROM ingest.tariff_schedule WHERE band = 'High')"
        con.execute(
            "UPDATE clean.clean_readings SET kwh = CASE WHEN interval_start_utc = " + first_high + " THEN 0.1 "
            "ELSE 0.2 END WHERE household_id = 'T000' AND interval_start_utc >= " + first_high + " "
            "AND interval_start_utc < " + first_high + " + INTERVAL 1 HOUR"
        )
        build_day_windows(con, date(2013, 1, 1), date(2013, 2, 1), FAST)
        kwh = con.execute(
            "SELECT kwh FROM settlement.event_day_windows WHERE household_id = 'T000' AND schedule = 'tariff' "
            "AND role = 'event' AND local_date = $d",
            {"d": EVENT_DAYS[0]},
        ).fetchall()
        assert kwh and all(k == round(k, 9) for (k,) in kwh), kwh  # no binary tail below 1e-9 kWh
    finally:
        con.close()


def test_calendar_day_selection_follows_the_rules(planted):
    con, _, _ = planted
    calendar, _ = read_calendar(con, FAST)
    events = calendar.events
    real = events.filter(pl.col("schedule") == "tariff")
    placebo = events.filter(pl.col("schedule") == "placebo")
    assert real.height == len(EVENT_DAYS) and placebo.height == len(EVENT_DAYS)
    event_days = set(EVENT_DAYS)
    for row in placebo.iter_rows(named=True):
        real_row = real.filter(pl.col("event_id") == row["event_id"]).row(0, named=True)
        assert row["target_date"] not in event_days
        assert (row["target_date"] - real_row["target_date"]).days % 7 == 0
        assert row["start_local"].time() == real_row["start_local"].time()
    assert placebo["target_date"].n_unique() == placebo.height
    sel = calendar.selection.join(
        events.select("schedule", "event_id", "target_date", "day_type"), on=["schedule", "event_id"]
    )
    days = calendar.days.select("local_date", pl.col("day_type").alias("dt"), "has_event")
    sel = sel.join(days, on="local_date")
    base = sel.filter(pl.col("use").is_in(["caiso", "dfs"]))
    assert not base["has_event"].any()
    assert (base["local_date"] < base["target_date"]).all()
    assert (base["dt"] == base["day_type"]).all()
    counts = base.group_by("schedule", "event_id", "use").len()
    assert counts["len"].max() <= 10
    placebo_days = set(placebo["target_date"].to_list())
    assert (
        not sel.filter((pl.col("schedule") == "placebo") & (pl.col("use") != "target"))["local_date"]
        .is_in(list(placebo_days))
        .any()
    )
    towt = sel.filter(pl.col("use") == "towt")
    assert ((towt["local_date"] - towt["target_date"]).dt.total_days().abs() <= 28).all()


def test_towt_closed_form_is_least_squares():
    rng = np.random.default_rng(3)
    days = [d for d in range(-28, 15) if d != 0]  # asymmetric: the trend term moves the prediction
    wd = np.array([(2 + d) % 7 for d in days])  # the event is on weekday 2 (Wednesday, 0-based Monday)
    tw = np.array(days) / 7.0
    y = 1.0 + 0.3 * (wd >= 5) + 0.05 * tw + rng.normal(0, 0.02, len(days))
    X = np.column_stack([(wd == w).astype(float) for w in range(7)] + [tw])
    coef, *_ = np.linalg.lstsq(X, y, rcond=None)
    frame = (
        pl.DataFrame({"weekday": wd + 1, "t": tw, "y": y})
        .group_by("weekday")
        .agg(
            n_days=pl.len().cast(pl.Int32),
            st=pl.col("t").sum(),
            sy=pl.col("y").sum(),
            stt=(pl.col("t") ** 2).sum(),
            sty=(pl.col("t") * pl.col("y")).sum(),
        )
        .with_columns(household_id=pl.lit("h"), schedule=pl.lit("tariff"), event_id=pl.lit(1, pl.Int32))
    )
    events = pl.DataFrame(
        {"schedule": ["tariff"], "event_id": [1], "weekday": [3]},
        schema={"schedule": pl.String, "event_id": pl.Int32, "weekday": pl.Int8},
    )
    out = towt_predictions(frame.with_columns(pl.col("weekday").cast(pl.Int8)), events, FAST)
    assert out["towt_kwh"].item() == pytest.approx(coef[2], abs=1e-9)
    plain_mean = float(y[wd == 2].mean())
    assert abs(plain_mean - coef[2]) > 0.01  # the check can tell the regression from a weekday mean


def test_placebo_day_skips_event_days_and_windows_touching_them():
    from datetime import datetime

    from assets.features.local_time import local_grid
    from assets.settlement.calendar import EVENTS_SCHEMA, placebo_events
    from assets.settlement.settings import FEATURE_SETTINGS as fs

    d = date(2013, 3, 6)  # a Wednesday event at 17:00
    grid = local_grid(date(2013, 1, 1), date(2013, 6, 1), fs)
    days = (
        grid.group_by("local_date")
        .agg(pl.col("day_type").first())
        .with_columns(
            has_event=pl.col("local_date").is_in([d, d + timedelta(days=7), d - timedelta(days=6)]),
            weekday=pl.col("local_date").dt.weekday().cast(pl.Int8),
            season=pl.lit("spring"),
        )
    )
    event = pl.DataFrame(
        {
            "schedule": ["tariff"],
            "event_id": [1],
            "target_date": [d],
            "start_local": [datetime(2013, 3, 6, 17)],
            "event_start_utc": [datetime(2013, 3, 6, 17)],
            "event_half_hours": [6],
            "day_type": ["weekday"],
            "weekday": [3],
            "season": ["spring"],
        },
        schema=EVENTS_SCHEMA,
    )
    # +1 week is an event day; -1 week is free but its 23:00 window would not touch d - 6 ... a 17:00 one does not
    out = placebo_events(event, grid, days, fs, FAST)
    assert out["target_date"].to_list() == [d - timedelta(days=7)]
    # a night event (23:00 for 6 h) on d - 7 would run into d - 6, an event day: that week is skipped too
    night = event.with_columns(
        start_local=pl.lit(datetime(2013, 3, 6, 23)), event_start_utc=pl.lit(datetime(2013, 3, 6, 23))
    )
    out = placebo_events(night, grid, days, fs, FAST)
    assert out["target_date"].to_list() == [d + timedelta(days=14)]


def test_settlement_files(planted):
    _, truth, tables = planted
    files = settlement_files(tables)
    csv = pl.read_csv(files["settlement.csv"])
    assert csv.height == (len(truth.treated) + len(truth.controls)) * len(EVENT_DAYS)
    assert {"reduction_control_group_kwh", "reduction_dfs_adjusted_kwh", "snapback_kwh"} <= set(csv.columns)
    assert files["placebo_bias.png"].startswith(b"\x89PNG") and files["dr_target_calibration.png"].startswith(
        b"\x89PNG"
    )


def test_long_settlements_reduction_sign():
    frame = pl.DataFrame(
        {
            "schedule": ["tariff"],
            "event_id": [1],
            "household_id": ["h"],
            "tariff_group": ["ToU"],
            "persona_id": [None],
            "persona_name": [None],
            "season": ["winter"],
            "event_start_utc": [None],
            "event_half_hours": [6],
            "actual_kwh": [1.0],
            "snapback_control_kwh": [None],
            **{
                f"baseline_{m}_kwh": [1.5]
                for m in (
                    "control_group",
                    "caiso",
                    "caiso_adjusted",
                    "caiso_adjusted_clear",
                    "dfs",
                    "dfs_adjusted",
                    "dfs_adjusted_clear",
                    "towt",
                )
            },
        }
    )
    long = long_settlements(frame)
    assert long.height == 8 and (long["reduction_kwh"] == 0.5).all()
    # a baseline equal to the actual use, summed in another order: no reduction, so nothing to pay
    same = frame.with_columns(actual_kwh=pl.lit(0.1 + 0.2 + 0.3), baseline_caiso_kwh=pl.lit(0.3 + 0.2 + 0.1))
    assert (long_settlements(same).filter(pl.col("method") == "caiso")["reduction_kwh"] == 0.0).all()


def test_sql_is_portable_to_spark():
    pytest.importorskip("sqlglot")
    from assets.common.engine import transpile
    from assets.common.sql import load_sql
    from assets.settlement import day_windows

    for name in ("day_windows", "window_means", "towt_sums"):
        sql = load_sql(day_windows.__file__, name).format(
            readings="clean.clean_readings", windows="w", expected="e", selection="s"
        )
        assert "SELECT" in transpile(sql)


def test_settings_reject_inconsistent_rules():
    with pytest.raises(ValueError):
        SettlementSettings(caiso_adjustment_cap=1.5)
    with pytest.raises(ValueError):
        SettlementSettings(dfs_adjustment_hours=(3.25, 0.0))
    with pytest.raises(ValueError):
        SettlementSettings(min_baseline_days=11)
    assert SettlementSettings().role_offsets(6)["snapback"] == (6, 12)
    assert timedelta(hours=SettlementSettings().preload_hours) == timedelta(hours=3)


def test_calibration_intervals_leave_out_draws_without_a_drawn_event():
    """Each household delivered on one event of its own (a short period): many bootstrap draws hold no
    drawn event of any drawn household. Those draws have no mean and are left out; before, they divided
    0 by 0 (a RuntimeWarning, an error under this suite) and failed the whole settlement step."""
    import polars as pl

    from assets.settlement.program import calibration_table
    from assets.settlement.settings import SettlementSettings

    households = [f"H{i}" for i in range(4)]
    scored = pl.DataFrame(
        {
            "household_id": households,
            "fold": [0, 1, 0, 1],
            "expected_kw": [0.1, 0.2, 0.3, 0.4],
            "expected_ci_low_kw": [0.0, 0.1, 0.2, 0.3],
            "expected_ci_high_kw": [0.2, 0.3, 0.4, 0.5],
            "selected": [False, False, True, True],
        }
    )
    settlements = pl.DataFrame(
        {
            "household_id": households,
            "event_id": [1, 2, 3, 4],
            "fold": [1, 0, 1, 0],  # delivered on the other fold's event
            "reduction_kwh": [0.1, 0.3, 0.2, 0.5],
            "event_half_hours": [2, 2, 2, 2],
        }
    )
    table = calibration_table(scored, settlements, SettlementSettings())
    everyone = table.filter(pl.col("group") == "all").row(0, named=True)
    assert everyone["delivered_kw"] == pytest.approx((0.1 + 0.3 + 0.2 + 0.5) / 4)  # kWh over 1 h: kW
    low, high = everyone["delivered_ci_low_kw"], everyone["delivered_ci_high_kw"]
    assert low is not None and high is not None and low <= everyone["delivered_kw"] <= high


def test_no_tariff_schedule_completes_and_says_nothing_could_be_scored():
    """No tariff schedule (no event): every table is built, the accuracy table holds only notes and the
    recommendation says no method could be scored, instead of failing the settlement step."""
    con, _ = build_settlement_warehouse(n_controls=6, n_treated=6, n_preloaders=2)
    try:
        con.execute("DELETE FROM ingest.tariff_schedule")
        build_day_windows(con, *MONTHS, FAST)
        tables = compute_settlement_tables(con, FAST)
    finally:
        con.close()
    assert tables[t.SETTLEMENT_TABLE].height == 0
    rules = tables[t.RECOMMENDATION_TABLE]["rule"].to_list()
    assert rules and all("none could be scored" in rule for rule in rules), rules
