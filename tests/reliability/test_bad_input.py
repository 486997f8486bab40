"""Bad input in the ingest and clean stages: nothing lost (every physical line is stored and then
clean, quarantined or a counted duplicate, per month and per file), nothing blocked (an odd line
never fails a schema downstream), every error names the file, the line and the rule."""

from __future__ import annotations

import codecs
from datetime import date
from pathlib import Path

import duckdb
import polars as pl
import pytest

from assets.clean.clean_readings import clean_window
from assets.common.table_model import validate
from assets.ingest.households import (
    build_households,
    households_seen_in_readings,
    read_household_file,
    rejected_register_lines,
)
from assets.ingest.raw_ingest import RAW_TABLE, load_raw_readings, read_readings_file
from assets.ingest.schemas.households import Households
from assets.ingest.source_files import classify, discover, of_kind
from assets.ingest.source_layouts import SourceFileError
from assets.ingest.source_months import file_month_range
from assets.ingest.tariff_schedule import load_tariff_schedule
from tests.lcl_files import kaggle_line, lds_line, write_lines

JAN, FEB, MAR = date(2013, 1, 1), date(2013, 2, 1), date(2013, 3, 1)
HEADER_6 = "LCLid,stdorToU,DateTime,KWH/hh (per half hour) ,Acorn,Acorn_grouped"


def run(con: duckdb.DuckDBPyConnection, src: Path, start: date = JAN, end: date = MAR):
    loaded = load_raw_readings(con, of_kind(discover(src), "readings"), start, end)
    return loaded, clean_window(con, start, end)


def quarantined(con) -> dict[tuple[str, int], str]:
    rows = con.execute("SELECT source_file, source_line, rule_id FROM clean.quarantined_readings").fetchall()
    return {(f, n): rule for f, n, rule in rows}


def assert_conserved(result) -> None:
    assert result.conservation and all(c.holds for c in result.conservation), result.conservation
    assert result.file_conservation and all(f.holds for f in result.file_conservation), result.file_conservation


# --- out-of-range stamps ----------------------------------------------------------------------------


def test_out_of_range_lines_are_quarantined_under_their_neighbours_month(con, tmp_path: Path):
    src = tmp_path / "src"
    lines = [
        HEADER_6,
        lds_line("MAC000001", "2010-06-01 00:30:00", "0.1"),  # line 2: before the trial, at the start
        lds_line("MAC000001", "2013-01-10 00:30:00", "0.2"),  # line 3
        lds_line("MAC000001", "2030-01-15 01:00:00", "0.3"),  # line 4: in the future
        lds_line("MAC000001", "not a stamp", "0.3"),  # line 5: unparseable, follows line 4
        lds_line("MAC000001", "2013-02-10 01:30:00", "0.4"),  # line 6
        lds_line("MAC000001", "2015-06-01 02:00:00", "0.5"),  # line 7: in the gap after the trial
        lds_line("MAC000001", "2013-02-10 02:30:00", "0.6"),  # line 8
    ]
    write_lines(src / "r.csv", lines)
    loaded, result = run(con, src)
    assert loaded.rows == 7  # every data line stored
    months = dict(con.execute(f"SELECT source_line, reading_month FROM {RAW_TABLE} ORDER BY source_line").fetchall())
    # each bad line takes the month of the nearest preceding in-range line (the first, the next one)
    assert months == {2: JAN, 3: JAN, 4: JAN, 5: JAN, 6: FEB, 7: FEB, 8: FEB}
    assert quarantined(con) == {
        ("r.csv", 2): "V11_OUT_OF_RANGE_TIMESTAMP",
        ("r.csv", 4): "V11_OUT_OF_RANGE_TIMESTAMP",
        ("r.csv", 5): "V03_BAD_TIMESTAMP",
        ("r.csv", 7): "V11_OUT_OF_RANGE_TIMESTAMP",
    }
    assert_conserved(result)
    (by_file,) = result.file_conservation
    assert (by_file.lines_in_file, by_file.raw_rows, by_file.clean_actual_rows, by_file.quarantined_rows) == (
        7,
        7,
        3,
        4,
    )
    # the sniffer (demo, sensor) reports only months that are partitions
    assert file_month_range(src / "r.csv", "r.csv") == (JAN, FEB)


