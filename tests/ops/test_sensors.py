"""The source-files sensor on a temporary folder of small LCL-layout files (Jan-Mar 2013)."""

from __future__ import annotations

import json
import os
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg
import pytest

import pipelines.definitions
from assets.common.resources import MeterSource, Warehouse
from pipelines.engines import DuckDBEngine
from pipelines.sensors import (
    RANGE_END_TAG,
    RANGE_START_TAG,
    contiguous_ranges,
    parse_cursor,
    source_files_sensor,
)
from tests.lcl_files import kaggle_line, lds_line, write_lines
from tests.ops.services import MONTHS, rows_by_month, settle, write_month_file, write_source


@pytest.fixture
def source(tmp_path: Path) -> tuple[Path, dict[str, Path]]:
    folder = tmp_path / "source"
    return folder, write_source(folder)


@pytest.fixture(scope="module", autouse=True)
def instance(tmp_path_factory: pytest.TempPathFactory) -> dg.DagsterInstance:
    """One ephemeral instance in a pytest temp folder (no stray TemporaryDirectory to clean up)."""
    global INSTANCE
    INSTANCE = dg.DagsterInstance.ephemeral(tempdir=str(tmp_path_factory.mktemp("dagster_home")))
    return INSTANCE


INSTANCE: dg.DagsterInstance | None = None


def evaluate(folder: Path | None, cursor: str | None = None) -> dg.SensorResult | dg.SkipReason:
    context = dg.build_sensor_context(
        cursor=cursor,
        instance=INSTANCE,
        resources={"source": MeterSource(source_dir=str(folder) if folder else "")},
    )
    return source_files_sensor(context)


def refused_error() -> type[Exception]:
    """The sensor's alert exception, looked up now (tests/ops/test_schedules.py reloads pipelines.sensors)."""
    import pipelines.sensors

    return pipelines.sensors.SourceFilesRefused


def requested(result: dg.SensorResult) -> list[tuple[str, str]]:
    """(first month, last month) of each run request."""
    out = []
    for r in result.run_requests or []:
        if r.partition_key:
            out.append((r.partition_key, r.partition_key))
        else:
            out.append((r.tags[RANGE_START_TAG], r.tags[RANGE_END_TAG]))
    return out


def touch(path: Path, seconds_later: int = 1) -> None:
    mtime = path.stat().st_mtime_ns + seconds_later * 10**9
    os.utime(path, ns=(mtime, mtime))


def test_first_tick_requests_all_months_as_one_range_run(source):
    folder, _ = source
    result = evaluate(folder)
    assert requested(result) == [(MONTHS[0], MONTHS[-1])]
    request = result.run_requests[0]
    assert request.run_key.startswith("source-files:2013-01-01..2013-03-01:")
    cursor = json.loads(result.cursor)
    readings = {k: v for k, v in cursor.items() if v[2] is not None}
    assert sorted(v[2] for v in readings.values()) == list(MONTHS)  # each file covers its own month
    # Household and tariff files are remembered but trigger nothing.
    assert cursor["households/informations_households.csv"][2:] == [None, None, None]
    assert cursor["tariffs/Tariffs.csv"][2:] == [None, None, None]


def test_unchanged_files_request_nothing(source):
    folder, _ = source
    first = evaluate(folder)
    second = evaluate(folder, first.cursor)
    assert not second.run_requests
    assert "no new, changed or deleted readings files" in second.skip_reason.skip_message
    assert second.cursor == first.cursor


def test_touching_one_file_requests_only_its_month(source):
    folder, files = source
    first = evaluate(folder)
    touch(files[MONTHS[1]])
    second = evaluate(folder, first.cursor)
    assert requested(second) == [(MONTHS[1], MONTHS[1])]
    assert second.run_requests[0].partition_key == MONTHS[1]
    # Same change seen again from the same cursor -> the same run key (Dagster drops duplicates).
    again = evaluate(folder, first.cursor)
    assert [r.run_key for r in again.run_requests] == [r.run_key for r in second.run_requests]
    # And after the cursor moved on, nothing more.
    assert not evaluate(folder, second.cursor).run_requests


def test_changes_in_two_separate_months_give_two_runs(source):
    folder, files = source
    cursor = evaluate(folder).cursor
    touch(files[MONTHS[0]])
    touch(files[MONTHS[2]])
    assert requested(evaluate(folder, cursor)) == [(MONTHS[0], MONTHS[0]), (MONTHS[2], MONTHS[2])]


def test_new_multi_month_file_and_deleted_file(source):
    folder, files = source
    cursor = evaluate(folder).cursor
    lines = [
        lds_line("MAC000200", ts, "0.2") for ts in ("2013-02-27 10:00:00", "2013-03-01 00:00:00", "2013-04-01 00:00:00")
    ]
    new = write_lines(folder / "late" / "MAC000200.csv", lines, crlf=True)
    settle(new)
    assert requested(evaluate(folder, cursor)) == [(MONTHS[1], "2013-04-01")]
    files[MONTHS[0]].unlink()
    assert requested(evaluate(folder, cursor)) == [(MONTHS[0], "2013-04-01")]  # Jan (deleted) + Feb..Apr


