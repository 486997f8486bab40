"""Which engine runs the heavy half-hourly SQL, and that SQL in Spark's dialect.

One definition: the SQL files (``assets/<stage>/sql/*.sql``, DuckDB dialect) and the VEE rule
predicates are the only text of every rule. DuckDB runs them as written; Spark runs them after
SQLGlot transpiles them (``read="duckdb", write="spark"``). Values stay bound parameters on both
engines: DuckDB's ``$name`` becomes Spark's named parameter marker ``:name`` (bound with
``spark.sql(query, args=...)``); nothing is spliced into the text.

``METER_ENGINE`` chooses: ``duckdb`` (the default: embedded, one machine) or ``spark`` (the
half-hourly tables as Parquet under ``METER_LAKE``, see docs/SCALING.md). Nothing here imports
pyspark or Dagster; sqlglot (the ``spark`` extra) is imported only when a statement is transpiled.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from functools import cache
from typing import Any, ClassVar, Literal

Engine = Literal["duckdb", "spark"]
ENGINES: tuple[Engine, ...] = ("duckdb", "spark")
DEFAULT_ENGINE: Engine = "duckdb"
ENGINE_VARIABLE = "METER_ENGINE"
LAKE_VARIABLE = "METER_LAKE"
DEFAULT_LAKE = "data/lake"

# SQL constructs we know SQLGlot cannot carry over faithfully: each is written in a portable form
# in the SQL files instead (docs/SCALING.md lists them). A statement still using one fails here,
# at transpile time, with the reason, instead of running with different semantics on Spark.
NOT_PORTABLE = {
    "microsecond(": "no MICROSECOND() in Spark: test the grid with date_trunc('minute', ts) <> ts",
    "isfinite(": "no ISFINITE() in Spark: use isnan(v) OR v IN (CAST('Infinity' AS DOUBLE), ...)",
    "regexp_full_match(": "no full-match regexp in Spark: regexp_matches with a \\A(?:...)\\z pattern",
    "to_minutes(": "no TO_MINUTES() in Spark: n * INTERVAL 30 MINUTE",
    "epoch(": "EPOCH(interval) becomes UNIX_TIMESTAMP(interval) on Spark: use date_diff('second', a, b)",
    "within group": "SQLGlot writes PERCENTILE_CONT(q) WITHIN GROUP as Spark's PERCENTILE_APPROX (approximate): "
    "use quantile_cont(v, q)",
}
# The one per-dialect override (docs/SCALING.md): DuckDB's exact quantile_cont(v, q) parses as
# PERCENTILE_CONT(v, q), which SQLGlot prints unchanged and Spark rejects (its PERCENTILE_CONT takes
# WITHIN GROUP); Spark's exact equivalent, with the same linear interpolation, is PERCENTILE(v, q).
SPARK_OVERRIDES = {"PercentileCont": "percentile"}


class EngineError(ValueError):
    """A bad ``METER_ENGINE`` value, or SQL that cannot run on the chosen engine as written."""


def engine_from_env(environ: Mapping[str, str] | None = None) -> Engine:
    """The engine ``METER_ENGINE`` names (unset or empty: ``duckdb``); anything else raises."""
    value = (environ if environ is not None else os.environ).get(ENGINE_VARIABLE, "").strip().lower()
    if not value:
        return DEFAULT_ENGINE
    if value not in ENGINES:
        raise EngineError(
            f"{ENGINE_VARIABLE}={value!r} is not an engine: use one of {', '.join(ENGINES)} "
            f"(unset = {DEFAULT_ENGINE}); see docs/SCALING.md"
        )
    if value == "spark":
        check_spark_installed()
    return value  # type: ignore[return-value]


def check_spark_installed() -> None:
    """Raise :class:`EngineError` in one sentence naming the command when the Spark engine cannot run here:
    the optional ``spark`` extra (pyspark, sqlglot) is not installed, or there is no Java."""
    import importlib.util
    import shutil

    missing = [name for name in ("pyspark", "sqlglot") if importlib.util.find_spec(name) is None]
    if missing:
        raise EngineError(
            f"{ENGINE_VARIABLE}=spark needs the optional spark extra ({', '.join(missing)} not installed): run "
            "`make env-spark` (or `make demo` / `make bench-engines`, which install it), or unset "
            f"{ENGINE_VARIABLE} to use {DEFAULT_ENGINE}."
        )
    if shutil.which("java") is None and not os.environ.get("JAVA_HOME"):
        raise EngineError(
            f"{ENGINE_VARIABLE}=spark needs Java 17 or newer on PATH (or JAVA_HOME): install it (Debian: "
            f"`apt-get install openjdk-17-jre-headless`), or unset {ENGINE_VARIABLE} to use {DEFAULT_ENGINE}."
        )


def lake_from_env(environ: Mapping[str, str] | None = None) -> str:
    """Root of the Parquet lake of the Spark engine (``METER_LAKE``; a folder or an object-store URI)."""
    return (environ if environ is not None else os.environ).get(LAKE_VARIABLE, "").strip() or DEFAULT_LAKE


def check_portable(sql: str) -> None:
    """Raise :class:`EngineError` if ``sql`` uses a construct SQLGlot does not carry to Spark faithfully."""
    lowered = sql.lower()
    for construct, advice in NOT_PORTABLE.items():
        if construct in lowered:
            raise EngineError(f"SQL uses {construct.rstrip('(')}(), which does not transpile faithfully: {advice}")


@cache
def _spark_dialect() -> Any:
    """SQLGlot's Spark dialect with :data:`SPARK_OVERRIDES` (built once)."""
    from sqlglot import exp
    from sqlglot.dialects.spark import Spark

    def exact_percentile(generator: Any, node: exp.PercentileCont) -> str:
        if node.expression is None:  # the WITHIN GROUP form: refused by check_portable
            raise EngineError("PERCENTILE_CONT without a fraction argument does not transpile to Spark")
        return generator.func(SPARK_OVERRIDES["PercentileCont"], node.this, node.expression)

    class MeterSpark(Spark):
        class Generator(Spark.Generator):
            TRANSFORMS: ClassVar[dict] = {**Spark.Generator.TRANSFORMS, exp.PercentileCont: exact_percentile}

    return MeterSpark


