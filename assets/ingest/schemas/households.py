"""Schema of ``ingest.households``: one row per household with its trial group and Acorn."""

import pandera.polars as pa
import polars as pl

from assets.common.table_model import TableModel

# The register rule for a household id, the one home: LCL ids (``MAC000002``) and the synthetic ids
# (``MAC000001``) are letters and digits; ``_`` and ``-`` are allowed for other utilities' ids.
# Spaces, quotes, commas and control bytes are not: a readings line whose id breaks this rule is
# quarantined (VEE rule V10_INVALID_HOUSEHOLD_ID) and the id never enters the register.
HOUSEHOLD_ID_PATTERN = r"[A-Za-z0-9_-]+"


class Households(TableModel):
    household_id: pl.String = pa.Field(unique=True, str_matches=rf"^{HOUSEHOLD_ID_PATTERN}$", description="LCLid.")
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
    register_source: pl.String = pa.Field(
        isin=["register", "readings_file"],
        description="Where tariff_group and Acorn came from: the household register ('register'), or, for a "
        "household the register lacks, its own readings file ('readings_file': the group of 6/4-column files, "
        "the Acorn of 6-column files, else None).",
    )
