"""DR targeting against the generator's truth (issue 21): does the response model's ranking of
never-treated households beat "rank by peak load", with an interval, where the data plant a link
between lifestyle / Acorn and responsiveness, and does the gain vanish where they plant none?

Truth: every household, controls included, has a latent High-event response; the generator writes
its true deliverable kW at the winter weekday 16:00-20:00 peak (``true_deliverable_kw`` = latent
reduction x ``true_peak_load_kw``, the noise-free load of that window in the pre-period year).

Rules scored on the never-treated (Std) households with a pre-period lifestyle (the ones the
response model ranks): the model (the family its repeated cross-validation chose, ``fit_predict`` x the
measured ``peak_load_kw``, unclipped as the list uses it) against ranking by the measured ``peak_load_kw``
alone. This scores the model whether or not it is shipped (it ships only where its held-out gain over
peak load on the measured households has an interval above 0). Statistics: Spearman correlation with
the true kW, and the share of the true kW captured by the top third. Intervals: a paired bootstrap over
the scored households, given the fitted model (the model is trained on ToU households, a separate set, so this is not a
bootstrap over out-of-fold predictions).

Two data sets: the demo default (``response_signal_strength`` 0.5, the shared ``pipeline``
fixture) and the same seed at strength 0 (a second whole-graph run, module fixture).
"""

import numpy as np
import polars as pl
import pytest
from scipy.stats import spearmanr

from assets.model import response_model as rm
from assets.model.cluster_model import household_response
from assets.model.tables import load_segmentation_inputs
from assets.reports.dr_targets import response_model_inputs
from assets.synthetic.settings import GeneratorSettings
from tests.pipeline.conftest import Pipeline, build_pipeline

pytestmark = pytest.mark.slow
BOOTSTRAP = 2000
TOP_SHARE = 1 / 3


def _never_treated(pipeline: Pipeline) -> pl.DataFrame:
    con = pipeline.con()
    try:
        run = load_segmentation_inputs(con)
    finally:
        con.close()
    response = household_response(run.features, run.model)
    measured, others, groups = response_model_inputs(run.features, run.assignments, response, run.model)
    scores = rm.cross_validate(measured, run.model.settings, groups)
    print(f"response model on the measured households: {scores.verdict}")
    predicted = rm.fit_predict(measured, others, run.model.settings, groups, scores.family or "ridge")
    truth = pipeline.truth.select("household_id", "tariff_group", "true_deliverable_kw", "true_peak_load_kw")
    return (
        others.with_columns(pl.Series("predicted_pct", predicted))
        .join(truth, on="household_id")
        .filter(pl.col("tariff_group") == "Std")
        .with_columns(
            pl.col("true_deliverable_kw").alias("true_kw"),
            (pl.col("predicted_pct") * pl.col("peak_load_kw")).alias("model_kw"),
            pl.col("peak_load_kw").alias("load_kw"),
        )
        .sort("household_id")
    )


@pytest.fixture(scope="module")
def planted(pipeline) -> pl.DataFrame:
    """The demo default: response_signal_strength 0.5."""
    return _never_treated(pipeline)


@pytest.fixture(scope="module")
def unplanted(tmp_path_factory: pytest.TempPathFactory) -> pl.DataFrame:
    """The same seed and size with no link between lifestyle / Acorn and responsiveness."""
    root = tmp_path_factory.mktemp("pipeline_strength_0")
    return _never_treated(build_pipeline(root, GeneratorSettings(response_signal_strength=0.0)))


def _spearman(part: dict, score: str) -> float:
    return spearmanr(part[score], part["true_kw"]).statistic


def _capture(part: dict, score: str) -> float:
    """Share of the true kW captured by the top third by the score."""
    n = max(1, round(TOP_SHARE * part[score].shape[0]))
    order = np.argsort(-part[score], kind="stable")[:n]
    return part["true_kw"][order].sum() / part["true_kw"].sum()


