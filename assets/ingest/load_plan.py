"""The plan of a load, shared by both engines' ingest: what a load reads, what each file is, what a line
becomes, what the source-file index holds and the row rules every stored row keeps.

Only reading the lines and writing the rows differ between the engines: DuckDB's CSV reader and one
INSERT in ``raw_ingest``, Spark's text reader (exact line numbers over file blocks) and a partition
overwrite in ``spark_ingest``. Both take the same steps, from this module:

1. :func:`plan_load`: which files to read (a file whose indexed version cannot touch the window is
   skipped), the Parquet files, and the layout and ends of each text file (:func:`plan_text_file`:
   Python reads only the first and last 64 KiB).
2. pass 1, per engine: each file's :class:`FileStats` (lines, months, stamps, the lines without a month
   of their own, the reading interval), then :func:`settle_files`: the file-level rules (a file without
   any usable stamp is refused; a cut last line), the files' relation (:data:`FILES_SCHEMA`), the month
   of every line without one (:func:`fill_months`) and the index rows (:func:`text_index_rows`).
3. pass 2, per engine: ``sql/parse_lines.sql`` and ``sql/insert_raw.sql`` over the numbered lines, the
   row rules (``sql/raw_row_rules.sql``, :func:`check_row_rules`) on the rows about to be stored, the
   files checked unchanged (:func:`refuse_changed_files`), then the write and the index.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import polars as pl

from assets.common.months import FIRST_MONTH, LAST_TRIAL_MONTH, LIVE_FROM, current_month
from assets.common.sql import load_sql
from assets.common.table_model import SchemaViolation
from assets.ingest.source_files import SourceFile
from assets.ingest.source_layouts import (
    LAYOUTS,
    TIMESTAMP_PATTERN,
    SourceFileError,
    decode_text,
    detect_layout,
    read_text,
    text_encoding,
    truncated_last_line,
)

RAW_TABLE = "ingest.raw_readings"
INDEX_TABLE = "ingest.source_file_index"
# How much of each end of a file Python reads: the layout from the head, a cut last line from the tail.
EDGE_BYTES = 64 * 1024
# The source-file index, one row per file version read: which months it covers (a file is read again
# only when its size or mtime changes, or its months touch the window), its data lines (the header not
# counted), the number of its last line if that was cut short (source_layouts.truncated_last_line;
# VEE V12) and its reading interval in seconds (sql/file_intervals.sql: 1800 half-hourly, 900
# 15-minute, 3600 hourly; 0 = too few stamps to tell, off the :00/:30 grid; NULL = not detected).
INDEX_COLUMNS: tuple[tuple[str, str], ...] = (
    ("source_file", "VARCHAR"),
    ("size_bytes", "BIGINT"),
    ("mtime_ns", "BIGINT"),
    ("source_layout", "VARCHAR"),
    ("first_month", "DATE"),
    ("last_month", "DATE"),
    ("line_rows", "BIGINT"),
    ("truncated_last_line", "BIGINT"),
    ("interval_seconds", "BIGINT"),
)
# The files of a load as pass 2 joins them (sql/insert_raw.sql's {files}): position, path, header,
# cut last line.
FILES_SCHEMA = {
    "file_index": pl.Int64,
    "source_file": pl.String,
    "has_header": pl.Boolean,
    "truncated_last_line": pl.Int64,
}
# The month of each line without one of its own (sql/insert_raw.sql's {fill}).
FILL_SCHEMA = {"file_index": pl.Int64, "source_line": pl.Int64, "month": pl.Date}


@dataclass
class RawLoadResult:
    """What a load stored: rows per month and per layout, files read and skipped."""

    rows_by_month: dict[date, int] = field(default_factory=dict)
    files_read: int = 0
    files_skipped: int = 0
    rows_by_layout: dict[str, int] = field(default_factory=dict)

    @property
    def rows(self) -> int:
        return sum(self.rows_by_month.values())


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


def truncated_line(t: TextFile, n_lines: int) -> int | None:
    """The number of the file's last line if it was cut short (see source_layouts.truncated_last_line),
    judged on the file's last EDGE_BYTES (about a thousand lines: how the export ends its lines)."""
    if t.whole:
        return truncated_last_line(t.tail, t.has_header, t.final_newline)
    return n_lines if truncated_last_line(t.tail, False, t.final_newline) is not None else None


