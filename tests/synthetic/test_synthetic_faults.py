"""Every planted fault kind is present, few, and ``faults.csv`` points at the line that shows it."""

from __future__ import annotations

from datetime import datetime, timedelta

import polars as pl

from assets.synthetic.faults import FAULT_KINDS
from tests.synthetic.conftest import Source, physical_lines, tariff_stamps


def _fields(line: str) -> list[str]:
    return line.rstrip("\r").split(",")


def _parse_ts(text: str) -> datetime:
    return datetime.strptime(text[:19], "%Y-%m-%d %H:%M:%S")


def test_every_kind_present_and_few(faulty_source: Source) -> None:
    faults = pl.read_csv(faulty_source.path / "ground_truth" / "faults.csv")
    assert faults.columns == [
        "kind",
        "household_id",
        "source_file",
        "source_line",
        "reading_ts_text",
        "detail",
    ]
    assert set(faults["kind"]) == set(FAULT_KINDS)
    assert faults["kind"].value_counts().filter(pl.col("kind") == "malformed_line")["count"][0] >= 2
    assert faulty_source.summary.faults_by_kind == dict(faults["kind"].value_counts().iter_rows()) | {}
    assert faults.height < 0.001 * faulty_source.summary.rows_written


def test_fault_lines_show_their_fault(faulty_source: Source) -> None:
    faults = pl.read_csv(faulty_source.path / "ground_truth" / "faults.csv", schema_overrides={"detail": pl.String})
    cache: dict[str, list[str]] = {}
    for kind, hh, rel, number, ts_text, detail in faults.iter_rows():
        lines = cache.setdefault(rel, physical_lines(faulty_source.path / rel))
        line = lines[number - 1].rstrip("\r")
        prev = lines[number - 2].rstrip("\r")
        kaggle = rel.startswith("readings/kaggle/")
        n_fields = 3 if kaggle else 6
        value_at = 2 if kaggle else 3
        fields = _fields(line)
        assert fields[0] == hh, (kind, rel, number, line)
        assert ts_text in line, (kind, line)
        info = dict(part.split("=", 1) for part in detail.split(";"))
        assert info["rule"] == FAULT_KINDS[kind][2]
        if kind == "malformed_line":
            assert len(fields) < n_fields
            continue
        assert len(fields) == n_fields, (kind, line)
        assert fields[value_at - 1] == ts_text
        value = fields[value_at]
        if kind == "exact_duplicate":
            assert line == prev
            assert ts_text[11:19] == "00:00:00", "LCL-like midnight duplicate"
        elif kind == "conflicting_duplicate":
            pf = _fields(prev)
            assert pf[:value_at] == fields[:value_at] and pf[value_at] != value
        elif kind == "null_value":
            assert value == "Null"
        elif kind == "non_numeric_value":
            assert value.strip() == "abc"
        elif kind == "negative_value":
            assert float(value) < 0
        elif kind == "spike":
            assert 5 <= float(value) <= 9
        elif kind == "implausible_value":
            assert float(value) > 24
        elif kind == "off_grid_timestamp":
            assert ts_text[14:16] not in ("00", "30")
            assert (
                _parse_ts(_fields(prev)[value_at - 1])
                < _parse_ts(ts_text)
                < _parse_ts(_fields(lines[number].rstrip("\r"))[value_at - 1])
            )
        elif kind in ("short_gap", "long_gap"):
            missing = int(info["missing_half_hours"])
            assert (1 <= missing <= 6) if kind == "short_gap" else missing > 6
            step = _parse_ts(ts_text) - _parse_ts(_fields(prev)[value_at - 1])
            assert step == timedelta(minutes=30 * (missing + 1)), (kind, prev, line)
            assert _fields(prev)[0] == hh


def test_faults_avoid_event_half_hours(faulty_source: Source) -> None:
    events = set(tariff_stamps(faulty_source.path)["ts"].to_list())
    faults = pl.read_csv(faulty_source.path / "ground_truth" / "faults.csv")
    for ts_text in faults["reading_ts_text"]:
        if len(ts_text) >= 19:
            ts = _parse_ts(ts_text)
            assert ts not in events and ts - timedelta(minutes=30) not in events


def test_no_faults_switch(tmp_path) -> None:
    from datetime import date

    from assets.synthetic.generate import generate

    s = generate(tmp_path, households=6, seed=2, start=date(2013, 1, 1), end=date(2013, 1, 4), faults=False)
    assert sum(s.faults_by_kind.values()) == 0
    assert pl.read_csv(tmp_path / "ground_truth" / "faults.csv").height == 0
    lines = physical_lines(tmp_path / "readings" / "block_000.csv")
    assert (
        len(lines)
        == len(set(lines))
        == s.rows_written - sum(len(physical_lines(p)) - 1 for p in (tmp_path / "readings" / "kaggle").glob("*.csv"))
    )
