"""Features and personas recover what the generator planted."""

import polars as pl
import pytest
from sklearn.metrics import adjusted_rand_score

pytestmark = pytest.mark.slow  # the whole graph on 300 generated households


def test_population_effects_match_planted_truth(pipeline):
    truth = pipeline.truth.filter(pl.col("tariff_group") == "ToU")
    with pipeline.con() as con:
        rows = dict(
            con.execute(
                """SELECT band, effect_pct FROM features.tariff_response_summary
               WHERE analysis = 'treatment' AND window_kind = 'event' AND start_bucket = 'all'
                 AND season = 'all' AND method = 'primary'"""
            ).fetchall()
        )
    # The pooled effect weights households by their reference load; the plain mean of the truth is close.
    assert abs(rows["High"] - truth["true_high_effect_pct"].mean()) < 0.03
    assert abs(rows["Low"] - truth["true_low_effect_pct"].mean()) < 0.04


def test_responders_recall_and_precision(pipeline):
    with pipeline.con() as con:
        flagged = con.sql(
            "SELECT household_id, responder FROM features.treatment_features WHERE tariff_group = 'ToU'"
        ).pl()
    joined = flagged.join(pipeline.truth.select("household_id", "is_responder"), on="household_id")
    tp = joined.filter(pl.col("responder") & pl.col("is_responder")).height
    recall = tp / joined["is_responder"].sum()
    precision = tp / max(joined["responder"].sum(), 1)
    assert recall >= 0.8 and precision >= 0.7, (recall, precision)


def test_placebo_on_baseline_year_covers_zero(pipeline):
    with pipeline.con() as con:
        low, high = con.execute(
            """SELECT ci_low_pct, ci_high_pct FROM features.tariff_response_summary
               WHERE analysis = 'placebo' AND band = 'High' AND window_kind = 'event' AND start_bucket = 'all'"""
        ).fetchall()[0]
    assert low <= 0 <= high


def test_load_shape_clusters_recover_archetypes(pipeline):
    with pipeline.con() as con:
        assigned = con.sql("SELECT household_id, load_shape_cluster, persona_name FROM model.segment_assignments").pl()
    joined = assigned.join(pipeline.truth.select("household_id", "archetype"), on="household_id")
    assert joined.height >= 0.97 * pipeline.truth.height  # a few part-year meters lack the coverage
    assert adjusted_rand_score(joined["archetype"], joined["load_shape_cluster"]) >= 0.8


def test_persona_names_describe_the_planted_archetypes(pipeline):
    with pipeline.con() as con:
        assigned = con.sql("SELECT household_id, persona_name FROM model.segment_assignments").pl()
    joined = assigned.join(pipeline.truth.select("household_id", "archetype"), on="household_id")
    expected = {
        "evening_peaker": "evening",
        "daytime_at_home": "daytime",
        "flat_baseload": "flat baseload",
        "night_storage_heating": "night storage heating",
        "morning_evening_double_peak": "double",
    }
    for archetype, words in expected.items():
        names = joined.filter(pl.col("archetype") == archetype)["persona_name"]
        share = names.str.contains(words).mean()
        assert share >= 0.8, (archetype, names.value_counts())


def test_responders_concentrate_in_price_responsive_personas(pipeline):
    with pipeline.con() as con:
        assigned = con.sql(
            """SELECT a.household_id, p.is_price_responsive FROM model.segment_assignments a
               JOIN model.personas p USING (persona_id)"""
        ).pl()
    joined = assigned.join(pipeline.truth.select("household_id", "is_responder"), on="household_id")
    responders = joined.filter(pl.col("is_responder"))
    others = joined.filter(~pl.col("is_responder"))
    assert responders["is_price_responsive"].mean() >= 0.7
    assert others["is_price_responsive"].mean() <= 0.05
