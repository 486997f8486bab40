"""The planted price response sits at the right UTC stamps, and local-time behaviour moves with BST.

Expected stamps are computed here independently: each High/Low label of ``Tariffs.csv`` is
localised to Europe/London with zoneinfo, converted to UTC (= interval START) and shifted by 30 min
(the reading is stamped at the END of its half hour).
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from assets.synthetic.generate import generate
from tests.synthetic.conftest import readings_frame, tariff_stamps

SPAN = {"start": date(2013, 3, 4), "end": date(2013, 4, 29)}  # GMT and BST events, spring clock change


@pytest.fixture(scope="module")
def with_and_without_response(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, pl.DataFrame]:
    root = tmp_path_factory.mktemp("syn_response")
    args = {"households": 50, "seed": 21, "tou_share": 0.5, "faults": False, **SPAN}
    generate(root / "on", **args, respond=True)
    generate(root / "off", **args, respond=False)
    on = readings_frame(root / "on").rename({"kwh": "kwh_on"})
    off = readings_frame(root / "off").rename({"kwh": "kwh_off"})
    both = on.join(off, on=["household_id", "ts"], how="full", coalesce=True, validate="1:1")
    assert both["kwh_on"].null_count() == 0 and both["kwh_off"].null_count() == 0
    bands = tariff_stamps(root / "on").select("ts", "band")
    gt = pl.read_csv(root / "on" / "ground_truth" / "households.csv")
    both = both.join(bands, on="ts", how="left").with_columns(pl.col("band").fill_null("Normal"))
    # Normal stamps within 3 h of a High stamp: where pre-loading / rebound is planted
    high = bands.filter(pl.col("band") == "High").select(pl.col("ts").alias("high_ts")).sort("high_ts")
    stamps = both.select("ts").unique().sort("ts")
    for strategy in ("backward", "forward"):
        stamps = stamps.join_asof(high, left_on="ts", right_on="high_ts", strategy=strategy).rename(
            {"high_ts": f"high_{strategy}"}
        )
    near = stamps.select(
        "ts",
        near_high=((pl.col("ts") - pl.col("high_backward")) <= timedelta(hours=3)).fill_null(False)
        | ((pl.col("high_forward") - pl.col("ts")) <= timedelta(hours=3)).fill_null(False),
    )
    both = both.join(near, on="ts", how="left")
    return root, both.join(gt, on="household_id")


def test_events_in_span_cover_gmt_and_bst(with_and_without_response: tuple[Path, pl.DataFrame]) -> None:
    _root, df = with_and_without_response
    ev = df.filter(pl.col("band") != "Normal").select("ts").unique()
    assert (ev["ts"] < datetime(2013, 3, 31)).sum() > 20
    assert (ev["ts"] > datetime(2013, 4, 1)).sum() > 20


def test_only_responders_change_and_only_at_event_stamps(
    with_and_without_response: tuple[Path, pl.DataFrame],
) -> None:
    _root, df = with_and_without_response
    changed = df.filter(pl.col("kwh_on") != pl.col("kwh_off"))
    assert changed.height > 0
    assert changed["is_responder"].all(), "Std and non-responding ToU households are untouched"
    # the response is at stamps priced High/Low, plus pre-loading / rebound (increases) within 3 h of High
    normal = changed.filter(pl.col("band") == "Normal")
    assert (changed["band"] != "Normal").sum() > normal.height > 0
    assert normal["near_high"].all(), "Normal stamps change only next to High events"
    assert (normal["kwh_on"] >= normal["kwh_off"]).all()
    high = changed.filter(pl.col("band") == "High")
    low = changed.filter(pl.col("band") == "Low")
    assert (high["kwh_on"] < high["kwh_off"]).all()
    assert (low["kwh_on"] > low["kwh_off"]).all()


def test_response_size_matches_truth(with_and_without_response: tuple[Path, pl.DataFrame]) -> None:
    _root, df = with_and_without_response
    responders = df.filter("is_responder")
    assert responders["household_id"].n_unique() >= 8
    per_hh = responders.group_by("household_id", "band").agg(
        ratio=pl.col("kwh_on").sum() / pl.col("kwh_off").sum(),
        high=pl.col("true_high_effect_pct").first(),
        low=pl.col("true_low_effect_pct").first(),
    )
    high = per_hh.filter(pl.col("band") == "High")
    low = per_hh.filter(pl.col("band") == "Low")
    per_hh_far = (
        responders.filter(~pl.col("near_high"))
        .group_by("household_id", "band")
        .agg(ratio=pl.col("kwh_on").sum() / pl.col("kwh_off").sum())
    )
    normal = per_hh_far.filter(pl.col("band") == "Normal")  # away from High events: untouched
    assert np.allclose(high["ratio"], 1 + high["high"], atol=0.01)
    assert np.allclose(low["ratio"], 1 + low["low"], atol=0.01)
    assert np.allclose(normal["ratio"], 1.0)


def test_response_is_one_hour_earlier_in_utc_during_bst(
    with_and_without_response: tuple[Path, pl.DataFrame],
) -> None:
    """A 17:00 local High event: first responding stamp 17:30 UTC in March (GMT), 16:30 UTC in April (BST)."""
    root, df = with_and_without_response
    tariffs = pl.read_csv(root / "on" / "tariffs" / "Tariffs.csv").with_columns(
        local=pl.col("TariffDateTime").str.strptime(pl.Datetime("us"), "%d/%m/%Y %H:%M")
    )
    changed = df.filter((pl.col("kwh_on") != pl.col("kwh_off")) & (pl.col("band") != "Normal"))
    seen = {"gmt": 0, "bst": 0}
    starts = tariffs.filter(
        (pl.col("Tariff") != "Normal")
        & (pl.col("Tariff").shift(1) == "Normal")
        & pl.col("local").is_between(datetime(2013, 3, 4, 1), datetime(2013, 4, 28, 20))
    )
    for label, band, local in starts.iter_rows():
        bst = local >= datetime(2013, 3, 31, 2)  # clocks went forward at 01:00 GMT on 31 March
        first_stamp = local - timedelta(hours=1 if bst else 0) + timedelta(minutes=30)
        assert changed.filter(pl.col("ts") == first_stamp).height > 0, (label, band, first_stamp)
        before = first_stamp - timedelta(minutes=30)
        assert changed.filter(pl.col("ts") == before).height == 0, (label, before)
        seen["bst" if bst else "gmt"] += 1
    assert seen["gmt"] >= 5 and seen["bst"] >= 5


def _utc_profile(df: pl.DataFrame) -> np.ndarray:
    prof = (
        df.with_columns(
            slot=(pl.col("ts") - pl.duration(minutes=30)).dt.hour().cast(pl.Int32) * 2
            + (pl.col("ts") - pl.duration(minutes=30)).dt.minute().cast(pl.Int32) // 30
        )
        .group_by("slot")
        .agg(pl.col("kwh").mean())
        .sort("slot")
    )
    assert prof.height == 48
    values = prof["kwh"].to_numpy()
    return values / values.mean()


def test_local_evening_peak_is_one_hour_earlier_in_utc_stamps_in_summer(tmp_path: Path) -> None:
    args = {"households": 40, "seed": 4, "faults": False, "respond": False}
    generate(tmp_path / "winter", **args, start=date(2013, 1, 7), end=date(2013, 2, 4))
    generate(tmp_path / "summer", **args, start=date(2013, 6, 3), end=date(2013, 7, 1))
    gt = pl.read_csv(tmp_path / "winter" / "ground_truth" / "households.csv")
    peakers = gt.filter(pl.col("archetype") == "evening_peaker")["household_id"]
    assert peakers.len() >= 8
    winter = _utc_profile(readings_frame(tmp_path / "winter").filter(pl.col("household_id").is_in(peakers)))
    summer = _utc_profile(readings_frame(tmp_path / "summer").filter(pl.col("household_id").is_in(peakers)))
    # best circular alignment: summer[s] ~ winter[s + lag]
    errors = {lag: float(np.sum((summer - np.roll(winter, -lag)) ** 2)) for lag in range(-6, 7)}
    assert min(errors, key=errors.get) == 2, errors
    # the evening peak itself: 30-min slot of the maximum between 15:00 and 23:00 UTC
    w_peak = 30 + int(np.argmax(winter[30:46]))
    s_peak = 30 + int(np.argmax(summer[30:46]))
    assert w_peak - s_peak in (1, 2, 3)
