"""Spark side of the engine: a session, the lake tables, and a DuckDB-like way to run our SQL.

* :func:`session_config` / :func:`build_session`: local mode in development and CI
  (``local[2]``), or a Spark Connect server in production (``sc://...``); UTC session time zone
  and ``TIMESTAMP`` meaning ``TIMESTAMP_NTZ`` (DuckDB's ``TIMESTAMP`` is naive: the same instant
  whatever the session's zone), dynamic partition overwrite.
* :class:`SparkSql`: runs the stages' DuckDB-dialect SQL on Spark through :func:`engine.transpile`,
  with the same ``execute(sql, params)`` / ``fetchall()`` shape the stage modules use with DuckDB.
  ``CREATE OR REPLACE TEMP TABLE x AS q`` becomes a cached temporary view of ``q``.
* :class:`SparkConnection`: the Spark side of the feature layer's ``assets/features/duck.py``
  (lake tables from the session catalog, the warehouse's per-household tables copied in on first use,
  scratch tables as cached temporary views, results as polars via Arrow).
* Lake tables (:func:`ensure_lake_table`, :func:`overwrite_partitions`): Parquet datasets
  partitioned by ``reading_month`` under ``<lake>/<schema>/<table>``, registered in the session
  catalog under the same qualified names the SQL uses, so the SQL files run unchanged.

No Dagster here (``resources.SparkSession`` is the Dagster resource). pyspark is imported lazily:
it is the optional ``spark`` extra.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assets.common.engine import EngineError, qualified_tables, transpile

if TYPE_CHECKING:
    import polars as pl
    import pyarrow as pa
    from pyspark.sql import DataFrame, SparkSession

    from assets.common.table_model import TableModel

PARTITION_COLUMN = "reading_month"
DEFAULT_MASTER = "local[2]"


def session_config(shuffle_partitions: int = 8, driver_memory: str = "2g") -> dict[str, str]:
    """Settings every session of the pipeline gets (local or remote)."""
    return {
        "spark.sql.session.timeZone": "UTC",
        # DuckDB TIMESTAMP is naive (no zone): map it to Spark's TIMESTAMP_NTZ, not the session-zoned
        # TIMESTAMP_LTZ, so CASTs, literals and Parquet round trips keep the wall-clock UTC value.
        "spark.sql.timestampType": "TIMESTAMP_NTZ",
        "spark.sql.parquet.inferTimestampNTZ.enabled": "true",
        # INSERT OVERWRITE ... PARTITION (reading_month) replaces only the months written.
        "spark.sql.sources.partitionOverwriteMode": "dynamic",
        "spark.sql.shuffle.partitions": str(shuffle_partitions),
        "spark.sql.ansi.enabled": "true",
        "spark.driver.memory": driver_memory,
        "spark.ui.enabled": "false",
        "spark.ui.showConsoleProgress": "false",
    }


def build_session(
    master: str = DEFAULT_MASTER,
    remote: str = "",
    app_name: str = "meter-personas",
    config: Mapping[str, str] | None = None,
) -> SparkSession:
    """A SparkSession: Spark Connect if ``remote`` (``sc://host:15002``), else ``master`` (local mode)."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder.appName(app_name)
    builder = builder.remote(remote) if remote else builder.master(master)
    for key, value in {**session_config(), **(config or {})}.items():
        if remote and key in ("spark.driver.memory", "spark.ui.enabled", "spark.ui.showConsoleProgress"):
            continue  # cluster-side settings: the Connect server's configuration owns them
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    if not remote:
        session.sparkContext.setLogLevel("ERROR")
    return session


def spark_identifier(name: str) -> str:
    """``name`` as a Spark quoted identifier (backticks doubled inside)."""
    if not name or "\x00" in name:
        raise ValueError(f"invalid SQL identifier {name!r}")
    return "`" + name.replace("`", "``") + "`"


def spark_qualified(qualified: str) -> str:
    return ".".join(spark_identifier(part) for part in qualified.split("."))


def spark_args(values: Mapping[str, Any]) -> dict[str, Any]:
    """Bound values for ``spark.sql(args=...)``: scalars and lists as they are; a DuckDB MAP binding
    (``{"key": [...], "value": [...]}``) as a Spark ``map(...)`` literal column."""
    from pyspark.sql import functions as F

    args: dict[str, Any] = {}
    for name, value in values.items():
        if isinstance(value, Mapping):
            if set(value) != {"key", "value"}:
                raise EngineError(f"parameter ${name}: only MAP bindings {{'key': [...], 'value': [...]}} are dicts")
            pairs = [F.lit(part) for kv in zip(value["key"], value["value"], strict=True) for part in kv]
            args[name] = F.create_map(*pairs)
        elif isinstance(value, tuple):
            args[name] = list(value)
        elif isinstance(value, dt.datetime | dt.date | str | int | float | bool | list) or value is None:
            args[name] = value
        else:
            raise EngineError(f"parameter ${name}: cannot bind a {type(value).__name__} on Spark")
    return args


class SparkResult:
    """The rows of a statement, with the two DuckDB cursor methods the stage modules use."""

    def __init__(self, frame: DataFrame | None) -> None:
        self.frame = frame

    def fetchall(self) -> list[tuple]:
        return [] if self.frame is None else [tuple(row) for row in self.frame.collect()]

    def fetchone(self) -> tuple | None:
        rows = [] if self.frame is None else self.frame.take(1)
        return tuple(rows[0]) if rows else None


def _temp_table(sql: str) -> tuple[str, str] | None:
    """``(name, query)`` of a ``CREATE [OR REPLACE] TEMP TABLE name AS query`` statement, else None."""
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(sql, read="duckdb")
    if not (isinstance(tree, exp.Create) and (tree.kind or "").upper() == "TABLE"):
        return None
    if not any(isinstance(p, exp.TemporaryProperty) for p in tree.find_all(exp.TemporaryProperty)):
        return None
    target = tree.this.this if isinstance(tree.this, exp.Schema) else tree.this
    return target.name, tree.expression.sql(dialect="duckdb")


class SparkSql:
    """Runs DuckDB-dialect statements on a SparkSession (transpiled), binding parameters.

    A temporary table is computed when it is created, as DuckDB's are, and held by the executors
    (``localCheckpoint(eager=True)``: memory, spilling to disk) behind a temporary view whose plan
    is a scan of those blocks, not the query that made them. That cut matters: a lazily ``persist``ed
    view keeps its whole query plan, a later stage's plan nests it, and Spark (4.x, adaptive
    execution) re-plans and re-ran the nested stages, 181 small jobs for the coverage stage of one
    month against 10 with the cut (docs/SCALING.md, "Throughput"). The price: the blocks live on the
    executors only, so losing an executor mid-run fails the run (re-running the partition repeats it:
    the month writes are idempotent). :meth:`drop_temp` drops the view and releases the blocks.
    """

    def __init__(self, spark: SparkSession) -> None:
        self.spark = spark
        self._cached: dict[str, DataFrame] = {}

    def sql(self, sql: str, params: Mapping[str, Any] | None = None) -> DataFrame:
        """The DataFrame of one DuckDB-dialect query, transpiled, with ``params`` bound."""
        return self.spark.sql(transpile(sql), args=spark_args(params or {}) or None)

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> SparkResult:
        temp = _temp_table(sql)
        if temp is None:
            return SparkResult(self.sql(sql, params))
        name, query = temp
        self.drop_temp(name)
        frame = self.sql(query, params).localCheckpoint(eager=True)
        frame.createOrReplaceTempView(name)
        self._cached[name] = frame
        return SparkResult(None)

    def drop_temp(self, *names: str) -> None:
        for name in names or tuple(self._cached):
            frame = self._cached.pop(name, None)
            self.spark.catalog.dropTempView(name)
            if frame is not None:
                release_checkpoint(frame)


def release_checkpoint(frame: DataFrame) -> None:
    """Free the executor blocks of a ``localCheckpoint``: in classic mode the checkpointed RDD under
    the frame's plan is unpersisted now; over Spark Connect the server frees them when the frame is
    garbage-collected (as it does in classic mode too, later)."""
    jdf = getattr(frame, "_jdf", None)
    if jdf is None:
        return
    plan = jdf.queryExecution().logical()
    if plan.getClass().getSimpleName() == "LogicalRDD":
        plan.rdd().unpersist(False)


class SparkConnection:
    """A Spark session seen the way the feature layer sees a DuckDB connection (``METER_ENGINE=spark``).

    ``assets/features/duck.py`` (``statement``, ``Scratch.frame/query``, ``fetch``) runs every feature
    statement through it unchanged; the feature modules cannot tell the engines apart:

    * a ``schema.table`` registered in the session catalog (the lake's ``clean.*``) is read there;
    * any other ``schema.table`` a statement names lives in the DuckDB ``warehouse`` (the per-household
      tables: households, the tariff schedule, the per-household-month aggregates, the segment
      assignments): it is copied once per connection via Arrow into a temporary view, and the
      statement's reference is rewritten to it by SQLGlot (:func:`engine.transpile`);
    * scratch tables are temporary views, cached (``persist``) when they are query results (they are
      materialised because later statements read them again);
    * results (per household, or per household x event) come back via Arrow as polars.

    Statements are transpiled and their values bound (``spark_args``), never spliced. :meth:`close`
    drops every view it made (:func:`spark_connection` does it on exit).
    """

    def __init__(self, spark: SparkSession, warehouse: Any = None) -> None:
        import uuid

        self.spark = spark
        self.warehouse = warehouse  # a DuckDB connection to the warehouse (None: lake tables only)
        self._tag = uuid.uuid4().hex[:8]
        self._mirrors: dict[str, str] = {}  # schema.table -> temporary view of its warehouse copy
        self._views: dict[str, DataFrame | None] = {}  # temporary views made here -> cached frame

    # -- statements ------------------------------------------------------------------------------
    def sql(self, sql: str, params: Mapping[str, Any] | None = None) -> DataFrame:
        """The DataFrame of one DuckDB-dialect query: tables resolved, transpiled, values bound."""
        if params is not None and not isinstance(params, Mapping):
            raise EngineError("the Spark engine binds named parameters only ($name with a dict)")
        mapping = tuple(sorted((t, self._resolve(t)) for t in qualified_tables(sql)))
        mapping = tuple((t, v) for t, v in mapping if v != t)
        return self.spark.sql(transpile(sql, mapping), args=spark_args(params or {}) or None)

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> SparkResult:
        """One query with DuckDB's ``fetchall``/``fetchone`` (small results, as a DuckDB cursor gives)."""
        return SparkResult(self.sql(sql, params))

    def fetch(self, sql: str, params: Mapping[str, Any] | None = None) -> pl.DataFrame:
        """A small result (per household or coarser) as polars, via Arrow."""
        import polars as pl

        frame = pl.from_arrow(to_arrow(self.sql(sql, params)))
        assert isinstance(frame, pl.DataFrame)
        return frame

    def materialise(self, name: str, sql: str, params: Mapping[str, Any] | None = None) -> None:
        """Temporary view ``name`` of a query, cached: computed once however often it is read."""
        frame = self.sql(sql, params).persist()
        self._register(name, frame, cached=True)

    def register_frame(self, name: str, data: pa.Table) -> None:
        """Temporary view ``name`` of a (small) Arrow table."""
        self._register(name, self.spark.createDataFrame(data), cached=False)

    def drop(self, name: str) -> None:
        frame = self._views.pop(name, None)
        if frame is not None:
            frame.unpersist()
        self.spark.catalog.dropTempView(name)

    def close(self) -> None:
        for name in reversed(list(self._views)):
            self.drop(name)
        self._mirrors.clear()

    # -- tables ----------------------------------------------------------------------------------
    def table_exists(self, table: str) -> bool:
        """``schema.table`` is in the session catalog (the lake) or in the warehouse."""
        return self.spark.catalog.tableExists(table) or self._in_warehouse(table)

    def _register(self, name: str, frame: DataFrame, cached: bool) -> None:
        if name in self._views:
            raise ValueError(f"temporary view {name!r} already exists")
        frame.createOrReplaceTempView(name)
        self._views[name] = frame if cached else None

    def _resolve(self, table: str) -> str:
        """Where ``schema.table`` is read on Spark: itself (catalog) or its warehouse copy."""
        if table in self._mirrors:
            return self._mirrors[table]
        if self.spark.catalog.tableExists(table):
            return table
        if not self._in_warehouse(table):
            raise EngineError(f"{table}: neither a table of the Spark session (lake) nor of the warehouse")
        from assets.common.sql import qualified_name

        view = "_wh_" + table.replace(".", "__") + "_" + self._tag
        data = self.warehouse.sql(f"SELECT * FROM {qualified_name(table)}").to_arrow_table()
        self._register(view, self.spark.createDataFrame(data), cached=False)
        self._mirrors[table] = view
        return view

    def _in_warehouse(self, table: str) -> bool:
        if self.warehouse is None or table.count(".") != 1:
            return False
        schema, name = table.split(".")
        rows = self.warehouse.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = $s AND table_name = $t",
            {"s": schema, "t": name},
        ).fetchall()
        return rows[0][0] > 0


