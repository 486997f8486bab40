"""DuckDB warehouse access: one writer at a time, bounded memory, atomic table writes.

DuckDB allows a single writing process per database file. Every connection made here first takes
an exclusive file lock beside the database (``<file>.lock``), so Dagster runs, backfills outside
the run queue, the monthly schedule, CLI runs, notebooks using :func:`connect` and tests wait for
each other instead of failing with DuckDB's ``Could not set lock on file``. A waiting process logs
who holds the lock ("waiting for the warehouse lock held by ...") every ``poll_s`` seconds and
can be stopped with Ctrl-C / SIGTERM at any time (the wait is a loop of short timed attempts).

Connection settings (memory_limit, threads, temp_directory, preserve_insertion_order) are DuckDB
*configuration* passed to ``duckdb.connect(config=...)``: no path or value is ever placed in SQL
text. Nothing here knows about Dagster.
"""

from __future__ import annotations

import json
import os
import socket
import sys
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb
import filelock

from assets.common.sql import qualified_name, quote_identifier

if TYPE_CHECKING:
    import polars as pl

DEFAULT_LOCK_TIMEOUT_S = 6 * 3600.0
LOCK_POLL_S = 10.0
DEFAULT_MEMORY_LIMIT = "3GB"
DEFAULT_THREADS = 2

Log = Callable[[str], None]


def lock_path(database: Path) -> Path:
    return database.with_name(database.name + ".lock")


def holder_path(database: Path) -> Path:
    """Who holds the lock (pid, host, command), written by the holder; informative only."""
    return database.with_name(database.name + ".lock.holder")


def temp_directory(database: Path) -> Path:
    return database.with_name(database.name + ".tmp")


def connection_config(
    database: Path, memory_limit: str = DEFAULT_MEMORY_LIMIT, threads: int = DEFAULT_THREADS
) -> dict[str, Any]:
    """The DuckDB configuration of every warehouse connection (bounded memory, spill beside the file)."""
    return {
        "memory_limit": memory_limit,
        "threads": int(threads),
        "temp_directory": str(temp_directory(database)),
        "preserve_insertion_order": False,
    }


@dataclass(frozen=True)
class WarehouseSettings:
    """Where the DuckDB file lives and how much of the machine one connection may use."""

    path: Path
    memory_limit: str = DEFAULT_MEMORY_LIMIT
    threads: int = DEFAULT_THREADS
    lock_timeout_s: float = DEFAULT_LOCK_TIMEOUT_S

    @property
    def lock_path(self) -> Path:
        return lock_path(self.path)

    @property
    def temp_directory(self) -> Path:
        return temp_directory(self.path)

    def config(self) -> dict[str, Any]:
        return connection_config(self.path, self.memory_limit, self.threads)


def _describe_holder(database: Path) -> str:
    try:
        info = json.loads(holder_path(database).read_text())
        return f"pid {info['pid']} on {info['host']} ({info['command']})"
    except (OSError, ValueError, KeyError):
        return "another process"


@contextmanager
def warehouse_lock(
    database: Path, timeout_s: float = DEFAULT_LOCK_TIMEOUT_S, poll_s: float = LOCK_POLL_S, log: Log | None = None
) -> Iterator[None]:
    """Hold the cross-process writer lock of ``database``; wait (logging who holds it) until free."""
    database.parent.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(str(lock_path(database)))
    deadline = time.monotonic() + timeout_s
    waited = 0.0
    while True:
        try:
            lock.acquire(timeout=min(poll_s, max(0.0, deadline - time.monotonic())), poll_interval=0.05)
            break
        except filelock.Timeout:
            waited += poll_s
            if time.monotonic() >= deadline:
                raise TimeoutError(
                    f"the warehouse {database} stayed locked by {_describe_holder(database)} for {timeout_s:.0f} s"
                ) from None
            if log is not None:
                log(f"waiting for the warehouse lock held by {_describe_holder(database)} ({waited:.0f} s so far)")
    try:
        command = " ".join(sys.argv)[:200] or sys.executable
        info = {"pid": os.getpid(), "host": socket.gethostname(), "command": command}
        holder_path(database).write_text(json.dumps(info))
        yield
    finally:
        holder_path(database).unlink(missing_ok=True)
        lock.release()


def open_connection(
    database: Path, config: Mapping[str, Any], timeout_s: float = DEFAULT_LOCK_TIMEOUT_S, log: Log | None = None
) -> duckdb.DuckDBPyConnection:
    """``duckdb.connect`` with ``config``; a file held by a process outside our lock (a DuckDB CLI, a
    notebook) is waited for, logging, rather than failing."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            con = duckdb.connect(str(database), config=dict(config))
            break
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() >= deadline:
                raise
            if log is not None:
                log(f"waiting for the warehouse file {database}, opened by another program: {exc}")
            time.sleep(min(LOCK_POLL_S, max(0.0, deadline - time.monotonic())))
    # Session settings that cannot go through config (TimeZone needs the icu extension, which DuckDB
    # autoloads after connect but not during it; the progress bar is per session). Constants only.
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    return con


@contextmanager
def connect_exclusive(
    database: Path,
    config: Mapping[str, Any],
    timeout_s: float = DEFAULT_LOCK_TIMEOUT_S,
    poll_s: float = LOCK_POLL_S,
    log: Log | None = None,
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open ``database`` exclusively (waiting for other writers) with ``config``."""
    with warehouse_lock(database, timeout_s, poll_s, log):
        con = open_connection(database, config, timeout_s, log)
        try:
            yield con
        finally:
            con.close()


@contextmanager
def connect(settings: WarehouseSettings, log: Log | None = None) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse exclusively (waiting for other writers) with bounded memory."""
    with connect_exclusive(settings.path, settings.config(), settings.lock_timeout_s, log=log) as con:
        yield con


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
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_identifier(schema)}")


def replace_table(con: duckdb.DuckDBPyConnection, qualified_table: str, frame: pl.DataFrame) -> int:
    """Replace a whole (small, per-household) table with ``frame`` atomically; returns rows written."""
    ensure_schema(con, qualified_table)
    with transaction(con):
        con.register("_replacement", frame.to_arrow())
        try:
            con.execute(f"CREATE OR REPLACE TABLE {qualified_name(qualified_table)} AS SELECT * FROM _replacement")
        finally:
            con.unregister("_replacement")
    return frame.height


def read_table(con: duckdb.DuckDBPyConnection, qualified_table: str) -> pl.DataFrame:
    """Read a per-household table into polars (never used for half-hourly tables)."""
    return con.sql(f"SELECT * FROM {qualified_name(qualified_table)}").pl()
