"""Layout detection from content and line-exact parsing of every LCL layout."""

from pathlib import Path

import polars as pl
import pytest

from assets.ingest.raw_ingest import read_readings_file
from assets.ingest.source_files import discover
from assets.ingest.source_layouts import SourceFileError
from tests.lcl_files import kaggle_line, lds_line, write_lines


def test_lds_6col_without_header_crlf_gzip(tmp_path: Path):
    lines = [lds_line("MAC000001", "2012-01-01 00:30:00", "0.181"), lds_line("MAC000001", "2012-01-01 01:00:00", "0")]
    path = write_lines(tmp_path / "block.csv.gz", lines, crlf=True, gz=True)
    frame = read_readings_file(path, "block.csv.gz")
    assert frame["source_layout"].to_list() == ["lds_6col", "lds_6col"]
    assert frame["source_line"].to_list() == [1, 2]
    assert frame["kwh_text"].to_list() == ["0.181", "0"]
    assert frame["tariff_group"].to_list() == ["Std", "Std"]
    # a line whose parsed columns carry all its content keeps no text (issue 12); a rejected line
    # keeps it, CR stripped (test_malformed_lines_are_kept_with_their_line_number)
    assert frame["raw_line"].to_list() == [None, None]
    assert frame["reading_end_utc"][0].isoformat() == "2012-01-01T00:30:00"


def test_lds_6col_with_header_and_4col_and_3col(tmp_path: Path):
    six = write_lines(
        tmp_path / "a.csv",
        [
            "LCLid,stdorToU,DateTime,KWH/hh (per half hour) ,Acorn,Acorn_grouped",
            lds_line("MAC1", "2012-01-01 00:30:00", "1"),
        ],
    )
    four = write_lines(tmp_path / "b.csv", ["MAC2,ToU,2012-01-01 00:30:00.0000000, Null "])
    three = write_lines(tmp_path / "c.csv", ["LCLid,DateTime,KWH/hh (per half hour) ", "MAC3,2012-01-01 00:30:00, 2 "])
    assert read_readings_file(six, "a")["source_line"].to_list() == [2]
    b = read_readings_file(four, "b")
    assert b["source_layout"][0] == "lds_4col" and b["kwh_text"][0] == "Null" and b["tariff_group"][0] == "ToU"
    c = read_readings_file(three, "c")
    assert c["source_layout"][0] == "lcl_3col" and c["household_id"][0] == "MAC3"


def test_kaggle_layout_and_parquet(tmp_path: Path):
    path = write_lines(
        tmp_path / "k.csv", ["LCLid,tstp,energy(kWh/hh)", kaggle_line("MAC9", "2013-01-01 00:00:00", "0.219")]
    )
    frame = read_readings_file(path, "k")
    assert frame["source_layout"][0] == "kaggle_3col" and frame["kwh_text"][0] == "0.219"
    pq = tmp_path / "k.parquet"
    pl.DataFrame({"LCLid": ["MAC9"], "tstp": ["2013-01-01 00:00:00"], "energy(kWh/hh)": [" 0.219 "]}).write_parquet(pq)
    parquet = read_readings_file(pq, "k.parquet")
    assert parquet["source_layout"][0] == "parquet" and parquet["kwh_text"][0] == "0.219"
    assert parquet["source_line"][0] == 1


def test_malformed_lines_are_kept_with_their_line_number(tmp_path: Path):
    lines = [
        lds_line("MAC1", "2012-01-01 00:30:00", "1"),
        "MAC1,Std,2012-01-01 01:00",
        lds_line("MAC1", "2012-01-01 01:30:00", "1"),
    ]
    frame = read_readings_file(write_lines(tmp_path / "m.csv", lines, crlf=True), "m.csv")
    bad = frame.filter(pl.col("source_line") == 2).row(0, named=True)
    assert bad["field_count"] == 3 and bad["raw_line"] == lines[1]
    assert bad["reading_month"].isoformat() == "2012-01-01"  # month of the preceding good line


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"\x1f\x8b\x08\x00garbage-not-gzip", "corrupt gzip"),
        (bytes(range(256)) * 4, "binary content"),
        (
            "MAC1,Std,2012-01-01 00:30:00.0000000, 0.1 ,ACORN-B,Affluent\n"
            "MAC1,Std,2012-01-01 01:00:00.0000000, £ ,A,B\n".encode("latin-1"),
            "not valid UTF-8",
        ),
    ],
)
def test_unreadable_file_raises_naming_the_file(tmp_path: Path, content: bytes, problem: str):
    path = tmp_path / "readings" / "MAC000777.csv.gz"
    path.parent.mkdir()
    path.write_bytes(content)
    with pytest.raises(SourceFileError, match=rf"readings/MAC000777.csv.gz: .*{problem}"):
        for f in discover(tmp_path):
            read_readings_file(f.path, f.relative)


def test_discover_classifies_by_content(tmp_path: Path):
    write_lines(tmp_path / "x" / "anything.csv", [lds_line("MAC1", "2012-01-01 00:30:00", "1")])
    write_lines(tmp_path / "hh.csv", ["LCLid,stdorToU,Acorn,Acorn_grouped,file", "MAC1,Std,ACORN-A,Affluent,block_0"])
    write_lines(tmp_path / "t.csv", ["TariffDateTime,Tariff", "1/1/2013 0:00,Normal"])
    write_lines(tmp_path / "notes.txt", ["hello"])
    kinds = {f.relative: f.kind for f in discover(tmp_path)}
    assert kinds == {"x/anything.csv": "readings", "hh.csv": "households", "t.csv": "tariffs", "notes.txt": "ignored"}
