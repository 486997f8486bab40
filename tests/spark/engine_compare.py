"""Compare what the two engines stored: the DuckDB warehouse against the Parquet lake Spark wrote."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from assets.clean.clean_readings import BALANCE_TABLE, CLEAN_TABLE, COVERAGE_TABLE, QUARANTINE_TABLE
from assets.common.spark import table_location
from assets.common.sql import qualified_name, quote_identifier

CLEAN_OUTPUTS = (CLEAN_TABLE, QUARANTINE_TABLE, COVERAGE_TABLE, BALANCE_TABLE)


def lake_rows(con: duckdb.DuckDBPyConnection, lake: Path, table: str, columns: list[str]) -> str:
    """A DuckDB query over the lake table's Parquet files (hive-partitioned by reading_month); a
    table without any file (no row ever written) reads as the DuckDB table's empty shape."""
    cols = ", ".join(quote_identifier(c) for c in columns)
    if not list(Path(table_location(lake, table)).glob("**/*.parquet")):
        return f"SELECT {cols} FROM {qualified_name(table)} WHERE false AND $glob IS NOT NULL"
    return f"SELECT {cols} FROM read_parquet($glob, hive_partitioning = true, union_by_name = true)"


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    schema, name = table.split(".")
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_schema = $s AND table_name = $t "
        "ORDER BY ordinal_position",
        {"s": schema, "t": name},
    ).fetchall()
    return [r[0] for r in rows]


def counts_by_month(con: duckdb.DuckDBPyConnection, lake: Path, table: str, start: date, end: date) -> tuple:
    """(rows per month in DuckDB, rows per month in the lake) over ``start <= m < end``."""
    glob = f"{table_location(lake, table)}/**/*.parquet"
    window = {"start": start, "end": end}
    duck = con.execute(
        f"SELECT reading_month, count(*) FROM {qualified_name(table)} "
        "WHERE reading_month >= $start AND reading_month < $end GROUP BY 1 ORDER BY 1",
        window,
    ).fetchall()
    spark = con.execute(
        f"SELECT reading_month, count(*) FROM ({lake_rows(con, lake, table, ['reading_month'])}) "
        "WHERE reading_month >= $start AND reading_month < $end GROUP BY 1 ORDER BY 1",
        {**window, "glob": glob},
    ).fetchall()
    return duck, spark


def row_differences(con: duckdb.DuckDBPyConnection, lake: Path, table: str, start: date, end: date) -> tuple[int, int]:
    """(rows only in DuckDB, rows only in the lake), as multisets of whole rows, over the window."""
    columns = table_columns(con, table)
    cols = ", ".join(quote_identifier(c) for c in columns)
    glob = f"{table_location(lake, table)}/**/*.parquet"
    window = "WHERE reading_month >= $start AND reading_month < $end"
    duck = f"SELECT {cols} FROM {qualified_name(table)} {window}"
    spark = f"SELECT {cols} FROM ({lake_rows(con, lake, table, columns)}) {window}"
    params = {"start": start, "end": end, "glob": glob}
    only_duck = con.execute(f"SELECT count(*) FROM ({duck} EXCEPT ALL {spark})", params).fetchone()[0]
    only_spark = con.execute(f"SELECT count(*) FROM ({spark} EXCEPT ALL {duck})", params).fetchone()[0]
    return only_duck, only_spark
