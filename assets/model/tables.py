"""Where the model layer's tables live and how downstream steps load the latest fit (no Dagster)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import polars as pl

from assets.clean.clean_readings import CLEAN_TABLE
from assets.common.engine import engine_from_env
from assets.common.sql import qualified_name
from assets.common.warehouse import read_table
from assets.features.aggregates import DAYS_TABLE
from assets.features.duck import table_exists
from assets.model import model_registry
from assets.model.model_store import load_model

FEATURES_TABLE = "features.household_features"
METRICS_TABLE = "model.cluster_metrics"
ASSIGNMENTS_TABLE = "model.segment_assignments"
PERSONAS_TABLE = "model.personas"
TESTS_TABLE = "model.persona_feature_tests"
CONTRASTS_TABLE = "model.persona_feature_contrasts"


def as_of_month(run_month: date | None, con: duckdb.DuckDBPyConnection) -> date:
    """The run's month (its partition or range end), or else the latest month of clean data."""
    month = run_month
    if month is None:
        # With METER_ENGINE=spark the clean readings live in the lake (a warehouse clean table there is
        # an earlier DuckDB run's, possibly stale); the warehouse holds their per-household-month
        # aggregates, built for every month clean stored (same months).
        on_spark = engine_from_env() == "spark"
        table = CLEAN_TABLE if not on_spark and table_exists(con, CLEAN_TABLE) else DAYS_TABLE
        if not table_exists(con, table):
            raise LookupError("no clean readings: materialize clean_readings first")
        month = con.execute(f"SELECT max(reading_month) FROM {qualified_name(table)}").fetchall()[0][0]
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