def test_a_file_with_no_in_range_line_is_refused_by_name_and_nothing_is_written(con, tmp_path: Path):
    src = tmp_path / "src"
    write_lines(src / "good.csv", [lds_line("MAC000001", "2013-01-10 00:30:00", "0.2")])
    run(con, src)
    before = con.execute(f"SELECT count(*) FROM {RAW_TABLE}").fetchall()
    write_lines(src / "future.csv", [lds_line("MAC000002", "2030-01-15 00:30:00", "0.2")] * 3)
    with pytest.raises(SourceFileError, match=r"future\.csv: no line has a timestamp in the supported months"):
        run(con, src)
    assert con.execute(f"SELECT count(*) FROM {RAW_TABLE}").fetchall() == before


def test_header_only_file_is_read_twice_without_error(con, tmp_path: Path):
    src = tmp_path / "src"
    write_lines(src / "empty.csv", [HEADER_6])
    write_lines(src / "r.csv", [lds_line("MAC000001", "2013-01-10 00:30:00", "0.2")])
    for _ in range(2):  # the index stores no months for the header-only file: the second run skips it
        loaded, result = run(con, src)
        assert_conserved(result)
    assert (loaded.files_read, loaded.files_skipped) == (1, 1)  # r.csv touches the window, empty.csv never
    assert file_month_range(src / "empty.csv", "empty.csv") is None
    index = con.execute("SELECT source_file, first_month, line_rows FROM ingest.source_file_index").fetchall()
    assert sorted(index) == [("empty.csv", None, 0), ("r.csv", JAN, 1)]


# --- odd household ids ------------------------------------------------------------------------------


def test_odd_household_ids_are_quarantined_and_never_reach_the_register(con, tmp_path: Path):
    src = tmp_path / "src"
    lines = [
        lds_line("MAC000001", "2013-01-10 00:30:00", "0.2"),
        lds_line("MAC 0002", "2013-01-10 00:30:00", "0.2"),  # a space inside
        lds_line("MAC'0003", "2013-01-10 00:30:00", "0.2"),  # a quote
        lds_line("MAC\x010004", "2013-01-10 00:30:00", "0.2"),  # a control byte
        lds_line("MAC000005", "2013-01-10 00:30:00", "0.2", group="ToU"),
    ]
    write_lines(src / "r.csv", lines)
    write_lines(
        src / "informations_households.csv",
        [
            "LCLid,stdorToU,Acorn,Acorn_grouped,file",
            "MAC000001,Std,ACORN-A,Affluent,block_0",
            'MAC"9,Std,ACORN-A,Affluent,b',
        ],
    )
    _, result = run(con, src)
    assert quarantined(con) == {("r.csv", n): "V10_INVALID_HOUSEHOLD_ID" for n in (2, 3, 4)}
    assert_conserved(result)
    (household_file,) = of_kind(discover(src), "households")
    registered = [read_household_file(household_file.path, household_file.relative)]
    table, _ = build_households(registered, households_seen_in_readings(con, RAW_TABLE))
    validate(Households, table, "ingest.households")  # never fails its schema
    assert table["household_id"].to_list() == ["MAC000001", "MAC000005"]
    assert rejected_register_lines(registered) == [
        {
            "source_file": "informations_households.csv",
            "source_line": 3,
            "rule_id": "V10_INVALID_HOUSEHOLD_ID",
            "id": 'MAC"9',
        }
    ]


# --- encodings and non-data files -------------------------------------------------------------------


def test_utf16_data_is_read_and_utf16_or_binary_non_data_files_are_ignored(con, tmp_path: Path):
    src = tmp_path / "src"
    text = "".join(line + "\r\n" for line in [HEADER_6, lds_line("MAC000001", "2013-01-10 00:30:00", "0.2")])
    (src / "sub").mkdir(parents=True)
    (src / "sub" / "r16.csv").write_bytes(codecs.BOM_UTF16_LE + text.encode("utf-16-le"))
    (src / "r16be.csv").write_bytes(text.replace("MAC000001", "MAC000002").encode("utf-16-be"))  # no BOM
    (src / "README.txt").write_bytes(codecs.BOM_UTF16_LE + "Notes about the data\r\n".encode("utf-16-le"))
    (src / "blob.txt").write_bytes(bytes(range(256)))
    kinds = {f.relative: f.kind for f in discover(src)}
    assert kinds == {"sub/r16.csv": "readings", "r16be.csv": "readings", "README.txt": "ignored", "blob.txt": "ignored"}
    loaded, result = run(con, src)
    assert loaded.rows == 2
    assert quarantined(con) == {}
    assert_conserved(result)
    assert file_month_range(src / "sub" / "r16.csv", "sub/r16.csv") == (JAN, JAN)


