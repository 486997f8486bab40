"""Building blocks for the feature-layer schemas: column specs that several tables share.

Feature tables have long, partly shared column lists (48 profile slots, the lifestyle block reused
by baseline_features and household_features), so each table is declared as an ordered list of
:class:`Col` and turned into a strict, ordered :class:`TableModel` subclass by :func:`table_model`.
Every column carries a description.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import pandera.polars as pa
import polars as pl

from assets.common.table_model import TableModel


@dataclass(frozen=True)
class Col:
    name: str
    dtype: Any
    description: str
    checks: dict[str, Any] = field(default_factory=dict)  # pandera Field kwargs (nullable, ge, isin, ...)

    def with_description(self, description: str) -> Col:
        return Col(self.name, self.dtype, description, dict(self.checks))


def table_model(name: str, doc: str, columns: Sequence[Col], module: str) -> type[TableModel]:
    """A strict, ordered pandera model with exactly ``columns`` in order."""
    names = [c.name for c in columns]
    if len(set(names)) != len(names):
        raise ValueError(f"{name}: duplicate columns")
    namespace: dict[str, Any] = {"__annotations__": {}, "__doc__": doc, "__module__": module}
    for col in columns:
        if not col.description:
            raise ValueError(f"{name}.{col.name}: every column needs a description")
        namespace["__annotations__"][col.name] = col.dtype
        namespace[col.name] = pa.Field(description=col.description, **col.checks)
    return type(name, (TableModel,), namespace)


def conform(frame: pl.DataFrame, columns: Sequence[Col]) -> pl.DataFrame:
    """Select ``columns`` in order and cast them to their dtypes; a missing column is an error."""
    missing = [c.name for c in columns if c.name not in frame.columns]
    if missing:
        raise KeyError(f"columns missing before conforming: {missing}")
    return frame.select([pl.col(c.name).cast(c.dtype) for c in columns])
