"""Schema of ``clean.source_file_balance``: where every raw line of each source file went, per month.

raw_lines = clean_actual_rows + quarantined_rows + collapsed_duplicates + merged_parts.
"""

import pandera.polars as pa
import polars as pl

from assets.common.table_model import TableModel


class SourceFileBalance(TableModel):
    source_file: pl.String = pa.Field(description="Source file (relative to the source folder).")
    reading_month: pl.Date = pa.Field(description="Partition month the lines were filed under.")
    raw_lines: pl.Int64 = pa.Field(ge=0, description="Physical data lines of the file filed under the month.")
    clean_actual_rows: pl.Int64 = pa.Field(ge=0, description="Lines kept as actual (A) clean readings.")
    quarantined_rows: pl.Int64 = pa.Field(ge=0, description="Lines quarantined (any V rule).")
    collapsed_duplicates: pl.Int64 = pa.Field(
        ge=0, description="Lines collapsed as exact duplicates (D01) onto a copy kept elsewhere (this or another file)."
    )
    merged_parts: pl.Int64 = pa.Field(
        ge=0,
        description="Lines of sub-half-hourly readings (e.g. the hh:15 reading of a 15-minute file) summed into "
        "the clean row of their half hour, which names another line (its end part, hh:30); counted in their own "
        "file and month, also where the row is the next month's first half hour.",
    )
    interval_minutes: pl.Float64 = pa.Field(
        nullable=True,
        description="The file's reading interval in minutes, detected by ingest from the spacing of its stamps "
        "(30 for half-hourly; 15 or 5 are summed into half hours; 60 or irregular: every line V13); None: too "
        "few stamps to tell and off the :00/:30 grid (V13).",
    )
