"""The one partitioning of the pipeline: calendar months (UTC) of the readings' end stamps.

Keys are ``YYYY-MM-01``. The partitions are the months of the Low Carbon London trial data
(``FIRST_MONTH`` .. ``LAST_TRIAL_MONTH``) and every complete month from ``LIVE_FROM`` on (the
monthly schedule loads each one on the 2nd of the month after). The months in between have no
source data anywhere, so they are *excluded* from the partitions definition: the UI no longer shows
~150 months as "missing" that no run could ever fill, and a month that is missing is real work.

Why a time window with exclusions (options researched for Dagster 1.13):

* ``MonthlyPartitionsDefinition(start_date=FIRST_MONTH)`` alone (before): runs to today, so every
  month since the trial ended showed as missing forever.
* ``end_date``: hides those months, but new months would never become partitions, so the monthly
  schedule would stop at the end date. Rejected.
* ``DynamicPartitionsDefinition`` registered from the source files (sensor / demo / schedule): exact,
  but dynamic keys are ordered by *registration*, and ranges are positional
  (``PartitionsDefinition.get_partition_keys_in_range``): a file of an older month registered late
  would make ``2013-01-01...2013-03-01`` select the wrong months. Every entry point (CLI
  ``--partition-range``, ``launchPartitionBackfill``, ``make demo``, tests, a fresh instance) would
  first have to register months, or fail with "nonexistent partition keys"; the schedule could not
  use ``build_schedule_from_partitioned_job``. Rejected: too many ways for an operator to trip.
* ``exclusions`` on the time window (chosen): the keys stay calendar months with time windows, so
  single-run range backfills (one window from the first to the last month), the CLI, GraphQL
  backfills and the partitioned schedule work unchanged; a range spanning the gap simply skips it.
  The cost: the gap is a fact of the deployment, set by ``METER_HISTORY_FROM``, ``METER_HISTORY_TO``
  and ``METER_LIVE_FROM`` (``assets/common/months.py``; LCL defaults). If data for an excluded month
  turns up, move them and reload the code location; until then the source-files sensor logs such
  months as "not partitions".

``month_window`` is the one place the ingest and clean logic get their [first month, month after
the last) window from.
"""

from datetime import date, datetime

import dagster as dg

from assets.common.months import FIRST_MONTH, LAST_TRIAL_MONTH, LIVE_FROM, next_month


def excluded_months(last_trial_month: str = LAST_TRIAL_MONTH, live_from: str = LIVE_FROM) -> list[date]:
    """The months after the trial and before live loads: no source data, so not partitions."""
    months, current = [], next_month(date.fromisoformat(last_trial_month))
    end = date.fromisoformat(live_from)
    while current < end:
        months.append(current)
        current = next_month(current)
    return months


monthly_partitions = dg.MonthlyPartitionsDefinition(
    start_date=FIRST_MONTH,
    exclusions=[datetime(m.year, m.month, 1) for m in excluded_months()],
)


def month_window(context: dg.AssetExecutionContext) -> tuple[date, date]:
    """[first month, month after the last) of the run: one partition or a single-run range."""
    keys = context.partition_keys
    first, last = date.fromisoformat(min(keys)), date.fromisoformat(max(keys))
    return first, next_month(last)


RANGE_END_TAG = "dagster/asset_partition_range_end"
PARTITION_TAG = "dagster/partition"


def run_as_of_month(context: dg.AssetExecutionContext) -> date | None:
    """The month a run is "as of": its partition (or the end of its range), None for ad-hoc runs."""
    tags = context.run.tags
    key = tags.get(PARTITION_TAG) or tags.get(RANGE_END_TAG)
    return date.fromisoformat(key[:10]) if key else None
