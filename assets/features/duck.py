"""Scratch tables on the caller's DuckDB connection: uniquely named TEMP tables, always dropped."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
import polars as pl


class Scratch:
    """Creates TEMP tables named ``_feat_<name>_<id>`` and drops them on close."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self._tag = uuid.uuid4().hex[:8]
        self._tables: list[str] = []

    def _name(self, name: str) -> str:
        table = f"_feat_{name}_{self._tag}"
        if table in self._tables:
            raise ValueError(f"scratch table {name!r} already exists")
        self._tables.append(table)
        return table

    def frame(self, name: str, frame: pl.DataFrame) -> str:
        """Copy a (small) polars frame into a TEMP table; returns the table name."""
        table = self._name(name)
        view = f"{table}_src"
        self.con.register(view, frame.to_arrow())
        try:
            self.con.execute(f"CREATE TEMP TABLE {table} AS SELECT * FROM {view}")
        finally:
            self.con.unregister(view)
        return table

    def query(self, name: str, sql: str, params: list | None = None) -> str:
        """Materialise a query as a TEMP table; returns the table name."""
        table = self._name(name)
        self.con.execute(f"CREATE TEMP TABLE {table} AS {sql}", params or [])
        return table

    def close(self) -> None:
        for table in reversed(self._tables):
            self.con.execute(f"DROP TABLE IF EXISTS {table}")
        self._tables.clear()


@contextmanager
def scratch(con: duckdb.DuckDBPyConnection) -> Iterator[Scratch]:
    s = Scratch(con)
    try:
        yield s
    finally:
        s.close()


def fetch(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> pl.DataFrame:
    """Run a query whose result is small (per household or coarser) and return it as polars."""
    return con.sql(sql, params=params or None).pl()


def distinct_households(con: duckdb.DuckDBPyConnection, readings_table: str) -> pl.DataFrame:
    """Every household with at least one clean reading (any window, any quality)."""
    return fetch(con, f"SELECT DISTINCT household_id FROM {readings_table} ORDER BY household_id")
