"""Dagster metadata built from our table schemas and results (row counts, schema, lineage, plots)."""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence

import dagster as dg
import duckdb
import polars as pl

from assets.common.markdown import markdown_table  # re-exported: the one Markdown-table helper
from assets.common.table_model import TableModel
from assets.common.warehouse import replace_table

OWNERS = ["team:meter-data"]


def column_schema(model: type[TableModel]) -> dg.TableSchema:
    """The pandera model as a Dagster TableSchema (types, nullability, descriptions, checks)."""
    columns = []
    for name, column in model.to_schema().columns.items():
        constraints = dg.TableColumnConstraints(
            nullable=bool(column.nullable),
            unique=bool(column.unique),
            other=[str(check) for check in column.checks],
        )
        columns.append(
            dg.TableColumn(
                name=name, type=str(column.dtype), description=column.description or "", constraints=constraints
            )
        )
    return dg.TableSchema(columns=columns)


def column_lineage(deps: Mapping[str, Sequence[tuple[str, str]]]) -> dg.TableColumnLineage:
    """{column: [(upstream asset, upstream column), ...]} as Dagster column lineage."""
    return dg.TableColumnLineage(
        deps_by_column={
            column: [dg.TableColumnDep(asset_key=dg.AssetKey(asset), column_name=col) for asset, col in sources]
            for column, sources in deps.items()
        }
    )


def table_metadata(
    model: type[TableModel],
    table: str,
    row_count: int,
    preview: pl.DataFrame | None = None,
    lineage: Mapping[str, Sequence[tuple[str, str]]] | None = None,
    partition_row_count: int | None = None,
) -> dict[str, object]:
    """The metadata every table asset carries."""
    meta: dict[str, object] = {
        "dagster/row_count": dg.MetadataValue.int(int(row_count)),
        "dagster/column_schema": column_schema(model),
        "dagster/table_name": table,
    }
    if partition_row_count is not None:
        meta["dagster/partition_row_count"] = dg.MetadataValue.int(int(partition_row_count))
    if lineage:
        meta["dagster/column_lineage"] = column_lineage(lineage)
    if preview is not None:
        meta["preview"] = dg.MetadataValue.md(markdown_table(preview.head(10)))
    return meta


def png_markdown(png: bytes, alt: str) -> dg.MetadataValue:
    """A PNG embedded in Markdown metadata, so the plot renders in the Dagster UI."""
    return dg.MetadataValue.md(f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode()})")


def write_table(con: duckdb.DuckDBPyConnection, table: str, model: type[TableModel], frame: pl.DataFrame) -> dict:
    """Replace ``table`` with ``frame`` and return the metadata that describes it."""
    replace_table(con, table, frame)
    return table_metadata(model, table, frame.height, preview=frame.select(frame.columns[:14]).head(10))
