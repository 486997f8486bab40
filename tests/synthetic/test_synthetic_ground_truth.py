"""Ground truth: tariff groups, responders, effects, archetype shares and their link to Acorn."""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest
from scipy.stats import chi2_contingency

from assets.synthetic.population import sample_population
from assets.synthetic.settings import GeneratorSettings
from tests.synthetic.conftest import Source

GT_COLUMNS = [
    "household_id",
    "archetype",
    "tariff_group",
    "acorn",
    "acorn_group",
    "is_responder",
    "true_high_effect_pct",
    "true_low_effect_pct",
]


@pytest.fixture(scope="module")
def population() -> pl.DataFrame:
    return sample_population(3000, seed=3, n_slots=35_088, tou_share=0.2)


def test_ground_truth_file_matches_households_file(faulty_source: Source) -> None:
    gt = pl.read_csv(faulty_source.path / "ground_truth" / "households.csv")
    assert gt.columns[: len(GT_COLUMNS)] == GT_COLUMNS
    info = pl.read_csv(faulty_source.path / "households" / "informations_households.csv")
    joined = gt.join(info, left_on="household_id", right_on="LCLid", how="full", coalesce=True)
    assert joined.height == gt.height == info.height == 40
    assert (joined["tariff_group"] == joined["stdorToU"]).all()
    known = joined.filter(pl.col("Acorn") != "ACORN-U")
    assert (known["acorn"] == known["Acorn"]).all()
    assert (known["acorn_group"] == known["Acorn_grouped"]).all()
    unknown = joined.filter(pl.col("Acorn") == "ACORN-U")
    assert unknown["acorn"].null_count() == unknown.height
    assert gt["household_id"].to_list() == [f"MAC{i:06d}" for i in range(1, 41)]


def test_tou_share_and_responders(population: pl.DataFrame) -> None:
    n = population.height
    tou = population.filter(pl.col("tariff_group") == "ToU")
    assert tou.height == round(0.2 * n)
    responders = population.filter("is_responder")
    assert (responders["tariff_group"] == "ToU").all(), "responders only among ToU"
    assert (responders["archetype"] != "night_storage_heating").all()
    eligible = tou.filter(pl.col("archetype") != "night_storage_heating").height
    # latent responders are half of ALL eligible households (exact quota); ToU ones express it. Selection
    # into ToU on responsiveness (default 0.3 log-odds per sd) makes more than half of the eligible ToU
    # households responders (measured 0.62); without it about half respond (binomial-like, 3 sd tolerance)
    assert responders.height - eligible / 2 > 3 * np.sqrt(eligible / 4)
    unselected = sample_population(
        3000, seed=3, n_slots=35_088, tou_share=0.2, settings=GeneratorSettings(selection_on_response=0.0)
    )
    tou0 = unselected.filter((pl.col("tariff_group") == "ToU") & (pl.col("archetype") != "night_storage_heating"))
    assert abs(tou0["is_responder"].sum() - tou0.height / 2) <= 3 * np.sqrt(tou0.height / 4)
    all_eligible = population.filter(pl.col("archetype") != "night_storage_heating").height
    assert population["latent_is_responder"].sum() == round(all_eligible / 2)
    assert (responders["latent_is_responder"]).all()
    assert (responders["true_high_effect_pct"] == responders["latent_high_effect_pct"]).all()
    # realistic sizes (planted truth changed from -25..-10 % / +10..+30 % to 2-15 %)
    assert responders["true_high_effect_pct"].is_between(-0.15, -0.02).all()
    assert responders["true_low_effect_pct"].is_between(0.02, 0.15).all()
    others = population.filter(~pl.col("is_responder"))
    assert (others["true_high_effect_pct"] == 0).all() and (others["true_low_effect_pct"] == 0).all()
    # controls carry a latent responsiveness they never express
    latent_controls = population.filter((pl.col("tariff_group") == "Std") & pl.col("latent_is_responder"))
    assert latent_controls.height > 0 and (latent_controls["latent_high_effect_pct"] < 0).all()
    assert (latent_controls["true_high_effect_pct"] == 0).all()
    # effects spread over the whole range
    assert responders["true_high_effect_pct"].min() < -0.14 and responders["true_high_effect_pct"].max() > -0.04
    # pre-loading and rebound are planted as shares of the High reduction
    assert np.allclose(responders["true_preload_pct"], -0.3 * responders["true_high_effect_pct"], atol=1e-4)
    assert np.allclose(responders["true_rebound_pct"], -0.4 * responders["true_high_effect_pct"], atol=1e-4)


def test_tou_is_selected_on_behaviour(population: pl.DataFrame) -> None:
    evening = pl.col("archetype").is_in(["evening_peaker", "morning_evening_double_peak"])
    share = population.group_by("tariff_group").agg(
        evening=evening.mean(), affluent=(pl.col("acorn_group_written") == "Affluent").mean()
    )
    row = {r["tariff_group"]: r for r in share.iter_rows(named=True)}
    # recruited, not randomised: ToU households are more evening-heavy and more affluent
    assert row["ToU"]["evening"] > row["Std"]["evening"] + 0.1
    assert row["ToU"]["affluent"] > row["Std"]["affluent"] + 0.05


def test_archetype_shares_and_acorn(population: pl.DataFrame) -> None:
    counts = dict(population["archetype"].value_counts().iter_rows())
    assert len(counts) == 5
    assert 0.03 <= counts["night_storage_heating"] / population.height <= 0.05
    assert population["acorn_written"].str.contains(r"^ACORN-[A-QU]$").all()
    u_share = (population["acorn_written"] == "ACORN-U").mean()
    assert 0.002 <= u_share <= 0.03
    known = population.filter(pl.col("acorn_written") != "ACORN-U")
    table = known.pivot(on="acorn_group_written", index="archetype", values="index", aggregate_function="len")
    observed = table.select("Affluent", "Comfortable", "Adversity").fill_null(0).to_numpy()
    _chi2, p, _dof, _exp = chi2_contingency(observed)
    assert p < 1e-6, "archetype and Acorn group are associated"
    adversity = dict(known.group_by("archetype").agg((pl.col("acorn_group_written") == "Adversity").mean()).iter_rows())
    assert adversity["night_storage_heating"] > adversity["morning_evening_double_peak"] + 0.2
    # ... but only moderately: every archetype occurs in every group
    assert (observed > 0).all()


def test_scale_is_lognormal_around_0_2_kwh(population: pl.DataFrame) -> None:
    scale = population["scale"].to_numpy()
    assert 0.17 <= float(np.mean(scale)) <= 0.25
    assert 0.3 <= float(np.std(np.log(scale))) <= 0.6


def test_spans_late_starts_and_early_stops(population: pl.DataFrame) -> None:
    late = population.filter(pl.col("first_slot") > 0)
    early = population.filter(pl.col("stop_slot") < 35_088)
    assert 0.10 <= late.height / population.height <= 0.20
    assert 0.05 <= early.height / population.height <= 0.12
    assert (late["first_slot"] % 48).is_between(18, 32).all(), "installed 09:00-16:00 UTC"


def test_both_layouts_even_for_small_populations() -> None:
    for n in (2, 5, 12):
        pop = sample_population(n, seed=1, n_slots=48 * 10)
        assert set(pop["layout"]) == {"lds_6col", "kaggle_3col"}
