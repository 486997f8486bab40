"""Byte-level formats of the generated files: they must look exactly like the real LCL files."""

from __future__ import annotations

import re

import polars as pl

from tests.synthetic.conftest import Source, physical_lines

LDS_LINE = re.compile(
    r"^(MAC\d{6}),(Std|ToU),(\d{4}-\d\d-\d\d \d\d:(?:00|30):00)\.0000000, (\d+(?:\.\d{1,7})?) ,"
    r"(ACORN-[A-QU]),(Affluent|Comfortable|Adversity|ACORN-U)$"
)
KAGGLE_LINE = re.compile(r"^(MAC\d{6}),(\d{4}-\d\d-\d\d \d\d:(?:00|30):00), (\d+(?:\.\d{1,7})?) $")


def _fault_lines(source: Source) -> set[tuple[str, int]]:
    """(file, line) of every planted fault line."""
    faults = pl.read_csv(source.path / "ground_truth" / "faults.csv")
    return set(zip(faults["source_file"], faults["source_line"], strict=True))


def test_layout_of_the_folder(faulty_source: Source) -> None:
    root = faulty_source.path
    blocks = sorted(p.name for p in (root / "readings").glob("block_*.csv"))
    kaggle = sorted(p.name for p in (root / "readings" / "kaggle").glob("*.csv"))
    assert blocks == [f"block_{i:03d}.csv" for i in range(5)]
    assert len(kaggle) == 4  # 10 % of 40
    for rel in (
        "households/informations_households.csv",
        "tariffs/Tariffs.csv",
        "ground_truth/households.csv",
        "ground_truth/faults.csv",
    ):
        assert (root / rel).is_file(), rel
    files = set(faulty_source.summary.files)
    assert {f"readings/{b}" for b in blocks} | {f"readings/kaggle/{k}" for k in kaggle} <= files


def test_block_files_are_london_datastore_6col_crlf_without_header(faulty_source: Source) -> None:
    faults = _fault_lines(faulty_source)
    for path in sorted((faulty_source.path / "readings").glob("block_*.csv")):
        raw = path.read_bytes()
        assert raw.endswith(b"\r\n")
        assert raw.count(b"\n") == raw.count(b"\r\n"), "every line ends with CRLF"
        lines = raw.decode("ascii")[:-2].split("\r\n")
        assert not lines[0].startswith("LCLid"), "no header"
        rel = f"readings/{path.name}"
        keys = []
        for number, line in enumerate(lines, start=1):
            m = LDS_LINE.match(line)
            if m is None:
                assert (rel, number) in faults, f"{rel}:{number} {line!r} is neither a reading nor a planted fault"
                continue
            keys.append((m.group(1), m.group(3)))
        assert keys == sorted(keys), "sorted by household then time"
        assert len({k[0] for k in keys}) >= 5, "several households per block"


def test_block_lines_carry_household_attributes(faulty_source: Source) -> None:
    info = pl.read_csv(faulty_source.path / "households" / "informations_households.csv")
    attrs = {r[0]: r[1:4] for r in info.iter_rows()}
    path = faulty_source.path / "readings" / "block_000.csv"
    for line in path.read_bytes().decode("ascii").split("\r\n")[:-1]:
        m = LDS_LINE.match(line)
        if m:
            assert (m.group(2), m.group(5), m.group(6)) == attrs[m.group(1)]


def test_value_padding_and_precision(faulty_source: Source) -> None:
    lines = physical_lines(faulty_source.path / "readings" / "block_001.csv")
    values = [LDS_LINE.match(x.rstrip("\r")).group(4) for x in lines if LDS_LINE.match(x.rstrip("\r"))]
    assert values
    assert all(v == "0" or not v.endswith("0") or "." not in v for v in values), "shortest decimal text"
    decimals = [len(v.split(".")[1]) if "." in v else 0 for v in values]
    assert max(decimals) <= 7
    assert all(float(v) >= 0 for v in values)
    # 3-decimal values, except LCL-like single-precision artefacts (1.0779999) on some values >= 1
    for v in values:
        if len(v.split(".")[-1]) == 7:
            assert float(v) >= 1 and v.endswith(("9999", "0001"))


def test_kaggle_files_have_header_lf_and_3_columns(faulty_source: Source) -> None:
    faults = _fault_lines(faulty_source)
    for path in sorted((faulty_source.path / "readings" / "kaggle").glob("*.csv")):
        raw = path.read_bytes()
        assert b"\r" not in raw and raw.endswith(b"\n")
        lines = raw.decode("ascii")[:-1].split("\n")
        assert lines[0] == "LCLid,tstp,energy(kWh/hh)"
        rel = f"readings/kaggle/{path.name}"
        for number, line in enumerate(lines[1:], start=2):
            m = KAGGLE_LINE.match(line)
            if m is None:
                assert (rel, number) in faults, f"{rel}:{number} {line!r}"
            else:
                assert m.group(1) == path.stem


def test_households_file(faulty_source: Source) -> None:
    raw = (faulty_source.path / "households" / "informations_households.csv").read_bytes()
    assert b"\r" not in raw and raw.endswith(b"\n")
    lines = raw.decode("ascii")[:-1].split("\n")
    assert lines[0] == "LCLid,stdorToU,Acorn,Acorn_grouped,file"
    assert len(lines) == 41
    for line in lines[1:]:
        assert re.match(
            r"^MAC\d{6},(Std|ToU),ACORN-[A-QU],(Affluent|Comfortable|Adversity|ACORN-U),block_\d+$", line
        ), line
    groups = {"Affluent": "ABCDE", "Comfortable": "FGHIJ", "Adversity": "KLMNOPQ", "ACORN-U": "U"}
    for line in lines[1:]:
        _, _, acorn, group, _ = line.split(",")
        assert acorn[-1] in groups[group]


def test_span_starts_and_ends_on_end_stamps(faulty_source: Source) -> None:
    """END stamps: the span 25 Mar..8 Apr runs from 00:30 on the first day to 00:00 on the end day."""
    gt = pl.read_csv(faulty_source.path / "ground_truth" / "households.csv")
    full = gt.filter(
        (pl.col("first_reading_end_utc") == "2013-03-25 00:30:00")
        & (pl.col("last_reading_end_utc") == "2013-04-08 00:00:00")
    )
    assert full.height >= 25
    late = gt.filter(pl.col("first_reading_end_utc") != "2013-03-25 00:30:00")
    for first in late["first_reading_end_utc"]:
        hour = int(first[11:13])
        assert 9 <= hour <= 16, "meters are installed mid-day"
