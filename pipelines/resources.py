"""The resources of the code location, bound from environment variables (documented in the README).

A variable that is set is passed as ``dg.EnvVar`` (the UI shows which variable configures a resource,
not its value); an unset one leaves the documented default. ``METER_ENGINE`` chooses the ``engine``
implementation (``pipelines/engines.py``); the assets do not change.
"""

from __future__ import annotations

import os

import dagster as dg

from assets.common.engine import DEFAULT_LAKE, engine_from_env
from assets.common.resources import (
    DEFAULT_REPORTS_DIR,
    DEFAULT_SYNTHETIC_HOUSEHOLDS,
    DEFAULT_WAREHOUSE,
    MeterEngine,
    MeterSource,
    ReportsDir,
    Warehouse,
    warehouse_connection_config,
)
from pipelines.engines import DuckDBEngine, SparkEngine


def _env(name: str, default: str) -> str:
    return dg.EnvVar(name) if os.environ.get(name) else default


def engine_from_environment() -> MeterEngine:
    """The ``engine`` resource ``METER_ENGINE`` names (a bad value, or Spark without its extra or Java,
    raises one sentence naming what to do)."""
    if engine_from_env() == "spark":
        return SparkEngine(
            master=_env("METER_SPARK_MASTER", "local[2]"),
            remote=_env("METER_SPARK_REMOTE", ""),
            lake=_env("METER_LAKE", DEFAULT_LAKE),
        )
    return DuckDBEngine()


def resources_from_env() -> dict[str, dg.ConfigurableResource]:
    """Resources for the current environment (variables resolved when a run starts)."""
    households = (
        dg.EnvVar.int("METER_SYNTHETIC_HOUSEHOLDS")
        if os.environ.get("METER_SYNTHETIC_HOUSEHOLDS")
        else DEFAULT_SYNTHETIC_HOUSEHOLDS
    )
    return {
        "warehouse": Warehouse(
            database=_env("METER_WAREHOUSE", DEFAULT_WAREHOUSE), connection_config=warehouse_connection_config()
        ),
        "source": MeterSource(source_dir=_env("METER_SOURCE_DIR", ""), synthetic_households=households),
        "reports": ReportsDir(path=_env("METER_REPORTS_DIR", DEFAULT_REPORTS_DIR)),
        "engine": engine_from_environment(),
    }
