"""Which months a readings file covers: the one file-month sniffer (ingest, sensor and demo use it).

Readings files are in time order, so the first and last timestamps give the range. Only the ends of
a text file are read: the first and last ``SCAN_BYTES`` (a gzip file is streamed through once,
keeping the last window); Parquet files are read. A header-only or empty file covers no months,
and only months that can hold readings (``assets.common.months.is_supported_month``: partitions
and the current month) are reported.
"""

from __future__ import annotations

import gzip
import zlib
from datetime import date
from pathlib import Path

from assets.common.months import is_supported_month, months_between, next_month

__all__ = ["file_month_range", "head_and_tail", "months_between", "next_month"]

SCAN_BYTES = 64 * 1024
SAMPLE_LINES = 50


def _lines(raw: list[str]) -> list[str]:
    return [ln.rstrip("\r") for ln in raw if ln.strip()]


def head_and_tail(path: Path, display: str, scan_bytes: int = SCAN_BYTES) -> tuple[list[str], list[str]]:
    """Complete, non-blank lines from the first and last ``scan_bytes`` of the (decompressed) file."""
    from assets.ingest.source_layouts import SourceFileError, decode_text, text_encoding

    with path.open("rb") as fh:
        compressed = fh.read(2) == b"\x1f\x8b"
    try:
        if compressed:
            with gzip.open(path, "rb") as fh:
                head = fh.read(scan_bytes)
                tail, whole = head, len(head) < scan_bytes
                while chunk := fh.read(1 << 20):
                    tail, whole = (tail + chunk)[-scan_bytes:], False
        else:
            size = path.stat().st_size
            with path.open("rb") as fh:
                head = fh.read(scan_bytes)
                whole = size <= scan_bytes
                fh.seek(max(0, size - scan_bytes))
                tail = fh.read()
    except (OSError, EOFError, zlib.error) as exc:
        raise SourceFileError(display, f"cannot be decompressed ({exc})") from None
    encoding = text_encoding(head)
    if encoding is None:
        raise SourceFileError(display, "binary content (NUL bytes): not a text file")
    if encoding != "utf-8":  # UTF-16: both windows on whole code units (the tail ends the file)
        head, tail = head[: len(head) - len(head) % 2], tail[len(tail) % 2 :]
    head_lines = decode_text(head, display, "replace").split("\n")
    tail_lines = tail.decode(encoding, errors="replace").removeprefix("\ufeff").split("\n")
    if not whole:  # cut lines at the edges of the windows
        head_lines, tail_lines = head_lines[:-1], tail_lines[1:]
    return _lines(head_lines), _lines(tail_lines)


def file_month_range(path: Path, display: str) -> tuple[date, date] | None:
    """(first month, last month) a readings file covers; None if it covers none (not a readings
    file, header only, empty). Raises ``SourceFileError`` if the file cannot be read."""
    import polars as pl

    from assets.ingest.source_layouts import detect_layout, parquet_to_raw_rows, parse_timestamps

    if path.name.lower().endswith(".parquet"):
        months = parquet_to_raw_rows(path, display)["reading_month"].drop_nulls()
        return (months.min(), months.max()) if months.len() else None
    head, tail = head_and_tail(path, display)
    detected = detect_layout(head[:21])
    if detected is None:
        return None
    layout, has_header = detected
    body_head = head[1:] if has_header else head
    if not body_head:
        return None  # header only: no readings (the tail window would only repeat the header)
    sample = body_head[:SAMPLE_LINES] + tail[-SAMPLE_LINES:]
    stamps = pl.Series("t", sample, dtype=pl.String).str.split(",").list.get(layout.timestamp_field, null_on_oob=True)
    parsed = pl.select(parse_timestamps(pl.lit(stamps))).to_series().drop_nulls()
    # Only supported months count: a stray out-of-range stamp at either end is filed under its
    # neighbours' month at ingest, so it must not widen the range the demo or sensor requests
    # (the current month is reported; the sensor requests it once it is a partition).
    months = [m for m in parsed.dt.truncate("1mo").dt.date().unique().to_list() if is_supported_month(m)]
    if not months:
        return None
    return min(months), max(months)
