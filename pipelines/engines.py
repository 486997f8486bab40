"""The two implementations of the ``engine`` resource (:class:`assets.common.resources.MeterEngine`).

One resource key, an implementation per deployment (as hooli-data-eng-pipelines binds its warehouse):
every asset is defined once and asks its ``engine`` to ingest a window, clean a window, build the
per-household-month aggregates, open the feature layer's source and find the latest clean month.

* :class:`DuckDBEngine` (the default): the half-hourly tables live in the DuckDB warehouse.
* :class:`SparkEngine`: they live as Parquet under ``lake`` and Spark runs the same SQL (transpiled by
  SQLGlot, ``assets/common/engine.py``); the per-household tables stay in the warehouse.

Both can live in one process (the engine-parity check binds one, then the other). The implementations
live here, on top of the stages, because each calls a stage's engine-specific path; the stages see only
the interface. pyspark is imported only when a Spark method runs.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import duckdb
from pydantic import Field

from assets.common.engine import DEFAULT_LAKE, check_spark_installed
from assets.common.resources import MeterEngine, Warehouse, resolved


class DuckDBEngine(MeterEngine):
    """Everything in the DuckDB warehouse, on this machine (out of core: DuckDB spills to its temp folder)."""

    @property
    def name(self) -> str:
        return "duckdb"

    def ingest_window(self, warehouse: Warehouse, files: list, start: date, end: date) -> tuple[Any, list, dict]:
        """The window's files loaded in the warehouse; a new file that cannot be read is refused and the
        file ledger (content hashes, departures, refusals) updated (assets/ingest/file_ledger.py)."""
        from assets.ingest import file_ledger
        from assets.ingest.raw_ingest import load_raw_readings

        def load(readings: list) -> Any:
            with warehouse.get_connection() as con:
                return load_raw_readings(con, readings, start, end)

        with warehouse.get_connection() as con:
            known = file_ledger.indexed_months(con)
        result, refused = file_ledger.load_refusing_new_files(known, files, start, end, load)
        present = {f.relative: (f.path, f.size_bytes, f.mtime_ns) for f in files}
        with warehouse.get_connection() as con:
            ledger = file_ledger.update_ledger(con, present, refused)
        return result, refused, ledger

    def clean_window(self, con: duckdb.DuckDBPyConnection, start: date, end: date, settings: Any) -> Any:
        from assets.clean.clean_readings import clean_window

        return clean_window(con, start, end, settings)

    def build_aggregates(self, con: duckdb.DuckDBPyConnection, start: date, end: date) -> Any:
        from assets.features.aggregates import build_aggregates

        return build_aggregates(con, start, end)

    @contextmanager
    def half_hourly(self, con: duckdb.DuckDBPyConnection) -> Iterator[Any]:
        yield con

    def latest_clean_month(self, con: duckdb.DuckDBPyConnection) -> date:
        from assets.model.tables import as_of_month

        return as_of_month(None, con)


class SparkEngine(MeterEngine):
    """Apache Spark (docs/SCALING.md): local mode in development and CI (``master``), a Spark Connect
    server in production (``remote``, ``sc://host:15002``). The half-hourly tables live as Parquet under
    ``lake`` (a folder, or s3a:// / abfss:// / gs://)."""

    master: str = Field(default="local[2]", description="Spark master when remote is empty (local[N]).")
    remote: str = Field(default="", description="Spark Connect URL (sc://host:15002); empty = master.")
    lake: str = Field(default=DEFAULT_LAKE, description="Root of the Parquet lake of the half-hourly tables.")
    shuffle_partitions: int = Field(default=8, description="spark.sql.shuffle.partitions (months are small).")

    @property
    def name(self) -> str:
        return "spark"

    @property
    def lake_root(self) -> str:
        return str(resolved(self.lake))

    def session(self) -> Any:
        """The SparkSession (created once per process; later calls return the active one)."""
        from assets.common.spark import build_session

        check_spark_installed()
        return build_session(
            master=str(resolved(self.master)),
            remote=str(resolved(self.remote)),
            config={"spark.sql.shuffle.partitions": str(self.shuffle_partitions)},
        )

    def ingest_window(self, warehouse: Warehouse, files: list, start: date, end: date) -> tuple[Any, list, dict]:
        """The window's files loaded into the lake. The lake's file index has no ledger yet: a file that
        cannot be read fails the run, naming it (nothing refused, no ledger counts)."""
        from assets.ingest.source_files import of_kind
        from assets.ingest.source_layouts import SourceFileError
        from assets.ingest.spark_ingest import ingest_window_spark

        if unreadable := of_kind(files, "unreadable"):
            raise SourceFileError(unreadable[0].relative, unreadable[0].problem or "cannot be read")
        readings = of_kind(files, "readings")
        return ingest_window_spark(self.session(), self.lake_root, readings, start, end), [], {}

    def clean_window(self, con: duckdb.DuckDBPyConnection, start: date, end: date, settings: Any) -> Any:
        from assets.clean.spark_clean import clean_window_spark

        return clean_window_spark(self.session(), self.lake_root, start, end, settings)

    def build_aggregates(self, con: duckdb.DuckDBPyConnection, start: date, end: date) -> Any:
        from assets.features.spark_aggregates import build_aggregates_spark

        return build_aggregates_spark(con, self.session(), self.lake_root, start, end)

    @contextmanager
    def half_hourly(self, con: duckdb.DuckDBPyConnection) -> Iterator[Any]:
        from assets.features.duck import lake_connection

        with lake_connection(con, self.session(), self.lake_root) as lake:
            yield lake

    def latest_clean_month(self, con: duckdb.DuckDBPyConnection) -> date:
        from assets.model.tables import as_of_month

        with self.half_hourly(con) as lake:
            return as_of_month(None, con, lake)

    def location_metadata(self, table: str) -> dict[str, str]:
        from assets.common.spark import table_location

        return {"lake_location": table_location(self.lake_root, table)}


__all__ = ["DuckDBEngine", "SparkEngine"]
