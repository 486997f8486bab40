"""The source files' ledger: unreadable new files are refused (other files load), the index is keyed by
content (a moved delivery keeps its hash, drift and fingerprint) and files that leave are recorded."""

import gzip
import shutil
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from assets.ingest import file_ledger
from assets.ingest.raw_ingest import load_raw_readings
from assets.ingest.source_files import discover
from assets.ingest.source_layouts import SourceFileError
from assets.model import segmentation_history as sh
from assets.reports.data_confidence import source_fingerprint
from tests.lcl_files import lds_line, write_lines

JAN, FEB, MAR, APR = date(2012, 1, 1), date(2012, 2, 1), date(2012, 3, 1), date(2012, 4, 1)


def month_file(src: Path, name: str, month: str, hh: str = "MAC1", gz: bool = False) -> Path:
    lines = [lds_line(hh, f"{month}-{d:02d} {h:02d}:30:00", "0.2") for d in range(2, 9) for h in range(24)]
    return write_lines(src / name, lines, gz=gz)


def load(con, src: Path, start: date, end: date):
    files = discover(src)
    known = file_ledger.indexed_months(con)
    result, refused = file_ledger.load_refusing_new_files(
        known, files, start, end, lambda readings: load_raw_readings(con, readings, start, end)
    )
    present = {f.relative: (f.path, f.size_bytes, f.mtime_ns) for f in files}
    file_ledger.update_ledger(con, present, refused)
    return result, refused


def rows(con, sql: str) -> list[tuple]:
    return con.execute(sql).fetchall()


@pytest.fixture
def src(tmp_path: Path) -> Path:
    src = tmp_path / "src"
    month_file(src, "lds/jan.csv", "2012-01")
    month_file(src, "lds/feb.csv.gz", "2012-02", gz=True)
    month_file(src, "lds/mar.csv", "2012-03")
    return src


