"""The one parse definition (sql/parse_lines.sql) on its own: fields, stamps, months, what keeps text,
agreement with the timestamp spellings of source_layouts, and its portability to Spark SQL."""

from datetime import date, datetime

import duckdb
import polars as pl
import pytest

from assets.ingest.raw_ingest import parse_parameters, parse_sql
from assets.ingest.source_layouts import parse_timestamps

STAMPS = [
    "2013-01-10 00:30:00.0000000",
    "2013-01-10 00:30:00",
    "2013-01-10 00:30",
    "2013-01-10T00:30:00",
    "2013-01-10 00:30:00.5",
    "2013-01-10",
    "2013-01-10 00:30:00+01",
    "20130110 003000",
    "2013-1-1 0:30:00",
    "2013-01-10 00:30:00.1234567891",
    "2013-1-1T0:30:00",
    "2013-01-10 00:30:00.",
    "2013-01-10T00:30",
    "2013-13-45 99:99:99",
    "yesterday",
    "Null",
]


def parse(lines: list[tuple[str | None, str]]) -> list[dict]:
    frame = pl.DataFrame(
        {
            "file_index": [0] * len(lines),
            "source_line": list(range(1, len(lines) + 1)),
            "line_text": [text for text, _ in lines],
            "source_layout": [layout for _, layout in lines],
        },
        schema={"file_index": pl.Int64, "source_line": pl.Int64, "line_text": pl.String, "source_layout": pl.String},
    )
    with duckdb.connect() as con:
        con.register("lines", frame.to_arrow())
        return con.sql(parse_sql("lines"), params=parse_parameters()).pl().sort("source_line").to_dicts()


def test_sql_accepts_exactly_the_timestamp_spellings_of_source_layouts():
    rows = parse([(f"MAC1,{ts}, 0.2 ", "kaggle_3col") for ts in STAMPS])
    expected = pl.select(parse_timestamps(pl.lit(pl.Series(STAMPS)))).to_series().to_list()
    assert [r["reading_end_utc"] for r in rows] == expected
    assert expected[:5] == [datetime(2013, 1, 10, 0, 30)] * 4 + [datetime(2013, 1, 10, 0, 30, 0, 500000)]
    assert [ts for ts, parsed in zip(STAMPS, expected, strict=True) if parsed is None] == [
        "2013-01-10",
        "2013-01-10 00:30:00+01",
        "20130110 003000",
        "2013-01-10 00:30:00.",
        "2013-01-10T00:30",
        "2013-13-45 99:99:99",
        "yesterday",
        "Null",
    ]


def test_fields_months_and_which_lines_keep_their_text():
    rows = parse(
        [
            ("MAC000001,Std,2013-01-10 00:30:00.0000000, 0.181 ,ACORN-B,Affluent", "lds_6col"),  # 1 ok
            ("MAC000001,Std,2013-01-10 01:00:00.0000000, Null ,ACORN-B,Affluent", "lds_6col"),  # 2 no value
            ("MAC000001,Std,2013-01-10 01:00", "lds_6col"),  # 3 three fields
            (None, "lds_6col"),  # 4 blank line
            ("MAC000002,2030-01-15 00:30:00, 0.2 ", "kaggle_3col"),  # 5 future: parsed, no month
            ("MAC000002,2013-02-01 00:00:00, abc ", "kaggle_3col"),  # 6 not a number
            (" , 2013-02-01 00:30:00,0.1", "lcl_3col"),  # 7 no id
        ]
    )
    ok = rows[0]
    assert (ok["household_id"], ok["tariff_group"], ok["kwh_text"], ok["field_count"]) == (
        "MAC000001",
        "Std",
        "0.181",
        6,
    )
    assert (ok["own_month"], ok["parse_ok"]) == (date(2013, 1, 1), True)
    assert [r["parse_ok"] for r in rows] == [True, False, False, False, True, False, False]
    assert rows[1]["kwh_text"] == "Null"
    assert (rows[2]["field_count"], rows[2]["reading_end_utc"]) == (3, datetime(2013, 1, 10, 1, 0))
    assert (rows[3]["line_text"], rows[3]["field_count"], rows[3]["household_id"]) == ("", 1, None)
    assert (rows[4]["reading_end_utc"], rows[4]["own_month"]) == (datetime(2030, 1, 15, 0, 30), None)
    assert rows[4]["tariff_group"] is None and rows[6]["household_id"] is None


def test_the_parse_definition_transpiles_to_spark_sql():
    sqlglot = pytest.importorskip("sqlglot")  # H5's optional Spark group brings it
    spark = sqlglot.transpile(parse_sql("lines"), read="duckdb", write="spark")[0]
    assert "RLIKE" in spark and "SIZE(" in spark and "REGEXP_MATCHES" not in spark.upper()
