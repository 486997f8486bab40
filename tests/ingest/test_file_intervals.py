"""Ingest detects each file's reading interval from its own stamps (files cut from the real LCL sample)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from assets.ingest.raw_ingest import load_raw_readings
from assets.ingest.source_files import discover, of_kind
from tests.interval_files import half_hourly_lines, hourly_lines, real_readings, sub_interval_lines, write_kaggle
from tests.lcl_files import kaggle_line

JAN, MAR = date(2013, 1, 1), date(2013, 3, 1)


def intervals(con) -> dict[str, int | None]:
    return dict(con.execute("SELECT source_file, interval_seconds FROM ingest.source_file_index").fetchall())


def test_each_file_gets_the_interval_of_its_own_stamps(con, tmp_path: Path, lcl_sample: Path):
    rows = real_readings(lcl_sample, ["MAC000002", "MAC000003"], "2013-01-05 00:00:00")
    src = tmp_path / "src"
    # one load, four intervals side by side: detected per file, not for the load
    write_kaggle(src / "half_hourly.csv", half_hourly_lines(rows))
    write_kaggle(src / "quarter.csv", sub_interval_lines(rows, 15))
    write_kaggle(src / "five.csv", sub_interval_lines(rows, 5))
    write_kaggle(src / "hourly.csv", hourly_lines(rows))
    load_raw_readings(con, of_kind(discover(src), "readings"), JAN, MAR)
    assert intervals(con) == {"half_hourly.csv": 1800, "quarter.csv": 900, "five.csv": 300, "hourly.csv": 3600}


def test_spacing_is_per_household_and_modal(con, tmp_path: Path, lcl_sample: Path):
    """Two households interleaved line by line, a gap and an off-grid stamp: still half-hourly."""
    rows = real_readings(lcl_sample, ["MAC000002", "MAC000003"], "2013-01-03 00:00:00")
    rows.sort(key=lambda r: (r[1], r[0]))  # interleaved: consecutive lines are of different households
    lines = half_hourly_lines(rows)
    del lines[10:20]  # a gap
    lines.append(kaggle_line("MAC000002", "2013-01-02 10:17:00", "0.1"))  # off the grid (V04 in clean)
    write_kaggle(tmp_path / "src" / "f.csv", lines)
    load_raw_readings(con, of_kind(discover(tmp_path / "src"), "readings"), JAN, MAR)
    assert intervals(con) == {"f.csv": 1800}


def test_too_few_stamps_half_hourly_only_on_the_grid(con, tmp_path: Path):
    src = tmp_path / "src"
    write_kaggle(src / "on_grid.csv", [kaggle_line("MAC1", "2013-01-10 10:30:00", "0.2")])
    write_kaggle(src / "off_grid.csv", [kaggle_line("MAC1", "2013-01-10 10:15:00", "0.2")])
    # one stamp per household: no spacing to tell, but all on :00/:30
    write_kaggle(
        src / "one_each.csv",
        [kaggle_line("MAC1", "2013-01-10 10:00:00", "0.2"), kaggle_line("MAC2", "2013-01-10 11:30:00", "0.2")],
    )
    load_raw_readings(con, of_kind(discover(src), "readings"), JAN, MAR)
    assert intervals(con) == {"on_grid.csv": 1800, "off_grid.csv": 0, "one_each.csv": 1800}
