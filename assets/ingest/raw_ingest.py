"""Load the raw readings of a window of months into ``ingest.raw_readings``, idempotently.

Text files are read by DuckDB's native CSV reader (multi-threaded, gzip-aware; ``sql/read_lines.sql``)
as one line per row, and split, trimmed and parsed in SQL by the one parse definition
(``sql/parse_lines.sql``, engine-neutral). Python looks only at the first and last 64 KiB of each
file (layout, line endings, a cut last line) and never holds a whole file, except on the rare
Python line path: UTF-16 files, and files whose line endings DuckDB's strict reader refuses (a lone
CR inside a line), which are decoded in Python and handed to the same parse definition.

A load takes two passes over the files it reads: pass 1 (``sql/file_stats.sql``) counts each
file's lines, the months it covers and the few lines without a month of their own; pass 2
(``sql/insert_raw.sql``) writes the window's rows once, straight into the table, in the
transaction that deletes the window: re-running a month never duplicates, and a file that cannot
be read aborts the call with the table exactly as it was. Every physical line of every readings
file whose month falls in the window is stored with its file and line; lines stamped outside the
supported months are filed under the month of the nearest in-range line of their file (preceding,
else following), so every physical line lands in some partition month. Only lines the parse
rejects (wrong field count, no id, unparseable stamp or value, a cut last line) keep their text.

A small index (``ingest.source_file_index``) remembers which months each file version covers, so
files that cannot touch the window are not parsed again.
"""

from __future__ import annotations

import contextlib
import re
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from assets.common.months import FIRST_MONTH, LIVE_FROM, current_month, next_month
from assets.common.sql import qualified_name, quote_identifier
from assets.common.table_model import create_table_if_missing, validate
from assets.common.warehouse import transaction
from assets.ingest.load_plan import (
    INDEX_COLUMNS,
    INDEX_TABLE,
    RAW_TABLE,
    FileStats,
    RawLoadResult,
    TextFile,
    check_row_rules,
    count_rows,
    ingest_sql,
    parse_parameters,
    parse_sql,
    plan_load,
    python_text_file,
    refuse_changed_files,
    row_rules_parameters,
    row_rules_sql,
    settle_files,
)
from assets.ingest.load_plan import fill_months as _fill
from assets.ingest.schemas.raw_readings import RawReadings
from assets.ingest.source_files import SourceFile
from assets.ingest.source_layouts import LAYOUTS, parquet_to_raw_rows

_RAW, _INDEX = (qualified_name(t) for t in (RAW_TABLE, INDEX_TABLE))
_LEGACY_STAGING = qualified_name("ingest._raw_readings_staging")
# The reader's column delimiter: the ASCII unit separator, which no readings line holds (a line
# that does has two columns, and DuckDB's strict mode refuses the file: it goes the Python way).
DELIMITER = "\x1f"
# The reader's buffer: DuckDB's default (16 x its 2 MB max_line_size); a parameter so that a test can
# make files span many buffers.
READER_BUFFER_BYTES = 32 * 1024 * 1024
# Registered (connection-local) relation names of one load.
_PY_LINES, _FILES, _FILL, _PARQUET = "_raw_python_lines", "_raw_files", "_raw_fill", "_raw_parquet"


_INDEX_COLUMNS = ", ".join(quote_identifier(name) for name, _ in INDEX_COLUMNS)


def ensure_index(con: duckdb.DuckDBPyConnection) -> None:
    """Create ``ingest.source_file_index`` if missing (the clean stage reads its line counts, truncated
    last lines and reading intervals); an index of an older version gains the newer columns (NULL
    interval: not detected yet, read as half-hourly until the file's months are ingested again)."""
    columns = ", ".join(f"{quote_identifier(name)} {sql_type}" for name, sql_type in INDEX_COLUMNS)
    key = quote_identifier(INDEX_COLUMNS[0][0])
    con.execute(f"CREATE TABLE IF NOT EXISTS {_INDEX} ({columns}, PRIMARY KEY ({key}))")
    for name, sql_type in INDEX_COLUMNS[1:]:  # an index of an older version gains the columns added since
        con.execute(f"ALTER TABLE {_INDEX} ADD COLUMN IF NOT EXISTS {quote_identifier(name)} {sql_type}")
    # sha256 of the file's bytes: filled after a load by assets/ingest/file_ledger.py, emptied here when
    # a new version of the file is indexed
    con.execute(f"ALTER TABLE {_INDEX} ADD COLUMN IF NOT EXISTS content_sha256 VARCHAR")


def _index(con: duckdb.DuckDBPyConnection) -> dict[str, tuple]:
    ensure_index(con)
    rows = con.execute(f"SELECT source_file, size_bytes, mtime_ns, first_month, last_month FROM {_INDEX}")
    return {r[0]: r[1:] for r in rows.fetchall()}


