"""Where fitted cluster models live: files on disk, one registry row per fit in DuckDB.

A fit is identified by its training-data fingerprint and code/settings version; refitting the same
data gives the same file name, so re-running a month overwrites instead of piling up copies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import duckdb

from assets.common.sql import qualified_name

REGISTRY_TABLE = "model.cluster_model_registry"
REGISTRY_DDL = (
    "as_of_month DATE, fitted_at TIMESTAMP, version VARCHAR, fingerprint VARCHAR, path VARCHAR, "
    "load_shape_k INTEGER, persona_family VARCHAR, persona_k INTEGER, n_households INTEGER"
)


@dataclass(frozen=True)
class ModelRecord:
    as_of_month: date
    fitted_at: datetime
    version: str
    fingerprint: str
    path: str
    load_shape_k: int
    persona_family: str
    persona_k: int
    n_households: int


def model_path(models_dir: Path, fingerprint: str, version: str) -> Path:
    safe_version = "".join(ch if ch.isalnum() or ch in ".-_" else "_" for ch in version)
    return models_dir / f"cluster_model_{safe_version}_{fingerprint[:16]}.joblib"


def register(con: duckdb.DuckDBPyConnection, record: ModelRecord) -> None:
    """Record a fit; the registry keeps one row per (as_of_month, fingerprint)."""
    con.execute("CREATE SCHEMA IF NOT EXISTS model")
    table = qualified_name(REGISTRY_TABLE)
    con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({REGISTRY_DDL})")
    con.execute(
        f"DELETE FROM {table} WHERE as_of_month = ? AND fingerprint = ?",
        [record.as_of_month, record.fingerprint],
    )
    con.execute(
        f"INSERT INTO {table} VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            record.as_of_month,
            record.fitted_at,
            record.version,
            record.fingerprint,
            record.path,
            record.load_shape_k,
            record.persona_family,
            record.persona_k,
            record.n_households,
        ],
    )


def latest(con: duckdb.DuckDBPyConnection) -> ModelRecord:
    """The most recent fit (by fitting time); raises if the model was never materialized."""
    try:
        rows = con.execute(f"SELECT * FROM {qualified_name(REGISTRY_TABLE)} ORDER BY fitted_at DESC LIMIT 1").fetchall()
    except duckdb.CatalogException:
        rows = []
    if not rows:
        raise LookupError("no cluster model registered yet: materialize cluster_model first")
    return ModelRecord(*rows[0])
