"""The one file-month sniffer (ingest, the source-files sensor and the demo use it)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from assets.ingest.source_layouts import SourceFileError
from assets.ingest.source_months import file_month_range as file_months
from assets.ingest.source_months import months_between
from tests.lcl_files import kaggle_line, lds_line, write_lines


def test_file_months_reads_only_the_ends(tmp_path: Path):
    rows = [kaggle_line("MAC1", f"2012-{m:02d}-15 10:00:00", "0.1") for m in range(1, 13)] * 2000
    rows = sorted(rows, key=lambda r: r.split(",")[1])
    plain = write_lines(tmp_path / "k.csv", ["LCLid,tstp,energy(kWh/hh)", *rows])
    gz = write_lines(tmp_path / "k.csv.gz", ["LCLid,tstp,energy(kWh/hh)", *rows], gz=True)
    assert plain.stat().st_size > 200_000  # larger than the two 64 KiB windows
    for path in (plain, gz):
        assert file_months(path, path.name) == (date(2012, 1, 1), date(2012, 12, 1))
    no_header = write_lines(tmp_path / "n.csv", [lds_line("MAC1", "2011-12-01 00:00:00", "1")], crlf=True)
    assert file_months(no_header, "n.csv") == (date(2011, 12, 1), date(2011, 12, 1))
    parquet = tmp_path / "p.parquet"
    pl.DataFrame(
        {
            "LCLid": ["MAC1", "MAC1"],
            "tstp": ["2013-01-01 00:30:00", "2013-02-01 00:30:00"],
            "energy(kWh/hh)": ["0.1", "0.2"],
        }
    ).write_parquet(parquet)
    assert file_months(parquet, "p.parquet") == (date(2013, 1, 1), date(2013, 2, 1))
    readme = write_lines(tmp_path / "README.txt", ["not a readings file"])
    assert file_months(readme, "README.txt") is None


@pytest.mark.parametrize("gz", [False, True])
def test_header_only_or_empty_file_covers_no_months(tmp_path: Path, gz: bool):
    header_only = write_lines(tmp_path / "h.csv", ["LCLid,tstp,energy(kWh/hh)"], gz=gz)
    assert file_months(header_only, "h.csv") is None
    lds_header = write_lines(tmp_path / "l.csv", ["LCLid,stdorToU,DateTime,KWH/hh (per half hour) "], gz=gz)
    assert file_months(lds_header, "l.csv") is None
    empty = tmp_path / "e.csv"
    empty.write_bytes(b"")
    assert file_months(empty, "e.csv") is None
    # one reading after the header still counts (the whole file fits in one window)
    one = write_lines(
        tmp_path / "o.csv", ["LCLid,tstp,energy(kWh/hh)", kaggle_line("MAC1", "2012-03-15 10:00:00", "0.1")]
    )
    assert file_months(one, "o.csv") == (date(2012, 3, 1), date(2012, 3, 1))


def test_unreadable_gzip_raises(tmp_path: Path):
    bad = tmp_path / "b.csv.gz"
    bad.write_bytes(b"\x1f\x8b truncated")
    with pytest.raises(SourceFileError):
        file_months(bad, "b.csv.gz")


def test_months_between():
    assert months_between(date(2012, 11, 1), date(2013, 2, 1)) == [
        date(2012, 11, 1),
        date(2012, 12, 1),
        date(2013, 1, 1),
        date(2013, 2, 1),
    ]
    assert months_between(date(2013, 2, 1), date(2013, 1, 1)) == []
