"""Writing the generated tables and readings files with LCL's exact bytes.

- block files (London Datastore layout): no header, CRLF on every line including the last;
- Kaggle files: header ``LCLid,tstp,energy(kWh/hh)``, LF;
- ``informations_households.csv``, ``Tariffs.csv`` and the ground truth: header, LF.

With ``gzip=True`` readings files get ``.gz`` and are compressed deterministically (no file name,
mtime 0), so the same arguments always give the same bytes.
"""

from __future__ import annotations

import gzip as gz
from pathlib import Path

import polars as pl

CRLF = "\r\n"
LF = "\n"
GZIP_LEVEL = 6


def write_lines(path: Path, lines: pl.DataFrame | pl.Series, line_terminator: str, gzip: bool) -> int:
    """Write one line per row of the single ``line`` column; returns the number of bytes on disk."""
    frame = lines.to_frame("line") if isinstance(lines, pl.Series) else lines.select("line")
    path.parent.mkdir(parents=True, exist_ok=True)
    kwargs = {"include_header": False, "quote_style": "never", "line_terminator": line_terminator}
    if gzip:
        with (
            path.open("wb") as raw,
            gz.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=GZIP_LEVEL) as out,
        ):
            frame.write_csv(out, **kwargs)
    else:
        with path.open("wb") as out:
            frame.write_csv(out, **kwargs)
    return path.stat().st_size


def write_table(path: Path, frame: pl.DataFrame) -> int:
    """Header + rows, comma separated, LF line endings, quoting only where needed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.write_csv(path, include_header=True, line_terminator=LF)
    return path.stat().st_size
