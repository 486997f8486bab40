"""Resources, configured by environment variables (documented in the README).

* ``METER_SOURCE_DIR``  folder of raw files; unset means the built-in synthetic data
* ``METER_WAREHOUSE``   the DuckDB file (default ``data/warehouse.duckdb``)
* ``METER_REPORTS_DIR`` report output (default ``reports/``)
* ``METER_SYNTHETIC_HOUSEHOLDS`` size of the built-in synthetic data set (default 300)
* ``METER_ENGINE``      ``duckdb`` (default) or ``spark``: with ``spark`` the resource ``spark``
  (:class:`SparkEngine`: ``METER_LAKE``, ``METER_SPARK_MASTER``, ``METER_SPARK_REMOTE``) is added

A variable that is set is passed as ``dg.EnvVar`` (so the UI shows which variable configures a
resource, not its value); an unset one leaves the documented default.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource
from pydantic import Field

from assets.common.engine import DEFAULT_LAKE, engine_from_env
from assets.common.warehouse import (
    DEFAULT_LOCK_TIMEOUT_S,
    DEFAULT_MEMORY_LIMIT,
    DEFAULT_THREADS,
    connect_exclusive,
    connection_config,
)

DEFAULT_WAREHOUSE = "data/warehouse.duckdb"
DEFAULT_REPORTS_DIR = "reports"
DEFAULT_SYNTHETIC_DIR = "data/synthetic"
DEFAULT_SYNTHETIC_HOUSEHOLDS = 300
DEFAULT_SYNTHETIC_SEED = 7


def _resolved(value: Any) -> Any:
    """A field's value; an ``EnvVar`` read directly (resources used outside a run, e.g. by a CLI)."""
    if isinstance(value, dg.EnvVar) or hasattr(value, "env_var_name"):  # dg.EnvVar / dg.EnvVar.int
        return value.get_value()
    return value


class Warehouse(DuckDBResource):
    """The DuckDB warehouse (stock ``DuckDBResource``). Connections are exclusive: a file lock
    beside the database serialises writing processes; a waiting step logs who holds it.
    ``connection_config`` is DuckDB configuration (memory_limit, threads, ...); ``temp_directory``
    defaults to ``<database>.tmp``."""

    lock_timeout_s: float = Field(
        default=DEFAULT_LOCK_TIMEOUT_S, description="How long to wait for another writer before failing."
    )

    @property
    def path(self) -> Path:
        return Path(_resolved(self.database))

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        database = self.path
        config = {**connection_config(database), **self.connection_config}
        log = dg.get_dagster_logger().warning  # shown in the terminal of CLI runs and make demo too
        with connect_exclusive(database, config, self.lock_timeout_s, log=log) as con:
            yield con


def warehouse_connection_config(memory_limit: str = DEFAULT_MEMORY_LIMIT, threads: int = DEFAULT_THREADS) -> dict:
    return {"memory_limit": memory_limit, "threads": threads, "preserve_insertion_order": False}


class MeterSource(dg.ConfigurableResource):
    """Where raw files come from: a folder of LCL-layout files, or the built-in synthetic data."""

    source_dir: str = Field(default="", description="Folder of raw files; empty = built-in synthetic data.")
    synthetic_dir: str = Field(default=DEFAULT_SYNTHETIC_DIR, description="Where synthetic data is generated.")
    synthetic_households: int = Field(default=DEFAULT_SYNTHETIC_HOUSEHOLDS)
    synthetic_seed: int = Field(default=DEFAULT_SYNTHETIC_SEED)

    @property
    def is_synthetic(self) -> bool:
        return not _resolved(self.source_dir)

    def folder(self) -> Path:
        """The folder to read; generates the synthetic data set once if that is the source."""
        if not self.is_synthetic:
            path = Path(_resolved(self.source_dir))
            if not path.is_dir():
                raise FileNotFoundError(f"METER_SOURCE_DIR={path} is not a folder")
            return path
        return ensure_synthetic_data(
            Path(self.synthetic_dir), int(_resolved(self.synthetic_households)), self.synthetic_seed
        )


def ensure_synthetic_data(folder: Path, households: int, seed: int) -> Path:
    """Generate the synthetic data set into ``folder`` unless the same one is already there.

    Generation goes to a sibling temporary folder that is renamed into place, so an interrupted
    run never leaves a half-written data set behind.
    """
    import hashlib
    import json
    import shutil

    import assets.synthetic as synthetic
    from assets.synthetic.generate import generate
    from assets.synthetic.settings import GeneratorSettings

    # the data set is reused only if the same generator made it: its settings and its code (a changed
    # generator plants other truths; a stale data set would silently test the old ones)
    code = hashlib.sha256()
    for source in sorted(Path(synthetic.__file__).parent.glob("*.py")):
        code.update(source.name.encode() + b"\0" + source.read_bytes())
    marker = folder / "generation.json"
    wanted = {
        "households": households,
        "seed": seed,
        "generator": GeneratorSettings().as_dict(),
        "generator_code_sha256": code.hexdigest(),
    }
    if marker.exists() and json.loads(marker.read_text()) == wanted:
        return folder
    staging = folder.with_name(folder.name + ".partial")
    shutil.rmtree(staging, ignore_errors=True)
    generate(staging, households=households, seed=seed)
    (staging / "generation.json").write_text(json.dumps(wanted))
    shutil.rmtree(folder, ignore_errors=True)
    staging.rename(folder)
    return folder


class ReportsDir(dg.ConfigurableResource):
    """Where report files (HTML, PNG, Markdown) are written."""

    path: str = Field(default=DEFAULT_REPORTS_DIR)

    def folder(self, *parts: str) -> Path:
        folder = Path(_resolved(self.path), *parts)
        folder.mkdir(parents=True, exist_ok=True)
        return folder


class SparkEngine(dg.ConfigurableResource):
    """Apache Spark for ``METER_ENGINE=spark`` (docs/SCALING.md): local mode in development and CI
    (``master``), a Spark Connect server in production (``remote``, ``sc://host:15002``). The
    half-hourly tables live as Parquet under ``lake`` (a folder, or s3a:// / abfss:// / gs://)."""

    master: str = Field(default="local[2]", description="Spark master when remote is empty (local[N]).")
    remote: str = Field(default="", description="Spark Connect URL (sc://host:15002); empty = master.")
    lake: str = Field(default=DEFAULT_LAKE, description="Root of the Parquet lake of the half-hourly tables.")
    shuffle_partitions: int = Field(default=8, description="spark.sql.shuffle.partitions (months are small).")

    @property
    def lake_root(self) -> str:
        return str(_resolved(self.lake))

    def session(self) -> Any:
        """The SparkSession (created once per process; later calls return the active one)."""
        from assets.common.spark import build_session

        return build_session(
            master=str(_resolved(self.master)),
            remote=str(_resolved(self.remote)),
            config={"spark.sql.shuffle.partitions": str(self.shuffle_partitions)},
        )


def _env(name: str, default: str) -> str:
    return dg.EnvVar(name) if os.environ.get(name) else default


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
        **(
            {
                "spark": SparkEngine(
                    master=_env("METER_SPARK_MASTER", "local[2]"),
                    remote=_env("METER_SPARK_REMOTE", ""),
                    lake=_env("METER_LAKE", DEFAULT_LAKE),
                )
            }
            if engine_from_env() == "spark"
            else {}
        ),
    }
