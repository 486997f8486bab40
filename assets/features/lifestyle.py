"""Lifestyle (load-shape) features of each household over one window: the SAME function serves the
baseline year (``window='baseline'``) and the trial year restricted to days without any High/Low
half hour (``window='treatment_normal_days'``).

Heavy work is three aggregating DuckDB scans of the actual readings joined to the window's local grid:
(household, slot, day type, season) sums, (household, local day) totals with 4-hour block sums, and
the night-time quantile. Everything after that is per-household polars.

Definitions (local clock slot of the interval START, see local_time.py for the DST rule):
- profile_kwh_sNN: mean kWh of the household's actual readings in local slot NN (mean over readings).
- mean_kwh_per_half_hour: mean of the 48 profile values (slot-balanced; equals the plain mean of the
  readings when every slot is equally observed). shape_sNN = profile_kwh_sNN / mean_kwh_per_half_hour,
  so the shape values average exactly 1.
- mean_daily_kwh, daily_cv: mean and sample CV (ddof=1) of the totals of COMPLETE local days (every
  half hour of the local day - 46, 48 or 50 - has an actual reading).
- peak_kwh_per_half_hour: mean profile over the peak slots; peak_offpeak_ratio: that / mean profile
  over all other slots.
- load_factor: mean_kwh_per_half_hour / the largest actual half-hourly reading.
- base_load_kwh: the ``base_load_quantile`` (linear interpolation) of actual readings in the night
  hours (default 01:00-05:00).
- morning/evening_peak_hour: local start hour (x.0 or x.5) of the largest profile slot in the window
  (earliest slot on ties).
- weekday_weekend_ratio, winter_summer_ratio: ratio of the slot-balanced mean profiles of the two
  day types / seasons (bank holidays count as weekend). winter_summer_ratio is None when either season
  has fewer than ``min_season_half_hours`` actual readings.
- shape_entropy: normalised Shannon entropy (0..1) of the distribution of the household's complete,
  non-zero days over a fixed dictionary of daily-shape types: the 4-hour local block that holds the
  largest share of the day's kWh (6 types), or 'flat' when no block holds ``entropy_flat_max_share``
  of the day (1 type). Entropy = -sum p ln p / ln 7: 0 = every day has the same shape type,
  1 = days spread evenly over all 7 types. A rule-based dictionary keeps the feature reproducible and
  SQL-cheap at LCL scale (a learned k-means dictionary, as in Kwac et al., would need every day shape).
- night_share, daytime_share, evening_share: share of the mean daily profile's kWh in those hours.
- coverage: actual half hours / half hours of the included local days of the window.
"""

from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import polars as pl

from assets.features.duck import fetch, scratch
from assets.features.local_time import local_grid, window_utc_bounds
from assets.features.schedule import build_event_schedule, load_schedule
from assets.features.schemas.lifestyle_features import LIFESTYLE_COLUMNS, PROFILE_COLUMNS, SHAPE_COLUMNS
from assets.features.settings import FeatureSettings

LIFESTYLE_WINDOWS = ("baseline", "treatment_normal_days")
N_SLOTS = 48


def lifestyle_grid(
    con: duckdb.DuckDBPyConnection,
    settings: FeatureSettings,
    window: str,
    schedule: pl.DataFrame | None = None,
) -> tuple[pl.DataFrame, date, date]:
    """The included half hours of a lifestyle window, and the window's local dates."""
    if window == "baseline":
        start, end = settings.baseline_start, settings.baseline_end
        return local_grid(start, end, settings), start, end
    if window == "treatment_normal_days":
        start, end = settings.treatment_start, settings.treatment_end
        sched = load_schedule(con, settings) if schedule is None else schedule
        grid = build_event_schedule(sched, local_grid(start, end, settings), settings).grid
        return grid.filter(~pl.col("has_event")).drop("band", "ref_eligible", "has_event"), start, end
    raise ValueError(f"window must be one of {LIFESTYLE_WINDOWS}, got {window!r}")


def expected_half_hours(
    con: duckdb.DuckDBPyConnection,
    settings: FeatureSettings,
    window: str,
    schedule: pl.DataFrame | None = None,
) -> int:
    """Half hours of the included local days of a lifestyle window (the coverage denominator)."""
    return lifestyle_grid(con, settings, window, schedule)[0].height


def lifestyle_aggregates(
    con: duckdb.DuckDBPyConnection, settings: FeatureSettings, window: str = "baseline"
) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    """The SQL aggregates behind the lifestyle features (for inspection and tests):
    (household, slot, day_type, season) sums, (household, local_date) totals, night-time quantile."""
    grid, start, end = lifestyle_grid(con, settings, window)
    return _aggregate_sql(con, settings, grid, start, end)