def test_file_still_being_written_waits_for_a_later_tick(source):
    folder, _ = source
    cursor = evaluate(folder).cursor
    fresh = write_lines(
        folder / "fresh.csv", ["LCLid,tstp,energy(kWh/hh)", kaggle_line("MAC9", "2013-05-01 00:30:00", "1")]
    )
    result = evaluate(folder, cursor)
    assert not result.run_requests and "still being written" in result.skip_reason.skip_message
    assert "fresh.csv" not in json.loads(result.cursor)
    settle(fresh)
    assert requested(evaluate(folder, result.cursor)) == [("2013-05-01", "2013-05-01")]


def test_current_month_is_not_requested(source):
    folder, _ = source
    cursor = evaluate(folder).cursor
    now = datetime.now(UTC).replace(day=1)
    path = write_lines(folder / "now.csv", [f"MAC7,{now:%Y-%m-%d} 00:30:00, 0.1 "])
    settle(path, 60)
    result = evaluate(folder, cursor)
    assert not result.run_requests
    assert json.loads(result.cursor)["now.csv"][2] == f"{now:%Y-%m-01}"


def test_an_unreadable_new_file_fails_the_tick_naming_it_until_fixed(source):
    """Today's main skipped the tick ("no new, changed or deleted readings files") and forgot the file."""
    folder, files = source
    cursor = evaluate(folder).cursor
    broken = folder / "broken.csv.gz"
    broken.write_bytes(b"\x1f\x8b not really gzip")
    settle(broken)
    with pytest.raises(refused_error(), match=r"broken\.csv\.gz: corrupt gzip stream"):
        evaluate(folder, cursor)
    # a tick that has runs to request requests them (other months keep loading) and remembers the refusal
    march = files[MONTHS[2]]  # a gzip file that used to be readable: its month is requested, to fail loudly
    march.write_bytes(b"\x1f\x8b truncated")
    settle(march, 60)
    result = evaluate(folder, cursor)
    assert requested(result) == [(MONTHS[2], MONTHS[2])]
    entries = json.loads(result.cursor)
    assert entries["broken.csv.gz"][2:4] == [None, None] and "gzip" in entries["broken.csv.gz"][4]
    # ... and the next tick, with nothing new to run, fails naming both files
    with pytest.raises(refused_error(), match=r"2 readings file\(s\).*broken\.csv\.gz.*readings_2013-03\.csv\.gz"):
        evaluate(folder, result.cursor)
    broken.unlink()  # fixed: removed, and the other file replaced by a readable version
    settle(write_month_file(folder, MONTHS[2]))
    fixed = evaluate(folder, result.cursor)
    assert requested(fixed) == [(MONTHS[2], MONTHS[2])]
    assert not evaluate(folder, fixed.cursor).run_requests  # no refusal left: a plain skip


def test_a_new_readable_and_a_new_unreadable_file_in_one_tick(source):
    folder, _ = source
    cursor = evaluate(folder).cursor
    good = write_lines(folder / "new" / "april.csv", [kaggle_line("MAC9", "2013-04-02 00:30:00", "1")])
    bad = folder / "new" / "bad.csv"
    bad.write_bytes(b"\x00\x01 binary \x00")
    settle(good)
    settle(bad)
    result = evaluate(folder, cursor)
    assert requested(result) == [("2013-04-01", "2013-04-01")]
    with pytest.raises(refused_error(), match=r"new/bad\.csv: binary content"):
        evaluate(folder, result.cursor)


def test_skipped_without_a_source_folder(tmp_path: Path):
    result = evaluate(None)
    assert isinstance(result, dg.SkipReason) and "METER_SOURCE_DIR is not set" in result.skip_message
    assert "is not a folder" in evaluate(tmp_path / "missing").skip_message


def test_helpers():
    assert contiguous_ranges([date(2013, 3, 1), date(2013, 1, 1), date(2012, 12, 1), date(2013, 5, 1)]) == [
        (date(2012, 12, 1), date(2013, 1, 1)),
        (date(2013, 3, 1), date(2013, 3, 1)),
        (date(2013, 5, 1), date(2013, 5, 1)),
    ]
    assert parse_cursor(None) == {}
    assert parse_cursor('{"a.csv": [1, 2]}') == {"a.csv": [1, 2, None, None, None]}  # cursor of [size, mtime] only


def test_range_request_runs_the_ingest_and_clean_job(source, tmp_path: Path):
    """The request's tags are a valid single-run range for the job: one run loads all three months."""
    folder, _ = source
    request = evaluate(folder).run_requests[0]
    defs = pipelines.definitions.defs()
    job = defs.resolve_job_def("ingest_and_clean")
    warehouse = tmp_path / "wh.duckdb"
    result = job.execute_in_process(
        tags=request.tags,
        instance=dg.DagsterInstance.ephemeral(tempdir=str(tmp_path / "dagster_home")),
        resources={
            "warehouse": Warehouse(database=str(warehouse)),
            "source": MeterSource(source_dir=str(folder)),
            "engine": DuckDBEngine(),
        },
    )
    assert result.success
    assert set(rows_by_month(warehouse, "clean.clean_readings")) == set(MONTHS)
