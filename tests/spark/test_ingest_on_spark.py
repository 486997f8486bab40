"""The ingest stage on Spark (text reader, the same parse and insert SQL, the lake) against DuckDB's ingest.

Every comparison is of whole rows of ``ingest.raw_readings`` as multisets (``EXCEPT ALL`` both ways:
file, line, parsed fields, stamp, raw text of rejected lines, field count, month), the rejected
lines with the rule clean gives them, and the source-file index (every file's line count, months
and cut last line). :func:`assert_same_raw` also proves each time that it would notice one line
number off by one and one value changed.
"""

from __future__ import annotations

import gzip
from datetime import date, datetime, timedelta
from pathlib import Path

import duckdb
import polars as pl
import pytest

from assets.clean.clean_readings import QUARANTINE_TABLE, clean_window
from assets.common.spark import table_location
from assets.common.sql import qualified_name, quote_identifier
from assets.common.table_model import create_table_if_missing
from assets.ingest.households import readings_households
from assets.ingest.raw_ingest import INDEX_TABLE, RAW_TABLE, ensure_index, load_raw_readings
from assets.ingest.schemas.raw_readings import RawReadings
from assets.ingest.source_files import discover, of_kind
from assets.ingest.source_layouts import SourceFileError
from assets.ingest.spark_ingest import ingest_window_spark, lake_runner
from tests.conftest import copy_raw_window
from tests.lcl_files import kaggle_line, lds_line, write_lines

pytestmark = pytest.mark.spark

JAN, FEB, MAR = date(2012, 1, 1), date(2012, 2, 1), date(2012, 3, 1)
RAW, INDEX = qualified_name(RAW_TABLE), qualified_name(INDEX_TABLE)
COLUMNS = ", ".join(RawReadings.to_schema().columns)
# Tiny blocks: every plain file of the hand-made folder is split into many blocks (gzip never is).
TINY_SPLITS = {
    "spark.sql.files.maxPartitionBytes": "2048",
    "spark.sql.files.openCostInBytes": "0",
    "spark.sql.files.minPartitionNum": "1",
}


def lake_glob(lake: Path, table: str) -> str:
    return f"{table_location(lake, table)}/**/*.parquet"


def copy_lake(con: duckdb.DuckDBPyConnection, lake: Path, start: date, end: date) -> None:
    """The lake's raw rows of the window and its index, as DuckDB tables ``lake_raw`` / ``lake_index``."""
    con.execute(
        f"""CREATE OR REPLACE TEMP TABLE lake_raw AS SELECT {COLUMNS}
            FROM read_parquet($g, hive_partitioning = true) WHERE reading_month >= $s AND reading_month < $e""",
        {"g": lake_glob(lake, RAW_TABLE), "s": start, "e": end},
    )
    con.execute(
        "CREATE OR REPLACE TEMP TABLE lake_index AS SELECT * FROM read_parquet($g)",
        {"g": f"{table_location(lake, INDEX_TABLE)}/*.parquet"},
    )


def differences(con: duckdb.DuckDBPyConnection, start: date, end: date) -> tuple[int, int]:
    duck = f"SELECT {COLUMNS} FROM {RAW} WHERE reading_month >= $s AND reading_month < $e"
    spark = f"SELECT {COLUMNS} FROM lake_raw"
    p = {"s": start, "e": end}
    return (
        con.execute(f"SELECT count(*) FROM ({duck} EXCEPT ALL {spark})", p).fetchone()[0],
        con.execute(f"SELECT count(*) FROM ({spark} EXCEPT ALL {duck})", p).fetchone()[0],
    )


