"""Line numbers from DuckDB's native reader are exact: on files of several reader buffers, plain and
gzip, with damaged lines anywhere, and across several files in one scan."""

from datetime import date, datetime, timedelta
from pathlib import Path

import pytest

from assets.ingest import raw_ingest
from assets.ingest.raw_ingest import load_raw_readings
from assets.ingest.source_files import discover, of_kind
from tests.lcl_files import kaggle_line, lds_line, write_lines

JAN, JUL = date(2013, 1, 1), date(2013, 7, 1)
T0 = datetime(2013, 1, 1, 0, 30)


def _lines(n: int, tag: int, six: bool) -> list[str]:
    """Line i (1-based, after a header for Kaggle) carries i in its value: 0.<i> kWh."""
    out = []
    for i in range(1, n + 1):
        ts = (T0 + timedelta(minutes=30 * (i % 8000))).strftime("%Y-%m-%d %H:%M:%S")
        value = f"{tag}.{i:07d}"
        out.append(lds_line(f"MAC{i % 97:06d}", ts, value) if six else kaggle_line(f"MAC{i % 97:06d}", ts, value))
    return out


@pytest.mark.parametrize("gz", [False, True])
def test_every_line_number_is_exact_across_reader_buffers(con, tmp_path: Path, monkeypatch, gz: bool):
    src = tmp_path / "src"
    big = _lines(120_000, 1, six=True)  # ~8 MB
    big[70_000] = "MAC1,Std,cut"  # a rejected line deep inside: keeps its text and number
    write_lines(src / ("a.csv.gz" if gz else "a.csv"), big, crlf=True, gz=gz)
    write_lines(src / "b.csv", ["LCLid,tstp,energy(kWh/hh)", *_lines(30_000, 2, six=False)])
    write_lines(src / "c.csv", _lines(50_000, 3, six=True))
    # small reader buffers, so that every file spans many of them (and they are read in parallel)
    monkeypatch.setattr(raw_ingest, "READER_BUFFER_BYTES", 256 * 1024)
    load_raw_readings(con, of_kind(discover(src), "readings"), JAN, JUL)
    wrong = con.execute(
        """SELECT source_file, source_line, kwh_text FROM ingest.raw_readings
           WHERE kwh_text IS NOT NULL
             AND source_line - CASE WHEN source_file = 'b.csv' THEN 1 ELSE 0 END
                 <> CAST(split_part(kwh_text, '.', 2) AS BIGINT)
           LIMIT 5"""
    ).fetchall()
    assert wrong == []
    counts = dict(con.execute("SELECT source_file, count(*) FROM ingest.raw_readings GROUP BY 1").fetchall())
    assert counts == {"a.csv.gz" if gz else "a.csv": 120_000, "b.csv": 30_000, "c.csv": 50_000}
    (cut,) = con.execute("SELECT source_line, raw_line FROM ingest.raw_readings WHERE raw_line IS NOT NULL").fetchall()
    assert cut == (70_001, "MAC1,Std,cut")


def test_a_lone_cr_never_shifts_line_numbers(con, tmp_path: Path):
    """DuckDB's reader would end a line at a lone CR; its strict mode refuses such a file, which then
    goes the Python way (split on LF only), so every line keeps its number."""
    src = tmp_path / "src"
    lines = [kaggle_line("MAC000001", f"2013-01-10 {h:02d}:30:00", f"0.{h + 1}") for h in range(6)]
    lines[2] = lines[2] + "\rjunk"  # a lone CR inside line 3 (not a line ending)
    lines[4] = "\r"  # line 5: a CR alone before the LF
    write_lines(src / "k.csv", lines)
    write_lines(src / "ok.csv", [lds_line("MAC000002", "2013-01-10 00:30:00", "0.5")])
    load_raw_readings(con, of_kind(discover(src), "readings"), JAN, JUL)
    rows = con.execute(
        "SELECT source_line, raw_line, kwh_text FROM ingest.raw_readings WHERE source_file = 'k.csv' ORDER BY 1"
    ).fetchall()
    assert [r[0] for r in rows] == [1, 2, 3, 4, 5, 6]
    assert rows[2][1] == lines[2] and rows[4][1] == ""  # rejected at parse level: text kept (CR of CR LF stripped)
    assert [r[2] for r in rows if r[1] is None] == ["0.1", "0.2", "0.4", "0.6"]
    assert con.execute("SELECT count(*) FROM ingest.raw_readings WHERE source_file = 'ok.csv'").fetchone()[0] == 1
