"""Local grid: DST days, local slots of UTC starts, day types, placebo schedule shift."""

from __future__ import annotations

from datetime import date, datetime

import polars as pl
import pytest

from assets.features.local_time import local_grid, window_utc_bounds
from assets.features.schedule import build_event_schedule, load_schedule, shift_schedule
from assets.features.settings import FeatureSettings
from tests.features.feature_fixtures import Event

S = FeatureSettings()


def test_window_bounds_are_local_midnights_in_utc():
    assert window_utc_bounds(date(2012, 1, 1), date(2013, 1, 1), "Europe/London") == (
        datetime(2012, 1, 1), datetime(2013, 1, 1),
    )  # fmt: skip
    # a summer local midnight is 23:00 UTC the day before
    assert window_utc_bounds(date(2012, 6, 1), date(2012, 6, 2), "Europe/London") == (
        datetime(2012, 5, 31, 23), datetime(2012, 6, 1, 23),
    )  # fmt: skip


def test_grid_has_46_48_50_half_hours_on_clock_change_days():
    grid = local_grid(date(2012, 3, 24), date(2012, 10, 30), S)
    per_day = dict(grid.group_by("local_date").agg(pl.len()).iter_rows())
    assert per_day[date(2012, 3, 24)] == 48
    assert per_day[date(2012, 3, 25)] == 46
    assert per_day[date(2012, 10, 28)] == 50
    assert per_day[date(2012, 10, 29)] == 48
    assert grid["interval_start_utc"].is_unique().all()
    spring = grid.filter(pl.col("local_date") == date(2012, 3, 25))
    assert sorted(set(range(48)) - set(spring["slot"].to_list())) == [2, 3]  # 01:00-02:00 never happens
    autumn = grid.filter(pl.col("local_date") == date(2012, 10, 28))
    counts = dict(autumn.group_by("slot").agg(pl.len()).iter_rows())
    assert counts[2] == counts[3] == 2 and all(counts[s] == 1 for s in range(48) if s not in (2, 3))


def test_local_slot_of_utc_start_in_summer_and_winter():
    grid = local_grid(date(2012, 1, 10), date(2012, 6, 12), S)
    row = lambda ts: grid.filter(pl.col("interval_start_utc") == ts).row(0, named=True)  # noqa: E731
    summer = row(datetime(2012, 6, 11, 17, 0))  # 17:00 UTC = 18:00 BST
    assert summer["slot"] == 36 and summer["local_date"] == date(2012, 6, 11)
    winter = row(datetime(2012, 1, 10, 18, 0))
    assert winter["slot"] == 36
    late = row(datetime(2012, 6, 10, 23, 30))  # 00:30 local on the next day
    assert late["slot"] == 1 and late["local_date"] == date(2012, 6, 11)


def test_day_types_and_bank_holidays():
    grid = local_grid(date(2012, 4, 5), date(2012, 4, 11), S)
    types = dict(grid.group_by("local_date").agg(pl.col("day_type").first()).iter_rows())
    assert types[date(2012, 4, 5)] == "weekday"  # Thursday
    assert types[date(2012, 4, 6)] == "weekend"  # Good Friday
    assert types[date(2012, 4, 7)] == "weekend"
    assert types[date(2012, 4, 9)] == "weekend"  # Easter Monday
    assert types[date(2012, 4, 10)] == "weekday"
    plain = local_grid(date(2012, 4, 5), date(2012, 4, 11), FeatureSettings(bank_holidays=()))
    assert dict(plain.group_by("local_date").agg(pl.col("day_type").first()).iter_rows())[date(2012, 4, 6)] == "weekday"


def test_event_schedule_windows_and_buckets(builder):
    events = [
        Event(datetime(2013, 1, 15, 17), 6, "High"),
        Event(datetime(2013, 1, 15, 20), 4, "Low"),  # direct High -> Low switch: no rebound there
        Event(datetime(2013, 6, 11, 23), 6, "High"),  # BST, crosses midnight
    ]
    con = builder.schedule(date(2013, 1, 1), date(2014, 1, 1), events).build()
    sched = build_event_schedule(load_schedule(con, S), local_grid(date(2013, 1, 1), date(2014, 1, 1), S), S)
    ev = sched.events
    assert ev["band"].to_list() == ["High", "Low", "High"]
    assert ev["start_bucket"].to_list() == ["evening", "evening", "night"]
    assert ev.row(2, named=True)["event_start_utc"] == datetime(2013, 6, 11, 22)
    kinds = sched.members.group_by("event_id", "kind").agg(pl.len()).sort("event_id", "kind")
    got = {(r[0], r[1]): r[2] for r in kinds.iter_rows()}
    assert got[(1, "event")] == 6 and got[(1, "preload")] == 6
    assert got[(1, "rebound")] == 2  # 22:00-23:00 only; 20:00-22:00 is the Low event
    assert got[(3, "rebound")] == 6 and got[(3, "preload")] == 6
    days = sched.grid.group_by("local_date").agg(pl.col("ref_eligible").first(), pl.col("has_event").first())
    flags = {r[0]: (r[1], r[2]) for r in days.iter_rows()}
    assert flags[date(2013, 1, 15)] == (False, True)
    assert flags[date(2013, 6, 12)] == (False, True)  # the event's second local day
    assert flags[date(2013, 1, 16)] == (True, False)


def test_placebo_shift_keeps_local_clock_and_weekday(builder):
    con = builder.schedule(date(2013, 1, 1), date(2014, 1, 1), [Event(datetime(2013, 7, 9, 17), 6, "High")]).build()
    shifted = shift_schedule(load_schedule(con, S), 364, S)
    high = shifted.filter(pl.col("band") == "High").sort("interval_start_utc")
    assert high["local_label_start"][0] == datetime(2012, 7, 10, 17)  # Tuesday -> Tuesday, 17:00 local
    assert high["interval_start_utc"][0] == datetime(2012, 7, 10, 16)  # BST in 2012 too
    assert high["local_label_start"][0].weekday() == datetime(2013, 7, 9).weekday()
    assert shifted["interval_start_utc"].is_unique().all()


@pytest.mark.parametrize("hours", [(16.25, 20.0), (20.0, 16.0)])
def test_settings_reject_off_grid_or_reversed_hours(hours):
    with pytest.raises(ValueError):
        FeatureSettings(peak_hours=hours)
