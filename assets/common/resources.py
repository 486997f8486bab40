"""Resources, configured by environment variables (documented in the README).

* ``METER_SOURCE_DIR``  folder of raw files; unset means the built-in synthetic data
* ``METER_WAREHOUSE``   the DuckDB file (default ``data/warehouse.duckdb``)
* ``METER_REPORTS_DIR`` report output (default ``reports/``)
* ``METER_SYNTHETIC_HOUSEHOLDS`` size of the built-in synthetic data set (default 300)
* ``METER_ENGINE``      ``duckdb`` (default) or ``spark``: which implementation of the ``engine``
  resource (:class:`MeterEngine`) the code location binds (``pipelines/resources.py``; Spark reads
  ``METER_LAKE``, ``METER_SPARK_MASTER``, ``METER_SPARK_REMOTE``)

The resources are bound in ``pipelines/resources.py``: a variable that is set is passed as
``dg.EnvVar`` (so the UI shows which variable configures a resource, not its value); an unset one
leaves the documented default.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb
from dagster_duckdb import DuckDBResource
from pydantic import Field

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


def resolved(value: Any) -> Any:
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
        return Path(resolved(self.database))

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
        return not resolved(self.source_dir)

    def folder(self) -> Path:
        """The folder to read; generates the synthetic data set once if that is the source."""
        if not self.is_synthetic:
            path = Path(resolved(self.source_dir))
            if not path.is_dir():
                raise FileNotFoundError(f"METER_SOURCE_DIR={path} is not a folder")
            return path
        return ensure_synthetic_data(
            Path(self.synthetic_dir), int(resolved(self.synthetic_households)), self.synthetic_seed
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
        folder = Path(resolved(self.path), *parts)
        folder.mkdir(parents=True, exist_ok=True)
        return folder


class MeterEngine(dg.ConfigurableResource):
    """The ``engine`` resource: where the half-hourly tables (raw, clean, per-household-month aggregates)
    live and what runs the SQL over them. Every asset is defined once against this interface; the code
    location binds one implementation per deployment (``pipelines/engines.py``: ``DuckDBEngine``, the
    default, and ``SparkEngine``, chosen by ``METER_ENGINE``). The per-household tables are always in the
    DuckDB warehouse, whichever engine runs."""

    @property
    def name(self) -> str:
        raise NotImplementedError

    def ingest_window(self, warehouse: Warehouse, files: list, start: date, end: date) -> tuple[Any, list, dict]:
        """Replace the raw readings of months ``start <= m < end`` from the readings files of ``files`` (every
        file discovery found). Returns (the load's result, the files refused: new and unreadable, listed
        and not loaded, counts of the file ledger for the asset's metadata)."""
        raise NotImplementedError

    def clean_window(self, con: duckdb.DuckDBPyConnection, start: date, end: date, settings: Any) -> Any:
        """Validate, estimate and edit months ``start <= m < end`` (``con``: the warehouse)."""
        raise NotImplementedError

    def build_aggregates(self, con: duckdb.DuckDBPyConnection, start: date, end: date) -> Any:
        """Replace the per-household-month aggregates of months ``start <= m < end``."""
        raise NotImplementedError

    @contextmanager
    def half_hourly(self, con: duckdb.DuckDBPyConnection) -> Iterator[Any]:
        """The connection the feature layer reads: the half-hourly tables and the warehouse's tables
        (``assets/features/duck.py`` runs the same statements on either)."""
        raise NotImplementedError
        yield

    def latest_clean_month(self, con: duckdb.DuckDBPyConnection) -> date:
        """The latest month of clean readings (a run without a partition month is as of it)."""
        raise NotImplementedError

    def location_metadata(self, table: str) -> dict[str, str]:
        """Where ``table`` is stored when it is not in the warehouse (metadata shown in the UI)."""
        return {}
