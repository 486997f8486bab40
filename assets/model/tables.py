"""Where the model layer's tables live and how downstream steps load the latest fit (no Dagster)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

import duckdb
import polars as pl

from assets.clean.clean_readings import CLEAN_TABLE, COVERAGE_TABLE
from assets.common.sql import qualified_name
from assets.common.warehouse import read_table
from assets.features.duck import Connection, fetch, table_exists
from assets.model import model_registry
from assets.model.model_store import load_model

FEATURES_TABLE = "features.household_features"
EXCLUSIONS_TABLE = "features.household_feature_exclusions"
METRICS_TABLE = "model.cluster_metrics"
ASSIGNMENTS_TABLE = "model.segment_assignments"
PERSONAS_TABLE = "model.personas"
TESTS_TABLE = "model.persona_feature_tests"
CONTRASTS_TABLE = "model.persona_feature_contrasts"


def as_of_month(run_month: date | None, con: duckdb.DuckDBPyConnection, lake: Connection | None = None) -> date:
    """The run's month (its partition or range end), or else the latest month of clean data: the
    warehouse's clean readings, or the lake's, read through ``lake`` (``duck.lake_connection``; its
    coverage table, written with the readings, holds the same months)."""
    month = run_month
    if month is None:
        if lake is not None:
            source, table = lake, COVERAGE_TABLE
        else:
            source, table = con, CLEAN_TABLE
        if not table_exists(source, table):
            raise LookupError("no clean readings: materialize clean_readings first")
        month = fetch(source, f"SELECT max(reading_month) AS m FROM {qualified_name(table)}").item()
    if month is None:
        raise LookupError("no clean readings: materialize clean_readings first")
    return month


def load_latest(con: duckdb.DuckDBPyConnection):
    record = model_registry.latest(con)
    return record, load_model(record.path, expected_fingerprint=record.fingerprint)


@dataclass(frozen=True)
class SegmentationInputs:
    """What every downstream step of the model reads: the latest fit and the tables it scored."""

    record: model_registry.ModelRecord
    model: object
    features: pl.DataFrame
    assignments: pl.DataFrame


def load_segmentation_inputs(con: duckdb.DuckDBPyConnection) -> SegmentationInputs:
    record, model = load_latest(con)
    return SegmentationInputs(record, model, read_table(con, FEATURES_TABLE), read_table(con, ASSIGNMENTS_TABLE))


def run_as_of(run_month: date | None, con: duckdb.DuckDBPyConnection, engine: Any) -> date:
    """The run's month, or else the latest clean month where ``engine`` (the ``engine`` resource) keeps
    the clean readings."""
    return run_month if run_month is not None else engine.latest_clean_month(con)
