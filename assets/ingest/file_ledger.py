"""The source files' ledger: content hashes, files that left, and files refused.

The file index (``ingest.source_file_index``, one row per path) says which months each file version
covers. This module keeps it honest about *content* and *presence*:

* ``content_sha256``: sha256 of the file's bytes, filled for every indexed file that is present with
  the size and mtime the index recorded (hashed once per file version). Drift
  (``assets.model.segmentation_history``) and the report's data fingerprint key on it, so moving a
  delivery into another sub-folder (same bytes, new path) changes neither.
* ``ingest.source_file_departures``: a file that left the source folder leaves the index, with a row
  here saying when, what it covered, its content hash and, if the same bytes are still present under
  another path, where it moved to.
* ``ingest.refused_source_files``: readings files ingest could not read and did not load (replaced
  on every raw_readings run with the files refused now). A new file that cannot be read is refused,
  not fatal: the other files of the run load, and the ``source_files_readable`` check of
  ``raw_readings`` fails naming each refused file and the reason. A file the index knows (its rows are
  stored) that becomes unreadable still fails every run whose months it held, naming the file, so a
  reload never silently drops stored rows.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import duckdb

from assets.common.sql import qualified_name

INDEX_TABLE = "ingest.source_file_index"
DEPARTURES_TABLE = "ingest.source_file_departures"
REFUSED_TABLE = "ingest.refused_source_files"
_INDEX, _DEPARTURES, _REFUSED = (qualified_name(t) for t in (INDEX_TABLE, DEPARTURES_TABLE, REFUSED_TABLE))
CHUNK = 1 << 20


@dataclass(frozen=True)
class Refusal:
    """A readings file that was not loaded: path, size, mtime, content hash and why."""

    source_file: str
    size_bytes: int
    mtime_ns: int
    content_sha256: str | None
    reason: str

    def line(self) -> str:
        return f"{self.source_file}: {self.reason}"


def sha256_file(path: Path) -> str | None:
    """sha256 of the file's bytes (None if it cannot be read)."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            while chunk := fh.read(CHUNK):
                digest.update(chunk)
    except OSError:
        return None
    return digest.hexdigest()


def ensure_ledger(con: duckdb.DuckDBPyConnection) -> None:
    """The index's content column and the two ledger tables (idempotent)."""
    from assets.ingest.raw_ingest import ensure_index

    con.execute("CREATE SCHEMA IF NOT EXISTS ingest")
    ensure_index(con)  # with the content_sha256 column
    con.execute(
        f"""CREATE TABLE IF NOT EXISTS {_DEPARTURES} (
              source_file VARCHAR, content_sha256 VARCHAR, size_bytes BIGINT, first_month DATE,
              last_month DATE, line_rows BIGINT, departed_at TIMESTAMP, moved_to VARCHAR)"""
    )
    con.execute(
        f"""CREATE TABLE IF NOT EXISTS {_REFUSED} (
              source_file VARCHAR, size_bytes BIGINT, mtime_ns BIGINT, content_sha256 VARCHAR,
              reason VARCHAR, refused_at TIMESTAMP)"""
    )


def indexed_months(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[date | None, date | None]]:
    """path -> (first month, last month) of every indexed file."""
    ensure_ledger(con)
    rows = con.execute(f"SELECT source_file, first_month, last_month FROM {_INDEX}").fetchall()
    return {r[0]: (r[1], r[2]) for r in rows}


