"""Schema of ``ingest.tariff_schedule``: the dynamic tariff on the readings' UTC half-hour grid."""

import pandera.polars as pa
import polars as pl

from assets.common.table_model import TableModel


class TariffSchedule(TableModel):
    interval_start_utc: pl.Datetime("us") = pa.Field(
        unique=True, description="Start of the half hour, naive UTC (join key to clean_readings.interval_start_utc)."
    )
    interval_end_utc: pl.Datetime("us") = pa.Field(
        description="End of the half hour, naive UTC = the stamp on the reading it prices."
    )
    local_label_start: pl.Datetime("us") = pa.Field(
        description="The schedule's own label: UK local clock time of the START of the half hour."
    )
    band: pl.String = pa.Field(isin=["High", "Normal", "Low"], description="Price band signalled for the half hour.")
    price_p_per_kwh: pl.Float64 = pa.Field(gt=0, description="Unit price for ToU households (p/kWh).")
    event_id: pl.Int32 = pa.Field(
        nullable=True, description="Run of consecutive High or Low half hours; None in Normal."
    )
    event_start_utc: pl.Datetime("us") = pa.Field(
        nullable=True, description="Start (UTC) of the event the half hour belongs to."
    )
    event_start_local: pl.Datetime("us") = pa.Field(nullable=True, description="Start of the event in UK local time.")
