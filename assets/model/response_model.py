"""A response model for households never on the tariff, judged out of sample.

Target (measured ToU households only): the household's EVENING-event High-price reduction in %
(``-100 x high_did_pct_evening``: High events of the features' 'evening' start bucket, 17:00-23:00
local, the ones that cover the 16:00-20:00 peak a DR programme buys; the all-event ``high_did_pct``
where a household has no evening estimate) and whether it responded (``responder`` with a reduction).
Predictors: PRE-PERIOD lifestyle features only (``settings.lifestyle_features``, each a catalogue
lifestyle feature or derived from them, :func:`check_pre_period`) of households whose lifestyle block
comes from the baseline year (``lifestyle_window == 'baseline'``; the caller filters, see
reports/dr_targets.response_model_inputs), plus Acorn group (one-hot). A treated household's
trial-year behaviour is post-treatment and never enters. Models: ridge regression for the reduction,
L2 logistic regression for P(respond).

Scored by K-fold cross-validation over households (out-of-fold predictions; folds stratified on the
responder flag), with 95 % percentile-bootstrap intervals over households:
* rank correlation (Spearman) of the predicted and the measured reduction;
* AUC of P(respond) against the responder flag;
* calibration: Brier score of P(respond) (lower is better) and the mean predicted vs observed rate.
Baselines scored the same way: the SEGMENT PRIOR (the training fold's mean reduction of the household's
lifestyle segment, shrunk to the fold's mean with a strength n0 estimated on the fold:
responsiveness.segment_prior_strength)
and the TEXTBOOK rule (membership of the highest-load K=3 load-shape cluster, ties by peak load kW).
The held-out residuals (measured - predicted) give the prediction interval of a never-treated
household (:attr:`ResponseModelScores.residual_interval`, their 2.5 and 97.5 % quantiles).

Decision (:attr:`ResponseModelScores.use_model`): the model is used for never-treated households only
if its Spearman correlation beats the segment prior's AND the textbook's with a bootstrap interval of
the difference above 0; otherwise the report says the data cannot tell them apart and never-treated
households are sized with the offered program's intention-to-treat evidence (dr_targets).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from assets.features.catalogue import CATALOGUE, LIFESTYLE, PEAK_LOAD, PROFILE, SHAPE
from assets.features.settings import FeatureSettings
from assets.model.inputs import DERIVED_COLUMNS
from assets.model.settings import SegmentationSettings

MODEL = "response model"
PRE_PERIOD_WINDOW = "baseline"  # the lifestyle_window of a pre-period (baseline-year) lifestyle block
INTERVAL_LEVEL = FeatureSettings().ci_level  # every interval here and in the DR targets (95 %)
# Features a response model may use: lifestyle features of the catalogue (computed by the SAME
# function over one lifestyle window, assets/features/lifestyle.py) and the model's columns derived
# from them (inputs.DERIVED_COLUMNS). Never a response, coverage or treatment-year column.
PRE_PERIOD_FEATURES = frozenset(f.name for f in (*LIFESTYLE, *PEAK_LOAD, *SHAPE, *PROFILE)) | frozenset(DERIVED_COLUMNS)


def check_pre_period(names) -> None:
    """Raise unless every name is a lifestyle (pre-period-capable) feature (PRE_PERIOD_FEATURES)."""
    bad = [n for n in names if n not in PRE_PERIOD_FEATURES]
    if bad:
        sources = {n: CATALOGUE[n].source if n in CATALOGUE else "not a catalogue feature" for n in bad}
        raise ValueError(f"response model features must be pre-period lifestyle features; not allowed: {sources}")


SEGMENT_PRIOR = "segment prior"
TEXTBOOK = "textbook rule"
UNKNOWN_GROUP = "unknown"


def evening_reduction_pct(frame: pl.DataFrame, multiplier: float) -> pl.Expr:
    """Measured evening-event High reduction in % (positive = less load); all-event where missing."""
    evening = pl.col("high_did_pct_evening") if "high_did_pct_evening" in frame.columns else pl.lit(None)
    return (-multiplier * pl.coalesce(evening, pl.col("high_did_pct"))).cast(pl.Float64)


def design_matrix(frame: pl.DataFrame, settings: SegmentationSettings, groups: list[str]) -> np.ndarray:
    """Lifestyle features (raw; scaled inside the pipelines) plus one-hot Acorn group."""
    x = frame.select(settings.lifestyle_features).cast(pl.Float64).fill_null(np.nan).to_numpy()
    g = (
        frame["acorn_group"].cast(pl.String).fill_null(UNKNOWN_GROUP).to_list()
        if "acorn_group" in frame.columns
        else []
    )
    onehot = np.array([[1.0 if v == lvl else 0.0 for lvl in groups] for v in g]) if g else np.zeros((frame.height, 0))
    return np.hstack([x, onehot.reshape(frame.height, len(groups))])


def _pipelines(settings: SegmentationSettings):
    from sklearn.impute import SimpleImputer
    from sklearn.linear_model import LogisticRegression, Ridge
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    reg = make_pipeline(SimpleImputer(strategy="median"), StandardScaler(), Ridge(alpha=settings.response_ridge_alpha))
    clf = make_pipeline(
        SimpleImputer(strategy="median"), StandardScaler(), LogisticRegression(C=settings.response_logistic_c)
    )
    return reg, clf


@dataclass
class ResponseModelScores:
    scores: pl.DataFrame  # one row per (method, metric): estimate and 95 % interval
    oof: pl.DataFrame  # out-of-fold predictions of every method for the measured households
    use_model: bool
    verdict: str
    n_measured: int
    n_responders: int
    # 2.5 / 97.5 % quantiles of the held-out residuals (measured - predicted reduction, points of %):
    # added to a prediction they give its interval; (nan, nan) without out-of-fold predictions
    residual_interval: tuple[float, float] = (float("nan"), float("nan"))


def _segment_prior(train_y: np.ndarray, train_seg: np.ndarray, seg: np.ndarray) -> np.ndarray:
    """The segment prior of responsiveness.segment_priors on the training fold, its strength n0 estimated
    from the fold (responsiveness.segment_prior_strength; inf = the fold's mean for every segment)."""
    from assets.model.responsiveness import segment_prior_strength

    mean = float(np.mean(train_y)) if train_y.size else 0.0
    strength = segment_prior_strength(train_y, train_seg)
    out = np.empty(seg.shape[0])
    for i, s in enumerate(seg):
        members = train_y[train_seg == s]
        out[i] = mean if not np.isfinite(strength) else (members.sum() + strength * mean) / (members.size + strength)
    return out


def _auc(y: np.ndarray, score: np.ndarray) -> float:
    if y.min() == y.max():
        return float("nan")
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, score))


