"""kW persona profiles and the High-event vs normal-day overlay, on a planted warehouse.

The schedule is built by the ingest's own normalisation from UK-local labels that straddle the
start of British Summer Time; readings are stamped at the END of their half hour (UTC). Responders
use 0.5 x their load in exactly the High half hours, April is heavier than March and weekends
heavier than weekdays, and a Low-only day carries absurd load: only a correct join on the interval
START, the local conversion and the month x day-type pairing give a difference that is exactly the
planted drop in the event slots and zero everywhere else.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta

import duckdb
import numpy as np
import polars as pl
import pytest
from scipy import stats

from assets.features.local_time import local_grid
from assets.features.settings import FeatureSettings
from assets.ingest.tariff_schedule import normalise_schedule
from assets.reports import plots
from assets.reports.profiles import LINES, read_persona_kw_profiles, t_interval, with_intervals

FIRST, LAST = date(2013, 3, 18), date(2013, 4, 14)  # BST starts 2013-03-31
EVENT_SLOTS = (34, 35, 36)  # local 17:00-18:30
# High-event days: GMT and BST weekdays, more in April (heavier) than in March
EVENT_DAYS = (date(2013, 3, 20), date(2013, 4, 3), date(2013, 4, 4), date(2013, 4, 10))
LOW_ONLY_DAY = date(2013, 4, 9)
MIXED_DAY = date(2013, 4, 11)  # High at the event slots AND Low at night: in neither line
K = 5
SCALES_A = (0.8, 0.9, 1.0, 1.1, 1.2, 1.3)  # six measured responders in persona A
SCALES_B_MEASURED = (1.0, 1.1, 1.2)  # three measured (fewer than K) in persona B
SCALES_B_STD = (0.9, 1.0, 1.1, 1.2, 1.3)  # five unmeasured (Std) in persona B
SCALES_A_CONTROLS = (0.9, 1.0, 1.1, 1.2, 1.3)  # five controls of persona A's lifestyle segment (persona A0)
CONTROL_BUMP_KWH = 0.1  # controls use this much more in High half hours (no price signal: e.g. cold days)


def _labels() -> pl.DataFrame:
    rows = []
    day = FIRST
    while day <= LAST:
        for slot in range(48):
            band = "Normal"
            if day in (*EVENT_DAYS, MIXED_DAY) and slot in EVENT_SLOTS:
                band = "High"
            if day in (LOW_ONLY_DAY, MIXED_DAY) and slot in (4, 5):
                band = "Low"
            rows.append((datetime(day.year, day.month, day.day) + timedelta(minutes=30 * slot), band))
        day += timedelta(days=1)
    return pl.DataFrame(rows, schema={"local_label_start": pl.Datetime("us"), "band": pl.String}, orient="row")


def _kwh_per_half_hour(local: datetime, scale: float) -> float:
    base = 0.5 * scale * (1.5 if local.month == 4 else 1.0) * (1.4 if local.weekday() >= 5 else 1.0)
    if local.date() in (LOW_ONLY_DAY, MIXED_DAY):
        base *= 20.0  # must never reach a line: a day with Low hours is neither event nor normal
    return base


@pytest.fixture(scope="module")
def warehouse():
    schedule = normalise_schedule(_labels())
    grid = local_grid(FIRST, LAST + timedelta(days=1), FeatureSettings()).select("interval_start_utc", "local_start")
    priced = grid.join(schedule.select("interval_start_utc", "band"), on="interval_start_utc", how="left")
    # (id, persona, measured, scale, responds, lifestyle segment, tariff group)
    households = (
        [(f"A{i}", "A", True, s, True, 0, "ToU") for i, s in enumerate(SCALES_A)]
        + [(f"C{i}", "A0", False, s, False, 0, "Std") for i, s in enumerate(SCALES_A_CONTROLS)]
        + [("U0", "A0", False, 1.0, False, 0, "ToU")]  # unmeasured ToU: not a control, never in the control line
        + [(f"B{i}", "B", True, s, False, 1, "ToU") for i, s in enumerate(SCALES_B_MEASURED)]
        + [(f"S{i}", "B", False, s, False, 1, "Std") for i, s in enumerate(SCALES_B_STD)]
    )
    readings = []
    for hid, _, _, scale, responds, _, _ in households:
        for start, local, band in priced.iter_rows():
            kwh = _kwh_per_half_hour(local, scale)
            if responds and band == "High":
                kwh *= 0.5
            if hid.startswith("C") and band == "High":
                kwh += CONTROL_BUMP_KWH
            if hid == "U0" and band == "High":
                kwh += 10 * CONTROL_BUMP_KWH
            readings.append((hid, start, start + timedelta(minutes=30), kwh, "A"))
    clean = pl.DataFrame(
        readings,
        schema={
            "household_id": pl.String,
            "interval_start_utc": pl.Datetime("us"),
            "interval_end_utc": pl.Datetime("us"),
            "kwh": pl.Float64,
            "quality_code": pl.String,
        },
        orient="row",
    )
    # an estimated reading with an absurd value: never used
    clean = pl.concat([clean, clean.head(1).with_columns(kwh=pl.lit(99.0), quality_code=pl.lit("E"))])
    assignments = pl.DataFrame(
        [(h, p, m, seg) for h, p, m, _, _, seg, _ in households],
        schema={
            "household_id": pl.String,
            "persona_name": pl.String,
            "response_measured": pl.Boolean,
            "segment": pl.Int32,
        },
        orient="row",
    )
    register = pl.DataFrame(
        [(h, g) for h, _, _, _, _, _, g in households],
        schema={"household_id": pl.String, "tariff_group": pl.String},
        orient="row",
    )
    con = duckdb.connect()
    for schema in ("ingest", "clean", "model"):
        con.execute(f"CREATE SCHEMA {schema}")
    for name, frame in (
        ("ingest.tariff_schedule", schedule),
        ("clean.clean_readings", clean),
        ("model.segment_assignments", assignments),
        ("ingest.households", register),
    ):
        con.register("_src", frame.to_arrow())
        con.execute(f"CREATE TABLE {name} AS SELECT * FROM _src")
        con.unregister("_src")
    yield con
    con.close()


@pytest.fixture(scope="module")
def profiles(warehouse):
    return read_persona_kw_profiles(warehouse, K)


def _line(profiles, persona: str, line: str) -> pl.DataFrame:
    return profiles.lines.filter((pl.col("persona_name") == persona) & (pl.col("line") == line)).sort("slot")


def test_every_line_has_48_local_slots(profiles):
    lines = profiles.lines
    assert set(lines["line"].unique()) == set(LINES)
    for (persona, line), part in lines.group_by("persona_name", "line"):
        assert part["slot"].to_list() == list(range(48)), (persona, line)


def test_difference_is_the_planted_drop_in_event_slots_and_zero_elsewhere(profiles):
    diff = _line(profiles, "A", "difference")
    # responders use half their load in High half hours: at local 17:00-18:30 on GMT and BST days alike
    drop_kw = (
        -0.5 * 2 * 0.5 * np.mean([s * np.mean([1.5 if d.month == 4 else 1.0 for d in EVENT_DAYS]) for s in SCALES_A])
    )
    means = dict(zip(diff["slot"].to_list(), diff["mean_kw"].to_list(), strict=True))
    for slot, value in means.items():
        if slot in EVENT_SLOTS:
            assert value == pytest.approx(drop_kw, rel=1e-9), slot
        else:
            # month x day-type pairing: April-heavy event days are not compared with March normal days
            assert value == pytest.approx(0.0, abs=1e-12), slot


def test_event_and_normal_lines_and_days(profiles):
    event = _line(profiles, "A", "high_event_days")
    normal = _line(profiles, "A", "normal_days")
    outside = ~pl.col("slot").is_in(list(EVENT_SLOTS))
    assert event.filter(outside)["mean_kw"].to_list() == pytest.approx(normal.filter(outside)["mean_kw"].to_list())
    assert event["n_households"].unique().to_list() == [len(SCALES_A)]
    assert event["n_days"].unique().to_list() == [len(EVENT_DAYS)]
    # normal weekdays of March and April (the event days' strata); Low-only and event days excluded
    stratum_days = [
        FIRST + timedelta(days=i)
        for i in range((LAST - FIRST).days + 1)
        if (FIRST + timedelta(days=i)).weekday() < 5
        and FIRST + timedelta(days=i) not in (*EVENT_DAYS, LOW_ONLY_DAY, MIXED_DAY, date(2013, 3, 29), date(2013, 4, 1))
    ]
    assert normal["n_days"].unique().to_list() == [len(stratum_days)]


def test_control_line_is_the_controls_paired_difference_on_the_same_days(profiles):
    """Persona A's control line: the Std households of its lifestyle segment (persona A0), event days minus
    normal days: exactly their planted +0.1 kWh (0.2 kW) in the High half hours, 0 elsewhere. A day with
    both High and Low hours (20x load at night) reaches no line."""
    ctl = _line(profiles, "A", "control_difference")
    assert ctl["n_households"].unique().to_list() == [len(SCALES_A_CONTROLS)]
    assert not ctl["suppressed"].any()
    for slot, value in zip(ctl["slot"].to_list(), ctl["mean_kw"].to_list(), strict=True):
        assert value == pytest.approx(2 * CONTROL_BUMP_KWH if slot in EVENT_SLOTS else 0.0, abs=1e-12), slot
    # persona A0 has no measured household: no overlay, so no control line of its own
    assert profiles.lines.filter(pl.col("persona_name") == "A0")["line"].unique().to_list() == [
        "all_members_normal_days"
    ]


def test_all_members_line_uses_normal_days_of_every_member(profiles):
    allb = _line(profiles, "B", "all_members_normal_days")
    assert allb["n_households"].unique().to_list() == [len(SCALES_B_MEASURED) + len(SCALES_B_STD)]
    assert not allb["suppressed"].any()
    # every value is a mean over plausible days: the 20x Low-only day and the E reading never enter
    assert allb["mean_kw"].max() < 2 * 0.5 * 1.3 * 1.5 * 1.4 + 1e-9


def test_lines_of_fewer_than_k_households_are_suppressed(profiles):
    for line in ("high_event_days", "normal_days", "difference"):
        part = _line(profiles, "B", line)
        assert part["suppressed"].all(), line
        assert part["mean_kw"].is_null().all() and part["n_households"].is_null().all(), line
    assert not _line(profiles, "A", "difference")["suppressed"].any()


def test_band_is_the_t_interval_over_households(profiles, warehouse):
    row = _line(profiles, "A", "normal_days").filter(pl.col("slot") == 20).row(0, named=True)
    # per-household normal-day kW at local 10:00, recomputed independently: weighted like event days
    weights = {3: 1, 4: 3}  # event days per month (March, April)
    per_household = [2 * 0.5 * s * sum(w * (1.5 if m == 4 else 1.0) for m, w in weights.items()) / 4 for s in SCALES_A]
    lo, hi = stats.t.interval(0.95, len(per_household) - 1, loc=np.mean(per_household), scale=stats.sem(per_household))
    assert row["mean_kw"] == pytest.approx(np.mean(per_household))
    assert (row["ci_low_kw"], row["ci_high_kw"]) == pytest.approx((lo, hi))


def test_t_interval_needs_two_households():
    lo, hi = t_interval(np.array([1.0, 1.0]), np.array([0.2, np.nan]), np.array([1, 9]))
    assert np.isnan(lo).all() and np.isnan(hi).all()


def test_without_schedule_there_are_no_profiles():
    con = duckdb.connect()
    con.execute("CREATE SCHEMA ingest")
    con.execute("CREATE TABLE ingest.tariff_schedule (interval_start_utc TIMESTAMP, local_label_start TIMESTAMP)")
    assert read_persona_kw_profiles(con, K).empty
    assert with_intervals(pl.DataFrame(), K).height == 0


def test_overlay_plot_is_a_png(profiles):
    png = plots.plot_event_day_overlay(profiles.lines, profiles.high_share, k=K)
    assert png.startswith(plots.PNG_SIGNATURE) and len(png) > 5000
    nothing = plots.plot_event_day_overlay(profiles.lines.filter(pl.col("persona_name") == "B"), profiles.high_share)
    assert nothing.startswith(plots.PNG_SIGNATURE)


def test_high_share_marks_the_event_slots(profiles):
    share = profiles.high_share.sort("slot")
    assert share["slot"].to_list() == list(range(48))
    assert share.filter(pl.col("slot").is_in(list(EVENT_SLOTS)))["high_share"].to_list() == [1.0, 1.0, 1.0]
    assert share.filter(~pl.col("slot").is_in(list(EVENT_SLOTS)))["high_share"].max() == 0.0