@contextmanager
def spark_connection(spark: SparkSession, warehouse: Any = None) -> Iterator[SparkConnection]:
    """A :class:`SparkConnection` whose temporary views are dropped on exit."""
    connection = SparkConnection(spark, warehouse)
    try:
        yield connection
    finally:
        connection.close()


# ---- the lake -----------------------------------------------------------------------------------

_SPARK_TYPES = {
    "String": "string",
    "Datetime": "timestamp_ntz",
    "Date": "date",
    "Int64": "bigint",
    "Int32": "int",
    "Int16": "smallint",
    "Float64": "double",
    "Boolean": "boolean",
}


def _dtype_name(column: Any) -> str:
    t = column.dtype.type
    return t.__name__ if isinstance(t, type) else type(t).__name__


def spark_columns(model: type[TableModel]) -> list[tuple[str, str]]:
    """``(column, Spark type)`` of a table model, in the model's order."""
    columns = []
    for name, column in model.to_schema().columns.items():
        spark_type = _SPARK_TYPES.get(_dtype_name(column))
        if spark_type is None:
            raise TypeError(f"{model.__name__}.{name}: no Spark type for {column.dtype}")
        columns.append((name, spark_type))
    return columns


def table_location(lake: str | Path, table: str) -> str:
    """``<lake>/<schema>/<table>``: a local folder or an object-store URI (s3a://, abfss://, gs://)."""
    root = str(lake).rstrip("/")
    if "://" not in root:
        root = str(Path(root).resolve())
    return "/".join([root, *table.split(".")])


