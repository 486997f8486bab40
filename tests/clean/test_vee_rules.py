"""Each VEE rule on a tiny hand-made file, plus conservation, idempotence and atomicity."""

from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import pytest

from assets.clean.clean_readings import clean_window
from assets.clean.vee_rules import VeeSettings
from assets.ingest.raw_ingest import load_raw_readings
from assets.ingest.source_files import discover, of_kind
from assets.ingest.source_layouts import SourceFileError
from tests.lcl_files import lds_line, write_lines

JAN, FEB = date(2012, 1, 1), date(2012, 2, 1)


def stamps(start: str, n: int) -> list[str]:
    t0 = datetime.fromisoformat(start)
    return [(t0 + timedelta(minutes=30 * i)).strftime("%Y-%m-%d %H:%M:%S") for i in range(n)]


def load_and_clean(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    settings: VeeSettings | None = None,
    start: date = JAN,
    end: date = FEB,
):
    load_raw_readings(con, of_kind(discover(folder), "readings"), start, end)
    return clean_window(con, start, end, settings)


def quarantine(con) -> dict[int, str]:
    return dict(con.execute("SELECT source_line, rule_id FROM clean.quarantined_readings").fetchall())


def test_each_quarantine_rule_fires_on_its_line(con, tmp_path: Path):
    ts = stamps("2012-01-10 00:30:00", 12)
    lines = [
        lds_line("MAC1", ts[0], "0.2"),  # 1 ok
        "MAC1,Std,2012-01-10 01:00:00.0000000, 0.2 ,ACORN-B",  # 2 V01 (5 fields)
        lds_line("", ts[2], "0.2"),  # 3 V02
        lds_line("MAC1", "2012-01-1x 02:00:00", "0.2"),  # 4 V03
        lds_line("MAC1", "2012-01-10 02:17:00", "0.2"),  # 5 V04
        lds_line("MAC1", ts[5], "Null"),  # 6 V05
        lds_line("MAC1", ts[6], "abc"),  # 7 V06
        lds_line("MAC1", ts[7], "-0.1"),  # 8 V07
        lds_line("MAC1", ts[8], "30.5"),  # 9 V08
        lds_line("MAC1", ts[9], "0.3"),  # 10 V09 (conflicts with 11)
        lds_line("MAC1", ts[9], "0.4"),  # 11 V09
        lds_line("MAC1", ts[10], "0.2"),  # 12 ok
        lds_line("MAC1", ts[10], "0.2"),  # 13 D01 exact duplicate, collapsed
    ]
    write_lines(tmp_path / "src" / "f.csv", lines, crlf=True)
    result = load_and_clean(con, tmp_path / "src")
    assert quarantine(con) == {
        2: "V01_MALFORMED_LINE",
        3: "V02_MISSING_HOUSEHOLD",
        4: "V03_BAD_TIMESTAMP",
        5: "V04_OFF_GRID_TIMESTAMP",
        6: "V05_NULL_VALUE",
        7: "V06_NON_NUMERIC_VALUE",
        8: "V07_NEGATIVE_VALUE",
        9: "V08_IMPLAUSIBLE_VALUE",
        10: "V09_CONFLICTING_DUPLICATE",
        11: "V09_CONFLICTING_DUPLICATE",
    }
    row = con.execute(
        "SELECT raw_line, source_file, reason FROM clean.quarantined_readings WHERE source_line = 2"
    ).fetchone()
    assert row[0] == lines[1] and row[1] == "f.csv" and "fields" in row[2]
    dup = con.execute(
        "SELECT duplicate_rows, source_line FROM clean.clean_readings "
        "WHERE interval_end_utc = ? AND quality_code = 'A'",
        [datetime.fromisoformat(ts[10])],
    ).fetchone()
    assert dup == (1, 12)
    (c,) = result.conservation
    assert (c.raw_rows, c.clean_actual_rows, c.quarantined_rows, c.collapsed_duplicates) == (13, 2, 10, 1)
    assert c.holds


def test_short_gaps_estimated_long_gaps_missing(con, tmp_path: Path):
    ts = stamps("2012-01-10 00:30:00", 40)
    keep = [0, 1, 2, 6, 7, *range(20, 40)]  # gap of 3 (estimated), gap of 12 (> 6: missing)
    values = {i: f"{0.1 * (i % 5) + 0.1:.1f}" for i in keep}
    write_lines(tmp_path / "src" / "f.csv", [lds_line("MAC1", ts[i], values[i]) for i in keep])
    result = load_and_clean(con, tmp_path / "src")
    est = con.execute(
        "SELECT interval_end_utc, kwh, raw_kwh, source_file FROM clean.clean_readings "
        "WHERE quality_code = 'E' ORDER BY 1"
    ).fetchall()
    assert [e[0] for e in est] == [datetime.fromisoformat(ts[i]) for i in (3, 4, 5)]
    v2, v6 = float(values[2]), float(values[6])
    assert [round(e[1], 9) for e in est] == [round(v2 + (v6 - v2) * k / 4, 9) for k in (1, 2, 3)]
    assert all(e[2] is None and e[3] is None for e in est)
    assert result.estimated_rows == 3
    cov = con.execute(
        "SELECT actual_half_hours, estimated_half_hours, missing_half_hours, expected_half_hours "
        "FROM clean.household_month_coverage"
    ).fetchone()
    assert cov == (len(keep), 3, 31 * 48 - len(keep) - 3, 31 * 48)