def _spearman(a: np.ndarray, b: np.ndarray) -> float:
    if np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    from scipy.stats import spearmanr

    return float(spearmanr(a, b).statistic)


def cross_validate(measured: pl.DataFrame, settings: SegmentationSettings, groups: list[str]) -> ResponseModelScores:
    """Out-of-fold predictions and bootstrap-interval scores (module docstring).

    ``measured`` columns: household_id, segment, is_textbook_top, peak_kw, reduction_pct, responded and
    the design columns (lifestyle features, acorn_group).
    """
    from sklearn.model_selection import StratifiedKFold

    n = measured.height
    y = measured["reduction_pct"].to_numpy().astype(np.float64)
    r = measured["responded"].to_numpy().astype(int)
    seg = measured["segment"].to_numpy()
    x = design_matrix(measured, settings, groups)
    pred_model = np.full(n, np.nan)
    prob_model = np.full(n, np.nan)
    pred_prior = np.full(n, np.nan)
    folds = min(settings.response_cv_folds, int(min(np.bincount(r, minlength=2))) if r.size else 0)
    if n >= 2 * settings.response_cv_folds and folds >= 2:
        cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=settings.random_state)
        for train, test in cv.split(x, r):
            reg, clf = _pipelines(settings)
            reg.fit(x[train], y[train])
            pred_model[test] = reg.predict(x[test])
            clf.fit(x[train], r[train])
            prob_model[test] = clf.predict_proba(x[test])[:, 1]
            pred_prior[test] = _segment_prior(y[train], seg[train], seg[test])
    load = measured["peak_load_kw" if "peak_load_kw" in measured.columns else "peak_kw"].to_numpy()
    textbook = measured["is_textbook_top"].cast(pl.Float64).to_numpy() + 1e-6 * load
    oof = measured.select("household_id", "reduction_pct", "responded").with_columns(
        pl.Series("peak_kw", load),
        pl.Series("pred_model", pred_model),
        pl.Series("prob_model", prob_model),
        pl.Series("pred_prior", pred_prior),
        pl.Series("textbook_score", textbook),
    )
    ok = np.isfinite(pred_model)
    rows = []
    rng = np.random.default_rng(settings.random_state)
    idx_ok = np.flatnonzero(ok)
    boots = [rng.choice(idx_ok, idx_ok.size, replace=True) for _ in range(settings.response_bootstrap)]
    kw = y * load

    def add(method: str, metric: str, fn) -> None:
        if idx_ok.size < 4:
            rows.append((method, metric, None, None, None, int(idx_ok.size)))
            return
        est = fn(idx_ok)
        reps = np.array([fn(b) for b in boots], dtype=np.float64)
        reps = reps[np.isfinite(reps)]
        lo, hi = np.percentile(reps, [2.5, 97.5]) if reps.size else (np.nan, np.nan)
        rows.append((method, metric, _num(est), _num(lo), _num(hi), int(idx_ok.size)))

    add(MODEL, "spearman_reduction", lambda i: _spearman(pred_model[i], y[i]))
    add(SEGMENT_PRIOR, "spearman_reduction", lambda i: _spearman(pred_prior[i], y[i]))
    add(TEXTBOOK, "spearman_reduction", lambda i: _spearman(textbook[i], y[i]))
    add(MODEL, "spearman_kw", lambda i: _spearman(pred_model[i] * kw[i] / np.where(y[i] == 0, 1, y[i]), kw[i]))
    add(MODEL, "auc_responder", lambda i: _auc(r[i], prob_model[i]))
    add(SEGMENT_PRIOR, "auc_responder", lambda i: _auc(r[i], pred_prior[i]))
    add(TEXTBOOK, "auc_responder", lambda i: _auc(r[i], textbook[i]))
    add(MODEL, "brier_responder", lambda i: float(np.mean((prob_model[i] - r[i]) ** 2)))
    add(MODEL, "mean_predicted_probability", lambda i: float(np.mean(prob_model[i])))
    add(MODEL, "observed_responder_rate", lambda i: float(np.mean(r[i])))
    add(MODEL, "spearman_gain_over_prior", lambda i: _spearman(pred_model[i], y[i]) - _spearman(pred_prior[i], y[i]))
    add(MODEL, "spearman_gain_over_textbook", lambda i: _spearman(pred_model[i], y[i]) - _spearman(textbook[i], y[i]))
    scores = pl.DataFrame(
        rows,
        schema={
            "method": pl.String,
            "metric": pl.String,
            "estimate": pl.Float64,
            "ci_low": pl.Float64,
            "ci_high": pl.Float64,
            "n_households": pl.Int64,
        },
        orient="row",
    )
    use, verdict = decide(scores, n)
    alpha = 1.0 - INTERVAL_LEVEL
    resid = (y - pred_model)[ok]
    interval = (
        tuple(float(q) for q in np.quantile(resid, [alpha / 2, 1 - alpha / 2]))
        if resid.size
        else (float("nan"), float("nan"))
    )
    return ResponseModelScores(scores, oof, use, verdict, n, int(r.sum()), interval)


