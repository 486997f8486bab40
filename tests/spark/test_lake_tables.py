"""Lake tables in the session catalog: one Spark session per process, several lakes over its life."""

from __future__ import annotations

from pathlib import Path

from assets.common.spark import LakeTable, ensure_lake_table, registered_location, same_location, table_location
from assets.ingest.raw_ingest import INDEX_TABLE
from assets.ingest.spark_ingest import RAW_LAKE_TABLE, ensure_index_table


def test_a_second_lake_in_the_same_session_gets_its_own_tables(spark, lake: Path, tmp_path: Path):
    """``getOrCreate`` hands every engine of a process the same session; an engine over another lake
    (the parity tool runs two, a suite runs many) must write there, not into the first lake's folders."""
    first, second = lake, tmp_path / "second-lake"
    table: LakeTable = RAW_LAKE_TABLE
    ensure_lake_table(spark, first, table)
    assert same_location(registered_location(spark, table.name), table_location(first, table.name))

    kept = Path(table_location(first, table.name)) / "reading_month=2012-01-01" / "part-0.parquet"
    kept.parent.mkdir(parents=True, exist_ok=True)
    kept.write_bytes(b"a month the first lake holds")  # dropping a managed registration would delete it
    first_files = sorted(p for p in Path(table_location(first, table.name)).rglob("*") if p.is_file())
    ensure_lake_table(spark, second, table)
    assert same_location(registered_location(spark, table.name), table_location(second, table.name))
    # the first lake's files are left as they were (an external registration forgotten, no file deleted)
    assert sorted(p for p in Path(table_location(first, table.name)).rglob("*") if p.is_file()) == first_files

    ensure_lake_table(spark, second, table)  # the same lake again: the registration is kept
    assert same_location(registered_location(spark, table.name), table_location(second, table.name))


def test_a_second_lake_in_the_same_session_gets_its_own_file_index(spark, lake: Path, tmp_path: Path):
    first, second = lake, tmp_path / "second-lake"
    ensure_index_table(spark, first)
    ensure_index_table(spark, second)
    assert same_location(registered_location(spark, INDEX_TABLE), table_location(second, INDEX_TABLE))


def test_locations_compare_as_folders():
    assert same_location("file:/tmp/lake/ingest/raw_readings", "/tmp/lake/ingest/raw_readings")
    assert same_location("file:/tmp/lake/ingest/raw_readings/", "/tmp/lake/../lake/ingest/raw_readings")
    assert not same_location("file:/tmp/other/ingest/raw_readings", "/tmp/lake/ingest/raw_readings")
    assert same_location("s3a://bucket/meter/ingest/raw_readings", "s3a://bucket/meter/ingest/raw_readings/")
    assert not same_location("", "/tmp/lake/ingest/raw_readings")
    assert same_location("file:/tmp/my%20lake/ingest/raw_readings", "/tmp/my lake/ingest/raw_readings")
