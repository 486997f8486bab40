"""Persona drift is keyed by data source: real households are never compared with synthetic ones."""

from datetime import date

import duckdb
import polars as pl

from assets.model import segmentation_history as sh


def _index(con, folder: str, layout: str) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS ingest")
    con.execute("CREATE OR REPLACE TABLE ingest.source_file_index (source_file VARCHAR, source_layout VARCHAR)")
    con.execute(
        "INSERT INTO ingest.source_file_index VALUES (?, ?), (?, ?)",
        [f"{folder}/a.csv", layout, f"{folder}/b.csv", layout],
    )


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


def test_history_restarts_when_the_source_changes_and_small_cells_are_suppressed():
    con = duckdb.connect()
    _index(con, "readings", "london_6col")
    sh.record(con, date(2024, 1, 1), _assign(["a"] * 6 + ["b"] * 2), "f1")
    sh.record(con, date(2024, 2, 1), _assign(["a"] * 6 + ["a", "b"]), "f2")
    drift = sh.drift_against_previous(con, date(2024, 2, 1))
    assert drift.previous_month == date(2024, 1, 1) and drift.households_compared == 8
    text = sh.transition_matrix_markdown(drift, 5)
    assert "< 5" in text and "| 1 |" not in text  # cells of 1-4 households are suppressed
    # the same household ids from another source (synthetic vs real): no comparison, a note instead
    _index(con, "readings/kaggle_2013", "kaggle_3col")
    sh.record(con, date(2024, 3, 1), _assign(["b"] * 8), "f3")
    restarted = sh.drift_against_previous(con, date(2024, 3, 1))
    assert restarted.previous_month is None and restarted.households_compared == 0
    assert "data source changed" in sh.drift_sentence(restarted)
    # a later month of the new source compares with the new source only
    sh.record(con, date(2024, 4, 1), _assign(["b"] * 8), "f4")
    assert sh.drift_against_previous(con, date(2024, 4, 1)).previous_month == date(2024, 3, 1)