def test_spike_flagged_not_dropped(con, tmp_path: Path):
    ts = stamps("2012-01-10 00:30:00", 200)
    vals = ["0.2"] * 200
    vals[100] = "7.5"
    write_lines(tmp_path / "src" / "f.csv", [lds_line("MAC1", t, v) for t, v in zip(ts, vals, strict=True)])
    load_and_clean(con, tmp_path / "src")
    spikes = con.execute("SELECT interval_end_utc, kwh FROM clean.clean_readings WHERE is_spike").fetchall()
    assert spikes == [(datetime.fromisoformat(ts[100]), 7.5)]


def test_implausible_bound_is_configurable(con, tmp_path: Path):
    ts = stamps("2012-01-10 00:30:00", 2)
    write_lines(tmp_path / "src" / "f.csv", [lds_line("MAC1", ts[0], "5.0"), lds_line("MAC1", ts[1], "0.1")])
    load_and_clean(con, tmp_path / "src", VeeSettings(max_kwh_per_half_hour=4.0))
    assert quarantine(con) == {1: "V08_IMPLAUSIBLE_VALUE"}


def test_rerun_is_idempotent_and_range_equals_months(con, tmp_path: Path):
    ts = stamps("2012-01-30 00:30:00", 48 * 4)  # spans Jan -> Feb
    write_lines(
        tmp_path / "src" / "f.csv", [lds_line("MAC1", t, "0.25") for t in ts] + [lds_line("MAC1", ts[5], "0.25")]
    )
    load_and_clean(con, tmp_path / "src", start=JAN, end=date(2012, 3, 1))
    snapshot = con.execute("SELECT * FROM clean.clean_readings ORDER BY ALL").fetchall()
    load_and_clean(con, tmp_path / "src", start=JAN, end=FEB)  # re-run one month of the range
    load_and_clean(con, tmp_path / "src", start=FEB, end=date(2012, 3, 1))
    assert con.execute("SELECT * FROM clean.clean_readings ORDER BY ALL").fetchall() == snapshot
    assert con.execute("SELECT count(*) FROM ingest.raw_readings").fetchone()[0] == len(ts) + 1


def test_gap_across_month_boundary_is_estimated_from_neighbouring_month(con, tmp_path: Path):
    ts = stamps("2012-01-31 22:00:00", 10)  # 22:00 .. 02:30 on Feb 1
    keep = [0, 1, 2, 3, 6, 7, 8, 9]  # missing 00:00 (Feb) and 00:30... i.e. indexes 4, 5
    write_lines(tmp_path / "src" / "f.csv", [lds_line("MAC1", ts[i], "0.4") for i in keep])
    load_raw_readings(con, of_kind(discover(tmp_path / "src"), "readings"), JAN, date(2012, 3, 1))
    clean_window(con, FEB, date(2012, 3, 1))  # only February: its anchor before the gap lies in January
    est = con.execute(
        "SELECT interval_end_utc FROM clean.clean_readings WHERE quality_code = 'E' ORDER BY 1"
    ).fetchall()
    assert [e[0] for e in est] == [datetime.fromisoformat(ts[i]) for i in (4, 5)]


def test_each_household_with_a_gap_is_estimated_and_gap_free_ones_get_none(con, tmp_path: Path):
    """Gap filling sorts only the households whose points leave a gap: a gap-free household (with a
    collapsed exact duplicate) gets no estimate; a conflicting duplicate (V09) in an otherwise
    complete run leaves a one-slot gap that is estimated; a two-slot gap is estimated."""
    ts = stamps("2012-01-10 00:30:00", 12)
    complete = [lds_line("MAC1", t, "0.2") for t in ts] + [lds_line("MAC1", ts[3], "0.2")]  # D01
    conflict = [lds_line("MAC2", t, "0.4") for t in ts] + [lds_line("MAC2", ts[5], "0.9")]  # V09 at ts[5]
    gapped = [lds_line("MAC3", ts[i], "0.6") for i in range(12) if i not in (7, 8)]
    write_lines(tmp_path / "src" / "f.csv", complete + conflict + gapped)
    result = load_and_clean(con, tmp_path / "src")
    est = con.execute(
        "SELECT household_id, interval_end_utc, round(kwh, 9) FROM clean.clean_readings "
        "WHERE quality_code = 'E' ORDER BY ALL"
    ).fetchall()
    at = [datetime.fromisoformat(t) for t in ts]
    assert est == [("MAC2", at[5], 0.4), ("MAC3", at[7], 0.6), ("MAC3", at[8], 0.6)]
    assert result.rows_by_rule["V09_CONFLICTING_DUPLICATE"] == 2 and result.rows_by_rule["D01_EXACT_DUPLICATE"] == 1
    coverage = con.execute(
        "SELECT household_id, actual_half_hours, estimated_half_hours, quarantined_rows "
        "FROM clean.household_month_coverage ORDER BY 1"
    ).fetchall()
    assert coverage == [("MAC1", 12, 0, 0), ("MAC2", 11, 1, 2), ("MAC3", 10, 2, 0)]