def _parsed_sql(native: list[TextFile], has_python: bool, numbered: bool) -> tuple[str, dict[str, object]]:
    """parse_lines over every line of the load, in scan order, and its parameters: one DuckDB reader
    per layout (``native`` is grouped by layout, so the layout is a constant of each branch and
    its field positions fold away), then the Python line path's lines. With ``numbered``,
    source_line is the physical line number (via $first_rns), else the scan position rn."""
    params: dict[str, object] = {}
    branches = []
    offset = 0
    for layout in dict.fromkeys(t.layout for t in native):
        group = [t for t in native if t.layout == layout]
        if layout not in LAYOUTS or native[offset : offset + len(group)] != group:
            raise ValueError(f"native files must be grouped by a known layout ({layout})")
        g = len(branches)
        reader = ingest_sql("read_lines").replace("$files", f"$files_{g}")
        line = f"rn - list_extract($first_rns, file_index + {offset + 1}) + 1" if numbered else "rn"
        lines = (
            f"(SELECT file_index + {offset} AS file_index, {line} AS source_line, line_text, "
            f"'{layout}' AS source_layout FROM ({reader}))"
        )
        branches.append(f"SELECT * FROM ({parse_sql(lines, layout)})")
        params[f"files_{g}"] = [str(t.file.path) for t in group]
        offset += len(group)
    if native:
        params |= {"delimiter": DELIMITER, "buffer_size": READER_BUFFER_BYTES}
    if has_python:
        line = "rn - list_extract($first_rns, file_index + 1) + 1" if numbered else "rn"
        lines = (
            f"(SELECT file_index, {line} AS source_line, line_text, "
            f"list_extract($layouts, file_index + 1) AS source_layout FROM {_PY_LINES})"
        )
        branches.append(f"SELECT * FROM ({parse_sql(lines)})")
    return " UNION ALL ".join(branches), params


def _run_pass1(con: duckdb.DuckDBPyConnection, native: list[TextFile], python: list[TextFile]) -> dict[int, FileStats]:
    texts = native + python
    parsed, params = _parsed_sql(native, bool(python), False)
    params |= {**parse_parameters(), "layouts": [t.layout for t in texts]}
    statement = ingest_sql("file_stats").format(
        parsed=f"({parsed})", intervals=ingest_sql("file_intervals").format(stamps="w")
    )
    rows = con.execute(statement, _used(parsed, params)).fetchall()
    return {r[0]: FileStats(*r[1:]) for r in rows}


def _used(sql: str, params: dict[str, object]) -> dict[str, object]:
    """The parameters a statement names (DuckDB refuses unused named parameters)."""
    return {k: v for k, v in params.items() if re.search(rf"\${k}\b", sql)}


def _register_python_lines(con: duckdb.DuckDBPyConnection, native: list[TextFile], python: list[TextFile]) -> None:
    frames = [
        pl.DataFrame(
            {"line_text": pl.Series(t.lines, dtype=pl.String)},
        ).with_columns(
            pl.lit(len(native) + i, dtype=pl.Int64).alias("file_index"),
            pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("rn"),
        )
        for i, t in enumerate(python)
    ]
    frame = (
        pl.concat(frames)
        if frames
        else pl.DataFrame(schema={"line_text": pl.String, "file_index": pl.Int64, "rn": pl.Int64})
    )
    con.register(_PY_LINES, frame.select("file_index", "rn", "line_text").to_arrow())


def _pass1(con: duckdb.DuckDBPyConnection, texts: list[TextFile]) -> tuple[list[TextFile], list[TextFile], dict]:
    """Pass 1 over every text file; a file DuckDB's strict reader refuses moves to the Python line
    path (which reads it exactly, or raises SourceFileError naming it)."""
    native = sorted((t for t in texts if t.lines is None), key=lambda t: t.layout)  # grouped by layout
    python = [t for t in texts if t.lines is not None]
    while True:
        _register_python_lines(con, native, python)
        try:
            return native, python, _run_pass1(con, native, python)
        except duckdb.Error:
            refused = [t for t in native if not _duckdb_reads(con, t)]
            if not refused:
                raise
            native = [t for t in native if t not in refused]
            python += [python_text_file(t.file) for t in refused]


def _duckdb_reads(con: duckdb.DuckDBPyConnection, t: TextFile) -> bool:
    """Whether DuckDB's strict line reader reads this one file."""
    try:
        con.execute(
            f"SELECT count(*) FROM ({ingest_sql('read_lines')})",
            {"files": [str(t.file.path)], "delimiter": DELIMITER, "buffer_size": READER_BUFFER_BYTES},
        ).fetchall()
    except duckdb.Error:
        return False
    return True


def _check_window(con: duckdb.DuckDBPyConnection, start: date, end: date) -> None:
    """The schema's row rules on the rows just written, in SQL (the window is never loaded whole)."""
    window = f"(SELECT * FROM {_RAW} WHERE reading_month >= $start AND reading_month < $end)"
    check_row_rules(
        con.execute(row_rules_sql(window), {**row_rules_parameters(), "start": start, "end": end}).fetchall()
    )


