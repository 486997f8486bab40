"""Find the files of a source folder and say what each one is, from its content.

A source folder (``METER_SOURCE_DIR``) may hold readings in any LCL layout, the household
information file and the tariff schedule, in any sub-folder structure. Files that are text (UTF-8
or UTF-16, or legacy 8-bit) but none of these (READMEs, Acorn details, inventories) and binary
files not named as data are ignored and listed; files that claim to be data (``.csv``, ``.gz``,
``.parquet``) but cannot be read raise :class:`SourceFileError` naming the file in
:func:`classify`; :func:`discover` lists them as kind ``unreadable`` with the reason, and the raw
readings asset decides (assets/ingest/file_ledger.py: a new unreadable file is refused, one whose
rows are stored fails the runs of its months).
"""

from __future__ import annotations

import gzip
import os
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from assets.ingest.source_layouts import SourceFileError, decode_text, detect_layout, text_encoding

DATA_SUFFIXES = (".csv", ".csv.gz", ".gz", ".parquet", ".xlsx", ".txt")
HOUSEHOLDS_HEADER = ("lclid", "stdortou", "acorn", "acorn_grouped")
TARIFF_HEADER = ("tariffdatetime", "tariff")


@dataclass(frozen=True)
class SourceFile:
    path: Path
    relative: str
    kind: str  # readings | households | tariffs | ignored | unreadable
    size_bytes: int
    mtime_ns: int
    problem: str | None = None  # why an ``unreadable`` file cannot be read


def _head_text(path: Path, display: str, limit: int = 65536) -> str | None:
    """The decoded start of a file (UTF-8 or UTF-16, see ``text_encoding``); None if binary."""
    try:
        with path.open("rb") as fh:
            compressed = fh.read(2) == b"\x1f\x8b"
        with gzip.open(path, "rb") if compressed else path.open("rb") as fh:
            data = fh.read(limit)
    except (OSError, EOFError, zlib.error) as exc:
        raise SourceFileError(display, f"corrupt gzip stream ({exc})") from None
    encoding = text_encoding(data)
    if encoding is None:
        return None
    if encoding != "utf-8":
        data = data[: len(data) - len(data) % 2]  # the read limit may cut a UTF-16 code unit
    # Only the header decides the kind; a readings file is decoded strictly (UTF-8 or UTF-16) when
    # loaded, so a mis-encoded readings file still fails loudly there. Other legacy files (the Acorn
    # details are Latin-1) are merely classified.
    return decode_text(data, display, "replace")


def classify(path: Path, relative: str) -> str:
    name = path.name.lower()
    if name.endswith(".parquet"):
        return "readings"
    if name.endswith(".xlsx"):
        return "tariffs" if "tariff" in name else "ignored"
    if not name.endswith(DATA_SUFFIXES):
        return "ignored"
    text = _head_text(path, relative)
    if text is None:
        # Binary content: a file named as CSV/gzip data cannot be read (fail, naming it); any
        # other binary file (e.g. a .txt) is not data and is ignored (listed in the metadata).
        if name.endswith((".csv", ".gz")):
            raise SourceFileError(relative, "binary content (NUL bytes): not a text file")
        return "ignored"
    lines = text.split("\n")[:21]
    header = tuple(f.strip().lower() for f in lines[0].rstrip("\r").split(","))
    if header[:4] == HOUSEHOLDS_HEADER:
        return "households"
    if header[:2] == TARIFF_HEADER:
        return "tariffs"
    if detect_layout(lines) is not None:
        return "readings"
    return "ignored"


def walk_files(source_dir: Path) -> Iterator[tuple[Path, str]]:
    """(path, relative POSIX path) of every file below ``source_dir``, sorted, hidden paths skipped.

    Folders reached through symbolic links are followed (a data folder linked into the source folder
    is common), each real folder once, so a link back up the tree cannot loop."""
    seen: set[str] = set()
    found = []
    for root, dirs, names in os.walk(source_dir, followlinks=True):
        real = os.path.realpath(root)
        if real in seen:
            dirs[:] = []
            continue
        seen.add(real)
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        for name in names:
            path = Path(root) / name
            if not name.startswith(".") and path.is_file():
                found.append((path, path.relative_to(source_dir).as_posix()))
    yield from sorted(found, key=lambda item: item[1])


def discover(source_dir: Path) -> list[SourceFile]:
    """Every file below ``source_dir`` (sorted, hidden files skipped, symbolic links followed) with its kind
    (``unreadable`` with the reason for a data file that cannot be read)."""
    if not source_dir.is_dir():
        raise FileNotFoundError(f"source folder {source_dir} does not exist")
    found = []
    for path, relative in walk_files(source_dir):
        stat = path.stat()
        try:
            kind, problem = classify(path, relative), None
        except SourceFileError as exc:
            kind, problem = "unreadable", exc.problem
        found.append(SourceFile(path, relative, kind, stat.st_size, stat.st_mtime_ns, problem))
    return found


def of_kind(files: list[SourceFile], kind: str) -> list[SourceFile]:
    return [f for f in files if f.kind == kind]
