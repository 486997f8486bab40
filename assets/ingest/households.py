"""The household register: trial group (Std control / ToU treated) and Acorn, one row each.

Source of truth is the household information file (``informations_households.csv`` layout);
households that appear only in 6/4-column readings files take their group from there. Pseudo
Acorn codes ``ACORN-U`` and ``ACORN-`` are not real groups and become None.

An id that breaks the register rule (``HOUSEHOLD_ID_PATTERN``: a space, a quote, an odd byte) never
enters the register, so one odd line can never fail the ``households`` schema and block the graph:
such readings lines are quarantined by the clean stage (V10_INVALID_HOUSEHOLD_ID, with file and
line), and such register lines are listed as rejected, with file, line and rule, in the metadata.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from assets.common.sql import load_sql, qualified_name
from assets.ingest.schemas.households import HOUSEHOLD_ID_PATTERN
from assets.ingest.source_layouts import read_text

INVALID_ID_RULE = "V10_INVALID_HOUSEHOLD_ID"  # the VEE rule id (assets/clean/vee_rules.py) of the same rule

NOT_REAL_ACORN = ["ACORN-U", "ACORN-", ""]
ACORN_GROUPS = ["Affluent", "Comfortable", "Adversity"]


def read_household_file(path: Path, display: str) -> pl.DataFrame:
    numbered = [(n, ln.rstrip("\r")) for n, ln in enumerate(read_text(path, display).split("\n"), 1)]
    lines = [ln for n, ln in numbered[1:] if ln.strip()]
    fields = pl.DataFrame({"f": lines}, schema={"f": pl.String}).select(pl.col("f").str.split(","))["f"]
    return pl.DataFrame(
        {
            "source_line": pl.Series([n for n, ln in numbered[1:] if ln.strip()], dtype=pl.Int64),
            "household_id": fields.list.get(0, null_on_oob=True).str.strip_chars(),
            "tariff_group": fields.list.get(1, null_on_oob=True).str.strip_chars(),
            "acorn": fields.list.get(2, null_on_oob=True).str.strip_chars(),
            "acorn_group": fields.list.get(3, null_on_oob=True).str.strip_chars(),
        }
    ).with_columns(pl.lit(display).alias("source_file"))


def valid_id(col: str = "household_id") -> pl.Expr:
    """Whether a household id satisfies the register rule (``HOUSEHOLD_ID_PATTERN``)."""
    return pl.col(col).str.contains(f"^{HOUSEHOLD_ID_PATTERN}$").fill_null(False)


def readings_households(runner: Any, raw_table: str) -> pl.DataFrame:
    """One row per valid household id in the raw readings: its Std/ToU group from the readings
    layouts that carry one (None if none), and the file that gave it (``sql/readings_households.sql``).
    ``runner``: a DuckDB connection over the warehouse, or ``assets.common.spark.SparkSql`` over the lake."""
    rows = runner.execute(
        load_sql(__file__, "readings_households").format(raw=qualified_name(raw_table)),
        {"pattern": rf"\A(?:{HOUSEHOLD_ID_PATTERN})\z"},
    ).fetchall()
    return pl.DataFrame(
        rows, schema={"household_id": pl.String, "tariff_group": pl.String, "source_file": pl.String}, orient="row"
    )


def seen_with_group(per_household: pl.DataFrame) -> pl.DataFrame:
    """The households of :func:`readings_households` that the readings give a group (the register's columns)."""
    return per_household.filter(pl.col("tariff_group").is_not_null()).select(
        "household_id",
        "tariff_group",
        pl.lit(None, dtype=pl.String).alias("acorn"),
        pl.lit(None, dtype=pl.String).alias("acorn_group"),
        "source_file",
    )


def households_seen_in_readings(con: duckdb.DuckDBPyConnection, raw_table: str) -> pl.DataFrame:
    """Group (and nothing else) per household from readings layouts that carry stdorToU."""
    return seen_with_group(readings_households(con, raw_table))


def build_households(registered: list[pl.DataFrame], seen: pl.DataFrame) -> tuple[pl.DataFrame, dict]:
    """Register first (first file wins), then readings-only households; returns (table, stats).

    Register lines whose id breaks the register rule are left out (see :func:`rejected_register_lines`)."""
    schema = {
        "household_id": pl.String,
        "tariff_group": pl.String,
        "acorn": pl.String,
        "acorn_group": pl.String,
        "source_file": pl.String,
    }
    reg = (
        pl.concat([f.select(list(schema)).cast(schema) for f in registered], how="vertical")
        if registered
        else pl.DataFrame(schema=schema)
    )
    reg = reg.filter(valid_id()).unique("household_id", keep="first", maintain_order=True)
    extra = seen.cast(schema).filter(valid_id()).join(reg.select("household_id"), on="household_id", how="anti")
    conflicts = seen.join(reg, on="household_id", suffix="_reg").filter(
        pl.col("tariff_group") != pl.col("tariff_group_reg")
    )
    table = (
        pl.concat([reg, extra])
        .with_columns(
            pl.when(pl.col("acorn").is_in(NOT_REAL_ACORN)).then(None).otherwise(pl.col("acorn")).alias("acorn"),
            pl.when(pl.col("acorn_group").is_in(ACORN_GROUPS)).then(pl.col("acorn_group")).alias("acorn_group"),
        )
        .sort("household_id")
    )
    stats = {
        "from_register": reg.height,
        "from_readings_only": extra.height,
        "group_conflicts_register_wins": conflicts.height,
    }
    return table, stats


def rejected_register_lines(registered: list[pl.DataFrame]) -> list[dict]:
    """Register lines left out because their id breaks the register rule: file, line, rule, id."""
    return [
        {
            "source_file": r["source_file"],
            "source_line": r["source_line"],
            "rule_id": INVALID_ID_RULE,
            "id": r["household_id"],
        }
        for frame in registered
        for r in frame.filter(~valid_id()).iter_rows(named=True)
    ]
