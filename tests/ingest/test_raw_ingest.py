"""Raw ingest: the source-file index skips files that cannot touch the window, and follows changes."""

import os
from datetime import date
from pathlib import Path

import duckdb
import pytest

from assets.ingest.raw_ingest import load_raw_readings
from assets.ingest.source_files import discover, of_kind
from tests.lcl_files import lds_line, write_lines

JAN, FEB, MAR, APR = date(2012, 1, 1), date(2012, 2, 1), date(2012, 3, 1), date(2012, 4, 1)


def load(con, src: Path, start: date, end: date):
    return load_raw_readings(con, of_kind(discover(src), "readings"), start, end)


def index(con) -> dict[str, tuple]:
    return {
        r[0]: r[1:]
        for r in con.execute(
            "SELECT source_file, first_month, last_month, line_rows FROM ingest.source_file_index"
        ).fetchall()
    }


def test_index_skips_files_outside_the_window_and_rereads_changed_ones(con, tmp_path: Path):
    src = tmp_path / "src"
    write_lines(src / "jan.csv", [lds_line("MAC1", "2012-01-10 00:30:00", "0.2")])
    write_lines(src / "mar.csv", [lds_line("MAC2", "2012-03-10 00:30:00", "0.3")])
    first = load(con, src, JAN, APR)
    assert (first.files_read, first.files_skipped, first.rows) == (2, 0, 2)
    assert index(con) == {"jan.csv": (JAN, JAN, 1), "mar.csv": (MAR, MAR, 1)}

    feb = load(con, src, FEB, MAR)  # neither file can hold February rows
    assert (feb.files_read, feb.files_skipped, feb.rows) == (0, 2, 0)

    lines = [lds_line("MAC1", "2012-01-10 00:30:00", "0.2"), lds_line("MAC1", "2012-02-10 00:30:00", "0.4")]
    path = write_lines(src / "jan.csv", lines)
    os.utime(path, ns=(path.stat().st_atime_ns, path.stat().st_mtime_ns + 10**9))
    feb = load(con, src, FEB, MAR)  # jan.csv changed: read again, its index entry replaced
    assert (feb.files_read, feb.files_skipped, feb.rows) == (1, 1, 1)
    assert index(con) == {"jan.csv": (JAN, FEB, 2), "mar.csv": (MAR, MAR, 1)}
    months = con.execute("SELECT reading_month, count(*) FROM ingest.raw_readings GROUP BY 1 ORDER BY 1").fetchall()
    assert months == [(JAN, 1), (FEB, 1), (MAR, 1)]


def test_a_file_failing_inside_the_write_leaves_table_and_index_as_they_were(con, tmp_path: Path, monkeypatch):
    from assets.ingest import raw_ingest

    src = tmp_path / "src"
    write_lines(src / "a.csv", [lds_line("MAC1", "2012-01-10 00:30:00", "0.2")])
    load(con, src, JAN, APR)
    before = con.execute("SELECT * FROM ingest.raw_readings ORDER BY ALL").fetchall()
    index_before = index(con)
    write_lines(src / "a.csv", [lds_line("MAC1", f"2012-01-10 0{h}:30:00", "0.3") for h in range(3)])
    b = write_lines(src / "b.csv", [lds_line("MAC2", "2012-02-10 00:30:00", "0.4")])
    files = of_kind(discover(src), "readings")
    real_fill = raw_ingest._fill

    def fill_then_lose_a_file(*args):
        b.unlink()  # the file vanishes between the two passes: the write fails half-way
        return real_fill(*args)

    monkeypatch.setattr(raw_ingest, "_fill", fill_then_lose_a_file)
    with pytest.raises(duckdb.Error):
        load_raw_readings(con, files, JAN, APR)
    assert con.execute("SELECT * FROM ingest.raw_readings ORDER BY ALL").fetchall() == before
    assert index(con) == index_before
    assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary").fetchone()[0] == 0


def test_a_file_that_changes_while_it_is_read_is_refused_and_nothing_is_stored(con, tmp_path: Path, monkeypatch):
    """A delivery still being written: the file grows between the pass that counts its lines and the
    pass that stores them. The load is refused with the file named; rows and index stay as they were,
    and a re-run once the file is complete reads it whole."""
    from assets.ingest import raw_ingest
    from assets.ingest.source_layouts import SourceFileError

    src = tmp_path / "src"
    write_lines(src / "a (1).csv", [lds_line("MAC1", "2012-01-10 00:30:00", "0.2")])
    load(con, src, JAN, APR)
    before = con.execute("SELECT * FROM ingest.raw_readings ORDER BY ALL").fetchall()
    index_before = index(con)
    grown = [lds_line("MAC1", f"2012-01-10 0{h}:30:00", "0.3") for h in range(3)]
    path = write_lines(src / "a (1).csv", grown)
    files = of_kind(discover(src), "readings")
    real_fill = raw_ingest._fill

    def fill_then_append(*args):
        with path.open("a", encoding="utf-8") as fh:  # the writer is still appending
            fh.write(lds_line("MAC1", "2012-01-10 05:30:00", "0.9") + "\n")
        return real_fill(*args)

    monkeypatch.setattr(raw_ingest, "_fill", fill_then_append)
    with pytest.raises(SourceFileError, match="changed while the load read it") as refused:
        load_raw_readings(con, files, JAN, APR)
    assert refused.value.path == "a (1).csv"
    assert con.execute("SELECT * FROM ingest.raw_readings ORDER BY ALL").fetchall() == before
    assert index(con) == index_before
    monkeypatch.undo()
    again = load(con, src, JAN, APR)
    assert again.rows == 4 and index(con)["a (1).csv"] == (JAN, JAN, 4)
