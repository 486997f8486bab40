"""The one partitioning of the pipeline: calendar months (UTC) of the readings' end stamps."""

from datetime import date

import dagster as dg

# LCL readings start in November 2011; the last partition is the last complete month.
FIRST_MONTH = "2011-11-01"

monthly_partitions = dg.MonthlyPartitionsDefinition(start_date=FIRST_MONTH)


def month_window(context: dg.AssetExecutionContext) -> tuple[date, date]:
    """[first month, month after the last) of the run: one partition or a single-run range."""
    window = context.partition_time_window
    return window.start.date(), window.end.date()


RANGE_END_TAG = "dagster/asset_partition_range_end"
PARTITION_TAG = "dagster/partition"


def run_as_of_month(context: dg.AssetExecutionContext) -> date | None:
    """The month a run is "as of": its partition (or the end of its range), None for ad-hoc runs."""
    tags = context.run.tags
    key = tags.get(PARTITION_TAG) or tags.get(RANGE_END_TAG)
    return date.fromisoformat(key[:10]) if key else None
