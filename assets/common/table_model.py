"""Shared pandera (polars backend) conventions: strict, ordered, and readable failures.

Every table of the pipeline has a ``TableModel`` subclass. Validation failures raise
:class:`SchemaViolation`, whose message names the table, each failing column, the rule and a few
failing rows, so that an asset fails loudly before anything is stored.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import duckdb
import pandera.polars as pa
import polars as pl
from pandera.errors import SchemaError, SchemaErrors

from assets.common.sql import qualified_name, quote_identifier

VALIDATION_BATCH_ROWS = 1_000_000


class TableModel(pa.DataFrameModel):
    """Base for every table schema: exact columns, exact order, coerced types."""

    class Config:
        strict = True
        ordered = True
        coerce = False


class SchemaViolation(ValueError):
    """A table did not satisfy its schema; the message says where and which rule."""

    def __init__(self, table: str, failure_cases: pl.DataFrame, message: str) -> None:
        super().__init__(message)
        self.table = table
        self.failure_cases = failure_cases


def _describe_failures(table: str, failure_cases: pl.DataFrame, max_rows: int = 5) -> str:
    lines = [f"{table}: schema validation failed ({failure_cases.height} failure case(s))"]
    cols = [c for c in ("column", "check", "failure_case", "index") if c in failure_cases.columns]
    grouped = failure_cases.select(cols).with_columns(pl.all().cast(pl.String))
    located = {"source_file", "source_line"} <= set(failure_cases.columns)
    if located:  # rows that came from a source line: name the file and line, not just the row
        grouped = grouped.with_columns(
            failure_cases["source_file"].cast(pl.String), failure_cases["source_line"].cast(pl.String)
        )
    for (column, check), group in grouped.group_by(["column", "check"], maintain_order=True):
        sample = group.head(max_rows)
        rows = ", ".join(
            f"row {r['index']}"
            + (f" ({r['source_file']} line {r['source_line']})" if located else "")
            + f": {r['failure_case']!r}"
            for r in sample.iter_rows(named=True)
        )
        lines.append(f"  column {column!r} violates {check!r}: {group.height} row(s), e.g. {rows}")
    return "\n".join(lines)


def _with_source(cases: pl.DataFrame, frame: pl.DataFrame) -> pl.DataFrame:
    """Failure cases with the ``source_file`` / ``source_line`` of their row, where the table has them."""
    if not ({"source_file", "source_line"} <= set(frame.columns) and "index" in cases.columns):
        return cases
    index = cases["index"].cast(pl.Int64)
    valid = index.is_not_null() & (index >= 0) & (index < frame.height)
    at = index.set(~valid, 0)
    return cases.with_columns(
        frame[name].gather(at).set(~valid, None).alias(name) for name in ("source_file", "source_line")
    )


def validate(model: type[TableModel], frame: pl.DataFrame, table: str | None = None) -> pl.DataFrame:
    """Validate ``frame`` against ``model`` (all rules, lazily) or raise :class:`SchemaViolation`."""
    name = table or model.__name__
    try:
        return model.validate(frame, lazy=True)
    except SchemaErrors as exc:
        cases = _with_source(exc.failure_cases, frame)
        raise SchemaViolation(name, cases, _describe_failures(name, cases)) from None
    except SchemaError as exc:  # pragma: no cover - lazy=True reports SchemaErrors
        raise SchemaViolation(name, pl.DataFrame(), f"{name}: {exc}") from None


def validate_query(
    model: type[TableModel],
    con: duckdb.DuckDBPyConnection,
    sql: str,
    table: str,
    batch_rows: int = VALIDATION_BATCH_ROWS,
    params: Sequence[object] | Mapping[str, object] | None = None,
) -> int:
    """Validate the rows of a (possibly huge) DuckDB query batch by batch; returns rows checked.

    Memory stays bounded by ``batch_rows``: half-hourly tables are never loaded whole.
    Row indices in the error are offsets within the query result. Values go in ``params``.
    """
    reader = con.sql(sql, params=params).to_arrow_reader(batch_rows)
    checked = 0
    try:
        for batch in reader:
            frame = pl.from_arrow(batch)
            assert isinstance(frame, pl.DataFrame)
            try:
                validate(model, frame, table)
            except SchemaViolation as exc:
                cases = exc.failure_cases
                if "index" in cases.columns and cases.height:
                    cases = cases.with_columns((pl.col("index").cast(pl.Int64) + checked).alias("index"))
                raise SchemaViolation(table, cases, _describe_failures(table, cases)) from None
            checked += frame.height
    finally:
        reader.close()  # a failure mid-stream must not leave an open result (the caller rolls back)
    return checked


def column_names(model: type[TableModel]) -> list[str]:
    return list(model.to_schema().columns)


def column_descriptions(model: type[TableModel]) -> dict[str, str]:
    return {name: (col.description or "") for name, col in model.to_schema().columns.items()}


_DUCKDB_TYPES = {
    "String": "VARCHAR",
    "Datetime": "TIMESTAMP",
    "Date": "DATE",
    "Int64": "BIGINT",
    "Int32": "INTEGER",
    "Int16": "SMALLINT",
    "Float64": "DOUBLE",
    "Boolean": "BOOLEAN",
}


def duckdb_columns(model: type[TableModel]) -> str:
    """``name TYPE, ...`` for CREATE TABLE, in the model's column order."""
    parts = []
    for name, column in model.to_schema().columns.items():
        dtype = (
            type(column.dtype.type).__name__ if not isinstance(column.dtype.type, type) else column.dtype.type.__name__
        )
        sql_type = _DUCKDB_TYPES.get(dtype)
        if sql_type is None:
            raise TypeError(f"{model.__name__}.{name}: no DuckDB type for {column.dtype}")
        parts.append(f"{quote_identifier(name)} {sql_type}")
    return ", ".join(parts)


def create_table_if_missing(con: duckdb.DuckDBPyConnection, table: str, model: type[TableModel]) -> None:
    schema = table.split(".")[0]
    con.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_identifier(schema)}")
    con.execute(f"CREATE TABLE IF NOT EXISTS {qualified_name(table)} ({duckdb_columns(model)})")