@dataclass(frozen=True)
class LakeTable:
    name: str  # schema.table, as the SQL names it
    model: type[TableModel]
    partitioned: bool = True


def ensure_lake_table(spark: SparkSession, lake: str | Path, table: LakeTable) -> None:
    """Register ``table`` in the session catalog over its Parquet folder (created empty if missing).

    The location goes through the DataFrameWriter's ``path`` option, never into SQL text.
    """
    from pyspark.sql.types import StructField, StructType, _parse_datatype_string

    schema_name = table.name.split(".")[0]
    spark.sql(f"CREATE DATABASE IF NOT EXISTS {spark_identifier(schema_name)}")
    location = table_location(lake, table.name)
    if registered_here(spark, table.name, location):
        return
    schema = StructType([StructField(n, _parse_datatype_string(t), True) for n, t in spark_columns(table.model)])
    writer = spark.createDataFrame([], schema).write.format("parquet").option("path", location)
    if table.partitioned:
        writer = writer.partitionBy(PARTITION_COLUMN)
    writer.mode("append").saveAsTable(table.name)
    if table.partitioned:  # months already in the folder (a lake written by an earlier session)
        spark.catalog.recoverPartitions(table.name)


def registered_here(spark: SparkSession, table: str, location: str) -> bool:
    """Whether the session catalog has ``table`` registered over ``location``. An external registration
    over another folder is forgotten (``DROP TABLE`` of an external table touches no file): one session
    serves a whole process (``getOrCreate``), and an earlier engine of it may have worked on another
    lake (the parity tool runs two; a test suite runs many). A managed table of that name (a shared
    metastore's) is never dropped: that would delete its data; the load stops naming it instead."""
    if not spark.catalog.tableExists(table):
        return False
    details = _table_details(spark, table)
    if same_location(details.get("Location", ""), location):
        return True
    if details.get("Type", "").upper() != "EXTERNAL":
        raise EngineError(
            f"{table} is registered in the Spark catalog as a {details.get('Type', 'unknown').lower()} table at "
            f"{details.get('Location', '?')}, not over the lake's {location}: drop or rename it, or point "
            "METER_LAKE there"
        )
    spark.sql(f"DROP TABLE {spark_qualified(table)}")
    return False


