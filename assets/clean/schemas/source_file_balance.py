"""Schema of ``clean.source_file_balance``: where every raw line of each source file went, per month."""

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
