"""Clock check on the real LCL sample: Kaggle files rewritten the way a UK-local-time export writes
them (every stamp converted from UTC to Europe/London clock time: the autumn hour 01:00-02:00 twice,
the spring hour missing) are named; the files as published (UTC) are not."""

from __future__ import annotations

import gzip
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from assets.ingest.clock_check import ClockCheck, check_clock, clock_changes, clock_sentence
from assets.ingest.raw_ingest import RAW_TABLE, load_raw_readings
from assets.ingest.source_files import discover, of_kind

LOCAL = ["MAC000002", "MAC000003", "MAC000004"]  # rewritten in UK local time
UTC = ["MAC000005"]  # as published


def local_time_export(src: Path, dst: Path) -> None:
    """The published UTC file with every stamp written in UK local clock time (header, values, LF kept)."""
    header, *lines = gzip.decompress(src.read_bytes()).decode().split("\n")
    lines = [ln for ln in lines if ln]
    fields = pl.DataFrame({"line": lines}).select(pl.col("line").str.split_exact(",", 2)).unnest("line")
    local = (
        fields["field_1"]
        .str.to_datetime("%Y-%m-%d %H:%M:%S", time_zone="UTC")
        .dt.convert_time_zone("Europe/London")
        .dt.strftime("%Y-%m-%d %H:%M:%S")
    )
    rewritten = [f"{hh},{ts},{kwh}" for hh, ts, kwh in zip(fields["field_0"], local, fields["field_2"], strict=True)]
    dst.write_bytes(gzip.compress(("\n".join([header, *rewritten]) + "\n").encode()))


@pytest.fixture(scope="module")
def raw(lcl_sample: Path, tmp_path_factory: pytest.TempPathFactory):
    from assets.common.warehouse import WarehouseSettings, connect

    src = tmp_path_factory.mktemp("clock") / "src"
    src.mkdir()
    kaggle = lcl_sample / "readings" / "kaggle_2013"
    for household in LOCAL:
        local_time_export(kaggle / f"{household}.csv.gz", src / f"{household}.csv.gz")
    for household in UTC:
        (src / f"{household}.csv.gz").write_bytes((kaggle / f"{household}.csv.gz").read_bytes())
    path = src.parent / "warehouse.duckdb"
    with connect(WarehouseSettings(path, memory_limit="1GB")) as con:
        load_raw_readings(con, of_kind(discover(src), "readings"), date(2013, 3, 1), date(2013, 11, 1))
        yield con


def query(con):
    return lambda sql, params: con.execute(sql, params).fetchall()


def test_the_rewrite_recreates_a_local_time_export_exactly(raw):
    per_day = dict(
        raw.execute(
            "SELECT CAST(reading_end_utc AS DATE), count(*) FROM ingest.raw_readings WHERE household_id = 'MAC000002' "
            "AND CAST(reading_end_utc AS DATE) IN ('2013-03-31', '2013-10-27') GROUP BY 1"
        ).fetchall()
    )
    assert per_day == {date(2013, 3, 31): 46, date(2013, 10, 27): 50}  # UTC has 48 on both


def test_clock_change_dates_come_from_the_time_zone_database():
    assert [(c.day, c.season) for c in clock_changes(date(2012, 1, 1), date(2013, 12, 31))] == [
        (date(2012, 3, 25), "spring"),
        (date(2012, 10, 28), "autumn"),
        (date(2013, 3, 31), "spring"),
        (date(2013, 10, 27), "autumn"),
    ]


def test_local_time_stamps_are_detected_and_named_per_household_and_date(raw):
    check = check_clock(query(raw), RAW_TABLE)
    status = {(r["household_id"], str(r["day"])): r["status"] for r in check.days.iter_rows(named=True)}
    for household in LOCAL:
        assert status[(household, "2013-03-31")] == status[(household, "2013-10-27")] == "local_time"
    assert status[("MAC000005", "2013-03-31")] == status[("MAC000005", "2013-10-27")] == "utc"
    assert check.local_households().rows() == [(h, f"{h}.csv.gz") for h in LOCAL]
    assert check.by_date().select("day", "observed", "local_time", "utc").rows() == [
        (date(2013, 3, 31), 4, 3, 1),
        (date(2013, 10, 27), 4, 3, 1),
    ]
    assert clock_sentence(check) == (
        "Readings look stamped in UK local time, not UTC (in some files): 3 of 4 households miss the spring hour "
        "on 2013-03-31 and 3 of 4 households repeat the autumn hour on 2013-10-27 (households MAC000002, "
        "MAC000003, MAC000004); convert them to UTC before loading."
    )


