"""A household's own reference consumption for an event half hour (DuckDB SQL, out of core).

Two references, both at the household's LOCAL clock slot of the interval start and its day type
(weekday / weekend incl. bank holidays):

- ``within``: the same slot on *event-free* local days (fully labelled, no High/Low half hour at all;
  stricter than "no event at that slot", so pre-loading and rebound on event days cannot leak into the
  reference) of the same day type, in the event day's local week (Mon-Sun) and the
  ``reference_weeks`` weeks either side. Aggregated to (household, slot, day type, week) first (the
  weekly sums of ``features.household_reference_slots`` where they answer), then spread over the
  +-N weeks.
- ``baseline``: the same slot and day type in the baseline window, in the event's calendar month
  +- ``baseline_month_tolerance`` months (cyclic, so January events use Dec-Feb of the baseline year).
  Aggregated to (household, slot, day type, month) first.

The reference value is the mean of the household's actual readings in those cells (kWh per half
hour). Both functions return the name of a TEMP table keyed like the event half hours that need it.
"""

from __future__ import annotations

from datetime import date

import polars as pl

from assets.common.sql import qualified_name
from assets.features import aggregate_reads, aggregates
from assets.features.duck import Scratch, statement
from assets.features.local_time import local_grid, window_utc_bounds
from assets.features.settings import FeatureSettings


def within_window_reference(
    s: Scratch,
    settings: FeatureSettings,
    grid_table: str,
    event_rows: str,
    window: tuple[date, date],
    use: aggregate_reads.EventAggregates | None = None,
) -> str:
    """TEMP table (household_id, slot, day_type, week_idx, ref_kwh, ref_n) for the cells in ``event_rows``.

    Each (household, slot, day type, week) sum of event-free days (from the weekly aggregates with
    ``use``, else from the readings) is spread to the weeks within +-reference_weeks (a 2N+1-row offset
    join), keeping only the calendar cells some event half hour needs, then summed: cheaper in DuckDB
    than a RANGE window over a densified week axis.
    """
    n = int(settings.reference_weeks)
    if use is not None:
        base = aggregate_reads.event_reference_base(s, use, window, event_rows)
    else:
        lo, hi = window_utc_bounds(*window, settings.timezone)
        base = s.query(
            "ref_within_base",
            statement("ref_within_base", readings=settings.readings_table, grid=grid_table, events=event_rows),
            {"lo": lo, "hi": hi},
        )
    need = s.query("ref_within_need", f"SELECT DISTINCT slot, day_type, week_idx FROM {qualified_name(event_rows)}")
    offsets = s.frame("ref_within_offsets", pl.DataFrame({"d": range(-n, n + 1)}, schema={"d": pl.Int32}))
    return s.query("ref_within", statement("ref_within", base=base, offsets=offsets, need=need))


def baseline_year_reference(s: Scratch, settings: FeatureSettings, event_rows: str) -> str:
    """TEMP table (household_id, slot, day_type, month, ref_kwh, ref_n) from the baseline window."""
    grid = local_grid(settings.baseline_start, settings.baseline_end, settings)
    g = s.frame("grid_baseline", grid.select("interval_start_utc", "slot", "day_type", "month"))
    k = int(settings.baseline_month_tolerance)
    neighbours = pl.DataFrame(
        [(m, (m - 1 + d) % 12 + 1) for m in range(1, 13) for d in sorted({d for d in range(-k, k + 1)})],
        schema={"month": pl.Int8, "ref_month": pl.Int8},
        orient="row",
    ).unique()
    nb = s.frame("month_neighbours", neighbours)
    reader = f"baseline-year reference ({settings.baseline_start}..{settings.baseline_end})"
    if aggregate_reads.whole_local_months(
        settings.baseline_start, settings.baseline_end
    ) and aggregate_reads.aggregates_usable(s.con, settings):
        aggregate_reads.answered(s.con, reader, aggregates.SLOTS_TABLE)
        return s.query(
            "ref_baseline",
            statement("ref_baseline_agg", slots=aggregates.SLOTS_TABLE, neighbours=nb, events=event_rows),
            {"lo": settings.baseline_start, "hi": settings.baseline_end},
        )
    aggregate_reads.answered(s.con, reader, settings.readings_table)
    lo, hi = window_utc_bounds(settings.baseline_start, settings.baseline_end, settings.timezone)
    return s.query(
        "ref_baseline",
        statement("ref_baseline", readings=settings.readings_table, grid=g, neighbours=nb, events=event_rows),
        {"lo": lo, "hi": hi},
    )
