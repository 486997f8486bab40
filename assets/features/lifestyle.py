"""Lifestyle (load-shape) features of each household over one window: the SAME function serves the
baseline year (``window='baseline'``) and the trial year restricted to days without any High/Low
half hour (``window='treatment_normal_days'``).

Heavy work is three aggregating DuckDB scans of the actual readings joined to the window's local grid:
(household, slot, day type, season) sums, (household, local day) totals with 4-hour block sums, and
the night-time quantile. Everything after that is per-household polars.

Every feature's definition (name, unit, hour window, formula, description) is in
assets/features/catalogue.py; this module computes them (window features from the catalogue entries).
"""

from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import polars as pl

from assets.features import aggregate_reads, aggregates, meter_health
from assets.features.catalogue import LIFESTYLE, PROFILE_COLUMNS, SHAPE_COLUMNS, feature
from assets.features.duck import fetch, scratch, statement
from assets.features.local_time import local_grid, window_utc_bounds
from assets.features.schedule import build_event_schedule, load_schedule
from assets.features.schemas.lifestyle_features import LIFESTYLE_COLUMNS
from assets.features.settings import FeatureSettings

LIFESTYLE_WINDOWS = ("baseline", "treatment_normal_days")
# Block shares of a day that differ by less than this are equal when a day's shape type is decided (the
# largest block, or 'flat' below the threshold share). A block sum adds at most 16 half hours, and the
# engines (DuckDB, Spark) add them in different orders: the sums, and so the shares, differ by about
# 1e-15 relative between them, which flipped exact ties of metered values (equal blocks, a share of
# exactly 0.25) to either side on the real sample. Meters resolve 0.001 kWh, at least 1e-5 of a day's
# kWh on any day with load: 1e-9 is far above the summation noise and far below anything measured.
SHARE_TIE = 1e-9
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
    return _window_aggregates(con, settings, window)[1]


def _window_aggregates(
    con: duckdb.DuckDBPyConnection, settings: FeatureSettings, window: str, schedule: pl.DataFrame | None = None
) -> tuple[pl.DataFrame, tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]]:
    """The window's local grid and its SQL aggregates (slot sums, daily totals, night-time quantile)."""
    grid, start, end = lifestyle_grid(con, settings, window, schedule)
    aggregates = _aggregate_sql(
        con,
        settings,
        grid,
        start,
        end,
        whole_days_only=window == "baseline",
        normal_days=window == "treatment_normal_days",
        window=window,
    )
    return grid, aggregates


def _aggregate_sql(
    con,
    settings: FeatureSettings,
    grid: pl.DataFrame,
    start: date,
    end: date,
    whole_days_only: bool = False,
    normal_days: bool = False,
    window: str = "",
):
    """(slot, day, night) polars frames of a window: from the per-household-month aggregates where they
    answer (assets/features/aggregates.py), else from aggregating scans of the readings. The night-time
    quantile always reads the readings of the window (an exact quantile needs the single values).

    ``whole_days_only``: the grid holds every half hour of [start, end) (no day left out), so the slot
    sums of whole local months can come from the month aggregates. ``normal_days``: the grid holds the
    window's days without a High/Low half hour, whose slot sums can come from the tariff schedule's
    event-free-day aggregates. Which table answered each read is noted (:func:`aggregate_reads.answered`).
    """
    lo, hi = window_utc_bounds(start, end, settings.timezone)
    block_slots = settings.entropy_block_hours * 2
    n_blocks = N_SLOTS // block_slots
    base_lo, base_hi = feature("base_load_kwh").slots(settings)
    usable = aggregate_reads.aggregates_usable(con, settings)
    with scratch(con) as s:
        g = s.frame(
            "grid",
            grid.select("interval_start_utc", "local_date", "slot", "day_half_hours", "day_type", "season"),
        )
        tables = {"readings": settings.readings_table, "grid": g}
        bounds = {"lo": lo, "hi": hi}
        label = f"({window or 'window'} {start}..{end})"
        slot, slot_table = None, settings.readings_table
        if usable and whole_days_only and aggregate_reads.whole_local_months(start, end):
            slot, slot_table = aggregate_reads.slot_sums(con, settings, start, end), aggregates.SLOTS_TABLE
        elif usable and normal_days:
            slot, slot_table = (
                aggregate_reads.normal_day_slot_sums(con, settings, grid, start, end),
                aggregates.REFERENCE_TABLE,
            )
        if slot is None:
            slot, slot_table = fetch(con, statement("lifestyle_slot", **tables), bounds), settings.readings_table
        aggregate_reads.answered(con, f"lifestyle slot sums {label}", slot_table)
        day = aggregate_reads.day_sums(con, settings, grid) if usable else None
        aggregate_reads.answered(
            con, f"lifestyle daily sums {label}", aggregates.DAYS_TABLE if day is not None else settings.readings_table
        )
        if day is None:
            day = fetch(con, statement("lifestyle_day", **tables), bounds)
            blocks = fetch(con, statement("lifestyle_day_blocks", **tables), {**bounds, "block_slots": block_slots})
            day = _with_block_columns(day, blocks, n_blocks)
        night = fetch(
            con,
            statement("lifestyle_base_load", **tables),
            {**bounds, "quantile": float(settings.base_load_quantile), "slot_lo": base_lo, "slot_hi": base_hi},
        )
        aggregate_reads.answered(con, f"lifestyle base-load quantile {label}", settings.readings_table)  # always
    return slot, day, night