def assert_same_raw(con: duckdb.DuckDBPyConnection, lake: Path, start: date, end: date) -> None:
    """Rows per month, every row, every rejected line and the index: identical on both engines."""
    copy_lake(con, lake, start, end)
    per_month = "SELECT reading_month, count(*) FROM {t} WHERE reading_month >= $s AND reading_month < $e GROUP BY 1"
    p = {"s": start, "e": end}
    duck_months = sorted(con.execute(per_month.format(t=RAW), p).fetchall())
    assert duck_months, "the window holds rows"
    assert sorted(con.execute(per_month.format(t="lake_raw"), p).fetchall()) == duck_months
    assert differences(con, start, end) == (0, 0)
    rejected = "SELECT source_file, source_line, raw_line FROM {t} WHERE raw_line IS NOT NULL {w} ORDER BY ALL"
    window = "AND reading_month >= $s AND reading_month < $e"
    assert con.execute(rejected.format(t="lake_raw", w=""), {}).fetchall() == (
        con.execute(rejected.format(t=RAW, w=window), p).fetchall()
    )
    # every column of the lake's index (the DuckDB index also has the file ledger's content hash, which the
    # lake's does not: docs/OPERATIONS.md), mtime aside
    columns = [c for (c,) in con.execute("SELECT name FROM pragma_table_info('lake_index')").fetchall()]
    listed = ", ".join(quote_identifier(c) for c in columns if c != "mtime_ns")
    index = f"SELECT {listed} FROM {{t}} ORDER BY source_file"
    assert con.execute(index.format(t="lake_index")).fetchall() == con.execute(index.format(t=INDEX)).fetchall()
    # The comparison notices one line number off by one, and one value changed in its last digit.
    one_row = "rowid = (SELECT min(rowid) FROM lake_raw)"
    con.execute(f"UPDATE lake_raw SET source_line = source_line + 1 WHERE {one_row}")
    assert differences(con, start, end) == (1, 1)
    con.execute(f"UPDATE lake_raw SET source_line = source_line - 1 WHERE {one_row}")
    con.execute(f"UPDATE lake_raw SET kwh_text = kwh_text || '1' WHERE {one_row} AND kwh_text IS NOT NULL")
    con.execute(f"UPDATE lake_raw SET raw_line = raw_line || '1' WHERE {one_row} AND kwh_text IS NULL")
    assert differences(con, start, end) == (1, 1)


def quarantine_of(raw_rows: str, index_rows: str, con: duckdb.DuckDBPyConnection, start: date, end: date) -> list:
    """(file, line, rule) of every row clean rejects, cleaning ``raw_rows`` in a private DuckDB."""
    with duckdb.connect() as private:
        create_table_if_missing(private, RAW_TABLE, RawReadings)
        ensure_index(private)
        private.register("raw_in", con.sql(raw_rows).to_arrow_table())
        private.register("index_in", con.sql(index_rows).to_arrow_table())
        private.execute(f"INSERT INTO {RAW} SELECT * FROM raw_in")
        private.execute(f"INSERT INTO {INDEX} BY NAME SELECT * FROM index_in")  # the lake index: no ledger hash
        clean_window(private, start, end)
        return private.execute(
            f"SELECT source_file, source_line, rule_id FROM {qualified_name(QUARANTINE_TABLE)} ORDER BY ALL"
        ).fetchall()


def stamps(start: str, n: int, fmt: str = "%Y-%m-%d %H:%M:%S") -> list[str]:
    t0 = datetime.fromisoformat(start)
    return [(t0 + timedelta(minutes=30 * i)).strftime(fmt) for i in range(n)]