def test_unreadable_data_files_fail_naming_the_file_and_utf16(tmp_path: Path):
    bad16 = tmp_path / "bad16.csv"
    bad16.write_bytes(codecs.BOM_UTF16_LE + HEADER_6.encode("utf-16-le") + b"\x00\xd8\x41\x00")  # lone surrogate
    with pytest.raises(SourceFileError, match=r"bad16\.csv: not valid UTF-16 text"):
        read_readings_file(bad16, "bad16.csv")
    binary = tmp_path / "src" / "blob.csv"
    binary.parent.mkdir()
    binary.write_bytes(b"\x00\x01\x02\x03\xff\x00\x10" * 10)
    with pytest.raises(SourceFileError, match=r"blob\.csv: binary content"):
        classify(binary, "blob.csv")
    # discovery lists it as unreadable with the reason (raw_readings refuses or fails on it: file_ledger)
    (found,) = discover(tmp_path / "src")
    assert (found.kind, found.problem) == ("unreadable", "binary content (NUL bytes): not a text file")


# --- tariff labels ----------------------------------------------------------------------------------


def _tariff_lines(day: str = "01/01/2013") -> list[str]:
    return [f"{day} {h:02d}:{m:02d},Normal" for h in range(24) for m in (0, 30)]


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda ls: [*ls[:5], "31/02/2013 00:00,Normal", *ls[5:]], r"t\.csv: line 7: TariffDateTime not parseable"),
        (lambda ls: [*ls[:9], "", "01/01/2013 05:00,Medium", *ls[9:]], r"t\.csv: line 12: unknown tariff band"),
        (lambda ls: [*ls, "01/01/2013 00:00,High"], r"t\.csv: lines 2, 50: duplicate"),
        (lambda ls: ls[:-1], r"t\.csv: days without 48 labels: 2013-01-01 \(47 labels, from line 2\)"),
    ],
)
def test_tariff_label_errors_name_the_file_and_line(tmp_path: Path, damage, message):
    path = write_lines(tmp_path / "t.csv", ["TariffDateTime,Tariff", *damage(_tariff_lines())])
    with pytest.raises(SourceFileError, match=message):
        load_tariff_schedule([(path, "t.csv")])


# --- staging never survives -------------------------------------------------------------------------


def test_no_staging_table_survives_a_failed_load(con, tmp_path: Path):
    src = tmp_path / "src"
    write_lines(src / "a.csv", [lds_line("MAC000001", "2013-01-10 00:30:00", "0.2")])
    (src / "b.csv.gz").write_bytes(b"\x1f\x8b" + b"garbage")  # a corrupt gzip, read after a.csv
    with pytest.raises(SourceFileError, match=r"b\.csv\.gz"):
        load_raw_readings(con, [f for f in discover_lenient(src)], JAN, MAR)
    persistent = con.execute("SELECT table_name FROM duckdb_tables() WHERE NOT temporary").fetchall()
    assert [t for (t,) in persistent if "staging" in t] == []
    assert con.execute(f"SELECT count(*) FROM {RAW_TABLE}").fetchall() == [(0,)]


def discover_lenient(src: Path):
    """Source files as readings without classifying them (the corrupt gzip would fail discovery)."""
    from assets.ingest.source_files import SourceFile

    return [SourceFile(p, p.name, "readings", p.stat().st_size, p.stat().st_mtime_ns) for p in sorted(src.iterdir())]


def test_raw_rows_keep_every_line_including_blank_and_kaggle(con, tmp_path: Path):
    src = tmp_path / "src"
    lines = ["LCLid,tstp,energy(kWh/hh)", kaggle_line("MAC000001", "2013-01-10 00:30:00.0000000", "0.2"), "", "x"]
    write_lines(src / "k.csv", lines)
    _, result = run(con, src)
    assert quarantined(con) == {("k.csv", 3): "V01_MALFORMED_LINE", ("k.csv", 4): "V01_MALFORMED_LINE"}
    assert_conserved(result)


def test_a_collapsed_copy_counts_in_its_own_file(con, tmp_path: Path):
    src = tmp_path / "src"
    line = lds_line("MAC000001", "2013-01-10 00:30:00", "0.2")
    write_lines(src / "a.csv", [line, lds_line("MAC000001", "2013-01-10 01:00:00", "0.3")])
    write_lines(src / "b.csv", [line])  # the same reading again, in another file
    _, result = run(con, src)
    assert_conserved(result)
    balance = con.execute(
        "SELECT source_file, raw_lines, clean_actual_rows, quarantined_rows, collapsed_duplicates "
        "FROM clean.source_file_balance ORDER BY source_file"
    ).fetchall()
    assert balance == [("a.csv", 2, 2, 0, 0), ("b.csv", 1, 0, 0, 1)]
    by_file = {
        f.source_file: (f.lines_in_file, f.clean_actual_rows, f.collapsed_duplicates) for f in result.file_conservation
    }
    assert by_file == {"a.csv": (2, 2, 0), "b.csv": (1, 0, 1)}


