"""The response model for never-treated households: used only where it beats its baselines out of sample."""

import numpy as np
import polars as pl

from assets.model import response_model as rm
from assets.model.settings import DEFAULT_LIFESTYLE_FEATURES, SegmentationSettings


def _measured(signal: float, n: int = 80, seed: int = 1) -> pl.DataFrame:
    rng = np.random.default_rng(seed)
    cols = {c: rng.normal(size=n) for c in DEFAULT_LIFESTYLE_FEATURES}
    reduction = 5 + signal * 4 * cols["evening_share"] + rng.normal(scale=2.0, size=n)
    return pl.DataFrame(
        {
            "household_id": [f"H{i:03d}" for i in range(n)],
            **cols,
            "acorn_group": rng.choice(["Affluent", "Comfortable", "Adversity"], n),
            "segment": rng.integers(0, 3, n),
            "is_textbook_top": rng.random(n) < 0.5,
            "peak_kw": rng.uniform(0.3, 1.2, n),
            "reduction_pct": reduction,
            "responded": reduction > np.median(reduction),
        }
    )


GROUPS = ["Adversity", "Affluent", "Comfortable"]


def test_model_with_real_signal_beats_segment_prior_and_textbook_out_of_sample():
    s = SegmentationSettings(response_bootstrap=200)
    out = rm.cross_validate(_measured(signal=1.0), s, GROUPS)
    est = {(r["method"], r["metric"]): r for r in out.scores.iter_rows(named=True)}
    model = est[(rm.MODEL, "spearman_reduction")]
    assert model["ci_low"] <= model["estimate"] <= model["ci_high"] and model["estimate"] > 0.6
    assert est[(rm.MODEL, "auc_responder")]["estimate"] > 0.75
    assert out.use_model and "better than both" in out.verdict
    curve = rm.capture_curve(out.oof)
    final = curve.group_by("rule").agg(pl.col("cumulative_kw").last())["cumulative_kw"].to_list()
    assert np.allclose(final[0], final[1])  # every held-out household counted once by each rule


def test_model_without_signal_is_not_used_and_the_report_says_so():
    s = SegmentationSettings(response_bootstrap=200)
    out = rm.cross_validate(_measured(signal=0.0), s, GROUPS)
    assert not out.use_model and "cannot tell" in out.verdict
    few = rm.cross_validate(_measured(signal=1.0, n=6), s, GROUPS)
    assert not few.use_model and "too few" in few.verdict