def hand_made(src: Path) -> None:
    """Every parse-level fault, both line endings, padded values, header and none, gzip, splits, Parquet."""
    ts = stamps("2012-01-30 20:00:00", 12)
    lds = [
        lds_line("MAC1", ts[0], "0.2"),  # 1
        "MAC1,Std,2012-01-30 20:30:00.0000000, 0.2 ,ACORN-B",  # 2 five fields
        "MAC1,Std,2012-01-30 21:00:00.0000000, 0.2 ,ACORN-B,Affluent,extra",  # 3 seven fields
        lds_line("", ts[3], "0.2"),  # 4 no id
        lds_line("  ", ts[4], "0.2"),  # 5 an id of spaces
        lds_line("MAC1", "2012-01-3x 22:00:00", "0.2"),  # 6 a stamp that does not parse
        lds_line("MAC1", ts[6], "Null"),  # 7 Null
        lds_line("MAC1", ts[7], "abc"),  # 8 not a number
        lds_line("MAC1", ts[8], ""),  # 9 an empty value
        "",  # 10 blank
        "   ",  # 11 spaces only
        "MAC1,Std,2012-01-31 00:00:00\r.0000000, 0.2 ,ACORN-B,Affluent",  # 12 a lone CR inside the line
        lds_line("MAC1", "1999-01-31 00:30:00", "0.1"),  # 13 out of the supported months: filed under 12's month
        "MAC1,Std,2012-1-31 1:0, 0.3 ,ACORN-B,Affluent",  # 14 one-digit fields, no seconds
        "MAC1,Std,2012-01-31T01:30:00, 0.3 ,ACORN-B,Affluent",  # 15 T separator
        "MAC1,Std,2012-01-31 02:00:00.1234567, 0.3 ,ACORN-B,Affluent",  # 16 seven fraction digits, off grid
        "MAC1,Std,2012-01-31 02:30, 0.3 ,ACORN-B,Affluent",  # 17 no seconds
        "MAC1,Std,2012-01-31, 0.3 ,ACORN-B,Affluent",  # 18 a date alone (not a stamp)
        "MAC1,Std,2012-01-31 03:30:00+01:00, 0.3 ,ACORN-B,Affluent",  # 19 an offset (not a stamp)
        *(lds_line("MAC1", t, "1.0779999") for t in stamps("2012-01-31 04:00:00", 100)),  # into February
        lds_line("MAC1", "2012-03-01 00:00:00", "0.5"),  # March: outside the window
        lds_line("MAC1", "2012-02-29 23:30:00", "-0.1"),  # negative, back in February
    ]
    write_lines(src / "lds" / "MAC1.csv", lds, crlf=True)
    kaggle = [
        "LCLid,tstp,energy(kWh/hh)",
        kaggle_line("MAC2", "2030-01-01 00:00:00", "0.1"),  # 2 future: filed under the next line's month
        kaggle_line("MAC2", "not a stamp", "0.1"),  # 3 likewise
        *(kaggle_line("MAC2", t, "0.219") for t in stamps("2012-01-31 20:00:00", 60)),
    ]
    data = "".join(line + "\n" for line in kaggle) + kaggle_line("MAC2", "2012-02-03 01:00:00", "0.1")[:-3]
    (src / "kaggle").mkdir(parents=True)
    (src / "kaggle" / "MAC2.csv.gz").write_bytes(gzip.compress(data.encode()))  # a cut last line, no final LF
    write_lines(  # a byte-order mark, a header, LF; long enough to be cut into many blocks
        src / "kaggle" / "MAC3.csv",
        [
            "\ufeffLCLid,tstp,energy(kWh/hh)",
            *(kaggle_line("MAC3", t, "0.05") for t in stamps("2012-01-25 00:00", 200)),
            "MAC3,2012-01-29 03:45:00",  # 202: two fields
            "MAC3,2012-01-29 03:50:00, 0.2,",  # 203: four fields
            *(kaggle_line("MAC3", t, "0.05") for t in stamps("2012-01-29 04:00", 200)),
        ],
    )
    (src / "pq").mkdir()
    pl.DataFrame(  # a Parquet readings file (converted in Python on both engines)
        {
            "LCLid": ["MAC5"] * 3,
            "tstp": ["2012-01-01 00:30:00", "2012-01-01 01:00:00", "bad"],
            "kwh": [" 0.2 ", "x", "1"],
        }
    ).write_parquet(src / "pq" / "MAC5.parquet")
    write_lines(  # four-column London Datastore, gzip, no header, CR LF
        src / "lds4" / "MAC4.csv.gz",
        [f"MAC4,ToU,{t}, 0.1 " for t in stamps("2012-01-31 22:00:00", 8)] + ["MAC4,ToU,,"],
        crlf=True,
        gz=True,
    )


