"""Raw ingest: the source-file index skips files that cannot touch the window, and follows changes."""

import os
from datetime import date
from pathlib import Path

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