def test_schema_errors_on_tables_with_source_lines_name_the_file_and_line():
    import pandera.polars as pa

    from assets.common.table_model import SchemaViolation, TableModel

    class Derived(TableModel):
        kwh: pl.Float64 = pa.Field(ge=0)
        source_file: pl.String
        source_line: pl.Int64

    frame = pl.DataFrame({"kwh": [0.1, -1.0], "source_file": ["a.csv", "b.csv"], "source_line": [7, 42]})
    with pytest.raises(SchemaViolation, match=r"row 1 \(b\.csv line 42\): '-1\.0'"):
        validate(Derived, frame, "derived")


# --- a truncated last line --------------------------------------------------------------------------

KAGGLE_HEADER = "LCLid,tstp,energy(kWh/hh)"


def _stamp(k: int) -> str:
    """The k-th half hour's end stamp (00:30, 01:00, ...): half-hourly files, so V13 (interval) passes them."""
    return f"2013-01-10 {(k + 1) // 2:02d}:{30 * ((k + 1) % 2):02d}:00"


def _kaggle(n: int) -> list[str]:
    return [kaggle_line("MAC000001", f"{_stamp(h)}.0000000", f"0.{h + 1}47") for h in range(n)]


@pytest.mark.parametrize(
    ("lines", "final_newline", "expected"),
    [
        # padded Kaggle value cut short, no final newline: quarantined
        ([KAGGLE_HEADER, *_kaggle(4)[:-1], f"MAC000001,{_stamp(3)}.0000000, 0.4"], False, {5}),
        # the same value intact: a missing final newline alone is no fault (valid line kept)
        ([KAGGLE_HEADER, *_kaggle(4)], False, set()),
        # a cut line with its final newline intact was not cut by the end of the file (V01 etc. apply)
        ([KAGGLE_HEADER, *_kaggle(3), f"MAC000001,{_stamp(3)}.0000000, 0.4"], True, set()),
        # London Datastore: the line ends with the household's Acorn group; cut inside it
        (
            [
                *(lds_line("MAC000001", _stamp(h), "0.2") for h in range(4)),
                f"MAC000001,Std,{_stamp(4)}.0000000, 0.2 ,ACORN-B,Afflu",
            ],
            False,
            {5},
        ),
        # unpadded values end in any digit: a cut cannot be told from a valid value, nothing is guessed
        ([f"MAC000001,{_stamp(h)},0.{10 + 7 * h}" for h in range(5)], False, set()),
    ],
)
def test_a_truncated_last_line_is_quarantined_only_when_provable(con, tmp_path: Path, lines, final_newline, expected):
    src = tmp_path / "src"
    src.mkdir()
    (src / "f.csv").write_text("\n".join(lines) + ("\n" if final_newline else ""), encoding="utf-8")
    _, result = run(con, src)
    assert_conserved(result)
    truncated = {n for (_, n), rule in quarantined(con).items() if rule == "V12_TRUNCATED_LAST_LINE"}
    assert truncated == expected


def test_supported_months_are_the_trial_and_live_months_up_to_the_current_one():
    from assets.common.months import is_supported_month

    today = date(2027, 3, 15)
    months = [(2011, 10), (2011, 11), (2014, 2), (2014, 3), (2026, 9), (2026, 10), (2027, 3), (2027, 4), (2030, 1)]
    supported = {date(y, m, 1): is_supported_month(date(y, m, 1), today) for y, m in months}
    assert [m for m, ok in supported.items() if ok] == [
        date(2011, 11, 1),
        date(2014, 2, 1),
        date(2026, 10, 1),
        date(2027, 3, 1),  # the current month: a partition once complete, its readings wait for it
    ]


def test_a_file_of_the_current_month_is_not_refused(con, tmp_path: Path):
    from assets.common.months import current_month

    now = current_month()
    src = tmp_path / "src"
    write_lines(src / "old.csv", [lds_line("MAC000001", "2013-01-10 00:30:00", "0.2")])
    write_lines(src / "live.csv", [lds_line("MAC000002", f"{now:%Y-%m}-01 00:30:00", "0.2")])
    loaded, result = run(con, src)  # January 2013 loads; the live file's month is not in the window
    assert loaded.rows == 1
    assert_conserved(result)
    assert file_month_range(src / "live.csv", "live.csv") == (now, now)