def test_ingest_on_spark_stores_the_rows_duckdb_stores(con, spark, lake, tmp_path: Path):
    src = tmp_path / "src"
    hand_made(src)
    files = of_kind(discover(src), "readings")
    assert len(files) == 5
    duck = load_raw_readings(con, files, JAN, MAR)
    result = ingest_window_spark(spark, lake, files, JAN, MAR, split_settings=TINY_SPLITS)
    # MAC1 59 + 61 (its March line not stored), MAC2 10 + 53 (header not a row), MAC3 338 + 64, MAC4 4 + 5, MAC5 3
    assert result.rows_by_month == duck.rows_by_month == {JAN: 414, FEB: 183}
    assert_same_raw(con, lake, JAN, MAR)
    # lines a wrong reader would shift or change: after blank ones, the lone CR, a split file's last, the cut last
    rows = {
        (r[0], r[1]): r[2:]
        for r in con.execute(
            "SELECT source_file, source_line, raw_line, kwh_text, reading_month FROM lake_raw"
        ).fetchall()
    }
    assert rows[("lds/MAC1.csv", 12)] == ("MAC1,Std,2012-01-31 00:00:00\r.0000000, 0.2 ,ACORN-B,Affluent", "0.2", JAN)
    assert rows[("lds/MAC1.csv", 13)] == (None, "0.1", JAN)  # 1999: filed under the previous line's month
    assert rows[("kaggle/MAC2.csv.gz", 2)] == (None, "0.1", JAN)  # 2030: filed under the next line's month
    assert rows[("kaggle/MAC2.csv.gz", 64)] == ("MAC2,2012-02-03 01:00:00, 0", "0", FEB)  # V12
    assert rows[("kaggle/MAC3.csv", 203)] == ("MAC3,2012-01-29 03:50:00, 0.2,", "0.2", JAN)
    assert rows[("kaggle/MAC3.csv", 403)] == (None, "0.05", FEB)
    assert ("kaggle/MAC3.csv", 1) not in rows and ("kaggle/MAC3.csv", 404) not in rows
    # every rejected line gets the same rule from clean, whichever engine read it
    duck_rules = quarantine_of(f"SELECT * FROM {RAW}", f"SELECT * FROM {INDEX}", con, JAN, MAR)
    spark_rules = quarantine_of(f"SELECT {COLUMNS} FROM lake_raw", "SELECT * FROM lake_index", con, JAN, MAR)
    assert spark_rules == duck_rules
    assert {rule for _, _, rule in duck_rules} >= {
        "V01_MALFORMED_LINE",
        "V02_MISSING_HOUSEHOLD",
        "V03_BAD_TIMESTAMP",
        "V04_OFF_GRID_TIMESTAMP",
        "V05_NULL_VALUE",
        "V06_NON_NUMERIC_VALUE",
        "V07_NEGATIVE_VALUE",
        "V11_OUT_OF_RANGE_TIMESTAMP",
        "V12_TRUNCATED_LAST_LINE",
    }

    # the households asset's one row per household, from the lake on Spark, from the warehouse on DuckDB
    on_lake = readings_households(lake_runner(spark, lake), RAW_TABLE).sort("household_id")
    assert on_lake.rows() == [
        ("MAC1", "Std", "readings:lds/MAC1.csv"),
        ("MAC2", None, None),
        ("MAC3", None, None),
        ("MAC4", "ToU", "readings:lds4/MAC4.csv.gz"),
        ("MAC5", None, None),
    ]
    assert on_lake.equals(readings_households(con, RAW_TABLE).sort("household_id"))

    # Re-running a month replaces it: a line removed from the source is gone from January on both
    # engines, February (not in the run) stays as it was.
    lds = (src / "lds" / "MAC1.csv").read_bytes().split(b"\r\n")
    (src / "lds" / "MAC1.csv").write_bytes(b"\r\n".join(lds[:1] + lds[2:]))
    files = of_kind(discover(src), "readings")
    load_raw_readings(con, files, JAN, FEB)
    rerun = ingest_window_spark(spark, lake, files, JAN, FEB)
    assert rerun.rows_by_month == {JAN: 413}
    assert rerun.files_skipped == 0
    assert_same_raw(con, lake, JAN, MAR)


def test_a_source_reached_through_symbolic_links_is_read_as_duckdb_reads_it(con, spark, lake, tmp_path: Path):
    """Data folders are often links (a mounted share, ``../shared``): a linked source folder, a linked
    sub-folder and a linked file are each read once, with the same rows on both engines."""
    real = tmp_path / "real"
    hand_made(real)
    src = tmp_path / "src"
    src.mkdir()
    (src / "lds").symlink_to(real / "lds", target_is_directory=True)  # a linked sub-folder
    (src / "kaggle").mkdir()
    for f in (real / "kaggle").iterdir():  # linked files
        (src / "kaggle" / f.name).symlink_to(f)
    for f in real.iterdir():
        if f.name not in ("lds", "kaggle"):
            (src / f.name).symlink_to(f, target_is_directory=f.is_dir())
    linked = tmp_path / "linked"
    linked.symlink_to(src, target_is_directory=True)  # the source folder itself through a link
    files = of_kind(discover(linked), "readings")
    assert len(files) == 5
    duck = load_raw_readings(con, files, JAN, MAR)
    on_spark = ingest_window_spark(spark, lake, files, JAN, MAR)
    assert on_spark.rows_by_month == duck.rows_by_month == {JAN: 414, FEB: 183}
    assert_same_raw(con, lake, JAN, MAR)


def test_files_spark_cannot_read_exactly_are_refused_by_name(spark, lake, tmp_path: Path):
    src = tmp_path / "src"
    ts = stamps("2012-01-10 00:30:00", 3)
    utf16 = "\r\n".join(lds_line("MAC1", t, "0.1") for t in ts) + "\r\n"
    (src / "a").mkdir(parents=True)
    (src / "a" / "utf16.csv").write_bytes(b"\xff\xfe" + utf16.encode("utf-16-le"))
    write_lines(src / "b" / "hidden-gzip.csv", [lds_line("MAC1", t, "0.1") for t in ts], gz=True)
    (src / "c").mkdir()
    (src / "c" / "latin1.csv").write_bytes(
        ("\n".join(lds_line("MAC1", t, "0.1") for t in ts) + "\nMAC\xe91,x\n").encode("latin-1")
    )
    for folder, name, problem in (
        ("a", "utf16.csv", "UTF-16"),
        ("b", "hidden-gzip.csv", "gzip content without a .gz name"),
        ("c", "latin1.csv", "line 4 is not valid UTF-8"),
    ):
        files = of_kind(discover(src / folder), "readings")
        with pytest.raises(SourceFileError, match=problem) as refused:
            ingest_window_spark(spark, lake, files, JAN, FEB)
        assert refused.value.path == name
    assert not list(Path(table_location(lake, RAW_TABLE)).glob("**/*.parquet")), "nothing stored"


