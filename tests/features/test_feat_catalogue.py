"""The feature catalogue is the one home of each feature: schemas, computation, lineage and the persona
naming windows all follow its entries."""

from __future__ import annotations

from datetime import date

import numpy as np
import polars as pl
import pytest

from assets.common.table_model import column_descriptions, column_names
from assets.features import catalogue
from assets.features.baseline_features import compute_baseline_features
from assets.features.catalogue import CATALOGUE, LIFESTYLE, feature, hours_label, window_slots
from assets.features.lineage import column_lineage
from assets.features.schemas.household_features import HouseholdFeatures
from assets.features.schemas.lifestyle_features import BaselineFeatures
from assets.features.schemas.treatment_features import TreatmentFeatures
from assets.features.settings import FeatureSettings
from assets.model import inputs, persona_naming

START, END = date(2012, 1, 9), date(2012, 2, 6)
W = np.array([0.2] * 14 + [0.5, 0.9] + [0.5] * 16 + [1.5] * 4 + [2.0] + [1.5] * 3 + [0.6] * 8)


def test_lifestyle_block_comes_from_the_catalogue_in_contract_order():
    names = column_names(BaselineFeatures)
    lifestyle = [f.name for f in LIFESTYLE]
    start = names.index(lifestyle[0])
    assert names[start : start + len(lifestyle)] == lifestyle
    assert lifestyle == [
        "mean_daily_kwh", "mean_kwh_per_half_hour", "peak_kwh_per_half_hour", "peak_offpeak_ratio",
        "daily_cv", "load_factor", "base_load_kwh", "morning_peak_hour", "evening_peak_hour",
        "weekday_weekend_ratio", "winter_summer_ratio", "shape_entropy", "night_share", "daytime_share",
        "evening_share",
    ]  # fmt: skip


@pytest.mark.parametrize("model", [BaselineFeatures, TreatmentFeatures, HouseholdFeatures])
def test_schema_descriptions_are_the_catalogue_text(model):
    described = column_descriptions(model)
    coverage = {f.name for f in catalogue.COVERAGE}  # household_features describes its own coverage column
    catalogued = [n for n in described if n in CATALOGUE and not (model is HouseholdFeatures and n in coverage)]
    assert len(catalogued) > 20
    for name in catalogued:
        assert described[name] == feature(name).text, name


def test_window_descriptions_quote_the_settings_windows():
    assert feature("evening_share").text == "Share of the mean daily profile's kWh in 16:00-22:00 local."
    assert feature("evening_share").window() == FeatureSettings().evening_share_hours
    assert hours_label((5.0, 12.5)) == "05:00-12:30"
    with pytest.raises(KeyError, match="not in the feature catalogue"):
        feature("no_such_feature")


def test_window_share_features_follow_their_settings_window(builder):
    """Moving evening_share_hours moves the computed share (the computation reads the catalogue window)."""
    con = (
        builder.household("STEP")
        .add_readings("STEP", START, END, lambda: pl.col("slot").replace_strict(list(range(48)), W.tolist()))
        .build()
    )
    settings = FeatureSettings(baseline_start=START, baseline_end=END, evening_share_hours=(18.0, 20.0))
    r = compute_baseline_features(con, settings).features.row(0, named=True)
    assert r["evening_share"] == pytest.approx(W[36:40].sum() / W.sum())
    assert r["night_share"] == pytest.approx(W[:14].sum() / W.sum())


def test_naming_and_model_windows_are_the_feature_windows():
    assert persona_naming.NIGHT == window_slots("night_share") == slice(0, 14)
    assert persona_naming.DAYTIME == window_slots("daytime_share") == slice(20, 32)
    assert persona_naming.EVENING == window_slots("evening_share") == slice(32, 44)
    assert persona_naming.PEAK == window_slots("peak_kwh_per_half_hour") == slice(32, 40)
    assert persona_naming.MORNING == window_slots("morning_share") == slice(12, 20)
    assert list(inputs.MORNING_COLUMNS) == [f"shape_s{i:02d}" for i in range(12, 20)]
    assert list(inputs.PEAK_COLUMNS) == [f"shape_s{i:02d}" for i in range(32, 40)]


def test_lineage_follows_the_catalogue_source():
    lineage = column_lineage("baseline_features")
    assert ("clean_readings", "kwh") in lineage["evening_share"]
    assert ("clean_readings", "kwh") not in lineage["coverage"]
    assert ("tariff_schedule", "band") in column_lineage("treatment_features")["high_did_pct"]
