"""DR targeting against the generator's truth: every household, controls included, has a planted
latent responsiveness (``latent_high_effect_pct``, the same in every High half hour, so also in the
evening events); only ToU households express it. A household's true deliverable kW at the winter
evening peak = -latent_high_effect_pct x its winter weekday 16:00-20:00 load (``peak_load_kw``, measured
in the baseline year: the load an evening event acts on).

Scored on the never-treated (Std) households with a pre-period lifestyle, the ones the response model
ranks; intervals are a paired bootstrap over those households."""

import numpy as np
import polars as pl
import pytest
from scipy.stats import spearmanr

from assets.model import response_model as rm
from assets.model.cluster_model import household_response
from assets.model.tables import load_segmentation_inputs
from assets.reports.dr_targets import response_model_inputs

pytestmark = pytest.mark.slow
BOOTSTRAP = 2000


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
            (-pl.col("latent_high_effect_pct") * pl.col("peak_load_kw")).alias("true_kw"),
            (pl.col("predicted_pct").clip(lower_bound=0.0) * pl.col("peak_load_kw")).alias("model_kw"),
            # the textbook rule selects the highest-load cluster: as a ranking, members first ...
            pl.col("is_textbook_top").cast(pl.Float64).alias("textbook_kw"),
            # ... and, a stronger variant, by peak load inside and outside it
            (pl.col("is_textbook_top").cast(pl.Float64) * 1e6 + pl.col("peak_load_kw")).alias("textbook_load_kw"),
        )
        .sort("household_id")
    )


def _paired_bootstrap(f: pl.DataFrame, stat, baseline: str = "textbook_kw") -> tuple[float, float, float]:
    """(estimate, 2.5 %, 97.5 %) of stat(model) - stat(baseline) over a paired household bootstrap."""
    cols = {c: f[c].to_numpy() for c in ("model_kw", baseline, "true_kw", "is_textbook_top")}
    rng = np.random.default_rng(20130101)

    def gain(idx):
        part = {c: v[idx] for c, v in cols.items()}
        return stat(part, "model_kw") - stat(part, baseline)

    reps = np.array([gain(rng.integers(0, f.height, f.height)) for _ in range(BOOTSTRAP)])
    lo, hi = np.quantile(reps, [0.025, 0.975])
    return float(gain(np.arange(f.height))), float(lo), float(hi)


def _spearman(part, score):
    return spearmanr(part[score], part["true_kw"]).statistic


def _capture(part, score):
    """Share of the true kW captured by the top N of the score, N = the textbook rule's selection size
    (for the textbook rule itself: exactly its selection)."""
    n = int(part["is_textbook_top"].sum())
    order = np.argsort(-part[score], kind="stable")[:n]
    return part["true_kw"][order].sum() / part["true_kw"].sum()


def test_response_model_ranking_tracks_true_deliverable_kw_better_than_the_textbook_rule(never_treated):
    f = never_treated
    assert f.height > 150 and f["latent_high_effect_pct"].null_count() == 0
    assert f["peak_load_kw"].is_not_null().all()
    est, lo, hi = _paired_bootstrap(f, _spearman)
    load = _paired_bootstrap(f, _spearman, "textbook_load_kw")
    print(f"spearman gain vs textbook {est:.3f} ({lo:.3f}..{hi:.3f}), vs load-ordered {load}, n={f.height}")
    # Measured (300 households, seed 5; 212 never-treated Std households with a baseline year, model
    # trained on 53 measured ToU households): Spearman with the true kW 0.188 (model) vs 0.064
    # (textbook membership), gain 0.123, paired-bootstrap 95 % interval -0.050..0.273. Against the
    # textbook ordered by peak load (0.162) the gain is 0.026 (-0.103..0.150). The intervals include 0:
    # with ~50 measured households the data cannot separate them, which is what the cross-validated
    # verdict says (the DR list keeps the segment prior). Ranking by peak load alone gains 0.150 over
    # textbook membership: the model adds nothing beyond the load here. Shuffled model predictions
    # (3 seeds) score -0.016..-0.077 and fail. The bound is half the measured gain.
    assert est >= 0.06, (est, lo, hi)


def test_response_model_captures_more_true_kw_for_the_same_number_of_households(never_treated):
    f = never_treated
    n = int(f["is_textbook_top"].sum())
    assert 0 < n < f.height
    est, lo, hi = _paired_bootstrap(f, _capture)
    print(f"capture gain model - textbook at N={n}: {est:.3f} (95 % {lo:.3f}..{hi:.3f})")
    # Measured: with the textbook's 116 households the model's top 116 capture 6.9 points more of the
    # never-treated households' true kW (paired-bootstrap 95 % interval -3.9..+18.7 points; n = 212).
    # Shuffled model predictions capture 9 to 16 points less and fail. The bound is under half the
    # measured gain.
    assert est >= 0.03, (est, lo, hi)
