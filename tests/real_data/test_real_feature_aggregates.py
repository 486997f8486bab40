"""The real sample: every feature table computed from the per-household-month aggregates equals the one
computed from the readings (the aggregates' reads: tests/features/test_feat_aggregates.py), the event
half hours and within-window references of March and October 2013 (both clock changes) included."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import polars as pl
import pytest

from assets.features import aggregate_reads
from assets.features import compute as feat
from assets.features.event_response import compute_event_responses
from assets.features.local_time import local_grid
from assets.features.matching import match_controls, matching_profiles
from assets.features.schedule import build_event_schedule, load_schedule
from assets.features.settings import FeatureSettings
from tests.conftest import copy_warehouse

pytestmark = pytest.mark.real_data


def _features(con: duckdb.DuckDBPyConnection, settings: FeatureSettings) -> dict[str, pl.DataFrame]:
    baseline = feat.compute_baseline_features(con, settings)
    treatment = feat.compute_treatment_features(con, settings, baseline)
    summary = feat.compute_tariff_response_summary(con, treatment, settings)
    household = feat.build_household_features(baseline, treatment, feat.read_households(con, settings), settings)
    return {
        "baseline_features": baseline.features,
        "baseline_exclusions": baseline.exclusions,
        "normal_day_lifestyle": treatment.normal_day_lifestyle,
        "treatment_features": treatment.features,
        "treatment_event_responses": treatment.event_responses,
        "comparison_balance": treatment.balance,
        "tariff_response_summary": summary.effects,
        "placebo_event_responses": summary.placebo_event_responses,
        "responder_share_curve": summary.responder_curve,
        "household_features": household.features,
    }


def assert_same(a: dict[str, pl.DataFrame], b: dict[str, pl.DataFrame]) -> None:
    """Equal tables: keys, counts and flags exactly; floats to 1e-12 relative or 1e-14 absolute (sums
    regrouped from months, weeks and days; a difference of two such sums, e.g. own_change_kwh, near 0
    keeps only the absolute bound)."""
    for name in a:
        x, y = a[name], b[name]
        assert x.columns == y.columns and x.height == y.height, name
        for column in x.columns:
            if x[column].dtype.is_float():
                np.testing.assert_allclose(
                    y[column].to_numpy().astype(float), x[column].to_numpy().astype(float), rtol=1e-12, atol=1e-14,
                    err_msg=f"{name}.{column}",
                )  # fmt: skip
            else:
                assert x[column].equals(y[column]), f"{name}.{column}"


@pytest.fixture(scope="module")
def real_copy(real_warehouse: Path, tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    """A copy of the real warehouse (the tests below monkeypatch and rebuild). Its monthly assets ran after
    ``tariff_schedule`` (conftest: ``pipelines/run_plan.py``'s order), so no month's schedule aggregates
    are stale: the features there read the aggregates."""
    path = copy_warehouse(real_warehouse, tmp_path_factory.mktemp("real_aggregates") / "warehouse.duckdb")
    con = duckdb.connect(str(path))
    assert aggregate_reads.stale_schedule_months(con) == []
    assert (
        con.execute(
            "SELECT count(DISTINCT reading_month) FROM features.household_event_readings WHERE reading_month >= $m",
            {"m": date(2013, 1, 1)},
        ).fetchone()[0]
        == 12
    ), "every trial month has event aggregates"
    yield con
    con.close()


def test_every_feature_table_from_the_aggregates_equals_the_readings(real_copy, monkeypatch):
    con, settings = real_copy, FeatureSettings()
    assert aggregate_reads.stale_schedule_months(con) == []
    assert aggregate_reads.verified_schedule_inputs(con, settings) is not None
    # the real schedule reaches the cases: events across local and UTC midnight in March and October 2013
    # (event 51: 2013-03-28 23:00 UTC for 30 hours; 2013-10-20 22:00 UTC = 23:00 BST) and reference weeks
    # holding a clock-change day (trial year: 2013-03-31, 2013-10-27; placebo year: 2012-10-28)
    for day in ("2013-03-29", "2013-03-30", "2013-10-20", "2013-10-21"):
        rows = con.execute(
            "SELECT count(*) FROM features.household_event_readings WHERE CAST(interval_start_utc AS DATE) = $d",
            {"d": date.fromisoformat(day)},
        ).fetchall()[0][0]
        assert rows > 0, day
    for schedule, week in (("tariff", "2013-03-25"), ("tariff", "2013-10-21"), ("placebo", "2012-10-22")):
        rows = con.execute(
            "SELECT count(*) FROM features.household_reference_slots WHERE schedule = $s AND week_start = $w "
            "AND day_class IN ('reference', 'reference_near')",
            {"s": schedule, "w": date.fromisoformat(week)},
        ).fetchall()[0][0]
        assert rows > 0, (schedule, week)
    answered: list = []
    event_aggregates = aggregate_reads.event_aggregates
    monkeypatch.setattr(
        aggregate_reads, "event_aggregates", lambda *a, **k: answered.append(event_aggregates(*a, **k)) or answered[-1]
    )
    from_aggregates = _features(con, settings)
    assert answered == [  # trial DiD, placebo, adjacent-day sensitivity: all from the aggregates
        aggregate_reads.EventAggregates("tariff", True),
        aggregate_reads.EventAggregates("placebo", True),
        aggregate_reads.EventAggregates("tariff", False),
    ]
    monkeypatch.setattr(aggregate_reads, "aggregates_usable", lambda con, settings: False)  # every read on the readings
    assert_same(_features(con, settings), from_aggregates)


def test_a_week_keyed_wrongly_at_a_month_end_changes_the_real_did(real_copy):
    """The comparison above can fail: the part of each week that falls in its second local month keyed by
    the next Monday changes the March/October event DiD."""
    con, settings = real_copy, FeatureSettings()
    window = (settings.treatment_start, settings.treatment_end)
    schedule = build_event_schedule(load_schedule(con, settings), local_grid(*window, settings), settings)
    households = feat.read_households(con, settings)
    profiles = matching_profiles(feat.compute_baseline_features(con, settings).features)
    pairs = match_controls(profiles, households, settings)
    before = compute_event_responses(con, settings, schedule, window, households, pairs, methods=("within",))
    con.execute("BEGIN TRANSACTION")
    try:
        con.execute(
            "UPDATE features.household_reference_slots SET week_start = week_start + 7 "
            "WHERE week_start < local_month AND month(local_month) IN (4, 11)"  # weeks from March / October
        )
        assert aggregate_reads.event_aggregates(con, settings, schedule, window, "tariff") is not None
        after = compute_event_responses(con, settings, schedule, window, households, pairs, methods=("within",))
    finally:
        con.execute("ROLLBACK")
    with pytest.raises(AssertionError):
        assert_same({"treatment_event_responses": before}, {"treatment_event_responses": after})
