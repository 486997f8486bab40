"""Builders of tiny schema-conforming DuckDB warehouses for the feature-layer tests.

``WarehouseBuilder`` makes households, half-hourly clean readings from a polars expression over the
local grid (columns: interval_start_utc, local_start, local_date, slot, weekday, month, day_index) and
a tariff schedule on the UTC grid with hand-placed High/Low events. ``build()`` writes
``ingest.households``, ``ingest.tariff_schedule`` and ``clean.clean_readings`` into an in-memory
DuckDB and validates each against its pandera model. ``modify_readings`` then plants responses.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

import duckdb
import numpy as np
import polars as pl

from assets.clean.schemas.clean_readings import CleanReadings
from assets.common.table_model import validate
from assets.features.local_time import utc_to_local, window_utc_bounds
from assets.features.settings import FeatureSettings
from assets.ingest.schemas.households import Households
from assets.ingest.schemas.tariff_schedule import TariffSchedule

TZ = "Europe/London"
PRICES = {"High": 67.20, "Normal": 11.76, "Low": 3.99}
ACORN_GROUP = {"ACORN-B": "Affluent", "ACORN-H": "Comfortable", "ACORN-Q": "Adversity"}

KwhFn = Callable[[], pl.Expr] | float


def local_frame(start: date, end: date) -> pl.DataFrame:
    """UTC half hours of the local-date window with local helpers for building readings."""
    lo, hi = window_utc_bounds(start, end, TZ)
    utc = pl.datetime_range(lo, hi, "30m", closed="left", time_unit="us", eager=True)
    return (
        pl.DataFrame({"interval_start_utc": utc})
        .with_columns(local_start=utc_to_local(pl.col("interval_start_utc"), TZ))
        .with_columns(
            local_date=pl.col("local_start").dt.date(),
            slot=pl.col("local_start").dt.hour() * 2 + pl.col("local_start").dt.minute() // 30,
            weekday=pl.col("local_start").dt.weekday(),  # 1 = Monday ... 7 = Sunday
            month=pl.col("local_start").dt.month(),
        )
        .with_columns(day_index=(pl.col("local_date") - pl.lit(start)).dt.total_days())
    )


@dataclass
class Event:
    local_start: datetime
    half_hours: int
    band: str


@dataclass
class WarehouseBuilder:
    households: list[dict] = field(default_factory=list)
    readings: list[pl.DataFrame] = field(default_factory=list)
    schedule_window: tuple[date, date] | None = None
    events: list[Event] = field(default_factory=list)

    def household(self, household_id: str, group: str = "Std", acorn: str | None = "ACORN-B") -> WarehouseBuilder:
        self.households.append(
            {
                "household_id": household_id,
                "tariff_group": group,
                "acorn": acorn,
                "acorn_group": ACORN_GROUP.get(acorn) if acorn else None,
                "source_file": "households/informations_households.csv",
                "register_source": "register",
            }
        )
        return self

    def add_readings(
        self,
        household_id: str,
        start: date,
        end: date,
        kwh: KwhFn,
        keep: Callable[[], pl.Expr] | None = None,
        quality: Callable[[], pl.Expr] | None = None,
    ) -> WarehouseBuilder:
        """Readings over local dates [start, end); ``kwh`` an expression (or constant), ``keep`` a filter."""
        frame = local_frame(start, end)
        value = pl.lit(float(kwh)) if isinstance(kwh, int | float) else kwh()
        frame = frame.with_columns(kwh=value.cast(pl.Float64))
        if keep is not None:
            frame = frame.filter(keep())
        q = pl.lit("A") if quality is None else quality()
        frame = frame.with_columns(quality_code=q)
        self.readings.append(frame.with_columns(household_id=pl.lit(household_id)))
        return self

    def schedule(self, start: date, end: date, events: list[Event] = ()) -> WarehouseBuilder:
        self.schedule_window = (start, end)
        self.events = list(events)
        return self

    # ------------------------------------------------------------------------------------------
    def _schedule_frame(self) -> pl.DataFrame:
        schema = dict(TariffSchedule.to_schema().columns)
        if self.schedule_window is None:
            return pl.DataFrame(schema={k: v.dtype.type for k, v in schema.items()})
        grid = local_frame(*self.schedule_window).select("interval_start_utc", "local_start")
        bands = ["Normal"] * grid.height
        ids: list[int | None] = [None] * grid.height
        index = {ts: i for i, ts in enumerate(grid["local_start"].to_list())}
        for k, ev in enumerate(sorted(self.events, key=lambda e: e.local_start), start=1):
            i0 = index[ev.local_start]
            for i in range(i0, i0 + ev.half_hours):
                assert bands[i] == "Normal", "overlapping events in fixture"
                bands[i], ids[i] = ev.band, k
        frame = grid.with_columns(band=pl.Series(bands), event_id=pl.Series(ids, dtype=pl.Int32)).with_columns(
            interval_end_utc=pl.col("interval_start_utc") + timedelta(minutes=30),
            local_label_start=pl.col("local_start"),
            price_p_per_kwh=pl.col("band").replace_strict(PRICES, return_dtype=pl.Float64),
        )
        starts = (
            frame.filter(pl.col("event_id").is_not_null())
            .group_by("event_id")
            .agg(
                event_start_utc=pl.col("interval_start_utc").min(),
                event_start_local=pl.col("local_start").min(),
            )
        )
        frame = frame.join(starts, on="event_id", how="left").sort("interval_start_utc")
        return frame.select(
            "interval_start_utc", "interval_end_utc", "local_label_start", "band", "price_p_per_kwh",
            "event_id", "event_start_utc", "event_start_local",
        )  # fmt: skip

    def _readings_frame(self) -> pl.DataFrame:
        if not self.readings:
            return pl.DataFrame(
                schema={
                    "household_id": pl.String, "interval_start_utc": pl.Datetime("us"),
                    "interval_end_utc": pl.Datetime("us"), "kwh": pl.Float64, "raw_kwh": pl.Float64,
                    "quality_code": pl.String, "is_spike": pl.Boolean, "duplicate_rows": pl.Int32,
                    "source_file": pl.String, "source_line": pl.Int64, "reading_month": pl.Date,
                }
            )  # fmt: skip
        frame = pl.concat(
            [r.select("household_id", "interval_start_utc", "kwh", "quality_code") for r in self.readings]
        )
        frame = frame.unique(["household_id", "interval_start_utc"], keep="last").sort(
            "household_id", "interval_start_utc"
        )
        est = pl.col("quality_code") == "E"
        return frame.with_columns(
            interval_end_utc=pl.col("interval_start_utc") + timedelta(minutes=30),
            raw_kwh=pl.when(est).then(None).otherwise(pl.col("kwh")),
            is_spike=pl.lit(False),
            duplicate_rows=pl.lit(0, dtype=pl.Int32),
            source_file=pl.when(est).then(None).otherwise(pl.format("r/{}.csv", pl.col("household_id"))),
            source_line=pl.when(est).then(None).otherwise(pl.int_range(1, pl.len() + 1).over("household_id")),
        ).with_columns(
            reading_month=pl.col("interval_end_utc").dt.truncate("1mo").dt.date(),
        ).select(
            "household_id", "interval_start_utc", "interval_end_utc", "kwh", "raw_kwh", "quality_code",
            "is_spike", "duplicate_rows", "source_file", "source_line", "reading_month",
        )  # fmt: skip

    def build(self, con: duckdb.DuckDBPyConnection | None = None) -> duckdb.DuckDBPyConnection:
        con = con or duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        households = pl.DataFrame(
            self.households,
            schema={"household_id": pl.String, "tariff_group": pl.String, "acorn": pl.String,
                    "acorn_group": pl.String, "source_file": pl.String, "register_source": pl.String},
        )  # fmt: skip
        tables = {
            "ingest.households": validate(Households, households),
            "ingest.tariff_schedule": validate(TariffSchedule, self._schedule_frame()),
            "clean.clean_readings": validate(CleanReadings, self._readings_frame()),
        }
        for name, frame in tables.items():
            con.execute(f"CREATE SCHEMA IF NOT EXISTS {name.split('.')[0]}")
            con.register("_src", frame.to_arrow())
            con.execute(f"CREATE OR REPLACE TABLE {name} AS SELECT * FROM _src")
            con.unregister("_src")
        return con


# ---------------------------------------------------------------------------------------------
# Editing readings after build (responses, shocks), by tariff band / event / event windows.
def modify_readings(
    con: duckdb.DuckDBPyConnection,
    households: list[str],
    *,
    factor: float = 1.0,
    add: float = 0.0,
    band: str | None = None,
    event_ids: list[int] | None = None,
    window: str | None = None,
    hours: float = 3.0,
) -> int:
    """kwh := kwh * factor + add for the households' readings in the selected half hours.

    Selection: the half hours of ``band`` (optionally only ``event_ids``), or with ``window`` =
    'rebound' / 'preload' the Normal half hours within ``hours`` after / before each selected High event.
    Returns the number of readings changed.
    """
    ids = "" if event_ids is None else f"AND event_id IN ({', '.join(str(int(i)) for i in event_ids)})"
    if window is None:
        sel = f"SELECT interval_start_utc AS ts FROM ingest.tariff_schedule WHERE band = '{band}' {ids}"
    else:
        minutes = int(hours * 60)
        if window == "rebound":
            lo, hi = "ev.e", f"ev.e + INTERVAL {minutes} MINUTE"
        else:
            lo, hi = f"ev.s - INTERVAL {minutes} MINUTE", "ev.s"
        sel = f"""
            WITH ev AS (
                SELECT event_id, min(interval_start_utc) AS s,
                       max(interval_start_utc) + INTERVAL 30 MINUTE AS e
                FROM ingest.tariff_schedule WHERE band = 'High' {ids} GROUP BY event_id
            )
            SELECT DISTINCT t.interval_start_utc AS ts FROM ingest.tariff_schedule t
            JOIN ev ON t.interval_start_utc >= {lo} AND t.interval_start_utc < {hi}
            WHERE t.band = 'Normal'
        """
    hh = ", ".join(f"'{h}'" for h in households)
    before = con.execute("SELECT count(*) FROM clean.clean_readings").fetchall()[0][0]
    changed = con.execute(
        f"""
        UPDATE clean.clean_readings r
        SET kwh = r.kwh * {float(factor)} + {float(add)},
            raw_kwh = CASE WHEN r.raw_kwh IS NULL THEN NULL ELSE r.kwh * {float(factor)} + {float(add)} END
        FROM ({sel}) s
        WHERE r.interval_start_utc = s.ts AND r.household_id IN ({hh})
        """
    ).fetchall()[0][0]
    assert con.execute("SELECT count(*) FROM clean.clean_readings").fetchall()[0][0] == before
    return int(changed)


# ---------------------------------------------------------------------------------------------
# A small trial: 8-week baseline and treatment windows, 4 High events (one per start bucket) and
# 2 Low events (one on a weekend), 5 controls and 3 treated households with planted responses.
BASE_WINDOW = (date(2012, 1, 9), date(2012, 3, 5))
TRIAL_WINDOW = (date(2013, 1, 7), date(2013, 3, 4))
TRIAL_EVENTS = [
    Event(datetime(2013, 1, 15, 17), 6, "High"),  # 1 evening (Tue)
    Event(datetime(2013, 1, 23, 5), 6, "High"),  # 2 morning (Wed)
    Event(datetime(2013, 1, 31, 11), 6, "High"),  # 3 afternoon (Thu)
    Event(datetime(2013, 2, 12, 23), 6, "High"),  # 4 night (Tue -> Wed)
    Event(datetime(2013, 2, 18, 11), 12, "Low"),  # 5 (Mon)
    Event(datetime(2013, 2, 23, 23), 12, "Low"),  # 6 weekend (Sat -> Sun)
]
CONTROL_LEVELS = {"C1": 0.5, "C2": 0.8, "C3": 1.0, "C4": 1.3, "C5": 2.0}


def base_profile(level: float = 1.0) -> Callable[[], pl.Expr]:
    """Deterministic daily profile: night 0.2, 06-09 +0.3, 16-22 +0.6, weekends +0.1; x level."""

    def expr() -> pl.Expr:
        value = (
            pl.lit(0.2)
            + pl.when(pl.col("slot").is_between(12, 17)).then(0.3).otherwise(0.0)
            + pl.when(pl.col("slot").is_between(32, 43)).then(0.6).otherwise(0.0)
            + pl.when(pl.col("weekday") >= 6).then(0.1).otherwise(0.0)
        )
        return value * level

    return expr


def profile_values(level: float = 1.0, weekend: bool = False) -> list[float]:
    out = []
    for s in range(48):
        v = 0.2 + (0.3 if 12 <= s <= 17 else 0.0) + (0.6 if 32 <= s <= 43 else 0.0) + (0.1 if weekend else 0.0)
        out.append(v * level)
    return out


def trial_builder(events: list[Event] | None = None) -> WarehouseBuilder:
    b = WarehouseBuilder().schedule(date(2013, 1, 1), date(2014, 1, 1), TRIAL_EVENTS if events is None else events)
    for hid, level in CONTROL_LEVELS.items():
        b.household(hid, "Std")
        b.add_readings(hid, *BASE_WINDOW, base_profile(level)).add_readings(hid, *TRIAL_WINDOW, base_profile(level))
    # T1: baseline data; 10 % more load in 2013 than in 2012
    b.household("T1", "ToU", "ACORN-H")
    b.add_readings("T1", *BASE_WINDOW, base_profile(1.0)).add_readings("T1", *TRIAL_WINDOW, base_profile(1.1))
    # T2: trial-year data only
    b.household("T2", "ToU", "ACORN-Q").add_readings("T2", *TRIAL_WINDOW, base_profile(0.9))
    # T3: stops before the first event
    b.household("T3", "ToU", None).add_readings("T3", TRIAL_WINDOW[0], date(2013, 1, 14), base_profile(1.0))
    return b


def trial_settings(**overrides) -> FeatureSettings:
    values = dict(
        baseline_start=BASE_WINDOW[0], baseline_end=BASE_WINDOW[1],
        treatment_start=TRIAL_WINDOW[0], treatment_end=TRIAL_WINDOW[1],
        reference_weeks=2, bootstrap_replicates=200,
    )  # fmt: skip
    values.update(overrides)
    return FeatureSettings(**values)


def mark_estimated(con: duckdb.DuckDBPyConnection, household: str, event_id: int, kwh: float) -> int:
    """Turn the household's readings in one event into estimates with an absurd value."""
    return con.execute(
        f"""
        UPDATE clean.clean_readings r SET quality_code = 'E', kwh = {float(kwh)}, raw_kwh = NULL,
               source_file = NULL, source_line = NULL
        FROM ingest.tariff_schedule t
        WHERE r.interval_start_utc = t.interval_start_utc AND t.event_id = {int(event_id)}
          AND r.household_id = '{household}'
        """
    ).fetchall()[0][0]


