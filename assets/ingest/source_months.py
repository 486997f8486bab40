"""Which months a readings file covers, from its first and last timestamps (files are in time order)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl

from assets.ingest.source_layouts import detect_layout, parse_timestamps, read_text


def file_month_range(path: Path, display: str) -> tuple[date, date] | None:
    """(first month, last month) of a text readings file, or None if no line has a timestamp."""
    if path.name.lower().endswith(".parquet"):
        from assets.ingest.source_layouts import read_readings_file

        months = read_readings_file(path, display)["reading_month"].drop_nulls()
        return (months.min(), months.max()) if months.len() else None
    lines = [ln.rstrip("\r") for ln in read_text(path, display).split("\n") if ln.strip()]
    detected = detect_layout(lines[:21])
    if detected is None:
        return None
    layout, has_header = detected
    body = lines[1:] if has_header else lines
    sample = body[:50] + body[-50:]
    stamps = pl.Series(sample).str.split(",").list.get(layout.timestamp_field, null_on_oob=True)
    parsed = pl.select(parse_timestamps(pl.lit(stamps))).to_series().drop_nulls()
    if parsed.len() == 0:
        return None
    return parsed.min().date().replace(day=1), parsed.max().date().replace(day=1)


def months_between(first: date, last: date) -> list[date]:
    """Every first-of-month from ``first`` to ``last`` inclusive."""
    months, current = [], first.replace(day=1)
    while current <= last:
        months.append(current)
        current = date(current.year + current.month // 12, current.month % 12 + 1, 1)
    return months
