"""DuckDB warehouse access: one writer at a time, bounded memory, atomic table writes.

DuckDB allows a single writing process per database file. Every connection made here first takes
an exclusive file lock beside the database (``<file>.lock``), so Dagster runs, backfills, the
monthly schedule, the CLI and tests queue behind each other instead of failing with DuckDB's
``Could not set lock on file``. Nothing here knows about Dagster.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import filelock
import polars as pl

DEFAULT_LOCK_TIMEOUT_S = 6 * 3600.0

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class WarehouseSettings:
    """Where the DuckDB file lives and how much of the machine one connection may use."""

    path: Path
    memory_limit: str = "3GB"
    threads: int = 2
    lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S

    @property
    def lock_path(self) -> Path:
        return self.path.with_name(self.path.name + ".lock")

    @property
    def temp_directory(self) -> Path:
        return self.path.with_name(self.path.name + ".tmp")


@contextmanager
def connect(settings: WarehouseSettings) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse exclusively (waiting for other writers) with bounded memory."""
    settings.path.parent.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(str(settings.lock_path), timeout=settings.lock_timeout_s)
    with _acquire(lock, settings):
        con = duckdb.connect(str(settings.path))
        try:
            con.execute(f"SET memory_limit = '{settings.memory_limit}'")
            con.execute(f"SET threads = {int(settings.threads)}")
            con.execute(f"SET temp_directory = '{settings.temp_directory}'")
            con.execute("SET preserve_insertion_order = false")
            con.execute("SET TimeZone = 'UTC'")
            con.execute("SET enable_progress_bar = false")
            yield con
        finally:
            con.close()


def _acquire(lock: filelock.FileLock, settings: WarehouseSettings) -> filelock.AcquireReturnProxy:
    """Take the lock; if another process holds it, say so (in the run's log: dagster.yaml
    python_logs) and wait. The wait ends when the holder closes its connection or dies (the OS
    releases the lock), on SIGINT/SIGTERM, or after ``lock_timeout_s``."""
    try:
        return lock.acquire(timeout=0)
    except filelock.Timeout:
        pass
    log.warning(
        "waiting for the warehouse %s: another run or process (a CLI run, a notebook) is using it; "
        "this run continues when it is released (up to %.0f s)",
        settings.path,
        settings.lock_timeout_s,
    )
    return lock.acquire()


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All-or-nothing: on any exception the table contents are exactly as before."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    else:
        con.execute("COMMIT")


def ensure_schema(con: duckdb.DuckDBPyConnection, qualified_table: str) -> None:
    schema = qualified_table.split(".")[0] if "." in qualified_table else "main"
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")


def replace_table(con: duckdb.DuckDBPyConnection, qualified_table: str, frame: pl.DataFrame) -> int:
    """Replace a whole (small, per-household) table with ``frame`` atomically; returns rows written."""
    ensure_schema(con, qualified_table)
    with transaction(con):
        con.register("_replacement", frame.to_arrow())
        try:
            con.execute(f"CREATE OR REPLACE TABLE {qualified_table} AS SELECT * FROM _replacement")
        finally:
            con.unregister("_replacement")
    return frame.height


def read_table(con: duckdb.DuckDBPyConnection, qualified_table: str, where: str = "") -> pl.DataFrame:
    """Read a per-household table into polars (never used for half-hourly tables)."""
    sql = f"SELECT * FROM {qualified_table}" + (f" WHERE {where}" if where else "")
    return con.sql(sql).pl()