@pytest.mark.real_data
def test_the_real_sample_on_spark_equals_duckdb(con, spark, lake, lcl_sample: Path, real_warehouse: Path):
    """The real LCL sample (219 households, 219 gzip files in two layouts, 3.8 M lines), read whole by both
    engines; February and March 2013 (GMT, then BST from the 31st) stored. The DuckDB side is the session
    real warehouse's ingest of the same files (its raw months and index copied here). The index compares
    every file's line count, months and last line, over all its months."""
    start, end = date(2013, 2, 1), date(2013, 4, 1)
    files = of_kind(discover(lcl_sample), "readings")
    copy_raw_window(con, real_warehouse, start, end)
    on_spark = ingest_window_spark(spark, lake, files, start, end)
    by_month, by_layout = {}, {}
    for month, layout, n in con.execute(
        f"SELECT reading_month, source_layout, count(*) FROM {RAW}"
        " WHERE reading_month >= ? AND reading_month < ? GROUP BY ALL",
        [start, end],
    ).fetchall():
        by_month[month] = by_month.get(month, 0) + n
        by_layout[layout] = by_layout.get(layout, 0) + n
    assert on_spark.rows_by_month == by_month == {start: 291_312, date(2013, 3, 1): 319_903}
    assert on_spark.rows_by_layout == by_layout
    assert_same_raw(con, lake, start, end)


def test_a_file_changing_while_spark_reads_it_is_refused_and_nothing_stored(spark, lake, tmp_path: Path, monkeypatch):
    """Pass 1 counts a file's lines in one Spark job, pass 2 stores them in another: a file rewritten or
    grown in between would get line numbers and months from one version and rows from the other.
    Refused by name before the month overwrite; the lake keeps what it had."""
    from assets.ingest import spark_ingest

    src = tmp_path / "src"
    path = write_lines(src / "a.csv", [lds_line("MAC1", t, "0.2") for t in stamps("2012-01-10 00:30:00", 3)])
    ingest_window_spark(spark, lake, of_kind(discover(src), "readings"), JAN, FEB)
    before = sorted(lake_runner(spark, lake).execute(f"SELECT source_line, kwh_text FROM {RAW}").fetchall())
    path = write_lines(src / "a.csv", [lds_line("MAC1", t, "0.3") for t in stamps("2012-01-10 00:30:00", 4)])
    files = of_kind(discover(src), "readings")
    real_fill = spark_ingest._fill
    for change in ("rewritten", "grown"):  # the same line count (no line out of range), one line more

        def fill_then_change(*args, change=change):
            lines = [lds_line("MAC1", t, "0.7") for t in stamps("2012-01-10 00:30:00", 4)]
            write_lines(path, lines + ([lds_line("MAC1", "2012-01-10 05:30:00", "0.9")] if change == "grown" else []))
            return real_fill(*args)

        monkeypatch.setattr(spark_ingest, "_fill", fill_then_change)
        with pytest.raises(SourceFileError, match="changed while the load read it") as refused:
            ingest_window_spark(spark, lake, files, JAN, FEB)
        assert refused.value.path == "a.csv", change
        spark.catalog.refreshTable(RAW_TABLE)
        after = sorted(lake_runner(spark, lake).execute(f"SELECT source_line, kwh_text FROM {RAW}").fetchall())
        assert after == before, f"a refused load ({change} file) must not replace the month"
        write_lines(path, [lds_line("MAC1", t, "0.3") for t in stamps("2012-01-10 00:30:00", 4)])
        files = of_kind(discover(src), "readings")


def test_a_load_of_parquet_files_only_on_spark(con, spark, lake, tmp_path: Path):
    """No text file to read: the Parquet file's rows and its index row are stored as on DuckDB."""
    src = tmp_path / "src"
    hand_made(src)
    files = [f for f in of_kind(discover(src), "readings") if f.path.name.endswith(".parquet")]
    assert len(files) == 1
    duck = load_raw_readings(con, files, JAN, MAR)
    result = ingest_window_spark(spark, lake, files, JAN, MAR)
    assert result.rows_by_month == duck.rows_by_month and result.rows > 0
    assert_same_raw(con, lake, JAN, MAR)
