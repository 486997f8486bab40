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
import gzip
import re
import zlib
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import duckdb
import polars as pl

from assets.common.months import FIRST_MONTH, LAST_TRIAL_MONTH, LIVE_FROM, current_month, next_month
from assets.common.sql import load_sql, qualified_name, quote_identifier
from assets.common.table_model import SchemaViolation, create_table_if_missing, validate
from assets.common.warehouse import transaction
from assets.ingest.schemas.raw_readings import RawReadings
from assets.ingest.source_files import SourceFile
from assets.ingest.source_layouts import (
    LAYOUTS,
    TIMESTAMP_PATTERN,
    SourceFileError,
    decode_text,
    detect_layout,
    parquet_to_raw_rows,
    read_text,
    text_encoding,
    truncated_last_line,
)

RAW_TABLE = "ingest.raw_readings"
INDEX_TABLE = "ingest.source_file_index"
_RAW, _INDEX = (qualified_name(t) for t in (RAW_TABLE, INDEX_TABLE))
_LEGACY_STAGING = qualified_name("ingest._raw_readings_staging")
# The reader's column delimiter: the ASCII unit separator, which no readings line holds (a line
# that does has two columns, and DuckDB's strict mode refuses the file: it goes the Python way).
DELIMITER = "\x1f"
# The reader's buffer: DuckDB's default (16 x its 2 MB max_line_size); a parameter so that a test can
# make files span many buffers.
READER_BUFFER_BYTES = 32 * 1024 * 1024
# How much of each end of a file Python reads: the layout from the head, a cut last line from the tail.
EDGE_BYTES = 64 * 1024
# Registered (connection-local) relation names of one load.
_PY_LINES, _FILES, _FILL, _PARQUET = "_raw_python_lines", "_raw_files", "_raw_fill", "_raw_parquet"


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
        "interval_seconds",
    )
)


def ensure_index(con: duckdb.DuckDBPyConnection) -> None:
    """Create ``ingest.source_file_index`` if missing (the clean stage reads its line counts, truncated
    last lines and reading intervals); an index of an older version gains the newer columns (NULL
    interval: not detected yet, read as half-hourly until the file's months are ingested again)."""
    con.execute(load_sql(__file__, "create_source_file_index").format(index=_INDEX))
    con.execute(f"ALTER TABLE {_INDEX} ADD COLUMN IF NOT EXISTS truncated_last_line BIGINT")
    con.execute(f"ALTER TABLE {_INDEX} ADD COLUMN IF NOT EXISTS interval_seconds BIGINT")
    # sha256 of the file's bytes: filled after a load by assets/ingest/file_ledger.py, emptied here when
    # a new version of the file is indexed
    con.execute(f"ALTER TABLE {_INDEX} ADD COLUMN IF NOT EXISTS content_sha256 VARCHAR")


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


def refuse_changed_files(files: list[SourceFile]) -> None:
    """Raise :class:`SourceFileError` naming every file whose size or modification time is no longer
    what discovery saw (a delivery still being written, a file replaced mid-load).

    Both engines read a file more than once (pass 1: line counts and stamps; pass 2: the rows; Python:
    its two ends), and the index stores the discovery size and time to skip unchanged files next
    time. A file that changed in between may have been read as two different versions (line numbers
    counted in one, rows taken from the other) and indexed as the old one: called after the last read
    and before anything is committed, so nothing of such a load is stored and a re-run reads the new
    version whole.
    """
    changed: list[tuple[str, str]] = []  # (file, what changed)
    for f in files:
        try:
            stat = f.path.stat()
            now: tuple[int, int] | None = (stat.st_size, stat.st_mtime_ns)
        except FileNotFoundError:
            now = None
        if now != (f.size_bytes, f.mtime_ns):
            seen = "removed" if now is None else f"{now[0]:,} bytes, mtime_ns {now[1]}"
            changed.append((f.relative, f"discovered {f.size_bytes:,} bytes, mtime_ns {f.mtime_ns}; now {seen}"))
    if changed:
        raise SourceFileError(
            changed[0][0],
            "changed while the load read it; nothing of this load was stored, re-run it once the "
            f"delivery is complete: {'; '.join(f'{name} ({what})' for name, what in changed)}",
        )


# --- what Python reads of a text file: its two ends ------------------------------------------------


@dataclass
class TextFile:
    """One text readings file of a load: how it is read and what its ends say."""

    file: SourceFile
    layout: str
    has_header: bool
    final_newline: bool
    tail: list[str]  # the complete lines of the last EDGE_BYTES (all lines if the file is that small)
    whole: bool  # whether ``tail`` is the whole file
    lines: list[str] | None = None  # only on the Python line path (UTF-16, or refused by DuckDB)


