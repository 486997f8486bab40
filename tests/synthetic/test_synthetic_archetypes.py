"""Planted archetypes are recoverable: K-means on local-time mean profiles (ARI >= 0.8)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import polars as pl
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score

from assets.synthetic.generate import generate
from tests.synthetic.conftest import local_slot_of_end_stamp, readings_frame


def test_kmeans_recovers_archetypes(tmp_path: Path) -> None:
    generate(tmp_path, households=100, seed=7, start=date(2013, 1, 7), end=date(2013, 2, 4), faults=False)
    readings = readings_frame(tmp_path).with_columns(slot=local_slot_of_end_stamp(pl.col("ts")))
    profiles = (
        readings.group_by("household_id", "slot")
        .agg(pl.col("kwh").mean())
        .pivot(on="slot", index="household_id", values="kwh", sort_columns=True)
        .sort("household_id")
    )
    slots = [str(s) for s in range(48)]
    assert profiles.columns[1:] == slots
    x = profiles.select(slots).to_numpy()
    x = x / x.mean(axis=1, keepdims=True)
    truth = pl.read_csv(tmp_path / "ground_truth" / "households.csv").sort("household_id")
    assert truth["household_id"].to_list() == profiles["household_id"].to_list()
    assert truth["archetype"].n_unique() == 5
    labels = KMeans(n_clusters=5, n_init=10, random_state=0).fit_predict(x)
    ari = adjusted_rand_score(truth["archetype"].to_list(), labels)
    assert ari >= 0.8, ari


def test_profiles_are_defined_in_local_time(tmp_path: Path) -> None:
    """Storage heaters charge in the local night window, in winter far above their summer level."""
    generate(tmp_path, households=60, seed=3, start=date(2013, 1, 1), end=date(2013, 1, 15), faults=False)
    truth = pl.read_csv(tmp_path / "ground_truth" / "households.csv")
    storage = truth.filter(pl.col("archetype") == "night_storage_heating")["household_id"]
    assert storage.len() >= 2
    df = readings_frame(tmp_path).with_columns(slot=local_slot_of_end_stamp(pl.col("ts")))
    night = (
        df.filter(pl.col("household_id").is_in(storage))
        .group_by(pl.col("slot").is_between(2, 13))
        .agg(pl.col("kwh").mean())
    )
    ratio = dict(night.iter_rows())
    assert ratio[True] > 3 * ratio[False]
