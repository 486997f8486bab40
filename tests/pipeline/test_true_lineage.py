"""The lineage in the UI is the truth: every table an asset's step reads is written by one of its
declared upstream assets.

Each step of the graph is materialized alone, on a copy of the whole-graph warehouse, with DuckDB's
query log on (``CALL enable_logging('QueryLog')``): every statement the step ran, whichever module
ran it. A table is *written* by a step when one of its statements creates, inserts into, deletes from,
updates or replaces it; it is *read* when a statement of another step names it. Each read must be of a
table whose writer is a declared dependency (``deps``) of one of the reading step's assets. Partitioned
steps run one month (their reads do not depend on which).

Multi-asset steps (clean, the aggregates, features) are judged as a step: the union of their assets'
declared dependencies.
"""

from __future__ import annotations

import re
import shutil
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from assets.common.resources import MeterSource, ReportsDir, Warehouse
from pipelines.engines import DuckDBEngine
from tests.pipeline.conftest import Pipeline

pytestmark = pytest.mark.slow

MONTH = "2013-01-01"
STATEMENTS: list[str] = []  # the query log of the step being run


class QueryLoggingWarehouse(Warehouse):
    """The warehouse resource with DuckDB's query log on: each connection's statements end in STATEMENTS."""

    @contextmanager
    def get_connection(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with super().get_connection() as con:
            con.execute("CALL enable_logging('QueryLog')")
            try:
                yield con
            finally:
                logged = con.execute("SELECT message FROM duckdb_logs WHERE type = 'QueryLog'").fetchall()
                STATEMENTS.extend(message for (message,) in logged)


def _pattern(table: str) -> str:
    schema, name = table.split(".")
    return rf'(?<![\w"])"?{re.escape(schema)}"?\s*\.\s*"?{re.escape(name)}"?(?![\w"])'


# Statements that change a table's rows or replace it. Idempotent schema guards (CREATE TABLE IF NOT
# EXISTS, ALTER TABLE ... ADD COLUMN IF NOT EXISTS: clean makes sure the index it reads has its columns)
# change no row: they count as touching the table, like a read.
WRITE = (
    r"(?:CREATE\s+(?:OR\s+REPLACE\s+)?TABLE(?!\s+IF\s+NOT\s+EXISTS)|INSERT\s+(?:OR\s+REPLACE\s+)?INTO"
    r"|DELETE\s+FROM|UPDATE|DROP\s+TABLE(?:\s+IF\s+EXISTS)?|TRUNCATE(?:\s+TABLE)?)\s+"
)


def writes_and_reads(statements: list[str], tables: list[str]) -> tuple[set[str], set[str]]:
    """(tables the statements write, tables they name otherwise)."""
    written, named = set(), set()
    for sql in statements:
        for table in tables:
            if re.search(WRITE + _pattern(table), sql, flags=re.IGNORECASE):
                written.add(table)
            elif re.search(_pattern(table), sql):
                named.add(table)
    return written, named - written


def creates(statements: list[str], table: str) -> set[str]:
    """{table} when one of the statements creates it (guarded or not), else nothing."""
    create = r"CREATE\s+(?:OR\s+REPLACE\s+)?TABLE(?:\s+IF\s+NOT\s+EXISTS)?\s+"
    made = any(re.search(create + _pattern(table), sql, flags=re.IGNORECASE) for sql in statements)
    return {table} if made else set()


def test_writes_and_reads_are_told_apart():
    tables = ["clean.clean_readings", "features.household_days", "features.household_days_fingerprint"]
    written, read = writes_and_reads(
        [
            'INSERT INTO "features"."household_days" SELECT * FROM "clean"."clean_readings" WHERE m = $m',
            "DELETE FROM features.household_days_fingerprint WHERE m = $m",
        ],
        tables,
    )
    assert written == {"features.household_days", "features.household_days_fingerprint"}
    assert read == {"clean.clean_readings"}
    written, read = writes_and_reads(
        [
            "CREATE TABLE IF NOT EXISTS clean.clean_readings (a INT)",
            "CREATE OR REPLACE TABLE features.household_days AS SELECT 1",
        ],
        tables,
    )
    assert written == {"features.household_days"} and read == {"clean.clean_readings"}


def _steps(definitions: dg.Definitions) -> list[dg.AssetsDefinition]:
    graph = definitions.resolve_asset_graph()
    order = {key: i for i, key in enumerate(graph.toposorted_asset_keys)}
    steps = [a for a in definitions.assets if isinstance(a, dg.AssetsDefinition) and a.is_executable]
    return sorted(steps, key=lambda a: min(order[k] for k in a.keys))


@pytest.fixture(scope="module")
def step_logs(pipeline: Pipeline, tmp_path_factory: pytest.TempPathFactory) -> tuple[dict, list[str]]:
    root = tmp_path_factory.mktemp("lineage")
    shutil.copy(pipeline.warehouse, root / "warehouse.duckdb")
    resources = {
        "warehouse": QueryLoggingWarehouse(database=str(root / "warehouse.duckdb")),
        "source": MeterSource(source_dir=str(pipeline.folder)),
        "reports": ReportsDir(path=str(root / "reports")),
        "engine": DuckDBEngine(),
    }
    instance = dg.DagsterInstance.ephemeral(tempdir=str(root / "dagster_home"))
    logs = {}
    for step in _steps(pipeline.definitions):
        STATEMENTS.clear()
        result = dg.materialize(
            pipeline.definitions.assets,
            selection=dg.AssetSelection.assets(*step.keys),
            resources=resources,
            instance=instance,
            partition_key=MONTH if step.partitions_def is not None else None,
        )
        assert result.success, step.node_def.name
        logs[step] = list(STATEMENTS)
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        tables = [
            f"{schema}.{name}"
            for schema, name in con.execute(
                "SELECT table_schema, table_name FROM information_schema.tables "
                "WHERE table_type = 'BASE TABLE' AND table_schema NOT IN ('information_schema', 'pg_catalog', 'main')"
            ).fetchall()
        ]
    return logs, tables


def test_every_table_a_step_reads_is_written_by_a_declared_upstream(step_logs):
    logs, tables = step_logs
    assert len(tables) > 30
    writer: dict[str, set[str]] = defaultdict(set)
    reads: dict[dg.AssetsDefinition, set[str]] = {}
    for step, statements in logs.items():
        assert statements, f"{step.node_def.name} ran no logged statement"
        written, read = writes_and_reads(statements, tables)
        for table in written:
            writer[table].add(step.node_def.name)
        reads[step] = read
    by_name = {step.node_def.name: step for step in logs}
    undeclared = []
    for step, read in reads.items():
        declared = set().union(*(step.asset_deps[key] for key in step.keys))
        for table in sorted(read):
            writers = writer.get(table)
            if not writers and table in creates(logs[step], table):
                continue  # the step's own table (it creates it), with no row written this run (a ledger)
            if not writers:
                undeclared.append(f"{step.node_def.name} reads {table}, which no asset writes")
                continue
            if not any(set(by_name[w].keys) & declared for w in writers):
                by = ", ".join(sorted(writers))
                undeclared.append(f"{step.node_def.name} reads {table} (written by {by}), not a declared upstream")
    assert not undeclared, "\n".join(undeclared)
    # the log saw the reads that matter: the features read the clean readings and the aggregates
    features = next(step for step in logs if step.node_def.name == "features")
    assert {"clean.clean_readings", "features.household_days", "ingest.households"} <= reads[features]


def test_each_table_has_one_writing_step(step_logs):
    logs, tables = step_logs
    writer: dict[str, set[str]] = defaultdict(set)
    for step, statements in logs.items():
        for table in writes_and_reads(statements, tables)[0]:
            writer[table].add(step.node_def.name)
    shared = {table: sorted(steps) for table, steps in writer.items() if len(steps) > 1}
    assert not shared, shared


def test_the_writes_of_a_step_are_seen(step_logs, tmp_path: Path):
    logs, tables = step_logs
    clean = next(step for step in logs if step.node_def.name == "clean")
    written, _ = writes_and_reads(logs[clean], tables)
    assert {"clean.clean_readings", "clean.quarantined_readings", "clean.household_month_coverage"} <= written