def _is_gzip(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(2) == b"\x1f\x8b"


def _ends(path: Path, display: str) -> tuple[bytes, bytes, bool]:
    """The first and last EDGE_BYTES of the decompressed file, and whether they are the whole file.

    A gzip file is streamed through once in chunks (zlib in C; Python holds two windows, never
    the file)."""
    try:
        if _is_gzip(path):
            with gzip.open(path, "rb") as fh:
                head = fh.read(EDGE_BYTES)
                tail, whole = head, len(head) < EDGE_BYTES
                while chunk := fh.read(1 << 20):
                    tail, whole = (tail + chunk)[-EDGE_BYTES:], False
                return head, tail, whole
        size = path.stat().st_size
        with path.open("rb") as fh:
            head = fh.read(EDGE_BYTES)
            fh.seek(max(0, size - EDGE_BYTES))
            return head, fh.read(), size <= EDGE_BYTES
    except (OSError, EOFError, zlib.error) as exc:
        raise SourceFileError(display, f"corrupt gzip stream ({exc})") from None


def _split(text: str) -> tuple[list[str], bool]:
    """Physical lines of a text (CR of CR LF stripped) and whether it ended with a line ending."""
    lines = text.split("\n")
    final_newline = bool(lines) and lines[-1] == ""
    if final_newline:
        lines.pop()
    return [ln.rstrip("\r") for ln in lines], final_newline


def _layout(lines: list[str], display: str) -> tuple[str, bool]:
    detected = detect_layout(lines[:21])
    if detected is None:
        raise SourceFileError(display, "content matches no readings layout")
    layout, has_header = detected
    return layout.name, has_header


def plan_text_file(f: SourceFile) -> TextFile:
    """Read the two ends of a text file (layout, line endings, last lines); UTF-16 files are decoded
    whole here (rare: the Python line path)."""
    head, tail, whole = _ends(f.path, f.relative)
    encoding = text_encoding(head)
    if encoding is None:
        raise SourceFileError(f.relative, "binary content (NUL bytes): not a text file")
    if encoding != "utf-8":
        return python_text_file(f)
    head_lines, _ = _split(decode_text(head[: len(head) if whole else head.rfind(b"\n") + 1], f.relative, "replace"))
    layout, has_header = _layout(head_lines, f.relative)
    tail_lines, final_newline = _split(tail.decode("utf-8", errors="replace"))
    if not whole:
        tail_lines = tail_lines[1:]  # the first line of the window may be cut by it
    return TextFile(f, layout, has_header, final_newline, tail_lines, whole)


def python_text_file(f: SourceFile) -> TextFile:
    """The Python line path: decode the whole file (strict UTF-8 or UTF-16, or raise naming it)."""
    lines, final_newline = _split(read_text(f.path, f.relative))
    layout, has_header = _layout(lines, f.relative)
    return TextFile(f, layout, has_header, final_newline, lines, True, lines)


def _truncated_line(t: TextFile, n_lines: int) -> int | None:
    """The number of the file's last line if it was cut short (see source_layouts.truncated_last_line),
    judged on the file's last EDGE_BYTES (about a thousand lines: how the export ends its lines)."""
    if t.whole:
        return truncated_last_line(t.tail, t.has_header, t.final_newline)
    return n_lines if truncated_last_line(t.tail, False, t.final_newline) is not None else None


# --- the SQL of a load ------------------------------------------------------------------------------


def _sql(name: str) -> str:
    """``sql/<name>.sql`` without its comment lines (the pieces are nested into one another)."""
    return "\n".join(ln for ln in load_sql(__file__, name).splitlines() if not ln.lstrip().startswith("--"))


def _layout_value(attribute: str, layout: str | None) -> str:
    """One LAYOUTS attribute (field positions 1-based) as SQL: a constant when the relation holds one
    layout (so DuckDB folds it into split_part), else ``CASE source_layout WHEN ... END``."""

    def value(name: str) -> str | None:
        v = getattr(LAYOUTS[name], attribute)
        return None if v is None else str(v + 1 if attribute.endswith("_field") else v)

    if layout is not None:
        return value(layout) or "NULL"
    whens = [f"WHEN '{name}' THEN {value(name)}" for name in LAYOUTS if value(name) is not None]
    return f"CASE source_layout {' '.join(whens)} END"


def parse_sql(lines: str, layout: str | None = None) -> str:
    """``parse_lines.sql`` over the relation ``lines`` (file_index, source_line, line_text,
    source_layout); ``layout`` when every line of ``lines`` has that one layout."""
    if layout is not None and layout not in LAYOUTS:
        raise ValueError(f"unknown layout {layout!r}")
    return _sql("parse_lines").format(
        lines=lines,
        id_field=_layout_value("id_field", layout),
        tariff_field=_layout_value("tariff_field", layout),
        ts_field=_layout_value("timestamp_field", layout),
        kwh_field=_layout_value("kwh_field", layout),
        expected_fields=_layout_value("field_count", layout),
    )


def parse_parameters() -> dict[str, object]:
    return {
        "timestamp_pattern": TIMESTAMP_PATTERN,
        "first_month": date.fromisoformat(FIRST_MONTH),
        "last_trial_month": date.fromisoformat(LAST_TRIAL_MONTH),
        "live_from": date.fromisoformat(LIVE_FROM),
        "current_month": current_month(),
    }


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
        reader = _sql("read_lines").replace("$files", f"$files_{g}")
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


@dataclass
class _FileStats:
    n_lines: int
    first_rn: int
    first_month: date | None
    last_month: date | None
    stamps: int
    first_stamp: object
    last_stamp: object
    edges: list[dict]
    # the file's reading interval in seconds (sql/file_intervals.sql; 0: too few stamps to tell, off
    # the half-hour grid); None for a file without any parsed stamp (read as half-hourly)
    interval_seconds: int | None = None


def _run_pass1(con: duckdb.DuckDBPyConnection, native: list[TextFile], python: list[TextFile]) -> dict[int, _FileStats]:
    texts = native + python
    parsed, params = _parsed_sql(native, bool(python), False)
    params |= {**parse_parameters(), "layouts": [t.layout for t in texts]}
    statement = _sql("file_stats").format(parsed=f"({parsed})", intervals=_sql("file_intervals").format(stamps="w"))
    rows = con.execute(statement, _used(parsed, params)).fetchall()
    return {r[0]: _FileStats(*r[1:]) for r in rows}


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
            f"SELECT count(*) FROM ({_sql('read_lines')})",
            {"files": [str(t.file.path)], "delimiter": DELIMITER, "buffer_size": READER_BUFFER_BYTES},
        ).fetchall()
    except duckdb.Error:
        return False
    return True


