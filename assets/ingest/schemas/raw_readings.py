"""Schema of ``ingest.raw_readings``: every line of every readings file, parsed; the text of lines that fail to parse."""

import pandera.polars as pa
import polars as pl

from assets.common.table_model import TableModel


class RawReadings(TableModel):
    household_id: pl.String = pa.Field(
        nullable=True, description="LCLid as written (None if the line has too few fields)."
    )
    tariff_group: pl.String = pa.Field(
        nullable=True, description="stdorToU as written in 6/4-column layouts, else None."
    )
    reading_ts_text: pl.String = pa.Field(
        nullable=True,
        description="Timestamp text as written (UTC, END of the half hour), padding removed; kept only where it "
        "does not parse (None where reading_end_utc holds the stamp, or the field is empty).",
    )
    kwh_text: pl.String = pa.Field(nullable=True, description="kWh text as written, padding removed.")
    reading_end_utc: pl.Datetime("us") = pa.Field(
        nullable=True, description="Parsed timestamp: naive UTC, END of the half hour; None if unparseable."
    )
    source_file: pl.String = pa.Field(description="Path of the source file relative to METER_SOURCE_DIR.")
    source_line: pl.Int64 = pa.Field(
        ge=1, description="1-based physical line number in the (decompressed) file; row number for Parquet."
    )
    source_layout: pl.String = pa.Field(
        isin=["lds_6col", "lds_4col", "lcl_3col", "kaggle_3col", "parquet"],
        description="Layout detected from the file's content.",
    )
    raw_line: pl.String = pa.Field(
        nullable=True,
        description="The original line text (CR stripped), kept only where the line failed to parse: wrong field "
        "count, no household id, unparseable timestamp or kWh, or the file's cut last line (V12). None where the "
        "parsed columns carry the line's content.",
    )
    field_count: pl.Int32 = pa.Field(ge=0, description="Number of comma-separated fields on the line.")
    reading_month: pl.Date = pa.Field(
        description="Partition: first day of the UTC month of the end stamp (of the previous good line if unparseable)."
    )
