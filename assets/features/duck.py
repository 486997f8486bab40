"""Scratch tables on the caller's DuckDB connection (uniquely named TEMP tables, always dropped) and the
feature layer's SQL statements.

Statements longer than a line live in ``assets/features/sql/<name>.sql``; their ``{placeholders}`` are
table identifiers only (filled in quoted by :func:`statement`), and every value is a ``$name`` parameter.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
import polars as pl

from assets.common.sql import load_sql, qualified_name, quote_identifier

Params = list | dict | None


def statement(name: str, **tables: str) -> str:
    """``sql/<name>.sql`` with each ``{placeholder}`` replaced by the quoted table name
    (``schema.table`` or a scratch table)."""
    return load_sql(__file__, name).format(**{key: qualified_name(value) for key, value in tables.items()})


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
            self.con.execute(f"CREATE TEMP TABLE {quote_identifier(table)} AS SELECT * FROM {quote_identifier(view)}")
        finally:
            self.con.unregister(view)
        return table

    def query(self, name: str, sql: str, params: Params = None) -> str:
        """Materialise a query as a TEMP table; returns the table name."""
        table = self._name(name)
        self.con.execute(f"CREATE TEMP TABLE {quote_identifier(table)} AS {sql}", params or None)
        return table

    def close(self) -> None:
        for table in reversed(self._tables):
            self.con.execute(f"DROP TABLE IF EXISTS {quote_identifier(table)}")
        self._tables.clear()


@contextmanager
def scratch(con: duckdb.DuckDBPyConnection) -> Iterator[Scratch]:
    s = Scratch(con)
    try:
        yield s
    finally:
        s.close()


def fetch(con: duckdb.DuckDBPyConnection, sql: str, params: Params = None) -> pl.DataFrame:
    """Run a query whose result is small (per household or coarser) and return it as polars."""
    return con.sql(sql, params=params or None).pl()


def distinct_households(con: duckdb.DuckDBPyConnection, readings_table: str) -> pl.DataFrame:
    """Every household with at least one clean reading (any window, any quality)."""
    return fetch(con, f"SELECT DISTINCT household_id FROM {qualified_name(readings_table)} ORDER BY household_id")