def registered_location(spark: SparkSession, table: str) -> str:
    """The folder the session catalog has ``table`` registered over (``DESCRIBE TABLE EXTENDED``)."""
    return _table_details(spark, table).get("Location", "")


def _table_details(spark: SparkSession, table: str) -> dict[str, str]:
    """The "Detailed Table Information" rows of ``DESCRIBE TABLE EXTENDED`` (Type, Location, ...), not
    the column rows above them (a column may be called Location)."""
    rows = spark.sql(f"DESCRIBE TABLE EXTENDED {spark_qualified(table)}").collect()
    details: dict[str, str] = {}
    in_details = False
    for r in rows:
        name = str(r["col_name"] or "").strip()
        if name.startswith("# Detailed Table Information"):
            in_details = True
        elif in_details and name and not name.startswith("#"):
            details.setdefault(name, str(r["data_type"] or ""))
    return details


def same_location(registered: str, wanted: str) -> bool:
    """Whether a catalog location (``file:/tmp/lake/x``, percent-encoded) and a lake location
    (``/tmp/lake/x``, or a URI) name the same folder."""
    from urllib.parse import unquote, urlparse

    def normal(location: str) -> str:
        parsed = urlparse(location)
        if parsed.scheme in ("", "file"):
            return str(Path(unquote(parsed.path) if parsed.scheme else location).resolve())
        return location.rstrip("/")

    return bool(registered) and normal(registered) == normal(wanted)


