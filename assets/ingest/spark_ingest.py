"""The ingest stage on Spark: source files -> ``ingest.raw_readings`` on the Parquet lake, one definition.

What a line becomes is defined once, for both engines: the layout of each file by
``source_layouts`` (Python, from the file's first lines, as on DuckDB: :func:`load_plan.plan_text_file`),
the parse by ``sql/parse_lines.sql``, which lines become rows (header, raw text kept, months of
lines without a stamp of their own, the window) by ``sql/insert_raw.sql``, and the file-level rules
(a file without any usable stamp is refused, a cut last line) by the same Python functions as the
DuckDB ingest. Only the line reader differs: DuckDB's CSV reader there, Spark's text reader here.

**Exact line numbers.** ``spark.read.text`` with ``lineSep = "\\n"`` (only LF ends a line, as in the
DuckDB reader and the Python line path: a lone CR stays inside its line; the CR of CR LF is stripped
afterwards, a UTF-8 byte-order mark is dropped by Hadoop's line reader) gives each row
``_metadata.file_path`` and ``_metadata.file_block_start`` (the first byte of the block of the file
that Spark read it from). A gzip file is never split: one block. A plain file larger than the split
size is read as several blocks, and Hadoop's line reader gives every line to exactly one block (the
one in which it starts). Within a block Spark reads lines in order, and ``monotonically_increasing_id()``
(partition index x 2^33 + position in the partition) numbers them consecutively. Pass 1 therefore
counts each block's lines and takes its first id; the line number of a row is then (lines in the
file's earlier blocks) + (its id - its block's first id) + 1, exact whatever the split. Both passes
read the same files with the same split settings, pinned for the duration of the load
(:data:`SPLIT_SETTINGS`), so the blocks and ids of pass 2 are those of pass 1; pass 2 fails rather
than store a line number outside its file's lines (``raise_error``).

Refused on Spark, each with a :class:`SourceFileError` naming the file (nothing is stored): UTF-16
files (the DuckDB ingest decodes them in Python), gzip content without a ``.gz`` name or a ``.gz``
name without gzip content (Hadoop chooses the codec by the name), and lines that are not valid UTF-8
(refused on DuckDB too). Parquet readings files are converted in Python as on DuckDB
(``source_layouts.parquet_to_raw_rows``: small files) and written with the rest.

A load writes the window's months of ``ingest.raw_readings`` with one ``INSERT OVERWRITE ...
PARTITION (reading_month)`` (dynamic: the months present are replaced, a window month without rows is
emptied), then the lake's ``ingest.source_file_index`` (the clean stage's line counts; files that
cannot touch a window are skipped next time, as on DuckDB). docs/SCALING.md says what is atomic.
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlparse

from assets.common.engine import EngineError
from assets.common.months import months_in
from assets.common.spark import (
    PARTITION_COLUMN,
    LakeTable,
    SparkSql,
    check_schema,
    ensure_lake_table,
    overwrite_partitions,
    registered_here,
    release_checkpoint,
    spark_columns,
    spark_identifier,
    spark_qualified,
    table_location,
)
from assets.common.sql import load_sql, quote_identifier
from assets.ingest.load_plan import (
    INDEX_COLUMNS,
    INDEX_TABLE,
    RAW_TABLE,
    FileStats,
    RawLoadResult,
    TextFile,
    check_row_rules,
    count_rows,
    ingest_sql,
    parse_parameters,
    parse_sql,
    plan_load,
    refuse_changed_files,
    refuse_unusable,
    row_rules_parameters,
    row_rules_sql,
    settle_files,
)
from assets.ingest.load_plan import fill_months as _fill  # a module name: tests hook it between the passes
from assets.ingest.raw_ingest import parquet_index_row
from assets.ingest.schemas.raw_readings import RawReadings
from assets.ingest.source_files import SourceFile
from assets.ingest.source_layouts import SourceFileError, parquet_to_raw_rows

if TYPE_CHECKING:
    from pyspark.sql import DataFrame, SparkSession

RAW_LAKE_TABLE = LakeTable(RAW_TABLE, RawReadings)
# The block key of pass 1: file index x 2^40 + the block's first byte (files up to 1 TiB).
BLOCK_BITS = 40
# Split settings pinned while a load runs, so that pass 1 and pass 2 cut the files into the same
# blocks and partitions (Spark otherwise derives the split size from the cluster's current cores).
# Performance settings only: any values give the same rows. ``minPartitionNum`` keeps small loads
# spread over a few tasks; ``maxPartitionBytes`` is Spark's default split size.
SPLIT_SETTINGS = {
    "spark.sql.files.maxPartitionBytes": str(128 * 1024 * 1024),
    "spark.sql.files.openCostInBytes": str(4 * 1024 * 1024),
    "spark.sql.files.minPartitionNum": "8",
    "spark.sql.files.maxPartitionNum": "",  # unset: no rescaling of the partitions
}
# Session-local views of one load.
_SCAN, _LINES, _FILES, _FILL, _WANTED, _STAGED = (
    "_ingest_scan",
    "_ingest_lines",
    "_ingest_files",
    "_ingest_fill",
    "_ingest_wanted",
    "_ingest_staged",
)
# The columns of ingest.source_file_index (load_plan.INDEX_COLUMNS), as Spark types (a column of another
# SQL type needs its Spark name here).
SPARK_INDEX_COLUMNS = tuple(
    (name, {"VARCHAR": "string", "BIGINT": "bigint", "DATE": "date"}[sql_type]) for name, sql_type in INDEX_COLUMNS
)


def _file_key(uri: str) -> str:
    """One spelling of a file's URI for the join of ``_metadata.file_path`` with ``inputFiles()``
    (Spark writes local files as ``file:/x`` in one and ``file:///x`` in the other)."""
    return re.sub(r"^file:/+", "file:/", uri)


def _local_path(uri: str) -> str:
    """The decoded local path of a ``file:`` URI (``%20`` -> space) with its symbolic links resolved (Spark
    lists a file by the path it was given, through any linked folder), else the URI itself."""
    parsed = urlparse(uri)
    return str(Path(unquote(parsed.path)).resolve()) if parsed.scheme in ("", "file") else uri


@contextmanager
def _pinned(spark: SparkSession, settings: Mapping[str, str]) -> Iterator[None]:
    previous = {key: spark.conf.get(key, None) for key in settings}
    try:
        for key, value in settings.items():
            if value:
                spark.conf.set(key, value)
            else:
                spark.conf.unset(key)
        yield
    finally:
        for key, value in previous.items():
            if value is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, value)


