"""The household register: trial group (Std control / ToU treated) and Acorn, one row each.

Source of truth is the household information file (``informations_households.csv`` layout);
households that appear only in 6/4-column readings files take their group from there, and from the
6-column layout their Acorn and Acorn group too (``register_source``: ``register`` or
``readings_file``). Where the register and the readings files disagree the register wins, and the
disagreements are counted. A household whose files carry no group (Kaggle / 3-column layouts) and that
the register does not list cannot be placed in a trial group: it stays out of the register and the
feature layer lists it as excluded (``not_in_register``). Pseudo Acorn codes ``ACORN-U`` and
``ACORN-`` are not real groups and become None.

Why Acorn is read from the file and not parsed into ``ingest.raw_readings``: it is a household
attribute, constant per household, needed only for households the register lacks (normally none).
Carrying two more columns on every raw row (and through the clean stage, the lake's schema and every
stored warehouse) would cost far more than reading, for each such household, the one line
``sql/readings_acorn_lines.sql`` points at (its first whole line in a 6-column file).

An id that breaks the register rule (``HOUSEHOLD_ID_PATTERN``: a space, a quote, an odd byte) never
enters the register, so one odd line can never fail the ``households`` schema and block the graph:
such readings lines are quarantined by the clean stage (V10_INVALID_HOUSEHOLD_ID, with file and
line), and such register lines are listed as rejected, with file, line and rule, in the metadata.
"""

from __future__ import annotations

import gzip
import io
from pathlib import Path
from typing import Any

import duckdb
import polars as pl

from assets.common.sql import load_sql, qualified_name
from assets.ingest.schemas.households import HOUSEHOLD_ID_PATTERN
from assets.ingest.source_layouts import LAYOUTS, read_text, text_encoding

INVALID_ID_RULE = "V10_INVALID_HOUSEHOLD_ID"  # the VEE rule id (assets/clean/vee_rules.py) of the same rule

NOT_REAL_ACORN = ["ACORN-U", "ACORN-", ""]
ACORN_GROUPS = ["Affluent", "Comfortable", "Adversity"]
FROM_REGISTER, FROM_READINGS_FILE = "register", "readings_file"  # ingest.households.register_source
ACORN_LAYOUTS = sorted(name for name, layout in LAYOUTS.items() if layout.acorn_field is not None)


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


ACORN_SCHEMA = {"household_id": pl.String, "acorn": pl.String, "acorn_group": pl.String}


def acorn_lines(runner: Any, raw_table: str) -> pl.DataFrame:
    """Per household and file of a layout that carries Acorn: the household's first whole line there
    (``sql/readings_acorn_lines.sql``; ``runner`` as in :func:`readings_households`)."""
    rows = runner.execute(
        load_sql(__file__, "readings_acorn_lines").format(raw=qualified_name(raw_table)),
        {"pattern": rf"\A(?:{HOUSEHOLD_ID_PATTERN})\z", "layouts": ACORN_LAYOUTS},
    ).fetchall()
    return pl.DataFrame(
        rows, schema={"household_id": pl.String, "source_file": pl.String, "source_line": pl.Int64}, orient="row"
    )


def lines_at(path: Path, numbers: set[int]) -> dict[int, str]:
    """The physical lines ``numbers`` (1-based, ``\\n``-terminated, CR stripped) of a text file, gzip or
    plain, UTF-8 or UTF-16, streamed: the file is read only up to the last line asked for."""
    with path.open("rb") as fh:
        opener = gzip.open if fh.read(2) == b"\x1f\x8b" else open
    with opener(path, "rb") as fh:
        encoding = text_encoding(fh.read(4096))
    if encoding is None or not numbers:
        return {}
    out: dict[int, str] = {}
    last = max(numbers)
    with opener(path, "rb") as fh, io.TextIOWrapper(fh, encoding=encoding, errors="replace", newline="\n") as text:
        for n, line in enumerate(text, 1):
            if n in numbers:
                out[n] = line.rstrip("\n").rstrip("\r").removeprefix("\ufeff")
            if n >= last:
                break
    return out


