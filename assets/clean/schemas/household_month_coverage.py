"""Schema of ``clean.household_month_coverage``: data sufficiency per household per month."""

import pandera.polars as pa
import polars as pl

from assets.common.table_model import TableModel


class HouseholdMonthCoverage(TableModel):
    household_id: pl.String = pa.Field(description="LCLid.")
    reading_month: pl.Date = pa.Field(description="Partition month (UTC month of the end stamps).")
    expected_half_hours: pl.Int32 = pa.Field(gt=0, description="Half hours in the month (48 x days).")
    actual_half_hours: pl.Int32 = pa.Field(ge=0, description="Half hours with an actual (A) reading.")
    estimated_half_hours: pl.Int32 = pa.Field(ge=0, description="Half hours estimated (E) from short gaps.")
    missing_half_hours: pl.Int32 = pa.Field(ge=0, description="Half hours with no value at all.")
    quarantined_rows: pl.Int32 = pa.Field(ge=0, description="Raw rows of this household rejected in the month.")
    spike_half_hours: pl.Int32 = pa.Field(ge=0, description="Actual half hours flagged F01_SPIKE.")
    coverage: pl.Float64 = pa.Field(ge=0, le=1, description="actual_half_hours / expected_half_hours.")