def stored_columns(spark: SparkSession, table: str) -> list[str]:
    """The table's columns in Spark's order (partition columns last)."""
    return [f.name for f in spark.table(table).schema.fields]


def check_schema(frame: DataFrame, model: type[TableModel], table: str) -> None:
    """The staged rows have exactly the model's columns, in order, with its types (else raise).

    The row-level rules of the pandera model (ranges, allowed values) run on the DuckDB engine; on
    Spark the column contract is checked here before a write (docs/SCALING.md).
    """
    want = spark_columns(model)
    got = [(f.name, f.dataType.simpleString()) for f in frame.schema.fields]
    if got != want:
        diff = [f"{w} != {g}" for w, g in zip(want, got, strict=False) if w != g]
        raise EngineError(f"{table}: staged columns differ from the schema {model.__name__}: {diff or got}")


def overwrite_partitions(sql: SparkSql, table: str, rows_sql: str, months: Sequence[dt.date]) -> None:
    """Replace the ``months`` of lake ``table`` by the rows of DuckDB-dialect query ``rows_sql``.

    ``INSERT OVERWRITE ... PARTITION (reading_month)`` with dynamic partition overwrite replaces
    the months present in the rows; a month of the window without any row is emptied first by
    overwriting it with no rows (the files of each month are replaced as a whole, by Spark's
    commit protocol: see docs/SCALING.md for what that guarantees and where Delta/Iceberg would add to it).
    """
    spark = sql.spark
    columns = stored_columns(spark, table)
    select = ", ".join(spark_identifier(c) for c in columns)
    frame = sql.sql(rows_sql)
    written = {r[0] for r in frame.select(PARTITION_COLUMN).distinct().collect()}
    for month in sorted(set(months) - written):
        _empty_partition(spark, table, month)
    frame.createOrReplaceTempView("_lake_write")
    try:
        spark.sql(
            f"INSERT OVERWRITE TABLE {spark_qualified(table)} PARTITION ({spark_identifier(PARTITION_COLUMN)}) "
            f"SELECT {select} FROM `_lake_write`"
        )
    finally:
        spark.catalog.dropTempView("_lake_write")


def _empty_partition(spark: SparkSession, table: str, month: dt.date) -> None:
    """Delete the stored rows of one month (a static-partition overwrite with no rows)."""
    from pyspark.sql.types import StructType

    stored = spark.table(table).schema
    empty = spark.createDataFrame([], StructType([f for f in stored.fields if f.name != PARTITION_COLUMN]))
    empty.createOrReplaceTempView("_lake_empty")
    try:
        spark.sql(
            f"INSERT OVERWRITE TABLE {spark_qualified(table)} "
            f"PARTITION ({spark_identifier(PARTITION_COLUMN)} = :month) SELECT * FROM `_lake_empty`",
            args={"month": month},
        )
    finally:
        spark.catalog.dropTempView("_lake_empty")


def load_arrow(spark: SparkSession, table: str, data: pa.Table, months: Sequence[dt.date]) -> None:
    """Replace ``months`` of a lake table by an Arrow table (the DuckDB-ingest bridge, one window)."""
    frame = spark.createDataFrame(data)
    frame.createOrReplaceTempView("_arrow_in")
    try:
        overwrite_partitions(SparkSql(spark), table, "SELECT * FROM _arrow_in", months)
    finally:
        spark.catalog.dropTempView("_arrow_in")


def to_arrow(frame: DataFrame) -> pa.Table:
    """A (per-household, small) Spark result as Arrow: how tables come back to the DuckDB warehouse."""
    return frame.toArrow()
