"""Daily weather on a fixed calendar: a London-like temperature and the load factor it drives.

The daily temperature anomaly is an AR(1) (``PHI`` per day, sd ``ANOMALY_SD_C``) drawn from the seed
on a fixed calendar (``EPOCH`` .. ``LAST_DAY``), so a date's weather does not depend on the generated
span, and the tariff schedule can be placed on it (``weather_event_correlation``). Temperature =
climatology ``11 - 6.5 cos(2 pi (doy - 15) / 365.25)`` degC + anomaly. The load factor is common to
every household: ``log factor = -LOAD_PER_DEGREE * anomaly`` (colder -> more load), sd 0.08 as before
(the seasonal swing of load is each household's own ``season_amplitude``, not this factor).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache

import numpy as np
import polars as pl

EPOCH = date(2000, 1, 1)
LAST_DAY = date(2039, 12, 31)
PHI = 0.7
ANOMALY_SD_C = 3.0
LOAD_LOG_SD = 0.08
LOAD_PER_DEGREE = LOAD_LOG_SD / ANOMALY_SD_C  # ~2.7 % more load per degC colder than usual


def climatology_c(day_of_year: np.ndarray) -> np.ndarray:
    return 11.0 - 6.5 * np.cos(2.0 * np.pi * (np.asarray(day_of_year, dtype=float) - 15.0) / 365.25)


@lru_cache(maxsize=8)
def _anomaly(seed: int) -> np.ndarray:
    n = (LAST_DAY - EPOCH).days + 1
    rng = np.random.default_rng(np.random.SeedSequence([seed, 5]))
    first = rng.normal(0.0, ANOMALY_SD_C)
    shocks = rng.normal(0.0, ANOMALY_SD_C * np.sqrt(1 - PHI**2), size=n)
    out = np.empty(n)
    level = first
    for d in range(n):  # ~15,000 days, once per seed
        out[d] = level
        level = PHI * level + shocks[d]
    out.setflags(write=False)
    return out


@dataclass(frozen=True)
class DailyWeather:
    """Weather of the local days ``first`` .. ``first + n - 1``."""

    first: date
    anomaly_c: np.ndarray

    @classmethod
    def build(cls, seed: int, first: date, n_days: int) -> DailyWeather:
        if first < EPOCH or first + timedelta(days=n_days - 1) > LAST_DAY:
            raise ValueError(f"weather covers {EPOCH} .. {LAST_DAY} only")
        i0 = (first - EPOCH).days
        return cls(first, _anomaly(seed)[i0 : i0 + n_days].copy())

    @property
    def dates(self) -> list[date]:
        return [self.first + timedelta(days=d) for d in range(self.anomaly_c.shape[0])]

    @property
    def load_log_factor(self) -> np.ndarray:
        return -LOAD_PER_DEGREE * self.anomaly_c

    @property
    def cold_z(self) -> np.ndarray:
        """Standardised cold anomaly (+1 = one sd colder than usual)."""
        return -self.anomaly_c / ANOMALY_SD_C

    def frame(self) -> pl.DataFrame:
        doy = np.array([d.timetuple().tm_yday for d in self.dates])
        return pl.DataFrame(
            {
                "local_date": pl.Series(self.dates, dtype=pl.Date).dt.strftime("%Y-%m-%d"),
                "temperature_c": np.round(climatology_c(doy) + self.anomaly_c, 2),
                "temperature_anomaly_c": np.round(self.anomaly_c, 2),
                "load_factor": np.round(np.exp(self.load_log_factor), 4),
            }
        )