@cache
def transpile(sql: str, tables: tuple[tuple[str, str], ...] = ()) -> str:
    """One DuckDB-dialect statement in Spark SQL (``$name`` parameters become ``:name``). Cached.

    ``tables``: ``(schema.table, name)`` pairs; each reference to ``schema.table`` is read from the
    Spark relation ``name`` instead (a warehouse table mirrored into the session, see
    ``spark.SparkConnection``). Identifiers only: no value ever enters the text.
    """
    import sqlglot
    from sqlglot import exp

    check_portable(sql)
    trees = sqlglot.parse(sql, read="duckdb")
    if len(trees) != 1 or trees[0] is None:
        raise EngineError(f"expected one SQL statement, got {len(trees)}")
    tree = trees[0]
    for cte in tree.find_all(exp.CTE):
        # DuckDB's [NOT] MATERIALIZED is a planner hint (same rows either way) that Spark's grammar lacks;
        # Spark decides by itself whether to reuse a CTE.
        cte.set("materialized", None)
    if tables:
        tree = exp.replace_tables(tree, dict(tables), dialect="duckdb", copy=True)
    return tree.sql(dialect=_spark_dialect(), unsupported_level=sqlglot.ErrorLevel.RAISE)


@cache
def qualified_tables(sql: str) -> frozenset[str]:
    """The ``schema.table`` names a DuckDB-dialect statement reads (unqualified names, CTEs and
    temporary tables, are left out)."""
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(sql, read="duckdb")
    return frozenset(f"{t.db}.{t.name}" for t in tree.find_all(exp.Table) if t.db and not t.catalog)
