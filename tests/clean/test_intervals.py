"""Readings at other interval lengths, on files cut from the real LCL sample.

15- and 5-minute files are summed exactly into the half-hourly clean table of the original; an
incomplete half hour is quarantined (V14); hourly files are refused by name (V13) and never
interpolated, half-hourly files beside them still clean; an all-hourly source stops in one sentence.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest

from assets.clean.clean_readings import CleanResult, NoUsableReadings, clean_window
from assets.common.warehouse import WarehouseSettings, connect
from assets.ingest.raw_ingest import load_raw_readings
from assets.ingest.source_files import discover, of_kind
from tests.interval_files import (
    half_hourly_lines,
    hourly_lines,
    real_readings,
    sub_interval_lines,
    write_kaggle,
)

JAN, FEB, MAR = date(2013, 1, 1), date(2013, 2, 1), date(2013, 3, 1)
HOUSEHOLDS = ["MAC000002", "MAC000003", "MAC000004"]
UNTIL = "2013-02-08 00:00:00"  # Jan and a week of Feb: the half hour ending Feb 1 00:00 spans both months


@pytest.fixture(scope="module")
def rows(lcl_sample: Path) -> list:
    """The real half hours from the one ending Jan 1 00:30 (its parts all lie in January)."""
    return [r for r in real_readings(lcl_sample, HOUSEHOLDS, UNTIL) if r[1] > datetime(2013, 1, 1)]


@pytest.fixture
def warehouse(tmp_path: Path) -> Iterator:
    """A fresh warehouse per call (several sources are compared in one test)."""
    opened = []

    def open_one(name: str) -> duckdb.DuckDBPyConnection:
        cm = connect(WarehouseSettings(tmp_path / f"{name}.duckdb", memory_limit="1GB"))
        opened.append(cm)
        return cm.__enter__()

    yield open_one
    for cm in reversed(opened):
        cm.__exit__(None, None, None)


def load_and_clean(con: duckdb.DuckDBPyConnection, folder: Path) -> CleanResult:
    load_raw_readings(con, of_kind(discover(folder), "readings"), JAN, MAR)
    return clean_window(con, JAN, MAR)  # month by month


def clean_rows(con: duckdb.DuckDBPyConnection, quality: str = "A") -> dict[tuple, float]:
    query = "SELECT household_id, interval_end_utc, kwh FROM clean.clean_readings WHERE quality_code = ?"
    return {(hh, t): kwh for hh, t, kwh in con.execute(query, [quality]).fetchall()}


def assert_same_table(got: dict[tuple, float], want: dict[tuple, float]) -> None:
    assert got.keys() == want.keys()
    worst = max(abs(got[k] - want[k]) for k in want)
    assert worst <= 1e-9


def assert_lines_conserved(result: CleanResult) -> None:
    assert result.conservation and all(c.holds for c in result.conservation), result.conservation
    assert result.file_conservation and all(f.holds for f in result.file_conservation), result.file_conservation
    for f in result.file_conservation:  # wholly inside the window: checked against ingest's line count
        assert f.lines_in_file == f.raw_rows


def accepted_source_kwh(con: duckdb.DuckDBPyConnection) -> Decimal:
    """The exact decimal sum of the kWh text of every raw line not quarantined (collapsed copies aside)."""
    texts = con.execute(
        """SELECT r.kwh_text FROM ingest.raw_readings r
           ANTI JOIN clean.quarantined_readings q USING (source_file, source_line)"""
    ).fetchall()
    return sum((Decimal(t) for (t,) in texts), Decimal(0))


@pytest.mark.parametrize("minutes", [15, 5])
def test_sub_interval_file_gives_the_half_hourly_clean_table_of_the_original(
    warehouse, tmp_path: Path, rows, minutes: int
):
    write_kaggle(tmp_path / "orig" / "half_hourly.csv", half_hourly_lines(rows))
    write_kaggle(tmp_path / "sub" / f"every_{minutes}_min.csv", sub_interval_lines(rows, minutes))
    original, sub = warehouse("orig"), warehouse("sub")
    load_and_clean(original, tmp_path / "orig")
    result = load_and_clean(sub, tmp_path / "sub")

    want = clean_rows(original)
    assert len(want) == len(rows)  # the sample has no gap in these weeks: every half hour is actual
    assert_same_table(clean_rows(sub), want)
    assert clean_rows(sub, "E") == clean_rows(original, "E") == {}
    assert sub.execute("SELECT count(*) FROM clean.quarantined_readings").fetchone() == (0,)
    # energy: stored kWh = source kWh of the accepted lines (and of the original file)
    stored = sub.execute("SELECT sum(kwh) FROM clean.clean_readings").fetchone()[0]
    assert abs(stored - float(accepted_source_kwh(sub))) <= 1e-9
    assert abs(stored - float(sum(Decimal(v) for _, _, v in rows))) <= 1e-9
    # lines: every part is the row of its half hour or a merged part, per file and month
    assert_lines_conserved(result)
    parts = 30 // minutes
    assert sum(f.merged_parts for f in result.file_conservation) == (parts - 1) * len(rows)
    assert [f.interval_minutes for f in result.file_conservation] == [minutes]
    balance = sub.execute(
        """SELECT reading_month, raw_lines, clean_actual_rows, merged_parts, interval_minutes
           FROM clean.source_file_balance ORDER BY reading_month"""
    ).fetchall()
    jan_rows = sum(1 for _, t, _ in rows if t.date() < FEB)
    feb_rows, edge = len(rows) - jan_rows, (parts - 1) * len(HOUSEHOLDS)
    # the parts of each household's half hour ending Feb 1 00:00 stamped on Jan 31 are January's lines:
    # merged in January's balance, into February's row
    assert balance == [
        (JAN, parts * jan_rows + edge, jan_rows, (parts - 1) * jan_rows + edge, minutes),
        (FEB, parts * feb_rows - edge, feb_rows, (parts - 1) * feb_rows - edge, minutes),
    ]


def test_incomplete_15_minute_half_hour_is_quarantined_never_invented(warehouse, tmp_path: Path, rows):
    lines = sub_interval_lines(rows, 15)
    # a household's half hour ending 2013-01-10 12:30 loses its hh:15 part; another's part at
    # 2013-01-11 08:15 is Null (V05), so the hh:30 part beside it is incomplete
    dropped = next(i for i, ln in enumerate(lines) if ln.startswith("MAC000003,2013-01-10 12:15:00,"))
    nulled = next(i for i, ln in enumerate(lines) if ln.startswith("MAC000004,2013-01-11 08:15:00,"))
    lines[nulled] = "MAC000004,2013-01-11 08:15:00, Null "
    del lines[dropped]
    write_kaggle(tmp_path / "src" / "every_15_min.csv", lines)
    con = warehouse("w")
    result = load_and_clean(con, tmp_path / "src")

    quarantined = con.execute(
        "SELECT household_id, reading_ts_text, rule_id, reason FROM clean.quarantined_readings ORDER BY ALL"
    ).fetchall()
    assert [q[:3] for q in quarantined] == [
        ("MAC000003", "2013-01-10 12:30:00", "V14_INCOMPLETE_HALF_HOUR"),
        ("MAC000004", "2013-01-11 08:15:00", "V05_NULL_VALUE"),
        ("MAC000004", "2013-01-11 08:30:00", "V14_INCOMPLETE_HALF_HOUR"),
    ]
    assert "incomplete" in quarantined[0][3]
    got = clean_rows(con)
    assert ("MAC000003", datetime(2013, 1, 10, 12, 30)) not in got
    assert ("MAC000004", datetime(2013, 1, 11, 8, 30)) not in got
    # the gap is a missing half hour, estimated as usual (E), never a half-valued actual
    want = {(hh, t): float(Decimal(v)) for hh, t, v in rows}
    del want[("MAC000003", datetime(2013, 1, 10, 12, 30))], want[("MAC000004", datetime(2013, 1, 11, 8, 30))]
    assert_same_table(got, want)
    stored = con.execute("SELECT sum(kwh) FROM clean.clean_readings WHERE quality_code = 'A'").fetchone()[0]
    assert abs(stored - float(accepted_source_kwh(con))) <= 1e-9
    assert_lines_conserved(result)
    assert result.rows_by_rule["V14_INCOMPLETE_HALF_HOUR"] == 2


def test_hourly_file_is_refused_by_name_and_half_hourly_files_beside_it_still_clean(warehouse, tmp_path: Path, rows):
    hourly_household, *others = HOUSEHOLDS
    write_kaggle(tmp_path / "src" / "hourly.csv", hourly_lines([r for r in rows if r[0] == hourly_household]))
    for hh in others:
        write_kaggle(tmp_path / "src" / f"{hh}.csv", half_hourly_lines([r for r in rows if r[0] == hh]))
    con = warehouse("w")
    result = load_and_clean(con, tmp_path / "src")

    hourly_lines_read = con.execute(
        "SELECT count(*) FROM ingest.raw_readings WHERE source_file = 'hourly.csv'"
    ).fetchone()[0]
    assert hourly_lines_read > 0
    refused = con.execute(
        """SELECT rule_id, reason, count(*) FROM clean.quarantined_readings
           WHERE source_file = 'hourly.csv' GROUP BY ALL"""
    ).fetchall()
    assert len(refused) == 1
    rule, reason, n = refused[0]
    assert (rule, n) == ("V13_UNSUPPORTED_INTERVAL", hourly_lines_read)
    assert "detected spacing: 60 minutes" in reason
    # nothing of the hourly household was invented, the others are exactly the original
    got = clean_rows(con) | clean_rows(con, "E")
    assert {hh for hh, _ in got} == set(others)
    assert_same_table(clean_rows(con), {(hh, t): float(Decimal(v)) for hh, t, v in rows if hh in others})
    assert con.execute(
        "SELECT count(*) FROM clean.quarantined_readings WHERE source_file <> 'hourly.csv'"
    ).fetchone() == (0,)
    assert_lines_conserved(result)
    intervals = {f.source_file: f.interval_minutes for f in result.file_conservation}
    assert intervals == {"hourly.csv": 60, **{f"{hh}.csv": 30 for hh in others}}


def test_all_hourly_source_stops_with_one_sentence_naming_the_files(warehouse, tmp_path: Path, rows):
    for hh in HOUSEHOLDS[:2]:
        write_kaggle(tmp_path / "src" / f"hourly_{hh}.csv", hourly_lines([r for r in rows if r[0] == hh]))
    con = warehouse("w")
    with pytest.raises(NoUsableReadings) as refused:
        load_and_clean(con, tmp_path / "src")
    message = str(refused.value)
    assert "\n" not in message and message.endswith(".") and message.count(". ") == 0
    assert "hourly_MAC000002.csv (60-minute spacing)" in message
    assert "hourly_MAC000003.csv (60-minute spacing)" in message
    assert message.startswith("No readings remain for 2013-01 to 2013-02: 2 readings file(s)")
    assert "half-hourly" in message
    # the refused lines are kept, with their reason, for the analyst
    assert con.execute("SELECT count(DISTINCT rule_id), count(*) FROM clean.quarantined_readings").fetchone() == (
        1,
        con.execute("SELECT count(*) FROM ingest.raw_readings").fetchone()[0],
    )


def test_too_few_stamps_off_the_grid_is_refused_on_the_grid_is_half_hourly(warehouse, tmp_path: Path):
    write_kaggle(tmp_path / "src" / "off_grid.csv", ["MAC000002,2013-01-10 10:15:00, 0.2 "])
    write_kaggle(tmp_path / "src" / "on_grid.csv", ["MAC000003,2013-01-10 10:30:00, 0.2 "])
    con = warehouse("w")
    result = load_and_clean(con, tmp_path / "src")
    ((file, rule, reason),) = con.execute(
        "SELECT source_file, rule_id, reason FROM clean.quarantined_readings"
    ).fetchall()
    assert (file, rule) == ("off_grid.csv", "V13_UNSUPPORTED_INTERVAL")
    assert "too few stamps to tell the spacing" in reason
    assert list(clean_rows(con)) == [("MAC000003", datetime(2013, 1, 10, 10, 30))]
    assert {f.source_file: f.interval_minutes for f in result.file_conservation} == {
        "off_grid.csv": None,
        "on_grid.csv": 30,
    }
    assert_lines_conserved(result)


def test_all_hourly_source_fails_the_clean_run_with_the_sentence_not_a_traceback(tmp_path: Path, rows):
    import dagster as dg

    from assets.common.resources import MeterSource, ReportsDir, Warehouse
    from pipelines.definitions import defs
    from pipelines.engines import DuckDBEngine

    write_kaggle(tmp_path / "src" / "hourly.csv", hourly_lines([r for r in rows if r[0] == HOUSEHOLDS[0]]))
    result = dg.materialize(
        defs().assets,
        selection=dg.AssetSelection.assets("raw_readings", "clean_readings").required_multi_asset_neighbors(),
        resources={
            "warehouse": Warehouse(database=str(tmp_path / "warehouse.duckdb")),
            "source": MeterSource(source_dir=str(tmp_path / "src")),
            "reports": ReportsDir(path=str(tmp_path / "reports")),
            "engine": DuckDBEngine(),
        },
        instance=dg.DagsterInstance.ephemeral(tempdir=str(tmp_path / "home")),
        partition_key="2013-01-01",
        raise_on_error=False,
    )
    assert not result.success
    (failure,) = [e for e in result.all_events if e.is_step_failure]
    # a user-facing dg.Failure whose description is the sentence, not a chained library error
    assert failure.step_failure_data.error.cls_name == "Failure"
    assert failure.step_failure_data.error.cause is None
    sentence = failure.step_failure_data.user_failure_data.description
    assert sentence.startswith("No readings remain for 2013-01: 1 readings file(s)")
    assert "hourly.csv (60-minute spacing)" in sentence and "\n" not in sentence
