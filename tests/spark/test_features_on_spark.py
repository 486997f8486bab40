"""The features stage on Spark (the same feature SQL through ``duck``'s Spark connection, over the lake)
against DuckDB on the real sample: issue 13's proof for the features."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
import pytest

from assets.clean.clean_readings import CLEAN_TABLE, COVERAGE_TABLE, QUARANTINE_TABLE
from assets.features import aggregate_reads, aggregates
from assets.features.settings import FeatureSettings
from pipelines.tooling.engine_parity import assert_same_features, counts_by_month, population_effects
from tests.spark.feature_compare import features_on_both

pytestmark = pytest.mark.spark
AGGREGATE_TABLES = {aggregates.SLOTS_TABLE, aggregates.DAYS_TABLE, aggregates.EVENTS_TABLE, aggregates.REFERENCE_TABLE}

# December 2012 is the baseline window (only the 19 households that span 2012 and 2013 have readings
# then), January 2013 the trial window (all 219 households; 60 High and 162 Low half hours): both DiD
# references (baseline year and within window), the k-NN matching on baseline profiles and the
# population summary are exercised on two months, so that the test stays within a few minutes. The
# placebo schedule is shifted 4 weeks back instead of 52 so that it lands in that one baseline month.
START, END = date(2012, 12, 1), date(2013, 2, 1)
SETTINGS = FeatureSettings(
    baseline_start=date(2012, 12, 1),
    baseline_end=date(2013, 1, 1),
    treatment_start=date(2013, 1, 1),
    treatment_end=date(2013, 2, 1),
    bootstrap_replicates=200,
    placebo_shift_days=28,
)


@pytest.mark.real_data
@pytest.mark.timeout(2400)  # two Spark cleans and two feature runs: generous for a loaded 2-core machine
def test_real_sample_features_equal_on_both_engines(
    con, spark, lake, lcl_sample: Path, real_warehouse: Path, tmp_path: Path
):
    with aggregate_reads.recorded_reads() as reads:
        on_duckdb, on_spark, spark_con = features_on_both(
            con, spark, lake, lcl_sample, START, END, SETTINGS, tmp_path / "spark_side.duckdb", real_warehouse
        )
    try:
        # The aggregate readers ran on both engines (on Spark over the lake's aggregate tables): every read
        # the aggregates can answer was answered by them, the same table on both engines. The documented
        # fallbacks only read the readings: the exact base-load quantile, and the placebo shifted 4 weeks
        # (the aggregates hold the default 52-week placebo's half hours).
        on_duck, on_lake = aggregate_reads.read_sources(reads, "duckdb"), aggregate_reads.read_sources(reads, "spark")
        assert on_lake == on_duck, (on_duck, on_lake)
        by_readings = {reader for reader, tables in on_duck.items() if SETTINGS.readings_table in tables}
        assert all("base-load" in r or "placebo schedule" in r for r in by_readings), by_readings
        assert {t for tables in on_duck.values() for t in tables} == {SETTINGS.readings_table, *AGGREGATE_TABLES}
        assert len(on_duck) >= 12, on_duck
        assert not spark_con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'features' AND table_name IN "
            "('household_month_slots', 'household_days', 'household_event_readings', 'household_reference_slots', "
            "'aggregate_month_inputs')"
        ).fetchone()[0], "on Spark the aggregates live in the lake, not the warehouse"

        assert not spark_con.execute(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'clean'"
        ).fetchone()[0], "the Spark side's warehouse must not hold clean tables: the features read the lake"
        for table in (CLEAN_TABLE, QUARANTINE_TABLE, COVERAGE_TABLE):
            duck, lake_counts = counts_by_month(con, lake, table, START, END)
            assert duck == lake_counts, table
        assert [m for m, _ in counts_by_month(con, lake, CLEAN_TABLE, START, END)[0]] == [START, date(2013, 1, 1)]

        rows = assert_same_features(on_duckdb, on_spark)
        assert rows["baseline_features"] >= 5, rows
        assert rows["treatment_features"] >= 200, rows
        assert rows["treatment_event_responses"] >= 1_000, rows

        effects = population_effects(on_duckdb["tariff_response_summary"])
        assert set(effects["band"]) == {"High", "Low"}
        assert effects["n_households"].min() > 0
        # the High and Low effects and their intervals: equal (to rounding) on both engines
        spark_effects = population_effects(on_spark["tariff_response_summary"])
        for column in ("effect_kwh", "effect_pct", "ci_low_pct", "ci_high_pct"):
            if column in effects.columns:
                assert effects[column].to_list() == pytest.approx(spark_effects[column].to_list(), rel=1e-9, abs=1e-12)
        # the comparison can fail: one feature moved by 1e-8 relative, or one responder flag flipped
        moved = on_spark["baseline_features"].with_columns(pl.col("mean_daily_kwh") * (1 + 1e-8))
        with pytest.raises(AssertionError):
            assert_same_features(on_duckdb, {**on_spark, "baseline_features": moved})
        flipped = on_spark["treatment_features"].with_columns(
            responder=pl.when(pl.int_range(pl.len()) == 0).then(~pl.col("responder")).otherwise(pl.col("responder"))
        )
        with pytest.raises(AssertionError):
            assert_same_features(on_duckdb, {**on_spark, "treatment_features": flipped})
        # both DiD references took part
        methods = set(on_duckdb["treatment_event_responses"]["method"])
        assert methods == {"within", "baseline"}, methods
        assert (on_duckdb["treatment_features"]["response_method"] == "baseline_year_did").any()
    finally:
        spark_con.close()
