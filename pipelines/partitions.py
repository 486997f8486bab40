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
