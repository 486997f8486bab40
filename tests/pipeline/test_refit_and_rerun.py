"""Re-running is safe: same data -> same model, same personas, same rows."""

import pytest


def snapshot(pipeline):
    with pipeline.con() as con:
        return {
            "assignments": con.execute(
                "SELECT household_id, load_shape_cluster, persona_id, persona_name "
                "FROM model.segment_assignments ORDER BY household_id"
            ).fetchall(),
            "personas": con.execute(
                "SELECT persona_id, persona_name, n_households FROM model.personas ORDER BY persona_id"
            ).fetchall(),
            "fingerprint": con.execute(
                "SELECT fingerprint FROM model.cluster_model_registry ORDER BY fitted_at DESC LIMIT 1"
            ).fetchall(),
            "clean_rows": con.execute(
                "SELECT count(*), sum(CAST(round(kwh * 1e6) AS HUGEINT)) FROM clean.clean_readings"
            ).fetchall(),
        }


pytestmark = pytest.mark.slow  # the whole graph on 300 generated households


def test_refit_on_same_data_gives_same_personas(pipeline):
    before = snapshot(pipeline)
    pipeline.materialize(["cluster_model", "segment_assignments", "personas"])
    assert snapshot(pipeline) == before


def test_rematerializing_a_month_does_not_duplicate(pipeline):
    before = snapshot(pipeline)["clean_rows"]
    pipeline.materialize(
        ["raw_readings", "clean_readings", "quarantined_readings", "household_month_coverage"],
        partition_key="2013-06-01",
    )
    assert snapshot(pipeline)["clean_rows"] == before
