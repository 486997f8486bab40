"""Resources, configured by environment variables (documented in the README).

* ``METER_SOURCE_DIR``  folder of raw files; unset means the built-in synthetic data
* ``METER_WAREHOUSE``   the DuckDB file (default ``data/warehouse.duckdb``)
* ``METER_REPORTS_DIR`` report output (default ``reports/``)
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
from pydantic import Field

from assets.common.warehouse import WarehouseSettings, connect

DEFAULT_SYNTHETIC_DIR = "data/synthetic"
DEFAULT_SYNTHETIC_HOUSEHOLDS = 300
DEFAULT_SYNTHETIC_SEED = 7


class Warehouse(dg.ConfigurableResource):
    """The DuckDB warehouse. Connections are exclusive (a file lock serialises writers)."""

    path: str = Field(description="DuckDB database file.")
    memory_limit: str = Field(default="3GB", description="DuckDB memory_limit per connection.")
    threads: int = Field(default=2, description="DuckDB worker threads.")

    @contextmanager
    def connect(self) -> Iterator[duckdb.DuckDBPyConnection]:
        settings = WarehouseSettings(Path(self.path), memory_limit=self.memory_limit, threads=self.threads)
        with connect(settings) as con:
            yield con


class MeterSource(dg.ConfigurableResource):
    """Where raw files come from: a folder of LCL-layout files, or the built-in synthetic data."""

    source_dir: str = Field(default="", description="Folder of raw files; empty = built-in synthetic data.")
    synthetic_dir: str = Field(default=DEFAULT_SYNTHETIC_DIR, description="Where synthetic data is generated.")
    synthetic_households: int = Field(default=DEFAULT_SYNTHETIC_HOUSEHOLDS)
    synthetic_seed: int = Field(default=DEFAULT_SYNTHETIC_SEED)

    @property
    def is_synthetic(self) -> bool:
        return not self.source_dir

    def folder(self) -> Path:
        """The folder to read; generates the synthetic data set once if that is the source."""
        if not self.is_synthetic:
            path = Path(self.source_dir)
            if not path.is_dir():
                raise FileNotFoundError(f"METER_SOURCE_DIR={self.source_dir} is not a folder")
            return path
        return ensure_synthetic_data(Path(self.synthetic_dir), self.synthetic_households, self.synthetic_seed)


def ensure_synthetic_data(folder: Path, households: int, seed: int) -> Path:
    """Generate the synthetic data set into ``folder`` unless the same one is already there.

    Generation goes to a sibling temporary folder that is renamed into place, so an interrupted
    run never leaves a half-written data set behind.
    """
    import json
    import shutil

    from assets.synthetic.generate import generate

    marker = folder / "generation.json"
    wanted = {"households": households, "seed": seed}
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

    path: str = Field(default="reports")

    def folder(self, *parts: str) -> Path:
        folder = Path(self.path, *parts)
        folder.mkdir(parents=True, exist_ok=True)
        return folder


def resources_from_env() -> dict[str, dg.ConfigurableResource]:
    """Resources for the current environment (read when the code location loads)."""
    return {
        "warehouse": Warehouse(path=os.environ.get("METER_WAREHOUSE", "data/warehouse.duckdb")),
        "source": MeterSource(
            source_dir=os.environ.get("METER_SOURCE_DIR", ""),
            synthetic_households=int(os.environ.get("METER_SYNTHETIC_HOUSEHOLDS", DEFAULT_SYNTHETIC_HOUSEHOLDS)),
        ),
        "reports": ReportsDir(path=os.environ.get("METER_REPORTS_DIR", "reports")),
    }
