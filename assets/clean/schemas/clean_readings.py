"""Schema of ``clean.clean_readings``: one row per (household, UTC half hour)."""

import pandera.polars as pa
import polars as pl

from assets.common.table_model import TableModel


class CleanReadings(TableModel):
    household_id: pl.String = pa.Field(description="LCLid.")
    interval_start_utc: pl.Datetime("us") = pa.Field(description="Start of the half hour, naive UTC.")
    interval_end_utc: pl.Datetime("us") = pa.Field(
        description="End of the half hour, naive UTC (the stamp the meter wrote)."
    )
    kwh: pl.Float64 = pa.Field(
        ge=0, description="Energy in the half hour (kWh): the raw value, or the estimate where quality_code = 'E'."
    )
    raw_kwh: pl.Float64 = pa.Field(nullable=True, ge=0, description="The value as read; None for estimated rows.")
    quality_code: pl.String = pa.Field(
        isin=["A", "E"], description="A = actual reading, E = estimated (short gap, linear interpolation)."
    )
    is_spike: pl.Boolean = pa.Field(description="Flag of rule F01_SPIKE (kept, not dropped).")
    duplicate_rows: pl.Int32 = pa.Field(
        ge=0, description="Raw rows collapsed into this one (0 unless exact duplicates; 0 for estimates)."
    )
    source_file: pl.String = pa.Field(
        nullable=True, description="Source file of the (first) raw row; None for estimates."
    )
    source_line: pl.Int64 = pa.Field(
        nullable=True, ge=1, description="Line of the (first) raw row; None for estimates."
    )
    reading_month: pl.Date = pa.Field(description="Partition: UTC month of interval_end_utc.")

    @pa.dataframe_check(description="interval_end_utc = interval_start_utc + 30 min, on the :00/:30 grid")
    @classmethod
    def half_hour_grid(cls, data) -> pl.LazyFrame:
        lf = data.lazyframe
        return lf.select(
            ((pl.col("interval_end_utc") - pl.col("interval_start_utc")) == pl.duration(minutes=30))
            & (pl.col("interval_start_utc").dt.minute().is_in([0, 30]))
            & (pl.col("interval_start_utc").dt.second() == 0)
        )