def _refuse_unusable(texts: list[TextFile], stats: dict[int, _FileStats]) -> None:
    for i, t in enumerate(texts):
        s = stats.get(i)
        if s is None or s.n_lines <= int(t.has_header) or s.first_month is not None:
            continue
        if s.stamps == 0:
            raise SourceFileError(t.file.relative, "no line has a parseable timestamp: not a readings file")
        raise SourceFileError(
            t.file.relative,
            f"no line has a timestamp in the supported months (stamps {s.first_stamp} .. {s.last_stamp}; "
            f"readings can be from {FIRST_MONTH[:7]} .. {LAST_TRIAL_MONTH[:7]} and from {LIVE_FROM[:7]} "
            "up to the current month): refused, nothing stored",
        )


def _fill(texts: list[TextFile], stats: dict[int, _FileStats]) -> pl.DataFrame:
    """The month of every data line without a month of its own: that of the nearest preceding
    in-range line of its file, else of the next one (from pass 1's edges: such lines and their
    in-range neighbours, in line order)."""
    rows: list[tuple[int, int, date]] = []
    for i, t in enumerate(texts):
        s = stats.get(i)
        if s is None or not s.edges:
            continue
        header_rn = s.first_rn if t.has_header else None
        edges = [e for e in s.edges if e["rn"] != header_rn]
        before: date | None = None
        pending: list[int] = []
        for e in edges:
            if e["month"] is None:
                if before is not None:
                    rows.append((i, e["rn"] - s.first_rn + 1, before))
                else:
                    pending.append(e["rn"])
            else:
                before = e["month"]
                rows.extend((i, rn - s.first_rn + 1, before) for rn in pending)
                pending = []
    return pl.DataFrame(rows, schema={"file_index": pl.Int64, "source_line": pl.Int64, "month": pl.Date}, orient="row")