def _with_block_columns(day: pl.DataFrame, blocks: pl.DataFrame, n_blocks: int) -> pl.DataFrame:
    """The day totals with one column b0..b{n-1} per block of the day (0 where a block has no reading)."""
    names = [f"b{k}" for k in range(n_blocks)]
    if blocks.height == 0:
        return day.with_columns([pl.lit(0.0).alias(n) for n in names])
    wide = blocks.pivot(on="block", index=["household_id", "local_date"], values="kwh", sort_columns=True)
    wide = wide.rename({str(k): f"b{k}" for k in range(n_blocks) if str(k) in wide.columns})
    wide = wide.with_columns([pl.lit(0.0).alias(n) for n in names if n not in wide.columns])
    return day.join(
        wide.select("household_id", "local_date", *names), on=["household_id", "local_date"], how="left"
    ).with_columns(pl.col(names).fill_null(0.0))


def _slot_window_mean(profile: pl.DataFrame, lo: int, hi: int, name: str, inside: bool = True) -> pl.DataFrame:
    cond = pl.col("slot").is_between(lo, hi - 1)
    return profile.filter(cond if inside else ~cond).group_by("household_id").agg(pl.col("p").mean().alias(name))


def _peak_hour(profile: pl.DataFrame, lo: int, hi: int, name: str) -> pl.DataFrame:
    """Start hour of the highest profile slot in [lo, hi). Slots whose means agree to 1e-12 kWh are
    ties (the earlier wins), so the order in which the means' sums were added cannot pick the peak."""
    return (
        profile.filter(pl.col("slot").is_between(lo, hi - 1) & pl.col("p").is_not_null())
        .with_columns(_p=pl.col("p").round(12))
        .sort(["household_id", "_p", "slot"], descending=[False, True, False])
        .group_by("household_id", maintain_order=True)
        .first()
        .select("household_id", (pl.col("slot").cast(pl.Float64) / 2.0).alias(name))
    )


