"""Schema of ``ingest.households``: one row per household with its trial group and Acorn."""

import pandera.polars as pa
import polars as pl

from assets.common.table_model import TableModel


class Households(TableModel):
    household_id: pl.String = pa.Field(unique=True, str_matches=r"^\S+$", description="LCLid.")
    tariff_group: pl.String = pa.Field(
        isin=["Std", "ToU"], description="Std = flat rate (control); ToU = dynamic time-of-use in 2013 (treated)."
    )
    acorn: pl.String = pa.Field(
        nullable=True, description="CACI Acorn category (ACORN-A..Q); None for ACORN-U / ACORN- (not real groups)."
    )
    acorn_group: pl.String = pa.Field(
        nullable=True, isin=["Affluent", "Comfortable", "Adversity"], description="Acorn group; None where unknown."
    )
    source_file: pl.String = pa.Field(description="File the row came from.")