def test_a_new_unreadable_file_is_refused_and_the_other_files_load(con, src: Path):
    load(con, src, JAN, APR)
    # a truncated gzip whose head still decodes (discovery classifies it) and one that does not
    whole = gzip.compress(
        b"".join(f"{lds_line('MAC9', f'2012-02-03 {h:02d}:30:00', '0.5')}\n".encode() for h in range(24)) * 200
    )
    (src / "new").mkdir()
    (src / "new" / "cut.csv.gz").write_bytes(whole[: len(whole) // 2])
    (src / "new" / "junk.csv.gz").write_bytes(b"\x1f\x8b not really gzip")
    result, refused = load(con, src, FEB, MAR)  # February: the month the cut file would belong to
    assert result.rows_by_month == {FEB: 7 * 24}
    assert sorted(r.source_file for r in refused) == ["new/cut.csv.gz", "new/junk.csv.gz"]
    assert all("gzip" in r.reason for r in refused), refused
    stored = rows(
        con,
        "SELECT source_file, reason IS NOT NULL, content_sha256 IS NOT NULL "
        "FROM ingest.refused_source_files ORDER BY 1",
    )
    assert stored == [("new/cut.csv.gz", True, True), ("new/junk.csv.gz", True, True)]
    # January (a month neither file can be known to hold) loads too
    assert load(con, src, JAN, FEB)[0].rows_by_month == {JAN: 7 * 24}
    # once removed, the refused list empties on the next run
    shutil.rmtree(src / "new")
    assert load(con, src, JAN, FEB)[1] == []
    assert rows(con, "SELECT count(*) FROM ingest.refused_source_files") == [(0,)]


def test_a_known_file_that_becomes_unreadable_fails_its_months_only(con, src: Path):
    load(con, src, JAN, APR)
    feb = src / "lds" / "feb.csv.gz"
    feb.write_bytes(b"\x1f\x8b truncated")
    with pytest.raises(SourceFileError, match=r"lds/feb\.csv\.gz: .*gzip.*2012-02\.\.2012-02, which are stored"):
        load(con, src, FEB, MAR)
    assert rows(con, "SELECT count(*) FROM ingest.raw_readings WHERE reading_month = '2012-02-01'") == [(7 * 24,)]
    result, refused = load(con, src, MAR, APR)  # March cannot hold February's file: it loads
    assert result.rows_by_month == {MAR: 7 * 24} and [r.source_file for r in refused] == ["lds/feb.csv.gz"]


def test_a_moved_delivery_keeps_its_content_key_and_a_deleted_file_leaves_a_record(con, src: Path):
    load(con, src, JAN, APR)
    keys, fingerprint = file_ledger.content_keys(con), source_fingerprint(con)
    assert len(keys) == 3 and all(not k.startswith("path:") for k in keys)
    (src / "deliveries" / "2012-02").mkdir(parents=True)
    (src / "lds" / "feb.csv.gz").rename(src / "deliveries" / "2012-02" / "feb.csv.gz")
    load(con, src, FEB, MAR)
    assert file_ledger.content_keys(con) == keys
    assert source_fingerprint(con) == fingerprint
    index = dict(rows(con, "SELECT source_file, content_sha256 FROM ingest.source_file_index"))
    assert "lds/feb.csv.gz" not in index and "deliveries/2012-02/feb.csv.gz" in index
    departed = rows(con, "SELECT source_file, moved_to, first_month FROM ingest.source_file_departures")
    assert departed == [("lds/feb.csv.gz", "deliveries/2012-02/feb.csv.gz", FEB)]
    (src / "lds" / "jan.csv").unlink()
    load(con, src, JAN, FEB)
    departed = rows(
        con, "SELECT source_file, moved_to, departed_at IS NOT NULL FROM ingest.source_file_departures ORDER BY 1"
    )
    assert departed == [("lds/feb.csv.gz", "deliveries/2012-02/feb.csv.gz", True), ("lds/jan.csv", None, True)]
    assert "lds/jan.csv" not in dict(rows(con, "SELECT source_file, 1 FROM ingest.source_file_index"))


def _assign(personas: list[str]) -> pl.DataFrame:
    n = len(personas)
    return pl.DataFrame(
        {
            "household_id": [f"MAC{i:06d}" for i in range(n)],
            "load_shape_cluster": [0] * n,
            "load_shape_name": ["x"] * n,
            "persona_id": personas,
            "persona_name": personas,
        }
    )


def test_drift_survives_a_moved_delivery_and_a_new_one(con, src: Path):
    """Today's main keyed drift by folder: a delivery in a new sub-folder restarted the history."""
    load(con, src, JAN, APR)
    sh.record(con, FEB, _assign(["a"] * 6), "f1")
    (src / "deliveries" / "2012-03").mkdir(parents=True)
    (src / "lds" / "mar.csv").rename(src / "deliveries" / "2012-03" / "mar.csv")
    month_file(src, "deliveries/2012-04/apr.csv", "2012-04", hh="MAC2")  # a new delivery, new folder
    load(con, src, MAR, date(2012, 5, 1))
    sh.record(con, MAR, _assign(["a"] * 6), "f2")
    drift = sh.drift_against_previous(con, MAR)
    assert drift.previous_month == FEB and drift.households_compared == 6, sh.drift_sentence(drift)


def test_drift_keeps_comparing_with_snapshots_recorded_before_content_keys(con, src: Path):
    """After the upgrade, the first segmentation still compares with the last folder-keyed snapshot."""
    load(con, src, JAN, APR)
    con.execute("CREATE SCHEMA IF NOT EXISTS model")
    con.execute(f"CREATE TABLE model.segment_assignment_history ({sh.HISTORY_DDL})")
    con.execute(
        "INSERT INTO model.segment_assignment_history SELECT DATE '2012-02-01', 'MAC' || lpad(i::VARCHAR, 6, '0'), "
        "0, 'x', 'a', 'a', 'f0', ? FROM range(6) t(i)",
        [sh.legacy_source_key(con)],
    )
    sh.record(con, MAR, _assign(["a"] * 6), "f1")
    assert sh.drift_against_previous(con, MAR).previous_month == FEB