def _aggregate_sql(con, settings: FeatureSettings, grid: pl.DataFrame, start: date, end: date):
    """The three aggregating scans of the readings; returns (slot, day, night) polars frames."""
    lo, hi = window_utc_bounds(start, end, settings.timezone)
    block_slots = settings.entropy_block_hours * 2
    n_blocks = N_SLOTS // block_slots
    base_lo, base_hi = settings.slots(settings.base_load_hours)
    with scratch(con) as s:
        g = s.frame(
            "grid",
            grid.select("interval_start_utc", "local_date", "slot", "day_half_hours", "day_type", "season"),
        )
        src = (
            f"FROM {settings.readings_table} r JOIN {g} g ON r.interval_start_utc = g.interval_start_utc "
            "WHERE r.quality_code = 'A' AND r.interval_start_utc >= ? AND r.interval_start_utc < ?"
        )
        slot = fetch(
            con,
            f"SELECT r.household_id, g.slot, g.day_type, g.season, sum(r.kwh) AS kwh, count(*) AS n {src} GROUP BY ALL",
            [lo, hi],
        )
        blocks = ", ".join(
            f"coalesce(sum(r.kwh) FILTER (WHERE g.slot // {block_slots} = {k}), 0) AS b{k}" for k in range(n_blocks)
        )
        day = fetch(
            con,
            f"SELECT r.household_id, g.local_date, any_value(g.day_half_hours) AS day_half_hours, "
            f"count(*) AS n, sum(r.kwh) AS total, max(r.kwh) AS max_kwh, {blocks} {src} GROUP BY ALL",
            [lo, hi],
        )
        q = float(settings.base_load_quantile)
        night = fetch(
            con,
            f"SELECT r.household_id, quantile_cont(r.kwh, {q}) AS base_load_kwh "
            f"{src} AND g.slot >= {base_lo} AND g.slot < {base_hi} GROUP BY ALL",
            [lo, hi],
        )
    return slot, day, night


def _slot_window_mean(profile: pl.DataFrame, lo: int, hi: int, name: str, inside: bool = True) -> pl.DataFrame:
    cond = pl.col("slot").is_between(lo, hi - 1)
    return profile.filter(cond if inside else ~cond).group_by("household_id").agg(pl.col("p").mean().alias(name))


def _peak_hour(profile: pl.DataFrame, hours: tuple[float, float], name: str) -> pl.DataFrame:
    lo, hi = FeatureSettings.slots(hours)
    return (
        profile.filter(pl.col("slot").is_between(lo, hi - 1) & pl.col("p").is_not_null())
        .sort(["household_id", "p", "slot"], descending=[False, True, False])
        .group_by("household_id", maintain_order=True)
        .first()
        .select("household_id", (pl.col("slot").cast(pl.Float64) / 2.0).alias(name))
    )


def _ratio(a: pl.Expr, b: pl.Expr) -> pl.Expr:
    return pl.when(b > 0).then(a / b).otherwise(None)


def _entropy(day: pl.DataFrame, settings: FeatureSettings) -> pl.DataFrame:
    block_cols = [c for c in day.columns if c.startswith("b") and c[1:].isdigit()]
    n_types = len(block_cols) + 1
    typed = (
        day.filter(pl.col("complete") & (pl.col("total") > 0))
        .with_columns(shares=pl.concat_list([pl.col(c) / pl.col("total") for c in block_cols]))
        .with_columns(
            shape_type=pl.when(pl.col("shares").list.max() < settings.entropy_flat_max_share)
            .then(pl.lit(-1, dtype=pl.Int64))
            .otherwise(pl.col("shares").list.arg_max().cast(pl.Int64))
        )
    )
    counts = typed.group_by("household_id", "shape_type").agg(pl.len().alias("k"))
    return counts.group_by("household_id").agg(
        shape_entropy=(
            -(pl.col("k") / pl.col("k").sum() * (pl.col("k") / pl.col("k").sum()).log()).sum() / np.log(n_types)
        ).abs()  # abs(): -0.0 -> 0.0 for single-type households
    )


