"""Schema of ``clean.quarantined_readings``: every rejected raw row, with why."""

import pandera.polars as pa
import polars as pl

from assets.clean.vee_rules import QUARANTINE_RULES
from assets.common.table_model import TableModel


class QuarantinedReadings(TableModel):
    source_file: pl.String = pa.Field(description="Source file relative to METER_SOURCE_DIR.")
    source_line: pl.Int64 = pa.Field(ge=1, description="1-based line number in the source file.")
    household_id: pl.String = pa.Field(nullable=True, description="LCLid as written (padding removed), if any.")
    reading_ts_text: pl.String = pa.Field(
        nullable=True,
        description="Timestamp text as written (padding removed) where it does not parse; else the parsed "
        "stamp as ISO text.",
    )
    kwh_text: pl.String = pa.Field(nullable=True, description="kWh text as written (padding removed).")
    raw_line: pl.String = pa.Field(
        nullable=True,
        description="The original line text (CR stripped) where the line failed to parse (wrong field count, no id, "
        "unparseable stamp or value, a cut last line: V01, V02, V03, V05, V06, V12); None where the parsed fields "
        "above carry the line's content (the rule rejected a parsed value).",
    )
    rule_id: pl.String = pa.Field(isin=sorted(QUARANTINE_RULES), description="VEE rule that rejected the row.")
    reason: pl.String = pa.Field(description="Human-readable reason.")
    reading_month: pl.Date = pa.Field(description="Partition month (as in raw_readings).")
