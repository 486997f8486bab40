"""The engine switch and the DuckDB -> Spark transpilation of our SQL (no Spark session needed)."""

from __future__ import annotations

import pytest

from assets.common.engine import ENGINE_VARIABLE, EngineError, engine_from_env, lake_from_env


def test_engine_defaults_to_duckdb_and_validates_the_variable():
    assert engine_from_env({}) == "duckdb"
    assert engine_from_env({ENGINE_VARIABLE: ""}) == "duckdb"
    assert engine_from_env({ENGINE_VARIABLE: " Spark "}) == "spark"
    with pytest.raises(EngineError, match=r"METER_ENGINE='sparc' is not an engine: use one of duckdb, spark"):
        engine_from_env({ENGINE_VARIABLE: "sparc"})
    assert lake_from_env({}) == "data/lake"
    assert lake_from_env({"METER_LAKE": "s3a://bucket/meter"}) == "s3a://bucket/meter"


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