def update_ledger(
    con: duckdb.DuckDBPyConnection,
    present: dict[str, tuple[Path, int, int]],
    refused: list[Refusal],
    now: datetime | None = None,
) -> dict[str, int]:
    """After a load: hash the indexed files that lack a hash, move files no longer ``present``
    (relative path -> (path, size, mtime_ns) of every file found) from the index to the departures,
    and replace the refused list. Returns counts for the asset's metadata."""
    ensure_ledger(con)
    stamp = (now or datetime.now(UTC)).replace(tzinfo=None)
    rows = con.execute(f"SELECT source_file, size_bytes, mtime_ns, content_sha256 FROM {_INDEX}").fetchall()
    hashed = 0
    for source_file, size, mtime, sha in rows:
        found = present.get(source_file)
        if sha is None and found is not None and (found[1], found[2]) == (size, mtime):
            digest = sha256_file(found[0])
            if digest is not None:
                con.execute(f"UPDATE {_INDEX} SET content_sha256 = ? WHERE source_file = ?", [digest, source_file])
                hashed += 1
    gone = [r[0] for r in rows if r[0] not in present]
    if gone:
        con.execute(
            f"""INSERT INTO {_DEPARTURES}
                SELECT i.source_file, i.content_sha256, i.size_bytes, i.first_month, i.last_month, i.line_rows,
                       ?::TIMESTAMP,
                       (SELECT min(j.source_file) FROM {_INDEX} j
                         WHERE j.content_sha256 = i.content_sha256 AND j.source_file <> i.source_file
                           AND NOT list_contains(?, j.source_file))
                FROM {_INDEX} i WHERE list_contains(?, i.source_file)""",
            [stamp, gone, gone],
        )
        con.execute(f"DELETE FROM {_INDEX} WHERE list_contains(?, source_file)", [gone])
    con.execute(f"DELETE FROM {_REFUSED}")
    for r in refused:
        con.execute(
            f"INSERT INTO {_REFUSED} VALUES (?, ?, ?, ?, ?, ?)",
            [r.source_file, r.size_bytes, r.mtime_ns, r.content_sha256, r.reason, stamp],
        )
    return {"files_hashed": hashed, "files_departed": len(gone), "files_refused": len(refused)}


def content_keys(con: duckdb.DuckDBPyConnection) -> list[str]:
    """The identity of every indexed file: its content hash, or ``path:<path>`` while it has none
    (an index written before hashes, until the next raw_readings run hashes it)."""
    try:
        cols = {r[0] for r in con.execute(f"DESCRIBE {_INDEX}").fetchall()}
    except duckdb.CatalogException:
        return []
    sha = "content_sha256" if "content_sha256" in cols else "NULL"
    rows = con.execute(f"SELECT coalesce({sha}, 'path:' || source_file) FROM {_INDEX} ORDER BY 1").fetchall()
    return sorted({r[0] for r in rows})


def _overlaps(months: tuple[date | None, date | None] | None, start: date, end: date) -> bool:
    return months is not None and None not in months and months[0] < end and months[1] >= start  # type: ignore[operator]


def _refusal(f, reason: str) -> Refusal:
    return Refusal(f.relative, f.size_bytes, f.mtime_ns, sha256_file(f.path), reason)


def load_refusing_new_files(
    known: dict[str, tuple[date | None, date | None]],
    files: list,
    start: date,
    end: date,
    load: Callable[[list], object],
) -> tuple[object, list[Refusal]]:
    """Load the window from the readings files of ``files`` (``SourceFile`` from ``discover``) with
    ``load`` (readings files -> the load's result; it must store nothing when it raises), refusing new
    files that cannot be read; ``known``: :func:`indexed_months`. Returns (the load's result, refusals).

    * an ``unreadable`` file (discovery could not read it) that the index knows and whose indexed
      months touch the window fails the load (SourceFileError naming it): its stored rows would go;
    * any other unreadable file, and a new file (not in the index) that the load cannot read, is
      refused: left out, and the load of the window runs again without it (a failed load stores
      nothing, so the retry starts clean);
    * a file that changed while the load read it is never refused (it is a delivery being written).
    """
    from assets.ingest.source_layouts import SourceFileError

    refused: list[Refusal] = []
    readings = [f for f in files if f.kind == "readings"]
    for f in files:
        if f.kind != "unreadable":
            continue
        if _overlaps(known.get(f.relative), start, end):
            first, last = known[f.relative]
            raise SourceFileError(
                f.relative,
                f"{f.problem} (it held readings of {first:%Y-%m}..{last:%Y-%m}, which are stored: restore or "
                "replace the file, or remove it to drop its rows)",
            )
        refused.append(_refusal(f, f.problem or "cannot be read"))
    while True:
        if not readings:
            lines = "; ".join(r.line() for r in refused)
            raise SourceFileError(
                refused[0].source_file if refused else "(none)", f"no readable readings file: {lines}"
            )
        try:
            return load(readings), refused
        except SourceFileError as exc:
            bad = next((f for f in readings if f.relative == exc.path), None)
            if bad is None or exc.path in known or exc.problem.startswith("changed while"):
                raise
            readings.remove(bad)
            refused.append(_refusal(bad, exc.problem))
