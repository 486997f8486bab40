"""DR targeting against the generator's truth: every household, controls included, has a planted
latent responsiveness (``latent_high_effect_pct``); only ToU households express it. A household's
true deliverable kW at the peak = -latent_high_effect_pct x its 16:00-20:00 load."""

import numpy as np
import polars as pl
import pytest
from scipy.stats import spearmanr

from assets.model import response_model as rm
from assets.model.cluster_model import household_response
from assets.model.tables import load_segmentation_inputs
from assets.reports.dr_targets import response_model_inputs

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def never_treated(pipeline) -> pl.DataFrame:
    con = pipeline.con()
    try:
        run = load_segmentation_inputs(con)
    finally:
        con.close()
    response = household_response(run.features, run.model)
    measured, others, groups = response_model_inputs(run.features, run.assignments, response, run.model)
    predicted = rm.fit_predict(measured, others, run.model.settings, groups)
    truth = pipeline.truth.select("household_id", "tariff_group", "latent_high_effect_pct")
    return (
        others.with_columns(pl.Series("predicted_pct", predicted))
        .join(truth, on="household_id")
        .filter(pl.col("tariff_group") == "Std")
        .with_columns(
            (-pl.col("latent_high_effect_pct") * pl.col("peak_kw")).alias("true_kw"),
            (pl.col("predicted_pct").clip(lower_bound=0.0) * pl.col("peak_kw")).alias("model_kw"),
        )
    )


def test_response_model_ranking_tracks_true_deliverable_kw_better_than_the_textbook_rule(never_treated):
    f = never_treated
    assert f.height > 200 and f["latent_high_effect_pct"].null_count() == 0
    model = spearmanr(f["model_kw"], f["true_kw"]).statistic
    textbook = spearmanr(f["is_textbook_top"].cast(pl.Float64), f["true_kw"]).statistic
    # measured (300 households, seed 5; 239 never treated): 0.205 vs 0.060, gain 0.146 (bootstrap 95 %
    # interval -0.01..0.31). The bound is half the measured gain.
    assert model - textbook >= 0.07, (model, textbook)


def test_response_model_captures_more_true_kw_for_the_same_number_of_households(never_treated):
    f = never_treated
    n = int(f["is_textbook_top"].sum())
    assert 0 < n < f.height
    total = float(f["true_kw"].sum())
    by_model = float(f.sort(["model_kw", "household_id"], descending=[True, False]).head(n)["true_kw"].sum())
    by_textbook = float(f.filter(pl.col("is_textbook_top"))["true_kw"].sum())
    # measured: 71.8 % vs 63.2 % of the never-treated households' true kW with the textbook's 129 households
    assert by_model / total - by_textbook / total >= 0.04, (by_model / total, by_textbook / total)
    assert np.isfinite(by_model) and by_model > 0