def test_unreadable_file_fails_and_leaves_stored_data_untouched(con, tmp_path: Path):
    src = tmp_path / "src"
    write_lines(src / "a.csv", [lds_line("MAC1", t, "0.2") for t in stamps("2012-01-10 00:30:00", 10)])
    load_and_clean(con, src)
    before = con.execute("SELECT count(*) FROM ingest.raw_readings").fetchone()[0]
    write_lines(src / "b.csv", [lds_line("MAC2", t, "0.3") for t in stamps("2012-01-10 00:30:00", 10)])
    (src / "c.csv").write_bytes(b"MAC3,Std,2012-01-10 00:30:00.0000000, 0.1 ,A,B\nMAC3,Std,\xff\xfe\n")
    with pytest.raises(SourceFileError, match=r"c\.csv: not valid UTF-8"):
        load_raw_readings(con, of_kind(discover(src), "readings"), JAN, FEB)
    assert con.execute("SELECT count(*) FROM ingest.raw_readings").fetchone()[0] == before
    assert con.execute("SELECT count(DISTINCT household_id) FROM ingest.raw_readings").fetchone()[0] == 1


def test_spike_and_gap_thresholds_are_configurable(con, tmp_path: Path):
    ts = stamps("2012-01-10 00:30:00", 200)
    vals = ["0.2"] * 200
    vals[100] = "7.5"
    keep = [i for i in range(200) if i not in (150, 151, 152)]  # a gap of 3 half hours
    write_lines(tmp_path / "src" / "f.csv", [lds_line("MAC1", ts[i], vals[i]) for i in keep])
    result = load_and_clean(con, tmp_path / "src", VeeSettings(spike_min_kwh=8.0, max_gap_half_hours_to_estimate=2))
    assert (result.spike_rows, result.estimated_rows) == (0, 0)
    result = load_and_clean(con, tmp_path / "src", VeeSettings(spike_iqr_multiplier=1.0, spike_min_kwh=7.5))
    assert (result.spike_rows, result.estimated_rows) == (1, 3)


def test_failure_before_commit_leaves_the_stored_month_untouched(con, tmp_path: Path, monkeypatch):
    from assets.clean import clean_readings

    ts = stamps("2012-01-10 00:30:00", 10)
    write_lines(tmp_path / "src" / "f.csv", [lds_line("MAC1", t, "5.0") for t in ts])
    load_and_clean(con, tmp_path / "src")
    tables = ("clean.clean_readings", "clean.quarantined_readings", "clean.household_month_coverage")
    before = {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables}
    real_replace = clean_readings.replace_month

    def replace_then_fail(con, p):
        real_replace(con, p)  # every table of the month rewritten (all rows now quarantined) ...
        raise RuntimeError("crash before commit")  # ... but never committed

    monkeypatch.setattr(clean_readings, "replace_month", replace_then_fail)
    with pytest.raises(RuntimeError, match="crash before commit"):
        clean_window(con, JAN, FEB, VeeSettings(max_kwh_per_half_hour=4.0, spike_min_kwh=1.0))
    assert {t: con.execute(f"SELECT * FROM {t} ORDER BY ALL").fetchall() for t in tables} == before
    assert before["clean.quarantined_readings"] == [] and len(before["clean.clean_readings"]) == 10
    assert con.execute("SELECT count(*) FROM duckdb_tables() WHERE temporary").fetchone()[0] == 0


def test_stages_run_alone_on_the_raw_rows(con, tmp_path: Path):
    from assets.clean import clean_readings as cr

    ts = stamps("2012-01-10 00:30:00", 3)
    lines = [lds_line("MAC1", ts[0], "0.2"), lds_line("MAC1", ts[1], "-1"), lds_line("MAC1", ts[2], "0.3")]
    write_lines(tmp_path / "src" / "f.csv", [*lines, lines[2], lds_line("MAC1", ts[0], "0.5")])
    load_raw_readings(con, of_kind(discover(tmp_path / "src"), "readings"), JAN, FEB)
    params = cr.month_parameters(JAN, FEB, VeeSettings())
    cr.classify(con, params)
    rules = con.execute("SELECT source_line, rule_id FROM _classified ORDER BY 1").fetchall()
    assert rules == [(1, None), (2, "V07_NEGATIVE_VALUE"), (3, None), (4, None), (5, None)]
    cr.find_duplicate_keys(con, params)
    dups = con.execute("SELECT reading_end_utc, n_rows, n_values FROM _dupkeys ORDER BY 1").fetchall()
    assert dups == [(datetime.fromisoformat(ts[0]), 2, 2), (datetime.fromisoformat(ts[2]), 2, 1)]