def compute_lifestyle_features(
    con: duckdb.DuckDBPyConnection,
    settings: FeatureSettings,
    window: str = "baseline",
    *,
    schedule: pl.DataFrame | None = None,
) -> pl.DataFrame:
    """Lifestyle features of every household with at least one actual reading in the window.

    No coverage threshold is applied here (callers gate on ``coverage``). Columns are
    ``LIFESTYLE_COLUMNS`` of assets/features/schemas/lifestyle_features.py, in order.
    """
    grid, start, end = lifestyle_grid(con, settings, window, schedule)
    expected = grid.height
    slot, day, night = _aggregate_sql(con, settings, grid, start, end)
    if slot.height == 0:
        return empty_lifestyle_frame()

    households = slot.select("household_id").unique()
    profile = (
        households.join(pl.DataFrame({"slot": range(N_SLOTS)}, schema={"slot": pl.Int16}), how="cross")
        .join(
            slot.group_by("household_id", "slot").agg(p=pl.col("kwh").sum() / pl.col("n").sum()),
            on=["household_id", "slot"],
            how="left",
        )
        .sort("household_id", "slot")
    )
    level = profile.group_by("household_id").agg(
        mean_kwh_per_half_hour=pl.col("p").mean(), profile_total=pl.col("p").sum()
    )

    def typed_mean(column: str, value: str, name: str, min_n: int = 1) -> pl.DataFrame:
        part = (
            slot.filter(pl.col(column) == value)
            .group_by("household_id", "slot")
            .agg(p=pl.col("kwh").sum() / pl.col("n").sum(), n=pl.col("n").sum())
            .group_by("household_id")
            .agg(pl.col("p").mean().alias(name), pl.col("n").sum().alias(f"{name}_n"))
        )
        return part.with_columns(pl.when(pl.col(f"{name}_n") >= min_n).then(pl.col(name)).alias(name)).drop(f"{name}_n")

    peak_lo, peak_hi = settings.slots(settings.peak_hours)
    shares = []
    for name, hours in (
        ("night_share", settings.night_share_hours),
        ("daytime_share", settings.daytime_share_hours),
        ("evening_share", settings.evening_share_hours),
    ):
        lo, hi = settings.slots(hours)
        shares.append(
            profile.filter(pl.col("slot").is_between(lo, hi - 1))
            .group_by("household_id")
            .agg(pl.col("p").sum().alias(f"{name}_kwh"))
        )

    day = day.with_columns(complete=pl.col("n") == pl.col("day_half_hours"))
    daily = day.group_by("household_id").agg(
        actual_half_hours=pl.col("n").sum().cast(pl.Int64),
        complete_days=pl.col("complete").sum().cast(pl.Int32),
        mean_daily_kwh=pl.col("total").filter(pl.col("complete")).mean(),
        daily_sd=pl.col("total").filter(pl.col("complete")).std(ddof=1),
        max_kwh=pl.col("max_kwh").max(),
    )

    wide_shape = profile.pivot(on="slot", index="household_id", values="p", sort_columns=False)
    wide_shape = wide_shape.rename({str(i): PROFILE_COLUMNS[i] for i in range(N_SLOTS)})

    out = daily
    for part in (
        level,
        _slot_window_mean(profile, peak_lo, peak_hi, "peak_kwh_per_half_hour"),
        _slot_window_mean(profile, peak_lo, peak_hi, "offpeak_kwh", inside=False),
        typed_mean("day_type", "weekday", "weekday_kwh"),
        typed_mean("day_type", "weekend", "weekend_kwh"),
        typed_mean("season", "winter", "winter_kwh", settings.min_season_half_hours),
        typed_mean("season", "summer", "summer_kwh", settings.min_season_half_hours),
        _peak_hour(profile, settings.morning_peak_window, "morning_peak_hour"),
        _peak_hour(profile, settings.evening_peak_window, "evening_peak_hour"),
        night,
        _entropy(day, settings),
        *shares,
        wide_shape,
    ):
        out = out.join(part, on="household_id", how="left")

    mean_hh = pl.col("mean_kwh_per_half_hour")
    out = out.with_columns(
        lifestyle_window=pl.lit(window),
        expected_half_hours=pl.lit(expected, dtype=pl.Int64),
        coverage=(pl.col("actual_half_hours") / expected) if expected else pl.lit(None, dtype=pl.Float64),
        peak_offpeak_ratio=_ratio(pl.col("peak_kwh_per_half_hour"), pl.col("offpeak_kwh")),
        daily_cv=pl.when(pl.col("mean_daily_kwh") > 0).then(pl.col("daily_sd") / pl.col("mean_daily_kwh")),
        load_factor=_ratio(mean_hh, pl.col("max_kwh")),
        weekday_weekend_ratio=_ratio(pl.col("weekday_kwh"), pl.col("weekend_kwh")),
        winter_summer_ratio=_ratio(pl.col("winter_kwh"), pl.col("summer_kwh")),
        night_share=_ratio(pl.col("night_share_kwh"), pl.col("profile_total")),
        daytime_share=_ratio(pl.col("daytime_share_kwh"), pl.col("profile_total")),
        evening_share=_ratio(pl.col("evening_share_kwh"), pl.col("profile_total")),
        **{shape: _ratio(pl.col(prof), mean_hh) for shape, prof in zip(SHAPE_COLUMNS, PROFILE_COLUMNS, strict=True)},
    )
    return conform_lifestyle(out)


def empty_lifestyle_frame() -> pl.DataFrame:
    return pl.DataFrame(schema=dict(LIFESTYLE_COLUMNS))


def conform_lifestyle(frame: pl.DataFrame) -> pl.DataFrame:
    """Select and cast to the lifestyle column contract, sorted by household."""
    return frame.select([pl.col(name).cast(dtype) for name, dtype in LIFESTYLE_COLUMNS]).sort("household_id")
