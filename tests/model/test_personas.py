"""Behavioural personas: responders, naming rules, stability of names and assignments."""

from __future__ import annotations

import dataclasses

import numpy as np
import polars as pl
import pytest

from assets.model.cluster_model import assign_segments, fit_cluster_model
from assets.model.persona_naming import (
    disambiguate,
    levels_from_profile,
    name_from_levels,
    responsive_name,
    slugify,
    unresponsive_name,
)
from assets.model.settings import NamingRules
from tests.model.seg_synthetic import ARCHETYPES, archetype_profile, assert_same_assignments

EXPECTED_NAMES = {
    "evening": "evening peaker",
    "daytime": "daytime at home",
    "flat": "flat baseload",
    "night": "night storage heating",
    "double": "morning and evening double peak",
}


def test_responders_concentrated_in_responsive_personas(fitted, synthetic):
    _, assignments = fitted
    _, truth = synthetic
    j = assignments.join(truth, on="household_id")
    responders = j.filter(pl.col("is_responder"))
    assert responders.height > 30
    share_in_responsive = responders["is_price_responsive_persona"].mean()
    assert share_in_responsive >= 0.9
    responsive_members = j.filter(pl.col("is_price_responsive_persona"))
    assert responsive_members["is_responder"].mean() >= 0.9
    assert all(n.startswith("price-responsive") for n in responsive_members["persona_name"].unique())
    # the lifestyle segments themselves recover the archetypes
    from sklearn.metrics import adjusted_rand_score

    assert adjusted_rand_score(j["archetype"], j["segment"]) >= 0.8


@pytest.mark.parametrize("archetype", ARCHETYPES)
def test_naming_rules_on_constructed_centroids(archetype):
    levels = levels_from_profile(archetype_profile(archetype), mean_daily_kwh=10.0)
    name, reason = name_from_levels(levels, NamingRules())
    assert name == EXPECTED_NAMES[archetype]
    assert reason and "rule" in reason


def test_naming_rules_edge_cases():
    rules = NamingRules()
    flat = np.ones(48)
    assert name_from_levels(levels_from_profile(flat, 25.0), rules)[0] == "high all-day user"
    assert name_from_levels(levels_from_profile(flat * 3.7, 5.0), rules)[0] == "flat baseload"  # scale-free
    # not flat (a short late-morning bump), but no window dominates
    p = np.ones(48)
    p[22:24] = 1.8
    assert name_from_levels(levels_from_profile(p, 8.0), rules)[0] == "all-day mixed use"
    assert responsive_name("evening peaker") == "price-responsive evening shifter"
    assert responsive_name("high-use evening peaker") == "price-responsive high-use evening shifter"
    assert responsive_name("night storage heating") == "price-responsive night-storage shifter"
    assert unresponsive_name("evening peaker") == "unresponsive evening peaker"
    assert disambiguate(["evening peaker", "flat baseload", "evening peaker"], [5.0, 3.0, 9.0]) == [
        "low-use evening peaker",
        "flat baseload",
        "high-use evening peaker",
    ]
    assert disambiguate(["a", "a", "a"], [1.0, 3.0, 2.0]) == ["low-use a", "high-use a", "mid-use a"]
    assert slugify("price-responsive high-use evening shifter") == "price-responsive-high-use-evening-shifter"
    with pytest.raises(ValueError):
        levels_from_profile(np.ones(24), 1.0)


def test_names_stable_across_seed_and_row_order(fitted, synthetic, fast_settings):
    model, assignments = fitted
    features, _ = synthetic
    shuffled = features.sample(fraction=1.0, shuffle=True, seed=123)
    other = dataclasses.replace(fast_settings, random_state=99)
    model2 = fit_cluster_model(shuffled, other)
    a2 = assign_segments(shuffled, model2)
    assert sorted(set(a2["persona_name"])) == sorted(set(assignments["persona_name"]))
    cols = ["household_id", "persona_id", "persona_name", "load_shape_name"]
    assert a2.select(cols).sort("household_id").equals(assignments.select(cols))
    # same data -> same fingerprint whatever the row order; the seed is part of the version, not the data
    assert model2.fingerprint == model.fingerprint


