"""The one place the feature layer runs SQL: its statements, scratch tables and small results, on
either engine.

Every feature module receives a *connection* ``con`` and runs SQL only through this module
(:func:`statement`, :class:`Scratch` / :func:`scratch`, :func:`fetch`, :func:`table_exists`):

* a DuckDB connection (``METER_ENGINE=duckdb``, the default): scratch tables are uniquely named TEMP
  tables, always dropped; results come back with ``.pl()``;
* an :class:`assets.common.spark.SparkConnection` (``METER_ENGINE=spark``): the same statements,
  transpiled by SQLGlot with their values bound; scratch tables are (cached) temporary views; the
  lake's tables are read on Spark, the warehouse's per-household tables through a copy in the
  session; results come back via Arrow as polars.

So ``compute``, ``lifestyle``, ``event_response``, ``reference_days``, ``placebo``, ... run unchanged on
both engines, and no feature is written twice. Statements longer than a line live in
``assets/features/sql/<name>.sql``; their ``{placeholders}`` are table identifiers only (filled in quoted
by :func:`statement`), and every value is a ``$name`` parameter.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager

import duckdb
import polars as pl

from assets.common.spark import SparkConnection
from assets.common.sql import load_sql, qualified_name, quote_identifier

Params = list | dict | None
Connection = duckdb.DuckDBPyConnection | SparkConnection


def statement(name: str, **tables: str) -> str:
    """``sql/<name>.sql`` with each ``{placeholder}`` replaced by the quoted table name
    (``schema.table`` or a scratch table)."""
    return load_sql(__file__, name).format(**{key: qualified_name(value) for key, value in tables.items()})


def on_spark(con: Connection) -> bool:
    return isinstance(con, SparkConnection)


class Scratch:
    """Creates scratch tables named ``_feat_<name>_<id>`` and drops them on close (TEMP tables on
    DuckDB, temporary views on Spark)."""

    def __init__(self, con: Connection) -> None:
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
        """Copy a (small) polars frame into a scratch table; returns the table name."""
        table = self._name(name)
        if isinstance(self.con, SparkConnection):
            self.con.register_frame(table, frame.to_arrow())
            return table
        view = f"{table}_src"
        self.con.register(view, frame.to_arrow())
        try:
            self.con.execute(f"CREATE TEMP TABLE {quote_identifier(table)} AS SELECT * FROM {quote_identifier(view)}")
        finally:
            self.con.unregister(view)
        return table

    def query(self, name: str, sql: str, params: Params = None) -> str:
        """Materialise a query as a scratch table (computed once); returns the table name."""
        table = self._name(name)
        if isinstance(self.con, SparkConnection):
            self.con.materialise(table, sql, _named(params))
        else:
            self.con.execute(f"CREATE TEMP TABLE {quote_identifier(table)} AS {sql}", params or None)
        return table

    def close(self) -> None:
        for table in reversed(self._tables):
            if isinstance(self.con, SparkConnection):
                self.con.drop(table)
            else:
                self.con.execute(f"DROP TABLE IF EXISTS {quote_identifier(table)}")
        self._tables.clear()


@contextmanager
def scratch(con: Connection) -> Iterator[Scratch]:
    s = Scratch(con)
    try:
        yield s
    finally:
        s.close()


def fetch(con: Connection, sql: str, params: Params = None) -> pl.DataFrame:
    """Run a query whose result is small (per household or coarser) and return it as polars."""
    if isinstance(con, SparkConnection):
        return con.fetch(sql, _named(params))
    return con.sql(sql, params=params or None).pl()


def table_exists(con: Connection, table: str) -> bool:
    """``schema.table`` exists where ``con`` reads it (on Spark: the lake or the warehouse)."""
    if isinstance(con, SparkConnection):
        return con.table_exists(table)
    schema, name = table.split(".")
    rows = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = $s AND table_name = $t",
        {"s": schema, "t": name},
    ).fetchall()
    return rows[0][0] > 0


def distinct_households(con: Connection, readings_table: str) -> pl.DataFrame:
    """Every household with at least one clean reading (any window, any quality)."""
    return fetch(con, f"SELECT DISTINCT household_id FROM {qualified_name(readings_table)} ORDER BY household_id")


def _named(params: Params) -> dict | None:
    if params is None or isinstance(params, dict):
        return params or None
    raise TypeError("feature SQL binds named parameters ($name with a dict) so that it runs on Spark too")


@contextmanager
def lake_connection(warehouse: duckdb.DuckDBPyConnection, spark: object, lake: str) -> Iterator[SparkConnection]:
    """The connection of the feature (and report, and model) steps with ``METER_ENGINE=spark``: the lake's
    raw and clean tables (readings, quarantine, coverage, file balance), the per-household-month
    aggregates and their month fingerprints (``spark_aggregates`` writes them to the lake) and the
    source-file index registered in ``spark`` (a SparkSession) with every month written so far, and
    ``warehouse`` for the per-household tables. A lake table is registered even before its first month
    (empty), so a leftover warehouse table of the same name (an earlier DuckDB run's) is never read in its
    place."""
    from pathlib import Path

    from assets.clean.spark_clean import INPUT_TABLES, OUTPUT_TABLES
    from assets.common.spark import LakeTable, ensure_lake_table, registered_here, spark_connection, table_location
    from assets.features.schemas.aggregates import STORED_TABLES
    from assets.ingest.raw_ingest import INDEX_TABLE

    aggregates = [LakeTable(table, model) for table, model in STORED_TABLES]
    for table in (*INPUT_TABLES, *OUTPUT_TABLES, *aggregates):  # the raw and clean months, their aggregates
        ensure_lake_table(spark, lake, table)  # type: ignore[arg-type]
        spark.catalog.recoverPartitions(table.name)  # type: ignore[attr-defined]  # months other runs wrote
        spark.catalog.refreshTable(table.name)  # type: ignore[attr-defined]
    index = table_location(lake, INDEX_TABLE)  # the source-file index (one row per file), if written
    if not registered_here(spark, INDEX_TABLE, index) and "://" not in index and Path(index).is_dir():  # type: ignore[arg-type]
        spark.catalog.createTable(INDEX_TABLE, path=index, source="parquet")  # type: ignore[attr-defined]
    with spark_connection(spark, warehouse) as connection:  # type: ignore[arg-type]
        yield connection
