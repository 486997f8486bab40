"""Load the raw readings of a window of months into ``ingest.raw_readings``, idempotently.

Each call replaces the window's rows in one transaction: re-running a month never duplicates, and
a file that cannot be read aborts the whole call with the table exactly as it was. Rows are staged
in a connection-local TEMP table first, so memory stays bounded however many files a window spans (DuckDB keeps
the appends of an open transaction in memory; one INSERT ... SELECT does not). Every physical
line of every readings file whose month falls in the window is stored with its file and line;
lines stamped outside the supported months are filed under their neighbours' month
(``source_layouts``), so every physical line lands in some partition month.

A small index (``ingest.source_file_index``) remembers which months each file version covers, so
files that cannot touch the window are not parsed again.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import date

import duckdb
import polars as pl

from assets.common.sql import load_sql, qualified_name, quote_identifier
from assets.common.table_model import create_table_if_missing, validate
from assets.common.warehouse import transaction
from assets.ingest.schemas.raw_readings import RawReadings
from assets.ingest.source_files import SourceFile
from assets.ingest.source_layouts import ParsedFile, parse_readings_file

RAW_TABLE = "ingest.raw_readings"
INDEX_TABLE = "ingest.source_file_index"
# A TEMP table: it belongs to this connection and vanishes with it, so a crash (even SIGKILL) never
# leaves a half-filled staging table in the warehouse; DuckDB spills temp tables to disk as needed.
STAGING_TABLE = "_raw_readings_staging"
_RAW, _INDEX = (qualified_name(t) for t in (RAW_TABLE, INDEX_TABLE))
_STAGING = quote_identifier(STAGING_TABLE)
_LEGACY_STAGING = qualified_name("ingest._raw_readings_staging")


@dataclass
class RawLoadResult:
    rows_by_month: dict[date, int] = field(default_factory=dict)
    files_read: int = 0
    files_skipped: int = 0
    rows_by_layout: dict[str, int] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(self.rows_by_month.values())


_INDEX_COLUMNS = ", ".join(
    quote_identifier(c)
    for c in (
        "source_file",
        "size_bytes",
        "mtime_ns",
        "source_layout",
        "first_month",
        "last_month",
        "line_rows",
        "truncated_last_line",
    )
)


def ensure_index(con: duckdb.DuckDBPyConnection) -> None:
    """Create ``ingest.source_file_index`` if missing (the clean stage reads its line counts and
    truncated last lines); an index of an older version gains the newer column."""
    con.execute(load_sql(__file__, "create_source_file_index").format(index=_INDEX))
    con.execute(f"ALTER TABLE {_INDEX} ADD COLUMN IF NOT EXISTS truncated_last_line BIGINT")


def _index(con: duckdb.DuckDBPyConnection) -> dict[str, tuple]:
    ensure_index(con)
    rows = con.execute(f"SELECT source_file, size_bytes, mtime_ns, first_month, last_month FROM {_INDEX}")
    return {r[0]: r[1:] for r in rows.fetchall()}


def _can_skip(entry: tuple | None, f: SourceFile, start: date, end: date) -> bool:
    if entry is None:
        return False
    size, mtime, first, last = entry
    unchanged = size == f.size_bytes and mtime == f.mtime_ns
    if first is None or last is None:  # a header-only (or empty) file: no line touches any month
        return unchanged
    return unchanged and (last < start or first >= end)


def _parsed(files: list[SourceFile], workers: int = 2) -> Iterator[tuple[SourceFile, ParsedFile]]:
    """Parse files in a small thread pool, yielding in order, at most 2 x workers in flight."""
    with ThreadPoolExecutor(max_workers=workers) as pool:
        pending = []
        for f in files:
            pending.append((f, pool.submit(parse_readings_file, f.path, f.relative)))
            if len(pending) >= 2 * workers:
                g, fut = pending.pop(0)
                yield g, fut.result()
        for g, fut in pending:
            yield g, fut.result()


def load_raw_readings(con: duckdb.DuckDBPyConnection, files: list[SourceFile], start: date, end: date) -> RawLoadResult:
    """Replace ``ingest.raw_readings`` rows with ``start <= reading_month < end`` from ``files``."""
    create_table_if_missing(con, RAW_TABLE, RawReadings)
    index = _index(con)
    result = RawLoadResult()
    to_read = []
    for f in files:
        if _can_skip(index.get(f.relative), f, start, end):
            result.files_skipped += 1
        else:
            to_read.append(f)
    # Parsed rows go to a scratch table first (committed batch by batch, so memory stays bounded by
    # one file); only when every file has been read does one transaction swap the window in. A file
    # that cannot be read stops the load before the stored table is touched.
    con.execute(f"DROP TABLE IF EXISTS {_LEGACY_STAGING}")  # left by a crash of an older version
    con.execute(f"DROP TABLE IF EXISTS {_STAGING}")
    con.execute(f"CREATE TEMP TABLE {_STAGING} AS SELECT * FROM {_RAW} LIMIT 0")
    index_updates = []
    try:
        for f, parsed in _parsed(to_read):
            frame = parsed.rows
            result.files_read += 1
            months = frame["reading_month"]
            index_updates.append(
                [
                    f.relative,
                    f.size_bytes,
                    f.mtime_ns,
                    frame["source_layout"][0] if frame.height else None,
                    months.min(),
                    months.max(),
                    frame.height,
                    parsed.truncated_last_line,
                ]
            )
            window = validate(
                RawReadings,
                frame.filter((pl.col("reading_month") >= start) & (pl.col("reading_month") < end)),
                f"{RAW_TABLE} ({f.relative})",
            )
            del frame
            if window.height == 0:
                continue
            con.register("_raw_batch", window.to_arrow())
            try:
                con.execute(f"INSERT INTO {_STAGING} SELECT * FROM _raw_batch")
            finally:
                con.unregister("_raw_batch")
            for month, n in window.group_by("reading_month").len().iter_rows():
                result.rows_by_month[month] = result.rows_by_month.get(month, 0) + n
            layout = window["source_layout"][0]
            result.rows_by_layout[layout] = result.rows_by_layout.get(layout, 0) + window.height
        with transaction(con):
            con.execute(f"DELETE FROM {_RAW} WHERE reading_month >= ? AND reading_month < ?", [start, end])
            con.execute(f"INSERT INTO {_RAW} SELECT * FROM {_STAGING}")
            for row in index_updates:
                con.execute(f"INSERT OR REPLACE INTO {_INDEX} ({_INDEX_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)", row)
    finally:
        con.execute(f"DROP TABLE IF EXISTS {_STAGING}")
    return result
