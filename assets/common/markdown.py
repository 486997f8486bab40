"""Markdown tables for Dagster metadata and the report summary (plain polars, no Dagster)."""

from __future__ import annotations

from collections.abc import Collection

import polars as pl


def _cell(value: object) -> str:
    """A cell's text: nulls empty; pipes escaped and line breaks flattened so the row stays one row."""
    if value is None:
        return ""
    return str(value).replace("|", "\\|").replace("\r\n", " ").replace("\n", " ")


def markdown_table(frame: pl.DataFrame, float_digits: int = 4, right_align: Collection[str] = ()) -> str:
    """``frame`` as a GitHub-flavoured Markdown table; floats rounded to ``float_digits``.

    Columns named in ``right_align`` are right-aligned (``---:``), e.g. numbers preformatted as text.
    """
    if frame.height == 0:
        return "_(no rows)_"
    rounded = frame.with_columns(pl.col(pl.Float64, pl.Float32).round(float_digits))
    header = "| " + " | ".join(_cell(c) for c in rounded.columns) + " |"
    sep = "| " + " | ".join("---:" if c in right_align else "---" for c in rounded.columns) + " |"
    rows = ["| " + " | ".join(_cell(v) for v in row) + " |" for row in rounded.iter_rows()]
    return "\n".join([header, sep, *rows])