def decide(scores: pl.DataFrame, n_measured: int) -> tuple[bool, str]:
    """(use the model?, plain-words verdict) from a scores table (module docstring)."""
    gains = scores.filter(pl.col("metric").str.starts_with("spearman_gain"))
    use = gains.height == 2 and bool((gains["ci_low"].fill_null(-1.0) > 0).all())
    scored = int(scores["n_households"].max() or 0) if scores.height else 0
    if scored < 4:
        return False, (
            f"Only {n_measured} household(s) have a measured response and a pre-period (baseline-year) "
            "lifestyle: too few to train and cross-validate a response model; never-treated households are "
            "sized with the offered program's intention-to-treat evidence."
        )
    if use:
        return True, (
            "The response model ranks held-out households better than both the segment prior and the textbook "
            "rule (cross-validated rank correlation, interval of the gain above 0): it is used for households "
            "never on the tariff."
        )
    return False, (
        "Out of sample, the data cannot tell the response model apart from the segment prior and the "
        "textbook rule (the interval of its gain in rank correlation includes 0), so never-treated "
        "households are sized with the offered program's intention-to-treat evidence."
    )


def _num(v) -> float | None:
    v = float(v)
    return v if np.isfinite(v) else None


def fit_predict(
    measured: pl.DataFrame, others: pl.DataFrame, settings: SegmentationSettings, groups: list[str]
) -> np.ndarray:
    """Predicted reduction (%) of ``others`` from a ridge fit on all measured households."""
    reg, _ = _pipelines(settings)
    reg.fit(design_matrix(measured, settings, groups), measured["reduction_pct"].to_numpy().astype(np.float64))
    return reg.predict(design_matrix(others, settings, groups))


def capture_curve(oof: pl.DataFrame) -> pl.DataFrame:
    """Cumulative REALISED kW (measured evening reduction x peak load kW: the winter weekday 16-20 h mean
    where known) against households targeted, held-out households ordered by each rule's out-of-fold
    score (model: predicted reduction x peak load kW)."""
    frame = oof.filter(pl.col("pred_model").is_not_null() & pl.col("pred_model").is_not_nan()).with_columns(
        (pl.col("reduction_pct") * pl.col("peak_kw") / 100.0).alias("realised_kw"),
        (pl.col("pred_model").clip(lower_bound=0.0) * pl.col("peak_kw")).alias("model_score"),
    )
    out = []
    for rule, score in ((MODEL, "model_score"), (TEXTBOOK, "textbook_score")):
        ranked = frame.sort([score, "household_id"], descending=[True, False])
        cum = np.cumsum(ranked["realised_kw"].to_numpy())
        out.append(
            pl.DataFrame(
                {
                    "rule": [rule] * ranked.height,
                    "n_targeted": np.arange(1, ranked.height + 1, dtype=np.int64),
                    "cumulative_kw": cum,
                }
            )
        )
    if not out or frame.height == 0:
        return pl.DataFrame(schema={"rule": pl.String, "n_targeted": pl.Int64, "cumulative_kw": pl.Float64})
    return pl.concat(out)