def gain(f: pl.DataFrame, stat) -> tuple[float, float, float]:
    """(estimate, 2.5 %, 97.5 %) of stat(model) - stat(rank by peak load), paired household bootstrap."""
    cols = {c: f[c].to_numpy() for c in ("model_kw", "load_kw", "true_kw")}
    rng = np.random.default_rng(20130101)

    def one(idx):
        part = {c: v[idx] for c, v in cols.items()}
        return stat(part, "model_kw") - stat(part, "load_kw")

    reps = np.array([one(rng.integers(0, f.height, f.height)) for _ in range(BOOTSTRAP)])
    lo, hi = np.quantile(reps, [0.025, 0.975])
    return float(one(np.arange(f.height))), float(lo), float(hi)


def _check(f: pl.DataFrame) -> None:
    assert f.height > 150 and f["true_kw"].null_count() == 0 and f["load_kw"].is_not_null().all()


def test_truth_kw_is_scored_on_never_treated_households(planted):
    _check(planted)
    # the measured peak load tracks the planted one (a check of the join and the window, not of targeting)
    rho = spearmanr(planted["load_kw"], planted["true_peak_load_kw"]).statistic
    print(f"Spearman(measured peak load, true peak load) {rho:.3f}")
    assert rho > 0.9, rho


# Measured before issue 21's rework (300 households, seed 5; 212 / 214 never-treated households scored):
#   strength 0.5  Spearman gain over peak load  +0.127 (95 % +0.025..+0.235); top third +0.003 (-0.074..+0.100)
#   strength 0    Spearman gain over peak load  -0.053 (95 % -0.171..+0.062); top third -0.141 (-0.247..-0.022)
# After it (ridge with its penalty chosen by GCV inside each fold, chosen over logistic by repeated CV on the
# ~50 measured households at both strengths; measured on the same seed, 2000-draw bootstrap):
#   strength 0.5  Spearman gain +0.110 (+0.060..+0.161); top-third capture gain +0.022 (-0.030..+0.071)
#   strength 0    Spearman gain -0.000 (-0.003..+0.002); top-third capture gain +0.000 (-0.000..+0.008)
# Where there is no signal the penalty goes to its largest value and the model's ranking IS rank-by-peak-load
# (the strength-0 capture test passes: no invented gain). At the demo strength the top third is still not
# better than load's with an interval above 0, so that test stays a strict xfail. On the measured households
# the model's held-out gain is +0.048 (corrected 95 % -0.074..+0.171, permutation p 0.10) at 0.5: the data
# cannot tell it from load, and it is not shipped. (The logistic family scores +0.072 (+0.012..+0.156) on the
# truth's top third at 0.5 but loses the held-out choice on the noisy measured kW: +0.035 vs ridge's +0.048.)
XFAIL_CAPTURE = "issue 21: the response model's top-third capture does not beat rank-by-peak-load at 0.5 yet"


def _zero(f: pl.DataFrame, name: str, stat) -> None:
    _check(f)
    est, lo, hi = gain(f, stat)
    print(f"strength 0: {name} gain over peak load {est:.3f} (95 % {lo:.3f}..{hi:.3f}), n={f.height}")
    assert lo <= 0.0 <= hi, (name, est, lo, hi)


def _demo(f: pl.DataFrame, name: str, stat) -> None:
    _check(f)
    est, lo, hi = gain(f, stat)
    print(f"strength 0.5: {name} gain over peak load {est:.3f} (95 % {lo:.3f}..{hi:.3f}), n={f.height}")
    assert lo > 0.0, (name, est, lo, hi)


def test_at_zero_strength_the_rank_correlation_gain_over_peak_load_vanishes(unplanted):
    _zero(unplanted, "spearman", _spearman)


def test_at_zero_strength_the_capture_gain_over_peak_load_vanishes(unplanted):
    _zero(unplanted, "capture top third", _capture)


def test_at_the_demo_strength_the_model_ranks_true_kw_better_than_peak_load(planted):
    _demo(planted, "spearman", _spearman)


@pytest.mark.xfail(strict=True, reason=XFAIL_CAPTURE + " (+2.2 points, -3.0..+7.1)")
def test_at_the_demo_strength_the_model_captures_more_true_kw_than_peak_load(planted):
    _demo(planted, "capture top third", _capture)