def text_index_rows(
    texts: list[TextFile], stats: dict[int, _FileStats], truncated: dict[int, int | None]
) -> list[list]:
    """The file index's row of each text file just loaded (both engines): path, size, mtime, layout,
    first and last month, data lines (the header not counted), the cut last line, if any, and the
    reading interval in seconds."""
    return [
        [
            t.file.relative,
            t.file.size_bytes,
            t.file.mtime_ns,
            t.layout,
            stats[i].first_month if i in stats else None,
            stats[i].last_month if i in stats else None,
            (stats[i].n_lines - int(t.has_header)) if i in stats else 0,
            truncated[i],
            stats[i].interval_seconds if i in stats else None,
        ]
        for i, t in enumerate(texts)
    ]


def _check_window(con: duckdb.DuckDBPyConnection, start: date, end: date) -> None:
    """The schema's row rules on the rows just written, in SQL (the window is never loaded whole)."""
    failing = con.sql(
        f"""SELECT source_file, source_line, reading_month, source_layout, field_count FROM {_RAW}
            WHERE reading_month >= $start AND reading_month < $end
              AND (source_file IS NULL OR source_line IS NULL OR source_line < 1 OR reading_month IS NULL
                   OR source_layout NOT IN (SELECT unnest($layouts)) OR field_count < 0)
            LIMIT 5""",
        params={"start": start, "end": end, "layouts": [*LAYOUTS, "parquet"]},
    ).pl()
    if failing.height:
        raise SchemaViolation(RAW_TABLE, failing, f"{RAW_TABLE}: rows break the schema's row rules: {failing.rows()}")


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
    con.execute(f"DROP TABLE IF EXISTS {_LEGACY_STAGING}")  # left by a crash of an older version
    parquet = [f for f in to_read if f.path.name.lower().endswith(".parquet")]
    texts = [plan_text_file(f) for f in to_read if f not in parquet]
    parquet_frames = [(f, parquet_to_raw_rows(f.path, f.relative)) for f in parquet]
    result.files_read = len(to_read)

    # Row order must follow the files for the line numbers (read_lines.sql); the warehouse
    # connection otherwise lets DuckDB reorder rows.
    (previous_order,) = con.execute("SELECT current_setting('preserve_insertion_order')").fetchone()
    con.execute("SET preserve_insertion_order = true")
    try:
        native, python, stats = _pass1(con, texts) if texts else ([], [], {})
        texts = native + python
        _refuse_unusable(texts, stats)
        truncated = {i: _truncated_line(t, stats[i].n_lines) if i in stats else None for i, t in enumerate(texts)}
        files_table = pl.DataFrame(
            {
                "file_index": list(range(len(texts))),
                "source_file": [t.file.relative for t in texts],
                "has_header": [t.has_header for t in texts],
                "truncated_last_line": [truncated[i] for i in range(len(texts))],
            },
            schema={
                "file_index": pl.Int64,
                "source_file": pl.String,
                "has_header": pl.Boolean,
                "truncated_last_line": pl.Int64,
            },
        )
        con.register(_FILES, files_table.to_arrow())
        con.register(_FILL, _fill(texts, stats).to_arrow())
        index_updates = text_index_rows(texts, stats, truncated)
        index_updates += [parquet_index_row(f, frame) for f, frame in parquet_frames]
        with transaction(con):
            con.execute(f"DELETE FROM {_RAW} WHERE reading_month >= ? AND reading_month < ?", [start, end])
            if texts:
                parsed, params = _parsed_sql(native, bool(python), True)
                insert = _sql("insert_raw").format(raw=_RAW, parsed=parsed, files=_FILES, fill=_FILL)
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
            refuse_changed_files(to_read)  # after the last read, before the commit
            for row in index_updates:
                con.execute(
                    f"INSERT OR REPLACE INTO {_INDEX} ({_INDEX_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", row
                )
                con.execute(f"UPDATE {_INDEX} SET content_sha256 = NULL WHERE source_file = ?", [row[0]])
            counts = con.execute(
                f"""SELECT reading_month, source_layout, count(*) FROM {_RAW}
                    WHERE reading_month >= ? AND reading_month < ? AND source_file IN (SELECT unnest(?))
                    GROUP BY ALL""",
                [start, end, [f.relative for f in to_read]],
            ).fetchall()
    finally:
        for name in (_PY_LINES, _FILES, _FILL):
            with contextlib.suppress(duckdb.Error):
                con.unregister(name)
        con.execute(f"SET preserve_insertion_order = {'true' if previous_order else 'false'}")
    for month, layout, n in counts:
        result.rows_by_month[month] = result.rows_by_month.get(month, 0) + n
        result.rows_by_layout[layout] = result.rows_by_layout.get(layout, 0) + n
    return result


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
        row = con.execute(_sql("file_intervals").format(stamps="_stamps")).fetchone()
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
