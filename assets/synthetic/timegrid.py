"""The UTC half-hour grid of a generated span and its UK-local calendar features.

Grid slot ``k`` is the half hour whose START is ``start + k * 30 min`` (naive UTC). Its reading is
stamped at the END, ``start + (k + 1) * 30 min``, like LCL. A span ``start..end`` covers the
half hours starting in ``[start 00:00, end 00:00)`` UTC, so the first stamp is ``start 00:30`` and
the last ``end 00:00``. Behaviour is defined in UK local time of the interval START: the local slot
(0..47, 00:00 = 0), local date, weekday and day of year come from converting the START to
Europe/London.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import cached_property

import numpy as np
import polars as pl

LONDON = "Europe/London"
HALF_HOUR = timedelta(minutes=30)
STAMP_FORMAT_LDS = "%Y-%m-%d %H:%M:%S.0000000"  # London Datastore 6-column layout
STAMP_FORMAT_KAGGLE = "%Y-%m-%d %H:%M:%S"  # Kaggle halfhourly_dataset layout


def last_sunday(year: int, month: int) -> date:
    last = calendar.monthrange(year, month)[1]
    d = date(year, month, last)
    return d - timedelta(days=(d.weekday() - 6) % 7)


@dataclass(frozen=True)
class TimeGrid:
    start: date
    end: date

    def __post_init__(self) -> None:
        if self.end <= self.start:
            raise ValueError(f"end {self.end} must be after start {self.start}")

    @property
    def start_utc(self) -> datetime:
        return datetime(self.start.year, self.start.month, self.start.day)

    @property
    def n_slots(self) -> int:
        return (self.end - self.start).days * 48

    @cached_property
    def interval_start_utc(self) -> pl.Series:
        """Naive UTC start of every half hour."""
        return pl.datetime_range(
            self.start_utc,
            self.start_utc + self.n_slots * HALF_HOUR,
            interval="30m",
            closed="left",
            eager=True,
        ).alias("interval_start_utc")

    @cached_property
    def _local(self) -> pl.DataFrame:
        local = self.interval_start_utc.dt.replace_time_zone("UTC").dt.convert_time_zone(LONDON)
        first_local_date = local.dt.date().min()
        return pl.DataFrame({"t": local}).select(
            slot=(pl.col("t").dt.hour().cast(pl.Int16) * 2 + pl.col("t").dt.minute().cast(pl.Int16) // 30),
            day_index=(pl.col("t").dt.date() - pl.lit(first_local_date)).dt.total_days().cast(pl.Int32),
            weekend=pl.col("t").dt.weekday() >= 6,
            doy=pl.col("t").dt.ordinal_day().cast(pl.Int16),
        )

    @property
    def local_slot(self) -> np.ndarray:
        """Local half-hour slot of the interval START (0..47)."""
        return self._local["slot"].to_numpy()

    @property
    def local_day_index(self) -> np.ndarray:
        """Index of the local date of the interval START, 0 = first local date of the grid."""
        return self._local["day_index"].to_numpy()

    @property
    def local_weekend(self) -> np.ndarray:
        return self._local["weekend"].to_numpy()

    @property
    def local_day_of_year(self) -> np.ndarray:
        return self._local["doy"].to_numpy()

    @property
    def n_local_days(self) -> int:
        return int(self.local_day_index.max()) + 1

    def stamp_text(self, fmt: str) -> pl.Series:
        """Reading stamp text (END of each half hour, UTC) for every grid slot."""
        return (self.interval_start_utc + HALF_HOUR).dt.strftime(fmt).alias("ts")

    def stamp(self, k: int) -> datetime:
        """Naive UTC end stamp of slot ``k``."""
        return self.start_utc + (k + 1) * HALF_HOUR