def _winter_weekday_peak_kw(slot: pl.DataFrame, settings: FeatureSettings) -> pl.DataFrame:
    """winter_weekday_peak_kw (catalogue): from the (household, slot, day type, season) sums of the
    lifestyle_slot scan, so no extra pass over the half-hourly readings."""
    lo, hi = feature("winter_weekday_peak_kw").slots(settings)
    min_n = settings.min_season_half_hours * (hi - lo) / N_SLOTS  # 14 days' worth of peak readings
    per_slot = (
        slot.filter(
            (pl.col("day_type") == "weekday") & (pl.col("season") == "winter") & pl.col("slot").is_between(lo, hi - 1)
        )
        .group_by("household_id", "slot")
        .agg(p=pl.col("kwh").sum() / pl.col("n").sum(), n=pl.col("n").sum())
    )
    return (
        per_slot.group_by("household_id")
        .agg(mean_kwh=pl.col("p").mean(), n=pl.col("n").sum(), slots=pl.len())
        .select(
            "household_id",
            winter_weekday_peak_kw=pl.when((pl.col("n") >= min_n) & (pl.col("slots") == hi - lo)).then(
                2.0 * pl.col("mean_kwh")
            ),
        )
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
            # flat below the threshold share; else the earliest block within SHARE_TIE of the largest
            shape_type=pl.when(pl.col("shares").list.max() < settings.entropy_flat_max_share - SHARE_TIE)
            .then(pl.lit(-1, dtype=pl.Int64))
            .otherwise(
                pl.col("shares").list.eval((pl.element() >= pl.element().max() - SHARE_TIE).arg_max()).list.first()
            )
            .cast(pl.Int64)
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
    grid, (slot, day, night) = _window_aggregates(con, settings, window, schedule)
    expected = grid.height
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

    # Window features of the catalogue: each takes its slots from its own hour window.
    peak_lo, peak_hi = feature("peak_kwh_per_half_hour").slots(settings)
    shares = []
    for f in LIFESTYLE:
        if f.formula == "window_share":
            lo, hi = f.slots(settings)
            shares.append(
                profile.filter(pl.col("slot").is_between(lo, hi - 1))
                .group_by("household_id")
                .agg(pl.col("p").sum().alias(f"{f.name}_kwh"))
            )
    peak_hours = [_peak_hour(profile, *f.slots(settings), f.name) for f in LIFESTYLE if f.formula == "window_peak_hour"]

    day = day.with_columns(complete=pl.col("n") == pl.col("day_half_hours"))
    daily = (
        day.group_by("household_id")
        .agg(
            actual_half_hours=pl.col("n").sum().cast(pl.Int64),
            complete_days=pl.col("complete").sum().cast(pl.Int32),
            mean_daily_kwh=pl.col("total").filter(pl.col("complete")).mean(),
            daily_sd=pl.col("total").filter(pl.col("complete")).std(ddof=1),
            max_kwh=pl.col("max_kwh").max(),
        )
        .join(meter_health.household_health(day, settings), on="household_id", how="left")
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
        *peak_hours,
        night,
        _winter_weekday_peak_kw(slot, settings),
        _entropy(day, settings),
        *shares,
        wide_shape,
    ):
        out = out.join(part, on="household_id", how="left")

    mean_hh = pl.col("mean_kwh_per_half_hour")
    out = out.with_columns(
        lifestyle_window=pl.lit(window),
        expected_half_hours=pl.lit(expected, dtype=pl.Int64),
        # meter-flagged days count as missing (meter_health.py)
        coverage=((pl.col("actual_half_hours") - pl.col("meter_flagged_half_hours")) / expected)
        if expected
        else pl.lit(None, dtype=pl.Float64),
        peak_offpeak_ratio=_ratio(pl.col("peak_kwh_per_half_hour"), pl.col("offpeak_kwh")),
        daily_cv=pl.when(pl.col("mean_daily_kwh") > 0).then(pl.col("daily_sd") / pl.col("mean_daily_kwh")),
        load_factor=_ratio(mean_hh, pl.col("max_kwh")),
        weekday_weekend_ratio=_ratio(pl.col("weekday_kwh"), pl.col("weekend_kwh")),
        winter_summer_ratio=_ratio(pl.col("winter_kwh"), pl.col("summer_kwh")),
        **{
            f.name: _ratio(pl.col(f"{f.name}_kwh"), pl.col("profile_total"))
            for f in LIFESTYLE
            if f.formula == "window_share"
        },
        **{shape: _ratio(pl.col(prof), mean_hh) for shape, prof in zip(SHAPE_COLUMNS, PROFILE_COLUMNS, strict=True)},
    )
    return conform_lifestyle(out)


def empty_lifestyle_frame() -> pl.DataFrame:
    return pl.DataFrame(schema=dict(LIFESTYLE_COLUMNS))


def conform_lifestyle(frame: pl.DataFrame) -> pl.DataFrame:
    """Select and cast to the lifestyle column contract, sorted by household."""
    return frame.select([pl.col(name).cast(dtype) for name, dtype in LIFESTYLE_COLUMNS]).sort("household_id")
