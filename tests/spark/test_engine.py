"""The engine switch and the DuckDB -> Spark transpilation of our SQL (no Spark session needed)."""

from __future__ import annotations

import re
import string

import pytest

from assets.common.engine import ENGINE_VARIABLE, EngineError, engine_from_env, lake_from_env


def test_engine_defaults_to_duckdb_and_validates_the_variable(monkeypatch):
    assert engine_from_env({}) == "duckdb"
    assert engine_from_env({ENGINE_VARIABLE: ""}) == "duckdb"
    monkeypatch.setattr("assets.common.engine.check_spark_installed", lambda: None)  # installed or not, here
    assert engine_from_env({ENGINE_VARIABLE: " Spark "}) == "spark"
    with pytest.raises(EngineError, match=r"METER_ENGINE='sparc' is not an engine: use one of duckdb, spark"):
        engine_from_env({ENGINE_VARIABLE: "sparc"})
    assert lake_from_env({}) == "data/lake"
    assert lake_from_env({"METER_LAKE": "s3a://bucket/meter"}) == "s3a://bucket/meter"


def test_spark_without_its_extra_or_java_is_refused_in_one_sentence_naming_the_command(monkeypatch):
    import importlib.util
    import shutil

    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "pyspark" else real_find_spec(name, *a)
    )
    with pytest.raises(EngineError) as refused:
        engine_from_env({ENGINE_VARIABLE: "spark"})
    message = str(refused.value)
    assert "pyspark not installed" in message and "`make env-spark`" in message and "\n" not in message
    monkeypatch.setattr(importlib.util, "find_spec", real_find_spec)
    if real_find_spec("pyspark") is None or real_find_spec("sqlglot") is None:
        return  # the Java check below needs the extra installed
    monkeypatch.setattr(shutil, "which", lambda name: None)
    monkeypatch.delenv("JAVA_HOME", raising=False)
    with pytest.raises(EngineError, match=r"needs Java 17 or newer on PATH"):
        engine_from_env({ENGINE_VARIABLE: "spark"})


def test_parameters_stay_bound_and_identifiers_quoted():
    pytest.importorskip("sqlglot")
    from assets.common.engine import transpile

    sql = 'SELECT "x" FROM "clean"."clean_readings" WHERE reading_month >= $start AND v > $max_kwh'
    assert transpile(sql) == "SELECT `x` FROM `clean`.`clean_readings` WHERE reading_month >= :start AND v > :max_kwh"


def test_exact_quantile_is_spark_percentile_not_an_approximation():
    pytest.importorskip("sqlglot")
    from assets.common.engine import transpile

    out = transpile("SELECT quantile_cont(value, 0.25) AS q25 FROM t GROUP BY ALL")
    assert out == "SELECT PERCENTILE(value, 0.25) AS q25 FROM t GROUP BY ALL"
    with pytest.raises(EngineError, match="PERCENTILE_APPROX"):  # the form SQLGlot would make approximate
        transpile("SELECT percentile_cont(0.25) WITHIN GROUP (ORDER BY value) FROM t")


@pytest.mark.parametrize(
    "construct",
    [
        "SELECT microsecond(ts) FROM t",
        "SELECT isfinite(v) FROM t",
        "SELECT regexp_full_match(h, $p) FROM t",
        "SELECT ts + to_minutes(30) FROM t",
        "SELECT epoch(a - b) FROM t",
    ],
)
def test_constructs_that_do_not_transpile_faithfully_are_refused(construct: str):
    pytest.importorskip("sqlglot")
    from assets.common.engine import transpile

    with pytest.raises(EngineError, match="does not transpile faithfully"):
        transpile(construct)


def test_every_clean_statement_transpiles():
    """The clean SQL, assembled with the VEE predicates, uses only constructs that carry over."""
    pytest.importorskip("sqlglot")
    from assets.clean import clean_readings
    from assets.common.engine import transpile

    names = ["classify", "conservation", "conservation_by_file", "rows_by_rule", "totals"]
    names += [f"stage_{s}" for s in ("actual", "anchors", "classified", "coverage", "duplicate_keys")]
    names += [f"stage_{s}" for s in ("estimated", "file_balance", "quarantined")]
    for name in names:
        spark_sql = transpile(clean_readings._sql(name, classified=clean_readings._sql("classify")))
        assert "$" not in spark_sql, name  # every parameter became a Spark marker


def test_warehouse_tables_are_read_from_their_session_copy_and_nothing_else_moves():
    pytest.importorskip("sqlglot")
    from assets.common.engine import qualified_tables, transpile

    sql = (
        'SELECT a.household_id, h.tariff_group FROM "features"."household_days" a '
        'JOIN ingest.households h USING (household_id) JOIN "_feat_grid_1" g ON g.d = a.local_date '
        "WHERE a.household_id IN (SELECT household_id FROM clean.clean_readings) AND a.kwh > $lo"
    )
    assert qualified_tables(sql) == {"features.household_days", "ingest.households", "clean.clean_readings"}
    out = transpile(sql, (("features.household_days", "_wh_days"), ("ingest.households", "_wh_hh")))
    assert "_wh_days AS a" in out and "_wh_hh AS h" in out
    assert "`clean`.`clean_readings`" in out or "clean.clean_readings" in out  # a lake table stays itself
    assert "`_feat_grid_1` AS g" in out and ":lo" in out
    code = re.sub(r"/\*.*?\*/", "", out)  # SQLGlot leaves the original name in a comment
    assert "household_days" not in code and "households " not in code


def test_cte_materialization_hints_are_dropped_for_spark():
    """DuckDB's ``AS [NOT] MATERIALIZED`` is a planner hint Spark's grammar lacks (same rows either way)."""
    pytest.importorskip("sqlglot")
    from assets.common.engine import transpile

    out = transpile("WITH o AS NOT MATERIALIZED (SELECT 1 AS x), p AS MATERIALIZED (SELECT 2 AS y) SELECT * FROM o, p")
    assert "MATERIALIZED" not in out.upper() and out.startswith("WITH o AS (SELECT 1 AS x), p AS (SELECT 2 AS y)")


def test_every_feature_and_report_statement_transpiles():
    """The feature SQL files and the report's kW-profile SQL, with their tables filled in."""
    pytest.importorskip("sqlglot")
    from pathlib import Path

    from assets.common.engine import transpile
    from assets.common.sql import load_sql
    from assets.features.duck import statement

    def placeholders(text: str) -> dict[str, str]:  # every {table} of a statement, filled with a name
        return {name: "_t" for _, name, _, _ in string.Formatter().parse(text) if name}

    folder = Path(__file__).resolve().parents[2] / "assets" / "features" / "sql"
    for path in sorted(folder.glob("*.sql")):
        tables = placeholders(path.read_text(encoding="utf-8"))
        spark_sql = re.sub(r"/\*.*?\*/", "", transpile(statement(path.stem, **tables)))
        assert "$" not in spark_sql, path.stem  # every parameter became a Spark marker
    for name in ("persona_kw_profiles", "event_day_high_share"):
        sql = load_sql(str(folder.parent.parent / "reports" / "profiles.py"), name).format(
            readings="clean.clean_readings",
            schedule="ingest.tariff_schedule",
            grid="_g",
            assignments="model.a",
            households="ingest.households",
        )
        assert "$" not in re.sub(r"/\*.*?\*/", "", transpile(sql)), name