def noisy_trial_builder(
    n_controls: int = 30,
    responders: dict[str, float] | None = None,
    n_null_treated: int = 2,
    seed: int = 11,
    weekdays: tuple[int, ...] = (1, 3),
) -> tuple[WarehouseBuilder, list[Event]]:
    """Households with random levels and iid noise in both windows; High events at 17:00 on ``weekdays``
    (days after Monday: 1 = Tuesday, 3 = Thursday) of 6 weeks (12 events by default).

    ``responders``: treated household id -> High multiplier, planted later with modify_readings.
    """
    rng = np.random.default_rng(seed)
    mondays = [date(2013, 1, 14) + timedelta(weeks=k) for k in range(6)]
    events = [
        Event(datetime.combine(d + timedelta(days=off), time(17)), 6, "High") for d in mondays for off in weekdays
    ]
    b = WarehouseBuilder().schedule(date(2013, 1, 1), date(2014, 1, 1), events)
    treated = list((responders or {}).keys()) + [f"N{i}" for i in range(n_null_treated)]
    ids = [(f"S{i:02d}", "Std") for i in range(n_controls)] + [(h, "ToU") for h in treated]
    for hid, group in ids:
        level = float(rng.uniform(0.5, 1.5))
        b.household(hid, group)
        for window in (BASE_WINDOW, TRIAL_WINDOW):
            n = local_frame(*window).height
            noise = pl.Series(np.clip(1.0 + rng.normal(0.0, 0.25, n), 0.05, None))
            b.add_readings(hid, *window, lambda level=level, noise=noise: base_profile(level)() * pl.lit(noise))
    return b, events


def write_month_coverage(con) -> None:
    """clean.household_month_coverage as clean writes it (actual and estimated half hours per month)."""
    con.execute(
        """CREATE OR REPLACE TABLE clean.household_month_coverage AS
           SELECT household_id, reading_month,
                  CAST(count(*) FILTER (WHERE quality_code = 'A') AS INTEGER) AS actual_half_hours,
                  CAST(count(*) FILTER (WHERE quality_code = 'E') AS INTEGER) AS estimated_half_hours
           FROM clean.clean_readings GROUP BY ALL"""
    )
