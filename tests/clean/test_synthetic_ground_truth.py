"""Ingest + clean of generated data find exactly the planted faults, at their file and line."""

from datetime import date

import polars as pl
import pytest

from assets.clean.clean_readings import clean_window
from assets.ingest.raw_ingest import load_raw_readings
from assets.ingest.source_files import discover, of_kind
from assets.synthetic.generate import generate

START, END = date(2012, 1, 1), date(2012, 4, 1)


@pytest.fixture(scope="module")
def cleaned(tmp_path_factory):
    from assets.common.warehouse import WarehouseSettings, connect

    folder = tmp_path_factory.mktemp("synthetic")
    generate(folder, households=40, seed=3, start=START, end=END)
    faults = pl.read_csv(folder / "ground_truth" / "faults.csv", infer_schema=False)
    with connect(WarehouseSettings(folder / "w.duckdb", memory_limit="1GB")) as con:
        load_raw_readings(con, of_kind(discover(folder), "readings"), START, date(2012, 5, 1))
        result = clean_window(con, START, date(2012, 5, 1))
        quarantine = con.sql("SELECT source_file, source_line, rule_id FROM clean.quarantined_readings").pl()
        clean = con.sql("SELECT * FROM clean.clean_readings").pl()
    return faults, quarantine, clean, result


def test_every_quarantine_fault_is_found_at_its_line(cleaned):
    faults, quarantine, _, _ = cleaned
    expected = (
        faults.with_columns(pl.col("detail").str.extract(r"rule=(\w+)").alias("rule_id"))
        .filter(pl.col("rule_id").str.starts_with("V"))
        .select("source_file", pl.col("source_line").cast(pl.Int64), "rule_id")
    )
    assert expected.height > 0
    found = expected.join(quarantine, on=["source_file", "source_line", "rule_id"], how="inner")
    assert found.height == expected.height, expected.join(quarantine, on=["source_file", "source_line"], how="anti")
    # every kind of quarantine rule planted is present, and nothing else was rejected
    conflicting = faults.filter(pl.col("kind") == "conflicting_duplicate").height
    assert quarantine.height == expected.height + conflicting  # V09 quarantines both copies


def test_exact_duplicates_collapsed_and_conservation(cleaned):
    faults, _, clean, result = cleaned
    assert clean["duplicate_rows"].sum() == faults.filter(pl.col("kind") == "exact_duplicate").height
    assert all(c.holds for c in result.conservation)


def test_planted_spikes_flagged_and_short_gaps_estimated(cleaned):
    faults, _, clean, _ = cleaned
    spikes = faults.filter(pl.col("kind") == "spike").select("source_file", pl.col("source_line").cast(pl.Int64))
    flagged = clean.filter(pl.col("is_spike")).select("source_file", "source_line")
    assert spikes.join(flagged, on=["source_file", "source_line"], how="anti").height == 0
    short = (
        faults.filter(pl.col("kind") == "short_gap")["detail"].str.extract(r"missing_half_hours=(\d+)").cast(pl.Int64)
    )
    estimated = clean.filter(pl.col("quality_code") == "E").height
    # single-reading faults (Null, abc, conflicting copies...) leave one-slot gaps that get estimated
    single = faults.filter(
        pl.col("kind").is_in(
            [
                "null_value",
                "non_numeric_value",
                "negative_value",
                "implausible_value",
                "malformed_line",
                "conflicting_duplicate",
            ]
        )
    ).height
    assert short.sum() <= estimated <= short.sum() + single