def read_acorn(folder: Path, lines: pl.DataFrame) -> pl.DataFrame:
    """Acorn and Acorn group of each household as its readings file writes them (padding removed),
    from the line :func:`acorn_lines` names in the first such file in name order; ``folder``: the
    source folder. Only those files are opened, each read up to the last line needed."""
    first = lines.sort("household_id", "source_file").unique("household_id", keep="first", maintain_order=True)
    out: list[tuple[str, str, str]] = []
    for (source_file,), group in first.group_by("source_file", maintain_order=True):
        found = lines_at(folder / str(source_file), set(group["source_line"]))
        for household_id, line_no in group.select("household_id", "source_line").iter_rows():
            fields = [f.strip() for f in found.get(line_no, "").split(",")]
            layout = next(
                (x for x in LAYOUTS.values() if x.acorn_field is not None and len(fields) == x.field_count), None
            )
            if layout is not None and fields[layout.id_field] == household_id:
                out.append((household_id, fields[layout.acorn_field], fields[layout.acorn_group_field]))
    return pl.DataFrame(out, schema=ACORN_SCHEMA, orient="row")


def seen_with_group(per_household: pl.DataFrame, acorn: pl.DataFrame | None = None) -> pl.DataFrame:
    """The households of :func:`readings_households` that the readings give a group (the register's
    columns), with the Acorn their file carries (``acorn``: :func:`read_acorn`; None: no Acorn)."""
    acorn = pl.DataFrame(schema=ACORN_SCHEMA) if acorn is None else acorn.select(list(ACORN_SCHEMA)).cast(ACORN_SCHEMA)
    return (
        per_household.filter(pl.col("tariff_group").is_not_null())
        .join(acorn, on="household_id", how="left")
        .select("household_id", "tariff_group", "acorn", "acorn_group", "source_file")
    )


def households_seen_in_readings(con: duckdb.DuckDBPyConnection, raw_table: str) -> pl.DataFrame:
    """Group (and nothing else) per household from readings layouts that carry stdorToU."""
    return seen_with_group(readings_households(con, raw_table))


def not_in_register(per_household: pl.DataFrame, table: pl.DataFrame) -> pl.DataFrame:
    """Households with readings that the register lacks and whose files carry no group: ids only."""
    return per_household.join(table.select("household_id"), on="household_id", how="anti").select("household_id")


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
    both = seen.cast(schema).join(reg, on="household_id", suffix="_reg")
    # a file that writes an Acorn the register does not: counted (the register wins)
    acorn_differs = pl.col("acorn").is_not_null() & (
        pl.col("acorn").ne_missing(pl.col("acorn_reg")) | pl.col("acorn_group").ne_missing(pl.col("acorn_group_reg"))
    )
    table = (
        pl.concat(
            [
                reg.with_columns(register_source=pl.lit(FROM_REGISTER)),
                extra.with_columns(register_source=pl.lit(FROM_READINGS_FILE)),
            ]
        )
        .with_columns(
            pl.when(pl.col("acorn").is_in(NOT_REAL_ACORN)).then(None).otherwise(pl.col("acorn")).alias("acorn"),
            pl.when(pl.col("acorn_group").is_in(ACORN_GROUPS)).then(pl.col("acorn_group")).alias("acorn_group"),
        )
        .sort("household_id")
    )
    stats = {
        "from_register": reg.height,
        "from_readings_only": extra.height,
        "from_readings_only_with_acorn": extra.filter(pl.col("acorn").is_not_null()).height,
        "group_conflicts_register_wins": both.filter(pl.col("tariff_group") != pl.col("tariff_group_reg")).height,
        "acorn_conflicts_register_wins": both.filter(acorn_differs).height,
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
