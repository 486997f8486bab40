"""Persona profiles in kW, and the High-event-day vs normal-day overlay of measured ToU households.

The half-hourly work is one DuckDB statement (``sql/persona_kw_profiles.sql``); only one row per
persona x line x local half-hour slot comes back into polars. Time conventions are the pipeline's
own, not re-derived here: readings are priced by ``clean_readings.interval_start_utc =
tariff_schedule.interval_start_utc`` (the schedule is already on the readings' UTC grid), and the
local date, clock slot and day type of each UTC half hour come from
:func:`assets.features.local_time.local_grid` (bank holidays and DST rule in one home there).

Days (UK local dates within the tariff schedule):

* **High-event day**: at least one High half hour and no Low half hour (a day that also holds Low
  hours would show the Low-price response as if it were pre-loading);
* **normal day**: every half hour labelled and none High or Low;
* days with Low half hours are in neither line.

Lines (kW = kWh per half hour x 2; each household's mean first, then the mean over households):

* ``all_members_normal_days``: every member of the persona on normal days (the persona's typical
  day in kW, measured, not rescaled from the normalised centroid);
* ``high_event_days`` / ``normal_days``: the persona's households with a measured price response
  (ToU), event days against normal days of the same local month and day type, each stratum weighted
  by the household's event-day readings, so that winter-heavy event days are not compared with
  summer normal days;
* ``difference``: high_event_days - normal_days per household (paired), then averaged;
* ``control_difference``: the same paired difference for the control (flat-rate) households of the
  persona's lifestyle segment, on the schedule's event and normal days (paired the same way): what event
  days do to load without a price
  signal (weather, the days chosen). ``difference`` minus it is the difference in differences.

Band: the 95 % t interval over households (``scipy.stats.t``) of each slot's mean. Lines describing
fewer than ``k`` households are suppressed (``privacy.suppress_small_groups``): their values are
blanked and the plot leaves them out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import polars as pl

from assets.common.sql import load_sql, qualified_name
from assets.features.duck import Connection, fetch, scratch
from assets.features.local_time import local_grid
from assets.features.settings import FeatureSettings
from assets.reports.privacy import suppress_small_groups

ASSIGNMENTS_TABLE = "model.segment_assignments"
LINES = ("all_members_normal_days", "high_event_days", "normal_days", "difference", "control_difference")
LINE_LABELS = {
    "all_members_normal_days": "all members, normal days",
    "high_event_days": "High-event days",
    "normal_days": "normal days (same months and day types)",
    "difference": "event day - normal day",
    "control_difference": "controls of the same lifestyle segment: event day - normal day",
}
PROFILE_SCHEMA = {
    "persona_name": pl.String,
    "line": pl.String,
    "slot": pl.Int16,
    "n_households": pl.Int64,
    "mean_kw": pl.Float64,
    "sd_kw": pl.Float64,
    "n_days": pl.Int64,
    "ci_low_kw": pl.Float64,
    "ci_high_kw": pl.Float64,
    "suppressed": pl.Boolean,
}
HIGH_SHARE_SCHEMA = {"slot": pl.Int16, "high_share": pl.Float64, "n_days": pl.Int64}
CONFIDENCE = 0.95
HALF_HOUR = timedelta(minutes=30)


def empty_profiles() -> pl.DataFrame:
    return pl.DataFrame(schema=PROFILE_SCHEMA)


def t_interval(mean: np.ndarray, sd: np.ndarray, n: np.ndarray, confidence: float = CONFIDENCE):
    """(low, high) of the t interval of a mean over ``n`` households; NaN where n < 2 (no spread)."""
    from scipy import stats

    n = np.asarray(n, dtype=float)
    sd = np.asarray(sd, dtype=float)
    mean = np.asarray(mean, dtype=float)
    ok = (n >= 2) & np.isfinite(sd)
    se = np.where(ok, sd / np.sqrt(np.where(ok, n, 1.0)), 0.0)
    half = stats.t.ppf(0.5 + confidence / 2.0, np.where(ok, n - 1.0, 1.0)) * se
    return np.where(ok, mean - half, np.nan), np.where(ok, mean + half, np.nan)


def with_intervals(raw: pl.DataFrame, k: int) -> pl.DataFrame:
    """Rows of the SQL plus the 95 % t interval; lines of fewer than ``k`` households suppressed."""
    if raw.height == 0:
        return empty_profiles()
    raw = raw.cast({c: t for c, t in PROFILE_SCHEMA.items() if c in raw.columns})  # type: ignore[arg-type]
    event_days = (
        raw.filter(pl.col("line") == "high_event_days")
        .group_by("persona_name")
        .agg(pl.col("n_days").max().alias("_event_days"))
    )
    raw = (
        raw.join(event_days, on="persona_name", how="left")
        .with_columns(
            n_days=pl.when(pl.col("line").is_in(["difference", "control_difference"]))
            .then(pl.col("_event_days"))
            .otherwise(pl.col("n_days"))
        )
        .drop("_event_days")
    )
    low, high = t_interval(raw["mean_kw"].to_numpy(), raw["sd_kw"].fill_null(np.nan).to_numpy(), raw["n_households"])
    out = raw.with_columns(
        pl.Series("ci_low_kw", low, dtype=pl.Float64).fill_nan(None),
        pl.Series("ci_high_kw", high, dtype=pl.Float64).fill_nan(None),
    )
    out = suppress_small_groups(out, "n_households", k, keep_columns=("persona_name", "line", "slot"))
    return out.select(list(PROFILE_SCHEMA)).sort("persona_name", "line", "slot")


@dataclass(frozen=True)
class PersonaProfiles:
    """``lines``: per persona x line x slot (PROFILE_SCHEMA); ``high_share``: per local slot, the share of
    High-event days priced High at that half hour (calendar, the same for every persona)."""

    lines: pl.DataFrame
    high_share: pl.DataFrame

    @property
    def empty(self) -> bool:
        return self.lines.height == 0


def no_profiles() -> PersonaProfiles:
    return PersonaProfiles(empty_profiles(), pl.DataFrame(schema=HIGH_SHARE_SCHEMA))


def read_persona_kw_profiles(
    con: Connection,
    k: int,
    settings: FeatureSettings | None = None,
    assignments_table: str = ASSIGNMENTS_TABLE,
) -> PersonaProfiles:
    """Per persona x line x slot: households, days, mean kW and its 95 % interval (see module doc).

    Empty when there is no tariff schedule (no trial year to define event and normal days).
    """
    settings = settings or FeatureSettings()
    (span,) = fetch(
        con, f"SELECT min(local_label_start), max(local_label_start) FROM {qualified_name(settings.tariff_table)}"
    ).rows()
    if span[0] is None:
        return no_profiles()
    first, last = span[0].date(), span[1].date() + timedelta(days=1)
    grid = local_grid(first, last, settings).select("interval_start_utc", "local_date", "slot", "day_type", "month")
    if grid.height == 0:
        return no_profiles()
    with scratch(con) as s:
        grid_table = s.frame("report_grid", grid)
        sql = load_sql(__file__, "persona_kw_profiles").format(
            readings=qualified_name(settings.readings_table),
            schedule=qualified_name(settings.tariff_table),
            grid=qualified_name(grid_table),
            assignments=qualified_name(assignments_table),
            households=qualified_name(settings.households_table),
        )
        bounds = {
            "lo": grid["interval_start_utc"].min(),
            "hi": grid["interval_start_utc"].max() + HALF_HOUR,
            "control": settings.control_group,
        }
        raw = fetch(con, sql, bounds)
        share_sql = load_sql(__file__, "event_day_high_share").format(
            grid=qualified_name(grid_table), schedule=qualified_name(settings.tariff_table)
        )
        share = fetch(con, share_sql).cast(HIGH_SHARE_SCHEMA)  # type: ignore[arg-type]
    return PersonaProfiles(with_intervals(raw, k), share)


def profile_notes(profiles: pl.DataFrame, k: int) -> list[str]:
    """One sentence per persona: how many households and days each line averages."""
    out: list[str] = []
    for (name,), part in profiles.partition_by("persona_name", as_dict=True, maintain_order=True).items():
        lines = {
            r["line"]: r
            for r in part.group_by("line")
            .agg(pl.col("n_households").max(), pl.col("n_days").max(), pl.col("suppressed").all())
            .iter_rows(named=True)
        }
        allm = lines.get("all_members_normal_days")
        ev = lines.get("high_event_days")
        nd = lines.get("normal_days")
        parts = []
        if allm is not None:
            parts.append(
                f"fewer than {k} households, suppressed"
                if allm["suppressed"]
                else f"kW profile: {allm['n_households']:,} households on {allm['n_days']:,} normal days"
            )
        if ev is None or nd is None:
            parts.append("no measured ToU household with both High-event and normal days")
        elif ev["suppressed"] or nd["suppressed"]:
            parts.append(f"event-day overlay: fewer than {k} measured ToU households, suppressed")
        else:
            ctl = lines.get("control_difference")
            controls = (
                "no control household of its lifestyle segment"
                if ctl is None
                else f"fewer than {k} controls of its lifestyle segment, suppressed"
                if ctl["suppressed"]
                else f"beside {ctl['n_households']:,} controls of its lifestyle segment on the schedule's event and "
                "normal days"
            )
            parts.append(
                f"event-day overlay: {ev['n_households']:,} measured ToU households, {ev['n_days']:,} High-event "
                f"days without Low hours against {nd['n_days']:,} normal days of the same months and day types, "
                + controls
            )
        out.append(f"{name}: " + "; ".join(parts) + ".")
    return out
