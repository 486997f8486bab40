"""Dagster metadata built from our table schemas and results (row counts, schema, lineage, plots),
and the ``schema`` asset check every table asset carries.

Light at import (the code location loads it): polars, pandera and DuckDB are imported by the
functions that need them, when a run calls them.
"""

from __future__ import annotations

import base64
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import dagster as dg

if TYPE_CHECKING:
    import duckdb
    import polars as pl

    from assets.common.table_model import SchemaViolation, TableModel

OWNERS = ["team:meter-data"]
SCHEMA_CHECK = "schema"
FAILURE_SAMPLE_ROWS = 20


def schema_check_spec(asset: str, tables: Sequence[str] | None = None) -> dg.AssetCheckSpec:
    """The blocking ``schema`` check of a table asset: its table(s) satisfy their pandera schema.

    The asset validates before it writes, so invalid data is never stored; the check records the
    validation (rows checked, or the failure count and a sample of failure cases)."""
    what = ", ".join(tables) if tables else asset
    return dg.AssetCheckSpec(
        SCHEMA_CHECK,
        asset=asset,
        blocking=True,
        description=f"Every row of {what} satisfies its pandera schema (columns, order, types, rules); "
        "validated before the table is written, so a failure stores nothing.",
    )


def schema_check_passed(asset: str, rows_by_table: Mapping[str, int]) -> dg.AssetCheckResult:
    return dg.AssetCheckResult(
        asset_key=asset,
        check_name=SCHEMA_CHECK,
        passed=True,
        severity=dg.AssetCheckSeverity.ERROR,
        metadata={
            "num_failures": dg.MetadataValue.int(0),
            "rows_validated": dg.MetadataValue.json({t: int(n) for t, n in rows_by_table.items()}),
        },
    )


def schema_check_failed(asset: str, violation: SchemaViolation) -> dg.AssetCheckResult:
    cases = violation.failure_cases
    keep = [c for c in ("column", "check", "failure_case", "index") if c in cases.columns]
    sample = cases.select(keep).head(FAILURE_SAMPLE_ROWS) if keep else cases.head(FAILURE_SAMPLE_ROWS)
    return dg.AssetCheckResult(
        asset_key=asset,
        check_name=SCHEMA_CHECK,
        passed=False,
        severity=dg.AssetCheckSeverity.ERROR,
        description=str(violation).splitlines()[0],
        metadata={
            "table": violation.table,
            "num_failures": dg.MetadataValue.int(int(cases.height)),
            "failure_sample": dg.MetadataValue.md(markdown_table(sample) if keep else "_(no failure cases)_"),
            "report": dg.MetadataValue.text(str(violation)),
        },
    )


def violating_asset(violation: SchemaViolation, assets_by_table: Mapping[str, str], default: str) -> str:
    """The asset whose table ``violation`` names (qualified or bare table name), else ``default``."""
    table = violation.table
    by_bare = {t.split(".")[-1]: a for t, a in assets_by_table.items()}
    return assets_by_table.get(table) or by_bare.get(table.split(".")[-1]) or default


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


def markdown_table(frame: pl.DataFrame, float_digits: int = 4, right_align: Sequence[str] = ()) -> str:
    """The one Markdown-table helper (``assets.common.markdown``), imported when first used."""
    from assets.common.markdown import markdown_table as render

    return render(frame, float_digits, right_align)


def png_markdown(png: bytes, alt: str) -> dg.MetadataValue:
    """A PNG embedded in Markdown metadata, so the plot renders in the Dagster UI."""
    return dg.MetadataValue.md(f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode()})")


def store_table(con: duckdb.DuckDBPyConnection, table: str, model: type[TableModel], frame: pl.DataFrame) -> int:
    """Validate ``frame`` (raising :class:`SchemaViolation`, nothing written) and replace ``table``."""
    from assets.common.table_model import validate
    from assets.common.warehouse import replace_table

    return replace_table(con, table, validate(model, frame, table))


def write_table(con: duckdb.DuckDBPyConnection, table: str, model: type[TableModel], frame: pl.DataFrame) -> dict:
    """Validate and replace ``table`` with ``frame``; return the metadata that describes it."""
    store_table(con, table, model, frame)
    return table_metadata(model, table, frame.height, preview=frame.select(frame.columns[:14]).head(10))