def _refuse_on_spark(t: TextFile) -> None:
    """The files the Spark reader cannot read exactly: refused, naming the file."""
    name = t.file.path.name.lower()
    with t.file.path.open("rb") as fh:
        gzip_content = fh.read(2) == b"\x1f\x8b"
    if t.lines is not None:
        raise SourceFileError(
            t.file.relative,
            "UTF-16 text (or line endings DuckDB decodes in Python): not read on Spark; convert it to UTF-8 "
            "or ingest with METER_ENGINE=duckdb",
        )
    if gzip_content != name.endswith(".gz"):
        raise SourceFileError(
            t.file.relative,
            "gzip content without a .gz name, or a .gz name without gzip content: Spark chooses the codec by the "
            "name; rename the file",
        )


def _refuse_unread(texts: list[TextFile], stats: dict) -> None:
    """A non-empty file of which pass 1 read no line (its path as Spark reports it did not match the path
    it was listed under) would be indexed with 0 lines and never read again: refused instead."""
    for i, t in enumerate(texts):
        if i not in stats and t.file.size_bytes > 0:
            raise SourceFileError(
                t.file.relative,
                "Spark read no line of this non-empty file (its path as Spark reports it did not match): "
                "nothing stored",
            )


class _Blocks:
    """Pass 1's blocks of one file: their first bytes, first row ids and line counts, in byte order."""

    def __init__(self, starts: list[int], first_ids: list[int], counts: list[int]) -> None:
        self.starts, self.first_ids, self.counts = starts, first_ids, counts
        self.offsets = [sum(counts[:b]) for b in range(len(counts))]  # lines in the earlier blocks
        self._by_id = sorted(range(len(first_ids)), key=lambda b: first_ids[b])
        self._sorted_ids = [first_ids[b] for b in self._by_id]

    @property
    def n_lines(self) -> int:
        return sum(self.counts)

    def line_of(self, row_id: int) -> int:
        """The 1-based line number of the row with id ``row_id`` (its block: the one whose ids hold it)."""
        b = self._by_id[max(0, bisect.bisect_right(self._sorted_ids, row_id) - 1)]
        if not 0 <= row_id - self.first_ids[b] < self.counts[b]:
            raise EngineError(f"row id {row_id} lies in no block of its file")
        return self.offsets[b] + row_id - self.first_ids[b] + 1


