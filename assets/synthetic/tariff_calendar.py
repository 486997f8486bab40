"""A synthetic dynamic Time-of-Use schedule shaped like the real 2013 LCL ``Tariffs.csv``.

The real schedule is a naive grid of 48 half-hour labels per day of calendar year 2013 in UK LOCAL
clock time, labelling the START of each half hour (``1/1/2013 0:00`` ... ``31/12/2013 23:30``,
17,520 rows, also 48 on the clock-change days). We reproduce its shape: ~70 High events of 3-12 h,
starting mostly at 17:00, then 11:00, 05:00 and 23:00, and ~90 Low events of 2-12 h, starting mostly
at 05:00 or 23:00 (overnight), then 17:00 and 11:00. Quotas of event durations are fixed so the
shares are always ~4.4 % High and ~9.5 % Low half hours; which days and start hours get them is
drawn from the seed; with ``weather_event_correlation`` the days of High events lean towards cold days
(:func:`build_schedule`). Events never touch each other (at least one Normal half hour between any two),
so every event is one run of identical labels, and every slot 00:00-03:30 of the two clock-change
days is Normal (the ambiguous/non-existent local hours never carry a price signal).

:func:`event_bands_utc` maps the local labels to the readings' UTC grid: localise the label to
Europe/London, convert to UTC = interval START, so the label prices the reading stamped 30 min later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import numpy as np
import polars as pl

from assets.synthetic.timegrid import LONDON, last_sunday

SCHEDULE_YEAR = 2013
SLOTS_PER_DAY = 48
NORMAL, HIGH, LOW = 0, 1, 2
BAND_NAMES = ("Normal", "High", "Low")

# (duration in half hours, number of events): High 3-12 h, Low 2-12 h.
HIGH_DURATION_QUOTA: tuple[tuple[int, int], ...] = ((6, 27), (12, 35), (24, 8))  # 70 events, 774 slots
LOW_DURATION_QUOTA: tuple[tuple[int, int], ...] = ((4, 2), (6, 13), (12, 18), (24, 57))  # 90 ev, 1670 sl
# Local start hour -> weight (shapes of the real schedule's event starts).
HIGH_START_HOURS: dict[int, float] = {
    17: 0.45,
    11: 0.13,
    5: 0.12,
    23: 0.09,
    14: 0.05,
    8: 0.05,
    2: 0.04,
    20: 0.04,
    7: 0.03,
}
LOW_START_HOURS: dict[int, float] = {
    5: 0.33,
    23: 0.30,
    17: 0.10,
    11: 0.10,
    14: 0.05,
    20: 0.04,
    2: 0.03,
    8: 0.03,
    10: 0.02,
}
# No label other than Normal on the clock-change days from 00:00 to 03:30 (slots 0..7).
_PROTECTED_SLOTS_PER_CHANGE_DAY = 8


@dataclass(frozen=True)
class TariffSchedule:
    """Labels of calendar year 2013 on the naive local grid (index = day * 48 + slot)."""

    year: int
    bands: np.ndarray  # int8, NORMAL/HIGH/LOW, length days * 48

    @property
    def n_slots(self) -> int:
        return int(self.bands.shape[0])

    def local_labels(self) -> pl.Series:
        """Naive local datetimes labelling the start of each half hour."""
        return pl.datetime_range(
            datetime(self.year, 1, 1),
            datetime(self.year + 1, 1, 1),
            interval="30m",
            closed="left",
            eager=True,
        ).alias("local_label_start")

    def frame(self) -> pl.DataFrame:
        return pl.DataFrame(
            {
                "local_label_start": self.local_labels(),
                "band": pl.Series(np.array(BAND_NAMES)[self.bands]),
            }
        )

    def events(self) -> pl.DataFrame:
        """One row per event: band, local start label, number of half hours."""
        df = self.frame().with_columns(run=(pl.col("band") != pl.col("band").shift(1)).fill_null(True).cum_sum())
        return (
            df.group_by("run", maintain_order=True)
            .agg(pl.col("band").first(), pl.col("local_label_start").first(), n_slots=pl.len())
            .filter(pl.col("band") != "Normal")
            .drop("run")
        )


def clock_change_days(year: int) -> tuple[date, date]:
    """UK clock-change Sundays (last Sunday of March and of October)."""
    return last_sunday(year, 3), last_sunday(year, 10)


def high_day_tilt(correlation: float, n_days: int) -> float:
    """``gamma`` of the High events' day odds ``exp(gamma * cold_z)`` for a wanted point-biserial
    correlation between "a High event starts on the day" and ``cold_z``: for a share p of days picked
    by an exponential tilt of a standard normal, the picked days' mean is about gamma, so the
    correlation is about ``gamma * sqrt(p / q)``."""
    p = min(0.5, sum(count for _d, count in HIGH_DURATION_QUOTA) / n_days)
    return correlation * float(np.sqrt((1.0 - p) / p))


def build_schedule(
    seed: int, year: int = SCHEDULE_YEAR, cold_z: np.ndarray | None = None, correlation: float = 0.0
) -> TariffSchedule:
    """Place the event quotas at random days and start hours, deterministically from ``seed``.

    ``cold_z``: the standardised cold anomaly of each day of ``year`` (see :mod:`.weather`); with a
    ``correlation`` other than 0, High events start on day d with odds ``exp(gamma * cold_z[d])``
    (:func:`high_day_tilt`). Low events (supply-following: wind and sun) ignore the weather.
    """
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0x7A41FF]))
    n_days = (date(year + 1, 1, 1) - date(year, 1, 1)).days
    high_day_p = None
    if correlation != 0.0:
        if cold_z is None or cold_z.shape[0] != n_days:
            raise ValueError("a weather-event correlation needs the cold anomaly of every day of the year")
        w = np.exp(high_day_tilt(correlation, n_days) * (cold_z - cold_z.max()))
        high_day_p = w / w.sum()
    n = n_days * SLOTS_PER_DAY
    bands = np.zeros(n, dtype=np.int8)
    blocked = np.zeros(n, dtype=bool)  # an event may not cover these slots
    for d in clock_change_days(year):
        i0 = (d - date(year, 1, 1)).days * SLOTS_PER_DAY
        blocked[i0 : i0 + _PROTECTED_SLOTS_PER_CHANGE_DAY] = True

    events: list[tuple[int, int]] = []  # (band, duration)
    for band, quota in ((HIGH, HIGH_DURATION_QUOTA), (LOW, LOW_DURATION_QUOTA)):
        for duration, count in quota:
            events.extend([(band, duration)] * count)
    # Longest first (easiest placement), a seeded shuffle within equal durations.
    order = rng.permutation(len(events))
    events = [events[i] for i in order]
    events.sort(key=lambda e: -e[1])

    for band, duration in events:
        hours = HIGH_START_HOURS if band == HIGH else LOW_START_HOURS
        hour_values = np.array(list(hours.keys()))
        hour_p = np.array(list(hours.values()))
        hour_p = hour_p / hour_p.sum()
        for _attempt in range(10_000):
            hour = int(rng.choice(hour_values, p=hour_p))
            if band == HIGH and high_day_p is not None:
                day = int(rng.choice(n_days, p=high_day_p))
            else:
                day = int(rng.integers(0, n_days))
            start = day * SLOTS_PER_DAY + hour * 2
            stop = start + duration
            if stop > n:
                continue
            lo, hi = max(start - 1, 0), min(stop + 1, n)  # keep one Normal slot either side
            if bands[lo:hi].any() or blocked[start:stop].any():
                continue
            bands[start:stop] = band
            break
        else:  # pragma: no cover - the year has ample room
            raise RuntimeError("could not place a tariff event")
    return TariffSchedule(year=year, bands=bands)


def format_labels(labels: pl.Series) -> pl.Series:
    """Day-first labels without leading zeros, as in the real export: ``1/1/2013 0:00``."""
    return (
        pl.DataFrame({"t": labels})
        .select(
            pl.concat_str(
                [
                    pl.col("t").dt.day().cast(pl.String),
                    pl.lit("/"),
                    pl.col("t").dt.month().cast(pl.String),
                    pl.lit("/"),
                    pl.col("t").dt.year().cast(pl.String),
                    pl.lit(" "),
                    pl.col("t").dt.hour().cast(pl.String),
                    pl.lit(":"),
                    pl.col("t").dt.strftime("%M"),
                ]
            ).alias("TariffDateTime")
        )
        .to_series()
    )


def tariffs_csv_frame(schedule: TariffSchedule) -> pl.DataFrame:
    """The ``Tariffs.csv`` table: ``TariffDateTime,Tariff``."""
    return pl.DataFrame(
        {
            "TariffDateTime": format_labels(schedule.local_labels()),
            "Tariff": pl.Series(np.array(BAND_NAMES)[schedule.bands]),
        }
    )


def label_starts_utc(schedule: TariffSchedule) -> pl.DataFrame:
    """Every High/Low label with its interval start in naive UTC (localised to Europe/London).

    The real schedule keeps the ambiguous/non-existent local hours Normal, and so does ours, so
    every High/Low label has exactly one UTC instant.
    """
    frame = schedule.frame().filter(pl.col("band") != "Normal")
    utc = (
        frame["local_label_start"]
        .dt.replace_time_zone(LONDON, ambiguous="raise", non_existent="raise")
        .dt.convert_time_zone("UTC")
        .dt.replace_time_zone(None)
    )
    return frame.with_columns(interval_start_utc=utc)


def event_bands_utc(schedule: TariffSchedule, grid_start_utc: datetime, n_slots: int) -> np.ndarray:
    """Band (NORMAL/HIGH/LOW) of each UTC half hour ``grid_start_utc + k * 30 min`` (interval START).

    Half hours outside the schedule's year are Normal (no dToU tariff in 2012 or 2014).
    """
    out = np.zeros(n_slots, dtype=np.int8)
    starts = label_starts_utc(schedule)
    offsets = (starts["interval_start_utc"] - grid_start_utc).dt.total_minutes().to_numpy() // 30
    codes = np.where(starts["band"].to_numpy() == "High", HIGH, LOW).astype(np.int8)
    keep = (offsets >= 0) & (offsets < n_slots)
    out[offsets[keep]] = codes[keep]
    return out