def test_published_utc_readings_raise_nothing(lcl_sample: Path, tmp_path: Path, con):
    kaggle = lcl_sample / "readings" / "kaggle_2013"
    src = tmp_path / "src"
    src.mkdir()
    for household in LOCAL:
        (src / f"{household}.csv.gz").write_bytes((kaggle / f"{household}.csv.gz").read_bytes())
    load_raw_readings(con, of_kind(discover(src), "readings"), date(2013, 3, 1), date(2013, 11, 1))
    check = check_clock(query(con), RAW_TABLE)
    assert set(check.days["status"]) == {"utc"} and check.days.height == 6
    assert clock_sentence(check) is None


def test_when_every_household_shows_it_the_sentence_says_so_plainly(raw):
    check = check_clock(query(raw), RAW_TABLE)
    only_local = ClockCheck(check.days.filter(pl.col("household_id").is_in(LOCAL)))
    assert clock_sentence(only_local) == (
        "Readings look stamped in UK local time, not UTC: 3 of 3 households miss the spring hour on 2013-03-31 "
        "and 3 of 3 households repeat the autumn hour on 2013-10-27 (households MAC000002, MAC000003, MAC000004); "
        "convert them to UTC before loading."
    )


def test_the_report_data_block_carries_the_sentence(raw):
    """The report's "Data and confidence" block (HTML and Markdown both render its warnings) states it."""
    from assets.reports.data_confidence import DataConfidence, block, clock_warnings

    warnings = clock_warnings(raw)
    assert len(warnings) == 1 and warnings[0].startswith("Readings look stamped in UK local time, not UTC")
    data = DataConfidence(
        source="src",
        synthetic=False,
        first_month="2013-03",
        last_month="2013-10",
        fingerprint="",
        funnel={},
        effect=None,
        warnings=warnings,
    )
    assert block(data)["warnings"] == warnings


def test_read_data_confidence_puts_the_sentence_first_among_the_warnings(raw):
    """The report reads it from the warehouse itself (the downstream tables empty: only the wiring).
    Runs last: it adds tables to the module's warehouse."""
    from assets.reports.data_confidence import read_data_confidence

    for ddl in (  # just the columns the block reads, empty
        "CREATE TABLE ingest.households (household_id VARCHAR, tariff_group VARCHAR)",
        "CREATE SCHEMA features",
        "CREATE TABLE ingest.tariff_schedule (event_id INTEGER)",
        "CREATE TABLE features.household_features (household_id VARCHAR, tariff_group VARCHAR)",
        "CREATE TABLE features.baseline_features (household_id VARCHAR)",
        "CREATE TABLE features.treatment_features (household_id VARCHAR, tariff_group VARCHAR, responder BOOLEAN, "
        "high_did_pct DOUBLE, response_method VARCHAR, comparison_design VARCHAR)",
        "CREATE TABLE features.tariff_response_summary (analysis VARCHAR, effect_pct DOUBLE, ci_low_pct DOUBLE, "
        "ci_high_pct DOUBLE, n_households BIGINT, n_events BIGINT, band VARCHAR, method VARCHAR, "
        "window_kind VARCHAR, start_bucket VARCHAR, season VARCHAR)",
        "CREATE SCHEMA reports",
        "CREATE TABLE reports.dr_targets (expected_kw_reduction DOUBLE)",
        "CREATE SCHEMA model",
        "CREATE TABLE model.segment_assignments (household_id VARCHAR, response_measured BOOLEAN)",
        "CREATE TABLE model.cluster_metrics (chosen BOOLEAN)",
    ):
        raw.execute(ddl)
    data = read_data_confidence(raw, "src", synthetic=False)
    assert data.warnings == [clock_sentence(check_clock(query(raw), RAW_TABLE))]
    assert data.warnings[0].startswith("Readings look stamped in UK local time, not UTC (in some files): 3 of 4")