def _scan(spark: SparkSession, texts: list[TextFile]) -> DataFrame:
    """Every physical line of ``texts`` with its file index, layout, block start and row id."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import LongType, StringType, StructField, StructType

    lines = spark.read.option("lineSep", "\n").text([str(t.file.path) for t in texts])
    resolved = {str(t.file.path.resolve()): i for i, t in enumerate(texts)}
    keys = []
    for uri in lines.inputFiles():
        i = resolved.get(_local_path(uri))
        if i is None:
            raise EngineError(f"Spark listed {uri}, which is not one of the files of the load")
        keys.append((_file_key(uri), i, texts[i].layout))
    key_frame = spark.createDataFrame(
        keys,
        StructType(
            [
                StructField("file_key", StringType(), False),
                StructField("file_index", LongType(), False),
                StructField("source_layout", StringType(), False),
            ]
        ),
    )
    scanned = lines.select(
        F.regexp_replace(F.col("_metadata.file_path"), "^file:/+", "file:/").alias("file_key"),
        F.col("_metadata.file_block_start").alias("block_start"),
        F.monotonically_increasing_id().alias("row_id"),
        F.expr("TRIM(TRAILING '\\r' FROM value)").alias("line_text"),
    )
    return scanned.join(F.broadcast(key_frame), "file_key").drop("file_key")


def _pass1(runner: SparkSql, scan: DataFrame, texts: list[TextFile]) -> tuple[dict[int, _Blocks], dict[int, FileStats]]:
    """Blocks and per-file statistics (the DuckDB ingest's pass 1), from one Spark job."""
    from pyspark.sql import functions as F

    scan.select(
        (F.col("file_index") * F.lit(1 << BLOCK_BITS) + F.col("block_start")).alias("file_index"),
        F.col("row_id").alias("source_line"),
        "line_text",
        "source_layout",
    ).createOrReplaceTempView(_SCAN)
    statement = load_sql(__file__, "spark_block_stats").format(parsed=f"({parse_sql(_SCAN)})")
    rows = runner.execute(statement, parse_parameters()).fetchall()
    per_file: dict[int, list[tuple]] = {}
    for row in rows:
        key = row[0]
        per_file.setdefault(key >> BLOCK_BITS, []).append((key & ((1 << BLOCK_BITS) - 1), *row[1:]))
    blocks: dict[int, _Blocks] = {}
    stats: dict[int, FileStats] = {}
    for i, block_rows in per_file.items():
        block_rows.sort()
        b = _Blocks([r[0] for r in block_rows], [r[1] for r in block_rows], [r[2] for r in block_rows])
        blocks[i] = b
        invalid = sorted(b.line_of(r) for row in block_rows for r in (row[9] or []))
        if invalid:
            raise SourceFileError(
                texts[i].file.relative, f"line {invalid[0]} is not valid UTF-8 text ({len(invalid)} such lines)"
            )
        months = [m for r in block_rows for m in (r[3], r[4]) if m is not None]
        stamps = [s for r in block_rows for s in (r[6], r[7]) if s is not None]
        unmonthed = sorted(b.line_of(r) for row in block_rows for r in (row[8] or []))
        stats[i] = FileStats(
            n_lines=b.n_lines,
            first_rn=1,
            first_month=min(months, default=None),
            last_month=max(months, default=None),
            stamps=sum(r[5] for r in block_rows),
            first_stamp=min(stamps, default=None),
            last_stamp=max(stamps, default=None),
            edges=[{"rn": n, "month": None} for n in unmonthed],
        )
    return blocks, stats


def _numbered(spark: SparkSession, scan: DataFrame, blocks: dict[int, _Blocks]) -> DataFrame:
    """The lines of the load with their exact line numbers: (file_index, source_line, line_text,
    source_layout). A number outside its file's lines (blocks or ids not those of pass 1) fails the job."""
    from pyspark.sql import functions as F
    from pyspark.sql.types import LongType, StructField, StructType

    rows = [
        (i, start, first_id, offset, b.n_lines)
        for i, b in blocks.items()
        for start, first_id, offset in zip(b.starts, b.first_ids, b.offsets, strict=True)
    ]
    numbering = spark.createDataFrame(
        rows,
        StructType(
            [StructField(n, LongType(), False) for n in ("file_index", "block_start", "first_id", "offset", "n_lines")]
        ),
    )
    line = F.col("offset") + F.col("row_id") - F.col("first_id") + F.lit(1)
    checked = F.when(line.between(F.lit(1), F.col("n_lines")), line).otherwise(
        F.raise_error(F.lit("Spark ingest: a line number outside its file (the files changed between the two passes?)"))
    )
    # left join: a block pass 1 did not see (a file changed between the passes) has no numbering, so its
    # line number is NULL and ``checked`` fails the load instead of dropping its lines
    return scan.join(F.broadcast(numbering), ["file_index", "block_start"], "left").select(
        "file_index", checked.alias("source_line"), "line_text", "source_layout"
    )


def _add_neighbours(runner: SparkSql, texts: list[TextFile], stats: dict[int, FileStats]) -> None:
    """Complete pass 1's edges with the months of the in-range lines next to each line without a month
    of its own (what ``load_plan.fill_months`` files such a line under). Header lines are not rows: a load
    whose only such lines are headers needs no query."""
    from pyspark.sql.types import LongType, StructField, StructType

    wanted: list[tuple[int, int]] = []
    for i, s in stats.items():
        unmonthed = {e["rn"] for e in s.edges}
        if not unmonthed - ({1} if texts[i].has_header else set()):
            continue
        wanted += [(i, n) for u in unmonthed for n in (u - 1, u + 1) if 1 <= n <= s.n_lines and n not in unmonthed]
    if not wanted:
        return
    runner.spark.createDataFrame(
        sorted(set(wanted)),
        StructType([StructField("file_index", LongType(), False), StructField("source_line", LongType(), False)]),
    ).createOrReplaceTempView(_WANTED)
    months = runner.execute(
        f"SELECT p.file_index, p.source_line, p.own_month FROM ({parse_sql(_LINES)}) p "
        f"SEMI JOIN {_WANTED} w ON p.file_index = w.file_index AND p.source_line = w.source_line",
        parse_parameters(),
    ).fetchall()
    for i, n, month in months:
        stats[i].edges.append({"rn": n, "month": month})
    for s in stats.values():
        s.edges.sort(key=lambda e: e["rn"])


def _add_intervals(runner: SparkSql, stats: dict[int, FileStats]) -> None:
    """Each file's reading interval (``sql/file_intervals.sql``, as in the DuckDB ingest's pass 1) over
    the numbered lines: one more job over the files (a window over each household's stamps)."""
    statement = ingest_sql("file_intervals").format(stamps=f"({parse_sql(_LINES)})")
    for i, seconds in runner.execute(statement, parse_parameters()).fetchall():
        if i in stats:
            stats[i].interval_seconds = seconds


def _staged_sql(texts: list[TextFile]) -> str:
    """``insert_raw.sql``'s SELECT (which lines become rows, and what they keep) over the numbered lines."""
    import sqlglot
    from sqlglot import exp

    insert = ingest_sql("insert_raw").format(raw="_unused", parsed=parse_sql(_LINES), files=_FILES, fill=_FILL)
    tree = sqlglot.parse_one(insert, read="duckdb")
    if not isinstance(tree, exp.Insert) or not isinstance(tree.expression, exp.Select):
        raise EngineError("insert_raw.sql is expected to be one INSERT ... SELECT")
    select = tree.expression.sql(dialect="duckdb")
    columns = ", ".join(
        f"CAST(col{k + 1} AS {'TIMESTAMP' if t == 'timestamp_ntz' else t.upper()}) AS {quote_identifier(name)}"
        for k, (name, t) in enumerate(spark_columns(RawReadings))
    )
    names = ", ".join(f"col{k + 1}" for k in range(len(spark_columns(RawReadings))))
    return f"SELECT {columns} FROM ({select}) AS staged({names})"


def ensure_index_table(spark: SparkSession, lake: str | Path) -> None:
    """Register the lake's ``ingest.source_file_index`` (unpartitioned Parquet), created empty if missing."""
    from pyspark.sql.types import StructField, StructType, _parse_datatype_string

    spark.sql(f"CREATE DATABASE IF NOT EXISTS {spark_identifier(INDEX_TABLE.split('.')[0])}")
    location = table_location(lake, INDEX_TABLE)
    if registered_here(spark, INDEX_TABLE, location):
        return
    schema = StructType([StructField(n, _parse_datatype_string(t), True) for n, t in SPARK_INDEX_COLUMNS])
    # an external table over the folder (its files, if a previous session wrote some, keep their rows)
    spark.catalog.createTable(INDEX_TABLE, path=location, source="parquet", schema=schema)


def _stored_index(spark: SparkSession) -> dict[str, tuple]:
    spark.catalog.refreshTable(INDEX_TABLE)
    names = ", ".join(spark_identifier(n) for n, _ in INDEX_COLUMNS)
    rows = spark.sql(f"SELECT {names} FROM {spark_qualified(INDEX_TABLE)}").collect()
    return {r[0]: tuple(r) for r in rows}


def _write_index(spark: SparkSession, stored: dict[str, tuple], updates: list[list]) -> None:
    """Replace the index by ``stored`` with ``updates`` applied (the index is small: collected first, so
    the overwrite never reads the table it replaces)."""
    merged = dict(stored)
    for row in updates:
        merged[row[0]] = tuple(row)
    schema = ", ".join(f"{n} {t}" for n, t in SPARK_INDEX_COLUMNS)
    spark.createDataFrame(sorted(merged.values()), schema).createOrReplaceTempView("_ingest_index")
    try:
        spark.sql(f"INSERT OVERWRITE TABLE {spark_qualified(INDEX_TABLE)} SELECT * FROM `_ingest_index`")
    finally:
        spark.catalog.dropTempView("_ingest_index")


def _check_rows(runner: SparkSql) -> None:
    """The row rules (load_plan.row_rules_sql) on the staged rows, before anything is written."""
    check_row_rules(runner.execute(row_rules_sql(_STAGED), row_rules_parameters()).fetchall())


def ingest_window_spark(
    spark: SparkSession,
    lake: str | Path,
    files: list[SourceFile],
    start: date,
    end: date,
    split_settings: Mapping[str, str] | None = None,
) -> RawLoadResult:
    """Replace the months ``start <= m < end`` of the lake's ``ingest.raw_readings`` from ``files``.

    The same rows as :func:`raw_ingest.load_raw_readings` stores in DuckDB (file, line, parsed fields,
    raw text of lines that fail to parse). ``split_settings`` override :data:`SPLIT_SETTINGS` (tests
    split small files into many blocks).
    """
    ensure_lake_table(spark, lake, RAW_LAKE_TABLE)
    ensure_index_table(spark, lake)
    stored_index = _stored_index(spark)
    names = [name for name, _ in SPARK_INDEX_COLUMNS]
    at = [names.index(n) for n in ("size_bytes", "mtime_ns", "first_month", "last_month")]  # what plan_load reads
    indexed = {name: tuple(row[i] for i in at) for name, row in stored_index.items()}
    plan = plan_load(files, indexed, start, end)
    to_read, texts, parquet = plan.to_read, plan.texts, plan.parquet
    result = RawLoadResult(files_read=len(to_read), files_skipped=plan.files_skipped)
    for t in texts:
        _refuse_on_spark(t)
    runner = SparkSql(spark)
    staged: DataFrame | None = None
    try:
        with _pinned(spark, {**SPLIT_SETTINGS, **(split_settings or {})}):
            index_updates: list[list] = []
            if texts:
                scan = _scan(spark, texts)
                blocks, stats = _pass1(runner, scan, texts)
                _refuse_unread(texts, stats)
                refuse_unusable(texts, stats)  # before the next jobs (settle_files checks it again, cheaply)
                _numbered(spark, scan, blocks).createOrReplaceTempView(_LINES)
                _add_neighbours(runner, texts, stats)
                _add_intervals(runner, stats)
                settled = settle_files(texts, stats, fill=_fill)
                spark.createDataFrame(settled.files.to_arrow()).createOrReplaceTempView(_FILES)
                spark.createDataFrame(settled.fill.to_arrow()).createOrReplaceTempView(_FILL)
                index_updates = settled.index_rows
                params = {**parse_parameters(), "start": start, "end": end}
                staged = runner.sql(_staged_sql(texts), params)
            for f in parquet:
                frame = _parquet_rows(spark, f, start, end)
                staged = frame if staged is None else staged.unionByName(frame)
            months = months_in(start, end)
            if staged is None:  # no file to read: the window's months are emptied
                staged = spark.createDataFrame([], ", ".join(f"{n} {t}" for n, t in spark_columns(RawReadings)))
            check_schema(staged, RawReadings, RAW_TABLE)
            try:
                # Pass 2 runs once, here: the checks, the counts and the write below scan these rows, never
                # the source files again (a cache could be evicted and re-read a file changed since the check).
                staged = staged.localCheckpoint(eager=True)
                staged.createOrReplaceTempView(_STAGED)
                _check_rows(runner)
                counts = runner.execute(
                    f"SELECT reading_month, source_layout, count(*) FROM {_STAGED} GROUP BY ALL"
                ).fetchall()
            except Exception as failed:  # pass 2 broke (a line outside its file?): a changed file says why
                try:
                    refuse_changed_files(to_read)
                except SourceFileError as changed:
                    raise changed from failed
                raise
            refuse_changed_files(to_read)  # before the month overwrite
            overwrite_partitions(runner, RAW_TABLE, f"SELECT * FROM {_STAGED}", months)
            spark.catalog.refreshTable(RAW_TABLE)
            _write_index(spark, stored_index, index_updates + [_parquet_index_row(f) for f in parquet])
    finally:
        if staged is not None:
            release_checkpoint(staged)
        for name in (_SCAN, _LINES, _FILES, _FILL, _WANTED, _STAGED):
            spark.catalog.dropTempView(name)
    return count_rows(result, counts)


def lake_runner(spark: SparkSession, lake: str | Path) -> SparkSql:
    """A runner over the lake's ``ingest.raw_readings`` (registered in this session if it is not yet)."""
    ensure_lake_table(spark, lake, RAW_LAKE_TABLE)
    return SparkSql(spark)


def _parquet_rows(spark: SparkSession, f: SourceFile, start: date, end: date) -> DataFrame:
    """A Parquet readings file's window rows, converted in Python as on DuckDB (small files)."""
    import polars as pl

    from assets.common.table_model import validate

    frame = parquet_to_raw_rows(f.path, f.relative)
    window = validate(
        RawReadings,
        frame.filter((pl.col(PARTITION_COLUMN) >= start) & (pl.col(PARTITION_COLUMN) < end)),
        f"{RAW_TABLE} ({f.relative})",
    )
    return spark.createDataFrame(window.to_arrow())


def _parquet_index_row(f: SourceFile) -> list[Any]:
    return parquet_index_row(f, parquet_to_raw_rows(f.path, f.relative))


__all__ = ["RAW_LAKE_TABLE", "SPLIT_SETTINGS", "ensure_index_table", "ingest_window_spark", "lake_runner"]
