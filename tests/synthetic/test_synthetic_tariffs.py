"""``tariffs/Tariffs.csv``: the real export's format and the real schedule's shape."""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path

import polars as pl
import pytest

from assets.synthetic.tariff_calendar import build_schedule, tariffs_csv_frame
from assets.synthetic.writers import write_table
from tests.synthetic.conftest import Source


def _schedule(source: Path) -> pl.DataFrame:
    df = pl.read_csv(source / "tariffs" / "Tariffs.csv")
    return df.with_columns(local=pl.col("TariffDateTime").str.strptime(pl.Datetime("us"), "%d/%m/%Y %H:%M"))


def _events(df: pl.DataFrame) -> pl.DataFrame:
    runs = df.with_columns(run=(pl.col("Tariff") != pl.col("Tariff").shift(1)).fill_null(True).cum_sum())
    return (
        runs.group_by("run", maintain_order=True)
        .agg(pl.col("Tariff").first(), pl.col("local").first(), n=pl.len())
        .filter(pl.col("Tariff") != "Normal")
    )


def test_bytes_and_labels(faulty_source: Source) -> None:
    raw = (faulty_source.path / "tariffs" / "Tariffs.csv").read_bytes()
    assert b"\r" not in raw and raw.endswith(b"\n")
    lines = raw.decode("ascii")[:-1].split("\n")
    assert lines[0] == "TariffDateTime,Tariff"
    assert len(lines) == 17_521
    assert lines[1] == "1/1/2013 0:00,Normal"
    assert lines[2] == "1/1/2013 0:30,Normal"
    assert lines[-1].startswith("31/12/2013 23:30,")
    label = re.compile(r"^([1-9]|[12]\d|3[01])/([1-9]|1[0-2])/2013 (1?\d|2[0-3]):(00|30),(High|Low|Normal)$")
    assert all(label.match(x) for x in lines[1:])


def test_naive_48_slot_grid_every_day_including_clock_changes(faulty_source: Source) -> None:
    df = _schedule(faulty_source.path)
    per_day = df.group_by(pl.col("local").dt.date()).len()
    assert per_day.height == 365
    assert per_day["len"].unique().to_list() == [48]
    for d in (date(2013, 3, 31), date(2013, 10, 27)):
        early = df.filter((pl.col("local").dt.date() == d) & (pl.col("local").dt.hour() < 4))
        assert early.height == 8
        assert early["Tariff"].unique().to_list() == ["Normal"]
    expected = pl.datetime_range(datetime(2013, 1, 1), datetime(2014, 1, 1), "30m", closed="left", eager=True)
    assert df["local"].to_list() == expected.to_list()


def test_events_shaped_like_the_real_schedule(faulty_source: Source) -> None:
    df = _schedule(faulty_source.path)
    share = df["Tariff"].value_counts(normalize=True)
    shares = dict(share.iter_rows())
    assert 0.040 <= shares["High"] <= 0.050
    assert 0.088 <= shares["Low"] <= 0.102
    ev = _events(df)
    high = ev.filter(pl.col("Tariff") == "High")
    low = ev.filter(pl.col("Tariff") == "Low")
    assert 60 <= high.height <= 80
    assert 80 <= low.height <= 100
    assert high["n"].min() >= 6 and high["n"].max() <= 24  # 3-12 h
    assert low["n"].min() >= 4 and low["n"].max() <= 24  # 2-12 h
    high_starts = high["local"].dt.strftime("%H:%M").value_counts(sort=True)
    assert high_starts["local"][0] == "17:00"
    top4 = high.filter(pl.col("local").dt.strftime("%H:%M").is_in(["17:00", "05:00", "11:00", "23:00"]))
    assert top4.height / high.height >= 0.7
    overnight = low.filter(pl.col("local").dt.strftime("%H:%M").is_in(["23:00", "05:00", "11:00"]))
    assert overnight.height / low.height >= 0.6
    assert high["local"].dt.month().n_unique() == 12, "events all year round"


def test_schedule_is_deterministic_from_the_seed(tmp_path: Path) -> None:
    a = tariffs_csv_frame(build_schedule(7))
    b = tariffs_csv_frame(build_schedule(7))
    c = tariffs_csv_frame(build_schedule(8))
    assert a.equals(b)
    assert not a.equals(c)
    write_table(tmp_path / "a.csv", a)
    write_table(tmp_path / "b.csv", b)
    assert (tmp_path / "a.csv").read_bytes() == (tmp_path / "b.csv").read_bytes()


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_events_never_touch(seed: int) -> None:
    """At least one Normal half hour between any two events, so every event is one run."""
    bands = build_schedule(seed).bands
    changes = (bands[1:] != bands[:-1]) & (bands[1:] != 0) & (bands[:-1] != 0)
    assert not changes.any()