def test_refit_identical(fitted, synthetic, fast_settings):
    model, assignments = fitted
    features, _ = synthetic
    again = fit_cluster_model(features, fast_settings)
    assert again.fingerprint == model.fingerprint
    assert again.version == model.version
    assert_same_assignments(assign_segments(features, again), assignments)
    assert_same_assignments(again.load_shape_sweep, model.load_shape_sweep)
    assert_same_assignments(again.behaviour_metrics, model.behaviour_metrics)


def test_unresponsive_segments_and_no_split(feature_builder, fast_settings):
    features, _ = feature_builder(
        n_per_archetype=30, archetypes=("evening", "night", "flat"), responder_share=0.0, seed=3
    )
    s = dataclasses.replace(fast_settings, persona_k_max=5, k_max=6)
    model = fit_cluster_model(features, s)
    a = assign_segments(features, model)
    assert not a["is_price_responsive_persona"].any()
    names = set(a["persona_name"])
    assert names == {
        "unresponsive evening peaker",
        "unresponsive night storage heating",
        "unresponsive flat baseload",
    }


def test_controls_only_population(feature_builder, fast_settings):
    features, _ = feature_builder(
        n_per_archetype=25, archetypes=("evening", "daytime", "flat"), treated_share=0.0, seed=5
    )
    s = dataclasses.replace(fast_settings, persona_k_max=5, k_max=6)
    model = fit_cluster_model(features, s)
    assert model.response_prior.n_measured == 0
    a = assign_segments(features, model)
    assert set(a["persona_name"]) == {"evening peaker", "daytime at home", "flat baseload"}
    assert not a["response_measured"].any()
    s_ext = dataclasses.replace(s, external_prior_reduction_pct=5.8)
    model_ext = fit_cluster_model(features, s_ext)
    assert all(e.prior_pct == pytest.approx(5.8) for e in model_ext.catalogue)


def test_fit_gate_excludes_vacant_homes(feature_builder, fast_settings):
    features, _ = feature_builder(n_per_archetype=20, archetypes=("evening", "flat", "night"), seed=9)
    vacant = features["household_id"][0]
    features = features.with_columns(
        pl.when(pl.col("household_id") == vacant).then(0.02).otherwise(pl.col("mean_daily_kwh")).alias("mean_daily_kwh")
    )
    s = dataclasses.replace(fast_settings, persona_k_max=4, k_max=5)
    model = fit_cluster_model(features, s)
    assert model.excluded_from_fit == (vacant,)
    a = assign_segments(features, model)
    assert a.height == features.height
    assert a.filter(pl.col("household_id") == vacant)["used_in_fit"].to_list() == [False]
    assert a["used_in_fit"].sum() == features.height - 1


def test_unusable_households_are_not_assigned(feature_builder, fast_settings):
    from assets.model.inputs import unusable_households

    features, _ = feature_builder(n_per_archetype=20, archetypes=("evening", "flat", "night"), seed=11)
    ids = features["household_id"].to_list()
    broken = features.with_columns(
        pl.when(pl.col("household_id") == ids[1]).then(None).otherwise(pl.col("shape_s20")).alias("shape_s20"),
        pl.when(pl.col("household_id") == ids[2])
        .then(None)
        .otherwise(pl.col("mean_daily_kwh"))
        .alias("mean_daily_kwh"),
        pl.when(pl.col("household_id") == ids[3])
        .then(None)
        .otherwise(pl.col("peak_kwh_per_half_hour"))
        .alias("peak_kwh_per_half_hour"),
    )
    bad = unusable_households(broken)
    assert dict(bad.iter_rows()) == {ids[1]: "incomplete daily shape", ids[2]: "no positive mean_daily_kwh"}
    s = dataclasses.replace(fast_settings, persona_k_max=4, k_max=5)
    model = fit_cluster_model(broken, s)
    assert model.unusable == (ids[1], ids[2])
    a = assign_segments(broken, model)
    assert a.height == features.height - 2 and not set(a["household_id"]) & {ids[1], ids[2]}
    from assets.reports import api

    e = api.compute_expectations(broken, a, model)
    assert e.filter(pl.col("household_id") == ids[3])["peak_kw"][0] > 0  # from the shape


def test_forced_model_choice(synthetic, fast_settings):
    from assets.model.model_selection import choose_behaviour_model

    model_choice = choose_behaviour_model(
        pl.DataFrame(), dataclasses.replace(fast_settings, persona_family="gmm", persona_k=3)
    )
    assert (model_choice.family, model_choice.k) == ("gmm", 3)