# --- the SQL of a load ------------------------------------------------------------------------------


def ingest_sql(name: str) -> str:
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
    return ingest_sql("parse_lines").format(
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


@dataclass
class FileStats:
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


def refuse_unusable(texts: list[TextFile], stats: dict[int, FileStats]) -> None:
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


def fill_months(texts: list[TextFile], stats: dict[int, FileStats]) -> pl.DataFrame:
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
    return pl.DataFrame(rows, schema=FILL_SCHEMA, orient="row")


def text_index_rows(texts: list[TextFile], stats: dict[int, FileStats], truncated: dict[int, int | None]) -> list[list]:
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


@dataclass
class LoadPlan:
    """The files of a load: those to read (text files with their layout and ends, and Parquet files) and
    how many were skipped (their indexed version cannot touch the window)."""

    to_read: list[SourceFile]
    texts: list[TextFile]
    parquet: list[SourceFile]
    files_skipped: int


def plan_load(files: list[SourceFile], indexed: Mapping[str, tuple], start: date, end: date) -> LoadPlan:
    """What a load of ``start <= month < end`` reads of ``files``; ``indexed``: the stored index as
    {source_file: (size_bytes, mtime_ns, first_month, last_month)}."""
    to_read = [f for f in files if not _can_skip(indexed.get(f.relative), f, start, end)]
    parquet = [f for f in to_read if f.path.name.lower().endswith(".parquet")]
    texts = [plan_text_file(f) for f in to_read if f not in parquet]
    return LoadPlan(to_read, texts, parquet, len(files) - len(to_read))


@dataclass
class SettledFiles:
    """What pass 1 decided about the text files of a load, in the relations pass 2 joins."""

    files: pl.DataFrame  # FILES_SCHEMA
    fill: pl.DataFrame  # FILL_SCHEMA
    index_rows: list[list]  # the index rows of the text files


def settle_files(
    texts: list[TextFile], stats: dict[int, FileStats], fill: Callable[..., pl.DataFrame] | None = None
) -> SettledFiles:
    """The file-level rules on pass 1's statistics (a file without any usable stamp is refused, naming
    it), and what pass 2 and the index need: the files' relation, the months of the lines without one,
    the index rows. ``fill``: the month-filling function (a test hooks it between the passes)."""
    refuse_unusable(texts, stats)
    truncated = {i: truncated_line(t, stats[i].n_lines) if i in stats else None for i, t in enumerate(texts)}
    files = pl.DataFrame(
        [(i, t.file.relative, t.has_header, truncated[i]) for i, t in enumerate(texts)],
        schema=FILES_SCHEMA,
        orient="row",
    )
    return SettledFiles(files, (fill or fill_months)(texts, stats), text_index_rows(texts, stats, truncated))


def row_rules_sql(rows: str) -> str:
    """``sql/raw_row_rules.sql`` over the relation ``rows``: up to five rows that break the raw schema's
    row rules (bind :func:`row_rules_parameters`)."""
    return ingest_sql("raw_row_rules").format(rows=rows)


def row_rules_parameters() -> dict[str, object]:
    return {"layouts": [*LAYOUTS, "parquet"]}


def check_row_rules(failing: list[tuple]) -> None:
    """Raise :class:`SchemaViolation` with the rows :func:`row_rules_sql` found, if any."""
    if failing:
        frame = pl.DataFrame(
            failing,
            schema=["source_file", "source_line", "reading_month", "source_layout", "field_count"],
            orient="row",
        )
        raise SchemaViolation(RAW_TABLE, frame, f"{RAW_TABLE}: rows break the schema's row rules: {failing}")


def count_rows(result: RawLoadResult, counts: list[tuple]) -> RawLoadResult:
    """``result`` with the rows stored, from (month, layout, rows) counts."""
    for month, layout, n in counts:
        result.rows_by_month[month] = result.rows_by_month.get(month, 0) + n
        result.rows_by_layout[layout] = result.rows_by_layout.get(layout, 0) + n
    return result