def load_raw_readings(con: duckdb.DuckDBPyConnection, files: list[SourceFile], start: date, end: date) -> RawLoadResult:
    """Replace ``ingest.raw_readings`` rows with ``start <= reading_month < end`` from ``files``."""
    create_table_if_missing(con, RAW_TABLE, RawReadings)
    plan = plan_load(files, _index(con), start, end)
    result = RawLoadResult(files_read=len(plan.to_read), files_skipped=plan.files_skipped)
    con.execute(f"DROP TABLE IF EXISTS {_LEGACY_STAGING}")  # left by a crash of an older version
    parquet_frames = [(f, parquet_to_raw_rows(f.path, f.relative)) for f in plan.parquet]

    # Row order must follow the files for the line numbers (read_lines.sql); the warehouse
    # connection otherwise lets DuckDB reorder rows.
    (previous_order,) = con.execute("SELECT current_setting('preserve_insertion_order')").fetchone()
    con.execute("SET preserve_insertion_order = true")
    try:
        native, python, stats = _pass1(con, plan.texts) if plan.texts else ([], [], {})
        texts = native + python
        settled = settle_files(texts, stats, fill=_fill)
        con.register(_FILES, settled.files.to_arrow())
        con.register(_FILL, settled.fill.to_arrow())
        index_updates = settled.index_rows + [parquet_index_row(f, frame) for f, frame in parquet_frames]
        with transaction(con):
            con.execute(f"DELETE FROM {_RAW} WHERE reading_month >= ? AND reading_month < ?", [start, end])
            if texts:
                parsed, params = _parsed_sql(native, bool(python), True)
                insert = ingest_sql("insert_raw").format(raw=_RAW, parsed=parsed, files=_FILES, fill=_FILL)
                params |= {
                    **parse_parameters(),
                    "layouts": [t.layout for t in texts],
                    "first_rns": [stats[i].first_rn if i in stats else 1 for i in range(len(texts))],
                    "start": start,
                    "end": end,
                }
                con.execute(insert, _used(insert, params))
            for f, frame in parquet_frames:
                window = validate(
                    RawReadings,
                    frame.filter((pl.col("reading_month") >= start) & (pl.col("reading_month") < end)),
                    f"{RAW_TABLE} ({f.relative})",
                )
                con.register(_PARQUET, window.to_arrow())
                try:
                    con.execute(f"INSERT INTO {_RAW} SELECT * FROM {_PARQUET}")
                finally:
                    con.unregister(_PARQUET)
            _check_window(con, start, end)
            refuse_changed_files(plan.to_read)  # after the last read, before the commit
            placeholders = ", ".join("?" for _ in INDEX_COLUMNS)
            for row in index_updates:
                con.execute(f"INSERT OR REPLACE INTO {_INDEX} ({_INDEX_COLUMNS}) VALUES ({placeholders})", row)
                con.execute(f"UPDATE {_INDEX} SET content_sha256 = NULL WHERE source_file = ?", [row[0]])
            counts = con.execute(
                f"""SELECT reading_month, source_layout, count(*) FROM {_RAW}
                    WHERE reading_month >= ? AND reading_month < ? AND source_file IN (SELECT unnest(?))
                    GROUP BY ALL""",
                [start, end, [f.relative for f in plan.to_read]],
            ).fetchall()
    finally:
        for name in (_PY_LINES, _FILES, _FILL):
            with contextlib.suppress(duckdb.Error):
                con.unregister(name)
        con.execute(f"SET preserve_insertion_order = {'true' if previous_order else 'false'}")
    return count_rows(result, counts)


def parquet_index_row(f: SourceFile, frame: pl.DataFrame) -> list:
    """The source-file index row of a Parquet readings file (``frame``: its raw rows), either engine."""
    months = frame["reading_month"]
    return [f.relative, f.size_bytes, f.mtime_ns, "parquet", months.min(), months.max(), frame.height, None,
            frame_interval(frame)]  # fmt: skip


def frame_interval(frame: pl.DataFrame) -> int | None:
    """The reading interval (sql/file_intervals.sql) of one file's raw rows held as a frame (a Parquet
    readings file), in a private in-memory DuckDB; None if no row has a parsed stamp."""
    stamps = frame.select(pl.lit(0, dtype=pl.Int64).alias("file_index"), "household_id", "reading_end_utc")
    with duckdb.connect() as con:
        con.register("_stamps", stamps.to_arrow())
        row = con.execute(ingest_sql("file_intervals").format(stamps="_stamps")).fetchone()
    return None if row is None else row[1]


def read_readings_file(path: Path, source_file: str) -> pl.DataFrame:
    """Parse one readings file (any layout, gzip or not) into raw rows exactly as ingest stores them
    (the same SQL, in a private in-memory DuckDB), in line order."""
    if path.name.lower().endswith(".parquet"):
        return parquet_to_raw_rows(path, source_file)
    stat = path.stat()
    with duckdb.connect() as con:
        start = min(date.fromisoformat(FIRST_MONTH), date.fromisoformat(LIVE_FROM))
        f = SourceFile(path, source_file, "readings", stat.st_size, stat.st_mtime_ns)
        load_raw_readings(con, [f], start, next_month(current_month()))
        return con.sql(f"SELECT * FROM {_RAW} ORDER BY source_line").pl()
