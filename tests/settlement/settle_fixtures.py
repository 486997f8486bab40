"""A purpose-built data set for settlement tests, with its ground truth.

Households: controls ('Std') and treated ('ToU'); some treated households pre-load. Readings from
November 2012 to May 2013 (every half hour an actual reading): a household level x a daily profile x a
common day shock (weather: every household that day) x (1 + trend x weeks) + independent noise. High
events on weekday evenings (17:00 local, 3 h). Planted on the treated households' event half hours:
-``reduction`` kWh each; on the 3 h after: +``snapback`` each; on the pre-loaders' 3 h before: +``preload``
each. So per treated household and event the true delivery is 6 x reduction kWh, the true snapback
6 x snapback kWh, and a pre-loader's 3 h before carry 6 x preload kWh more.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "features"))
from feature_fixtures import Event, WarehouseBuilder, local_frame

READINGS = (date(2012, 11, 1), date(2013, 5, 25))
EVENT_DAYS = [
    date(2013, 1, 15),
    date(2013, 1, 24),
    date(2013, 2, 5),
    date(2013, 2, 13),
    date(2013, 2, 21),
    date(2013, 3, 5),
    date(2013, 3, 14),
    date(2013, 3, 26),
    date(2013, 4, 3),
    date(2013, 4, 11),
]
EVENT_HALF_HOURS = 6


@dataclass
class Truth:
    controls: list[str]
    treated: list[str]
    preloaders: list[str]
    reduction: float  # kWh per half hour of the event (treated)
    snapback: float  # kWh per half hour of the 3 h after (treated)
    preload: float  # kWh per half hour of the 3 h before (pre-loaders)
    events: list[date] = field(default_factory=lambda: list(EVENT_DAYS))

    @property
    def delivered_kwh(self) -> float:
        return EVENT_HALF_HOURS * self.reduction

    @property
    def delivered_kw(self) -> float:
        return self.delivered_kwh / (EVENT_HALF_HOURS / 2)


def profile(slot: np.ndarray) -> np.ndarray:
    """A daily shape: night 0.15, morning bump, evening peak 16-22 h."""
    hour = slot / 2.0
    return (
        0.15
        + 0.15 * ((hour >= 6) & (hour < 9))
        + 0.35 * ((hour >= 16) & (hour < 22))
        + 0.05 * ((hour >= 9) & (hour < 16))
    )


def build_settlement_warehouse(
    con: duckdb.DuckDBPyConnection | None = None,
    n_controls: int = 24,
    n_treated: int = 24,
    n_preloaders: int = 8,
    reduction: float = 0.08,
    snapback: float = 0.03,
    preload: float = 0.15,
    trend_per_week: float = 0.0,
    day_shock_sd: float = 0.08,
    noise_sd: float = 0.03,
    seed: int = 11,
) -> tuple[duckdb.DuckDBPyConnection, Truth]:
    rng = np.random.default_rng(seed)
    builder = WarehouseBuilder()
    controls = [f"C{i:03d}" for i in range(n_controls)]
    treated = [f"T{i:03d}" for i in range(n_treated)]
    preloaders = treated[:n_preloaders]
    for h in controls:
        builder.household(h, "Std")
    for h in treated:
        builder.household(h, "ToU")
    grid = local_frame(*READINGS)
    slot = grid["slot"].to_numpy()
    days = grid["day_index"].to_numpy()
    n_days = int(days.max()) + 1
    shock = 1 + rng.normal(0, day_shock_sd, n_days)  # common to every household on a day (weather)
    weeks = days / 7.0
    base = profile(slot) * shock[days] * (1 + trend_per_week * weeks)
    for h in controls + treated:
        level = rng.uniform(0.6, 1.6)
        kwh = np.clip(level * base + rng.normal(0, noise_sd, grid.height), 0.0, None)
        builder.readings.append(
            grid.select("interval_start_utc", household_id=pl.lit(h), kwh=pl.Series(kwh), quality_code=pl.lit("A"))
        )
    builder.schedule(
        date(2012, 12, 31),
        date(2014, 1, 1),
        [
            Event(datetime.combine(d, datetime.min.time()) + timedelta(hours=17), EVENT_HALF_HOURS, "High")
            for d in EVENT_DAYS
        ],
    )
    con = builder.build(con)
    _plant(con, treated, "event", -reduction)
    _plant(con, treated, "after", snapback)
    _plant(con, preloaders, "before", preload)
    return con, Truth(controls, treated, preloaders, reduction, snapback, preload)


def _plant(con: duckdb.DuckDBPyConnection, households: list[str], where: str, add: float) -> None:
    """kwh += add on the households' half hours of every High event ('event'), or the 3 h after / before."""
    ev = (
        "SELECT event_id, min(interval_start_utc) AS s, max(interval_start_utc) + INTERVAL 30 MINUTE AS e "
        "FROM ingest.tariff_schedule WHERE band = 'High' GROUP BY event_id"
    )
    cond = {
        "event": "r.interval_start_utc >= ev.s AND r.interval_start_utc < ev.e",
        "after": "r.interval_start_utc >= ev.e AND r.interval_start_utc < ev.e + INTERVAL 3 HOUR",
        "before": "r.interval_start_utc >= ev.s - INTERVAL 3 HOUR AND r.interval_start_utc < ev.s",
    }[where]
    con.register("_planted", pl.DataFrame({"household_id": households}).to_arrow())
    con.execute(
        f"UPDATE clean.clean_readings r SET kwh = greatest(r.kwh + $add, 0), raw_kwh = greatest(r.kwh + $add, 0) "
        f"FROM ({ev}) ev WHERE {cond} AND r.household_id IN (SELECT household_id FROM _planted)",
        {"add": add},
    )
    con.unregister("_planted")
