"""A response model for households never on the tariff, judged out of sample against ranking by peak load.

Target (measured ToU households only): the household's EVENING-event High-price reduction in %
(``-100 x high_did_pct_evening``: High events of the features' 'evening' start bucket, 17:00-23:00
local, the ones that cover the 16:00-20:00 peak a DR programme buys; the all-event ``high_did_pct``
where a household has no evening estimate); its REALISED kW is that reduction x its winter weekday
16:00-20:00 peak load (``peak_load_kw``). Predictors: PRE-PERIOD lifestyle features only
(``settings.lifestyle_features``, :func:`check_pre_period`) of households whose lifestyle block comes
from the baseline year (the caller filters, reports/dr_targets.response_model_inputs), plus Acorn group
(one-hot). A treated household's trial-year behaviour is post-treatment and never enters.

Measurement error: a household's measured reduction is its true one plus an error of known SE
(``reduction_se_pct``: the week-block bootstrap SE of the estimate used, evening or all-event). Every
family is fitted with the weights ``1 / (se^2 + tau^2)`` (:func:`precision_weights`, tau^2 the
DerSimonian-Laird between-household variance of the training fold): a random-effects meta-regression, so a
household with three times the noise does not pull the fit as hard as a precisely measured one. Without
the SE column every household weighs the same.

Candidate families (``settings.response_families``; every one predicts the reduction %, its ranking
score is prediction x peak load):
* ``ridge``: standardised, weighted ridge regression of the %, its penalty chosen inside the training fold
  by generalised cross-validation over ``settings.response_ridge_alphas``;
* ``logistic``: L2 logistic regression of the responder flag (C = ``settings.response_logistic_c``);
  predicted % = p x the training fold's (weighted) mean responder reduction + (1 - p) x its mean non-responder one;
* ``boosting``: sklearn HistGradientBoostingRegressor (depth 2, 50 trees) of the %. Not in the default
  list: it is the slowest family to fit, and the permutation null refits every family (below).

Comparators, scored the same way on the same held-out households: (a) the PEAK LOAD rule (rank by
``peak_load_kw``: the rule a utility uses without us), (b) the TEXTBOOK rule (members of the highest-load
K=3 load-shape cluster first, then by peak load), and the SEGMENT PRIOR (the training fold's mean
reduction of the household's lifestyle segment, shrunk to the fold's mean with a strength n0 estimated
on the fold, x peak load).

Scoring: repeated K-fold cross-validation over households (``response_cv_repeats`` x
``response_cv_folds``; the splits do not depend on the responses). In every held-out fold: Spearman
correlation of each rule's score with the households' realised kW, and the realised kW captured by the
top ``response_capture_share`` of the fold by the score; gains = rule minus peak load, fold by fold.
* Estimates: the mean over the J = repeats x folds held-out folds (capture: summed over a repeat's folds).
* Intervals of the gains: the corrected repeated-CV t interval (Nadeau & Bengio 2003; Bouckaert & Frank
  2004): mean +- t(J-1) sqrt((1/J + n_test/n_train) s^2), s^2 the variance of the fold gains. A percentile
  bootstrap over out-of-fold predictions is NOT used: it ignores that the folds share training data.
* Permutation null (``response_permutations`` draws): the households' responses are shuffled (the %,
  its SE and the responder flag together; features and load stay), every family is refitted on the same splits
  and the family choice is made again; the p-value of a gain is (1 + #null >= observed) / (1 + draws),
  its null 95 % range is reported. With shuffled responses the model cannot find signal, so its gain
  over peak load must vanish (or turn negative: multiplying the load by noise loses to the load).

Family choice (stated rule): the family with the highest mean Spearman gain over peak load; ties go to
the earlier family of ``response_families``. The choice is repeated inside every permutation draw, so
the p-value accounts for it.

Decision (:attr:`ResponseModelScores.use_model`): the chosen model sizes never-treated households only if
its Spearman gain over peak load has a corrected interval above 0 AND a permutation p-value below
1 - level. Otherwise the report says the data cannot tell the model from ranking by peak load, and
never-treated households keep the offered program's intention-to-treat figure (one % for all of them,
so the list ranks them by peak load). Fewer than 2 x folds measured households (the real LCL sample has
at most 3 with a pre-period): no model, said so.

The held-out residuals (measured - predicted %, first repeat) give a shipped prediction its interval
(:attr:`ResponseModelScores.residual_interval`, their 2.5 and 97.5 % quantiles).
"""

from __future__ import annotations

from dataclasses import dataclass, field

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
PEAK_LOAD_RULE = "peak load rule"
FAMILIES = ("ridge", "logistic", "boosting")
UNKNOWN_GROUP = "unknown"
CANDIDATE = "response model: {}"  # the method name of a candidate family's rows
METHODS = [MODEL, *(CANDIDATE.format(f) for f in FAMILIES), SEGMENT_PRIOR, TEXTBOOK, PEAK_LOAD_RULE]
SPEARMAN = "spearman_kw"
CAPTURE = "captured_kw_top_share"
SPEARMAN_GAIN = "spearman_kw_gain_over_peak_load"
CAPTURE_GAIN = "captured_kw_gain_over_peak_load"
AUC = "auc_responder"
RESPONDER_RATE = "observed_responder_rate"
SE_COLUMN = "reduction_se_pct"  # the measured reduction's standard error (points of %), optional
BASIS_CORRECTED = "corrected repeated-CV t interval (Nadeau-Bengio); p: permutation null (responses shuffled)"
BASIS_NULL = "95% range of the permutation null (responses shuffled, refitted); no sampling interval"
BASIS_NONE = "no interval"
CANNOT_TELL = "the data cannot tell the model from ranking by peak load"


def evening_reduction_pct(frame: pl.DataFrame, multiplier: float) -> pl.Expr:
    """Measured evening-event High reduction in % (positive = less load); all-event where missing."""
    evening = pl.col("high_did_pct_evening") if "high_did_pct_evening" in frame.columns else pl.lit(None)
    return (-multiplier * pl.coalesce(evening, pl.col("high_did_pct"))).cast(pl.Float64)


def evening_reduction_se_pct(frame: pl.DataFrame, multiplier: float) -> pl.Expr:
    """Standard error (points of %) of :func:`evening_reduction_pct`, paired with the estimate it uses: the
    evening estimate's week-block bootstrap SE (``evening_did_pct_se``, dr_targets.add_evening_response) where
    the evening estimate is used, the all-event one (``high_did_pct_se``) where the all-event estimate is;
    null where the SE is unknown (the model then weights the household like the median one)."""
    has_evening = "high_did_pct_evening" in frame.columns
    evening = pl.col("high_did_pct_evening") if has_evening else pl.lit(None, pl.Float64)
    ev_se = pl.col("evening_did_pct_se") if "evening_did_pct_se" in frame.columns else pl.lit(None, pl.Float64)
    all_se = pl.col("high_did_pct_se") if "high_did_pct_se" in frame.columns else pl.lit(None, pl.Float64)
    return (abs(multiplier) * pl.when(evening.is_not_null()).then(ev_se).otherwise(all_se)).cast(pl.Float64)


def design_matrix(frame: pl.DataFrame, settings: SegmentationSettings, groups: list[str]) -> np.ndarray:
    """Lifestyle features (raw; imputed and scaled inside each training fold) plus one-hot Acorn group."""
    x = frame.select(settings.lifestyle_features).cast(pl.Float64).fill_null(np.nan).to_numpy()
    g = (
        frame["acorn_group"].cast(pl.String).fill_null(UNKNOWN_GROUP).to_list()
        if "acorn_group" in frame.columns
        else []
    )
    onehot = np.array([[1.0 if v == lvl else 0.0 for lvl in groups] for v in g]) if g else np.zeros((frame.height, 0))
    return np.hstack([x, onehot.reshape(frame.height, len(groups))])


@dataclass
class ResponseModelScores:
    scores: pl.DataFrame  # one row per (method, metric): estimate, 95 % interval, p-value (SCORES_SCHEMA)
    oof: pl.DataFrame  # first repeat's out-of-fold predictions of every rule for the measured households
    use_model: bool
    verdict: str
    n_measured: int
    n_responders: int
    # 2.5 / 97.5 % quantiles of the held-out residuals (measured - predicted reduction, points of %):
    # added to a prediction they give its interval; (nan, nan) without out-of-fold predictions
    residual_interval: tuple[float, float] = (float("nan"), float("nan"))
    family: str | None = None  # the chosen family (None: no model fitted)
    null: dict[str, np.ndarray] = field(default_factory=dict)  # permutation null draws per statistic


SCORES_SCHEMA = {
    "method": pl.String,
    "family": pl.String,
    "metric": pl.String,
    "estimate": pl.Float64,
    "ci_low": pl.Float64,
    "ci_high": pl.Float64,
    "p_value": pl.Float64,
    "n_households": pl.Int64,
    "interval_basis": pl.String,
}


# --- the families ------------------------------------------------------------------------------


class _Fold:
    """A training / test split with its imputed, standardised design (X only: reused by every permutation)."""

    def __init__(self, x: np.ndarray, train: np.ndarray, test: np.ndarray) -> None:
        self.train, self.test = train, test
        xt = x[train]
        med = np.nanmedian(np.where(np.isfinite(xt), xt, np.nan), axis=0) if xt.size else np.zeros(x.shape[1])
        med = np.where(np.isfinite(med), med, 0.0)
        filled = np.where(np.isfinite(x), x, med)
        mu, sd = filled[train].mean(axis=0), filled[train].std(axis=0)
        sd = np.where(sd > 0, sd, 1.0)
        z = (filled - mu) / sd
        self.x_train, self.x_test, self.raw_test, self.raw_train = z[train], z[test], x[test], x[train]


def precision_weights(y: np.ndarray, se: np.ndarray | None) -> np.ndarray:
    """Weights ``1 / (se_i^2 + tau^2)`` of measured responses (points of %), normalised to mean 1.

    A household's measured response is its true response plus measurement error of known SE (the
    week-block bootstrap of its own events); ``tau^2`` is the between-household variance of the true
    responses, DerSimonian-Laird (the estimator of responsiveness.fit_response_prior). A regression of
    the response on household features is then a random-effects meta-regression: a household measured
    twice as precisely counts for more, but never for more than its true spread allows. A missing or
    non-positive SE gets the median SE of the others; no SE at all (``se`` None or all missing): equal
    weights."""
    n = y.size
    if se is None or n == 0:
        return np.ones(n)
    se = np.asarray(se, dtype=np.float64)
    ok = np.isfinite(se) & (se > 0)
    if not ok.any():
        return np.ones(n)
    se = np.where(ok, se, np.median(se[ok]))
    w = 1.0 / se**2
    ybar = float(np.sum(w * y) / w.sum())
    q = float(np.sum(w * (y - ybar) ** 2))
    c = float(w.sum() - np.sum(w**2) / w.sum())
    tau2 = max((q - (n - 1)) / c, 0.0) if c > 0 else 0.0
    out = 1.0 / (se**2 + tau2)
    return out / out.mean()


def _ridge(fold: _Fold, y: np.ndarray, alphas: np.ndarray, w: np.ndarray | None = None) -> np.ndarray:
    """Weighted ridge predictions of the fold's test rows (weights ``w`` of the training rows, default
    equal; intercept unpenalised), the penalty chosen by generalised cross-validation of the weighted fit
    on the training rows."""
    yt = y[fold.train]
    wt = np.ones(yt.size) if w is None else w[fold.train] / np.mean(w[fold.train])
    sw = np.sqrt(wt)
    mx = (wt[:, None] * fold.x_train).sum(axis=0) / wt.sum()
    mean = float(np.sum(wt * yt) / wt.sum())
    u, s, vt = np.linalg.svd(sw[:, None] * (fold.x_train - mx), full_matrices=False)
    b = sw * (yt - mean)
    uty = u.T @ b
    s2 = s**2
    best, best_gcv = alphas[0], np.inf
    n = yt.size
    for a in alphas:
        shrink = s2 / (s2 + a)
        resid = b - u @ (shrink * uty)
        dof = n - 1 - shrink.sum()  # the intercept is one more parameter
        gcv = n * float(resid @ resid) / dof**2 if dof > 0 else np.inf
        if gcv < best_gcv:
            best, best_gcv = a, gcv
    beta = vt.T @ ((s / (s2 + best)) * uty)
    return (fold.x_test - mx) @ beta + mean


def _logistic(fold: _Fold, y: np.ndarray, r: np.ndarray, c: float, w: np.ndarray | None = None) -> np.ndarray:
    """Two-part prediction p x mean responder % + (1 - p) x mean non-responder % (training fold, means
    weighted by ``w``: the responder flag is the household's own test, so the flag itself is not reweighted); p from
    an L2 logistic regression (penalty |w|^2 / 2C on the standardised features, intercept free; the
    objective of sklearn's LogisticRegression(C), solved by Newton's method)."""
    yt, rt = y[fold.train], r[fold.train].astype(bool)
    wt = np.ones(yt.size) if w is None else w[fold.train]
    if rt.all() or not rt.any():
        return np.full(fold.test.size, np.average(yt, weights=wt))
    x = np.hstack([np.ones((fold.x_train.shape[0], 1)), fold.x_train])
    target = rt.astype(np.float64)
    penalty = np.full(x.shape[1], 1.0 / c)
    penalty[0] = 0.0
    w = np.zeros(x.shape[1])
    w[0] = np.log(target.mean() / (1 - target.mean()))
    for _ in range(50):
        p = 1.0 / (1.0 + np.exp(-(x @ w)))
        grad = x.T @ (p - target) + penalty * w
        hess = (x * (p * (1 - p))[:, None]).T @ x + np.diag(penalty) + 1e-9 * np.eye(x.shape[1])
        step = np.linalg.solve(hess, grad)
        w -= step
        if np.max(np.abs(step)) < 1e-8:
            break
    p = 1.0 / (1.0 + np.exp(-(fold.x_test @ w[1:] + w[0])))
    return p * np.average(yt[rt], weights=wt[rt]) + (1 - p) * np.average(yt[~rt], weights=wt[~rt])


def _boosting(fold: _Fold, y: np.ndarray, seed: int, w: np.ndarray | None = None) -> np.ndarray:
    from sklearn.ensemble import HistGradientBoostingRegressor
    from threadpoolctl import threadpool_limits

    model = HistGradientBoostingRegressor(
        max_iter=50, max_depth=2, learning_rate=0.1, min_samples_leaf=5, random_state=seed
    )
    with threadpool_limits(1):
        model.fit(fold.raw_train, y[fold.train], sample_weight=None if w is None else w[fold.train])
        return model.predict(fold.raw_test)


def _family_predict(
    family: str, fold: _Fold, y: np.ndarray, r: np.ndarray, settings: SegmentationSettings, se: np.ndarray | None
):
    """The family's predictions of the fold's test rows, trained on its training rows weighted by
    precision_weights (computed on the training rows alone)."""
    w = np.ones(y.size)
    w[fold.train] = precision_weights(y[fold.train], None if se is None else se[fold.train])
    if family == "ridge":
        return _ridge(fold, y, np.asarray(settings.response_ridge_alphas, dtype=np.float64), w)
    if family == "logistic":
        return _logistic(fold, y, r, settings.response_logistic_c, w)
    if family == "boosting":
        return _boosting(fold, y, settings.random_state, w)
    raise ValueError(f"unknown response model family {family!r}; one of {FAMILIES}")


def _segment_prior(train_y: np.ndarray, train_seg: np.ndarray, seg: np.ndarray) -> np.ndarray:
    """The segment prior of responsiveness.segment_priors on the training fold, its strength n0 estimated
    from the fold (responsiveness.segment_prior_strength; inf = the fold's mean for every segment)."""
    from assets.model.responsiveness import segment_prior_strength

    mean = float(np.mean(train_y)) if train_y.size else 0.0
    strength = segment_prior_strength(train_y, train_seg)
    if not np.isfinite(strength) or not train_y.size:
        return np.full(seg.shape[0], mean)
    segments, members = np.unique(train_seg, return_inverse=True)
    sums = np.bincount(members, weights=train_y, minlength=segments.size)
    counts = np.bincount(members, minlength=segments.size)
    at = np.minimum(np.searchsorted(segments, seg), segments.size - 1)
    known = segments[at] == seg  # a segment without training members gets the fold's mean
    return np.where(known, (sums[at] + strength * mean) / (counts[at] + strength), mean)


# --- scoring -----------------------------------------------------------------------------------


def _auc(y: np.ndarray, score: np.ndarray) -> float:
    if y.min() == y.max():
        return float("nan")
    from sklearn.metrics import roc_auc_score

    return float(roc_auc_score(y, score))


def _rankable(a: np.ndarray) -> bool:
    """At least 3 values, all finite, not all equal: a rank correlation with them means something (a
    Spearman's rho is ``_rank_correlation(_ranks(a), _ranks(b))`` of two rankable vectors, else nan)."""
    return a.size >= 3 and bool(np.isfinite(a).all()) and bool(np.ptp(a) > 0)


def _rank_correlation(ra: np.ndarray, rb: np.ndarray) -> float:
    """Pearson correlation of two vectors of average ranks of the same n (each has mean (n + 1) / 2)."""
    centre = (ra.size + 1) / 2.0
    ca, cb = ra - centre, rb - centre
    return float(ca @ cb / np.sqrt((ca @ ca) * (cb @ cb)))


def _ranks(a: np.ndarray) -> np.ndarray:
    """Average ranks (1-based; ties share their mean rank), as scipy.stats.rankdata."""
    _, inverse, counts = np.unique(a, return_inverse=True, return_counts=True)
    return (np.cumsum(counts) - (counts - 1) / 2.0)[inverse]


def _captured(score: np.ndarray, kw: np.ndarray, share: float) -> float:
    """Realised kW of the top ``share`` of the households by ``score`` (stable order, at least one)."""
    k = max(1, round(share * score.size))
    return float(kw[np.argsort(-score, kind="stable")[:k]].sum())


def _splits(n: int, settings: SegmentationSettings) -> list[list[tuple[np.ndarray, np.ndarray]]]:
    from sklearn.model_selection import KFold

    return [
        list(
            KFold(settings.response_cv_folds, shuffle=True, random_state=settings.random_state + rep).split(
                np.arange(n)
            )
        )
        for rep in range(settings.response_cv_repeats)
    ]


@dataclass
class _Run:
    """Out-of-fold predictions (repeat x household) and fold-level statistics of one fit of every rule."""

    pred: dict[str, np.ndarray]  # family / SEGMENT_PRIOR -> (repeats, n) predicted %
    spearman: dict[str, np.ndarray]  # rule -> (J,) per-fold Spearman with realised kW
    captured: dict[str, np.ndarray]  # rule -> (J,) per-fold captured kW of the top share
    family: str


def _run(folds, y, r, se, seg, load, top, settings) -> _Run:
    n = y.size
    kw = y * load / 100.0
    reps = len(folds)
    pred = {f: np.full((reps, n), np.nan) for f in (*settings.response_families, SEGMENT_PRIOR)}
    for rep, split in enumerate(folds):
        for fold in split:
            for f in settings.response_families:
                pred[f][rep, fold.test] = _family_predict(f, fold, y, r, settings, se)
            pred[SEGMENT_PRIOR][rep, fold.test] = _segment_prior(y[fold.train], seg[fold.train], seg[fold.test])
    fixed = {TEXTBOOK: top.astype(np.float64) + 1e-6 * load, PEAK_LOAD_RULE: load}
    spearman: dict[str, list[float]] = {k: [] for k in (*pred, *fixed)}
    captured: dict[str, list[float]] = {k: [] for k in (*pred, *fixed)}
    for rep, split in enumerate(folds):
        for fold in split:
            t = fold.test
            realised = kw[t]
            # the realised kW's ranks once per fold, shared by every rule
            realised_ranks = _ranks(realised) if _rankable(realised) else None
            scores = {k: v[rep, t] * load[t] for k, v in pred.items()} | {k: v[t] for k, v in fixed.items()}
            for k, sc in scores.items():
                ranked = realised_ranks is not None and _rankable(sc)
                spearman[k].append(_rank_correlation(_ranks(sc), realised_ranks) if ranked else float("nan"))
                captured[k].append(_captured(sc, realised, settings.response_capture_share))
    sp = {k: np.asarray(v) for k, v in spearman.items()}
    cap = {k: np.asarray(v) for k, v in captured.items()}
    gains = {f: np.nanmean(sp[f] - sp[PEAK_LOAD_RULE]) for f in settings.response_families}
    family = max(
        settings.response_families,
        key=lambda f: (np.nan_to_num(gains[f], nan=-np.inf), -settings.response_families.index(f)),
    )
    return _Run(pred, sp, cap, family)


def _corrected_interval(d: np.ndarray, n_test: float, n_train: float, scale: float = 1.0):
    """(mean, low, high) of the fold-level differences ``d`` with the Nadeau-Bengio corrected variance."""
    from scipy.stats import t as student

    d = d[np.isfinite(d)]
    if d.size < 2:
        return (float(np.mean(d)) * scale if d.size else None), None, None
    var = (1.0 / d.size + n_test / n_train) * float(np.var(d, ddof=1))
    half = float(student.ppf(0.5 + INTERVAL_LEVEL / 2, d.size - 1)) * np.sqrt(var)
    m = float(np.mean(d))
    return m * scale, (m - half) * scale, (m + half) * scale


_CACHE: dict[tuple, ResponseModelScores] = {}
_CACHE_SIZE = 8


def cross_validate(measured: pl.DataFrame, settings: SegmentationSettings, groups: list[str]) -> ResponseModelScores:
    """Repeated-CV scores, corrected intervals and the permutation null of every rule (module docstring).

    ``measured`` columns: household_id, segment, is_textbook_top, peak_load_kw (or peak_kw), reduction_pct,
    responded and the design columns (lifestyle features, acorn_group). The result is deterministic (seeded by
    settings.random_state) and the permutation null costs seconds, so it is kept for the same inputs (the
    interventions, DR-target and report assets all size households with it in one run); treat it as read-only."""
    key = (tuple(measured.columns), tuple(measured.hash_rows(seed=0).to_list()), repr(settings), tuple(groups))
    if key not in _CACHE:
        if len(_CACHE) >= _CACHE_SIZE:
            _CACHE.pop(next(iter(_CACHE)))
        _CACHE[key] = _cross_validate(measured, settings, groups)
    return _CACHE[key]


def _cross_validate(measured: pl.DataFrame, settings: SegmentationSettings, groups: list[str]) -> ResponseModelScores:
    n = measured.height
    y = measured["reduction_pct"].to_numpy().astype(np.float64)
    r = measured["responded"].to_numpy().astype(int)
    se = measured[SE_COLUMN].to_numpy().astype(np.float64) if SE_COLUMN in measured.columns else None
    load = measured["peak_load_kw" if "peak_load_kw" in measured.columns else "peak_kw"].to_numpy().astype(np.float64)
    if n < 2 * settings.response_cv_folds or not np.isfinite(load).all():
        return _too_few(measured, n, int(r.sum()), load)
    seg = measured["segment"].to_numpy()
    top = measured["is_textbook_top"].to_numpy().astype(bool)
    x = design_matrix(measured, settings, groups)
    folds = [[_Fold(x, tr, te) for tr, te in split] for split in _splits(n, settings)]
    obs = _run(folds, y, r, se, seg, load, top, settings)
    # the permutation null: responses shuffled, every family refitted, the family chosen again
    rng = np.random.default_rng(settings.random_state)
    rules = (*settings.response_families, SEGMENT_PRIOR, TEXTBOOK)
    null: dict[str, list[float]] = {f"{k}:{m}": [] for k in (MODEL, *rules) for m in (SPEARMAN_GAIN, CAPTURE_GAIN)}
    for _ in range(settings.response_permutations):
        p = rng.permutation(n)
        run = _run(folds, y[p], r[p], None if se is None else se[p], seg, load, top, settings)
        for k in (MODEL, *rules):
            src = run.family if k == MODEL else k
            null[f"{k}:{SPEARMAN_GAIN}"].append(float(np.nanmean(run.spearman[src] - run.spearman[PEAK_LOAD_RULE])))
            null[f"{k}:{CAPTURE_GAIN}"].append(
                float(np.nanmean(run.captured[src] - run.captured[PEAK_LOAD_RULE])) * settings.response_cv_folds
            )
    null_arr = {k: np.asarray(v) for k, v in null.items()}
    n_test = n / settings.response_cv_folds
    rows: list[tuple] = []
    alpha = 1.0 - INTERVAL_LEVEL

    def null_range(key: str):
        v = null_arr.get(key, np.array([]))
        v = v[np.isfinite(v)]
        return tuple(float(q) for q in np.quantile(v, [alpha / 2, 1 - alpha / 2])) if v.size else (None, None)

    def p_value(key: str, observed: float | None):
        v = null_arr.get(key, np.array([]))
        v = v[np.isfinite(v)]
        if observed is None or not v.size:
            return None
        return float((1 + np.sum(v >= observed - 1e-12)) / (1 + v.size))

    for method, src in [
        (MODEL, obs.family),
        *((CANDIDATE.format(f), f) for f in settings.response_families),
        (SEGMENT_PRIOR, SEGMENT_PRIOR),
        (TEXTBOOK, TEXTBOOK),
        (PEAK_LOAD_RULE, PEAK_LOAD_RULE),
    ]:
        fam = obs.family if method == MODEL else (src if src in FAMILIES else None)
        key = MODEL if method == MODEL else src
        rows.append((method, fam, SPEARMAN, _num(np.nanmean(obs.spearman[src])), None, None, None, n, BASIS_NONE))
        rows.append(
            (
                method,
                fam,
                CAPTURE,
                _num(np.nanmean(obs.captured[src]) * settings.response_cv_folds),
                None,
                None,
                None,
                n,
                BASIS_NONE,
            )
        )
        if src == PEAK_LOAD_RULE:
            continue
        for metric, stat, scale in (
            (SPEARMAN_GAIN, obs.spearman, 1.0),
            (CAPTURE_GAIN, obs.captured, settings.response_cv_folds),
        ):
            est, lo, hi = _corrected_interval(stat[src] - stat[PEAK_LOAD_RULE], n_test, n - n_test, scale)
            nk = f"{key}:{metric}"
            rows.append((method, fam, metric, _num(est), _num(lo), _num(hi), p_value(nk, est), n, BASIS_CORRECTED))
            if method in (MODEL, SEGMENT_PRIOR):
                nlo, nhi = null_range(nk)
                rows.append(
                    (
                        method,
                        fam,
                        f"{metric}_null",
                        _num(np.nanmedian(null_arr[nk])),
                        _num(nlo),
                        _num(nhi),
                        None,
                        n,
                        BASIS_NULL,
                    )
                )
    chosen = obs.pred[obs.family][0]
    rows.append((MODEL, obs.family, AUC, _num(_auc(r, chosen)), None, None, None, n, BASIS_NONE))
    rows.append((MODEL, obs.family, RESPONDER_RATE, _num(np.mean(r)), None, None, None, n, BASIS_NONE))
    scores = pl.DataFrame(rows, schema=SCORES_SCHEMA, orient="row")
    use, verdict = decide(scores, n)
    resid = y - chosen
    interval = tuple(float(q) for q in np.quantile(resid[np.isfinite(resid)], [alpha / 2, 1 - alpha / 2]))
    oof = _oof_frame(measured, y, load, top, obs.pred[obs.family][0], obs.pred[SEGMENT_PRIOR][0], r)
    return ResponseModelScores(scores, oof, use, verdict, n, int(r.sum()), interval, obs.family, null_arr)


def _oof_frame(measured, y, load, top, pred_model, pred_prior, r) -> pl.DataFrame:
    n = measured.height
    nan = np.full(n, np.nan)
    return pl.DataFrame(
        {
            "household_id": measured["household_id"],
            "reduction_pct": y,
            "responded": r.astype(bool),
            "peak_kw": load,
            "pred_model": nan if pred_model is None else pred_model,
            "pred_prior": nan if pred_prior is None else pred_prior,
            "textbook_score": top.astype(np.float64) + 1e-6 * load,
        }
    )


def _too_few(measured: pl.DataFrame, n: int, n_resp: int, load: np.ndarray) -> ResponseModelScores:
    scores = pl.DataFrame(
        [(MODEL, None, SPEARMAN_GAIN, None, None, None, None, n, BASIS_NONE)], schema=SCORES_SCHEMA, orient="row"
    )
    _, verdict = decide(scores, n)
    y = measured["reduction_pct"].to_numpy().astype(np.float64)
    top = measured["is_textbook_top"].to_numpy().astype(bool) if n else np.zeros(0, bool)
    oof = _oof_frame(measured, y, load, top, None, None, measured["responded"].to_numpy().astype(int))
    return ResponseModelScores(scores, oof, False, verdict, n, n_resp)


def decide(scores: pl.DataFrame, n_measured: int) -> tuple[bool, str]:
    """(use the model?, plain-words verdict) from a scores table (module docstring)."""
    gain = scores.filter((pl.col("method") == MODEL) & (pl.col("metric") == SPEARMAN_GAIN))
    row = gain.row(0, named=True) if gain.height else None
    if row is None or row["estimate"] is None:
        return False, (
            f"Only {n_measured} household(s) have a measured response and a pre-period (baseline-year) "
            "lifestyle: too few to train and cross-validate a response model; never-treated households are "
            "sized with the offered program's intention-to-treat evidence, which ranks them by peak load."
        )
    null = scores.filter((pl.col("method") == MODEL) & (pl.col("metric") == f"{SPEARMAN_GAIN}_null"))
    nrow = null.row(0, named=True) if null.height else {"ci_low": None, "ci_high": None}
    lo, hi, p = row["ci_low"], row["ci_high"], row["p_value"]
    use = lo is not None and lo > 0 and p is not None and p < 1 - INTERVAL_LEVEL
    said = (
        f"{row['family']} model's gain in rank correlation with the households' realised kW over ranking by winter "
        f"weekday 16:00-20:00 peak load, held out (repeated cross-validation over {n_measured} measured households): "
        f"{row['estimate']:+.3f} (95% interval {_fmt(lo)} to {_fmt(hi)}; permutation p = {_p(p)}; with the "
        f"responses shuffled the gain's 95% range is {_fmt(nrow['ci_low'])} to {_fmt(nrow['ci_high'])})"
    )
    if use:
        return True, (
            f"The response model ranks held-out households better than peak load: the {said}. It sizes households "
            "never on the tariff."
        )
    return False, (
        f"Out of sample, {CANNOT_TELL}: the {said}. Households never on the tariff keep the offered program's "
        "intention-to-treat figure, which ranks them by peak load."
    )


def _fmt(v) -> str:
    return "n/a" if v is None else f"{v:+.3f}"


def _p(v) -> str:
    return "n/a" if v is None else f"{v:.3f}"


def _num(v) -> float | None:
    if v is None:
        return None
    v = float(v)
    return v if np.isfinite(v) else None


def fit_predict(
    measured: pl.DataFrame,
    others: pl.DataFrame,
    settings: SegmentationSettings,
    groups: list[str],
    family: str = "ridge",
) -> np.ndarray:
    """Predicted reduction (%) of ``others`` from the ``family`` fitted on all measured households."""
    x_m, x_o = design_matrix(measured, settings, groups), design_matrix(others, settings, groups)
    x = np.vstack([x_m, x_o])
    fold = _Fold(x, np.arange(x_m.shape[0]), np.arange(x_m.shape[0], x.shape[0]))
    y = np.concatenate([measured["reduction_pct"].to_numpy().astype(np.float64), np.zeros(x_o.shape[0])])
    r = np.concatenate([measured["responded"].to_numpy().astype(int), np.zeros(x_o.shape[0], dtype=int)])
    se = (
        np.concatenate([measured[SE_COLUMN].to_numpy().astype(np.float64), np.full(x_o.shape[0], np.nan)])
        if SE_COLUMN in measured.columns
        else None
    )
    return _family_predict(family, fold, y, r, settings, se)


CURVE_RULES = {MODEL: "pred_model", SEGMENT_PRIOR: "pred_prior", TEXTBOOK: "textbook_score", PEAK_LOAD_RULE: "peak_kw"}


def capture_curve(oof: pl.DataFrame) -> pl.DataFrame:
    """Cumulative REALISED kW (measured evening reduction x peak load kW) against households targeted,
    held-out households (first CV repeat) ordered by each rule's out-of-fold score (model and segment
    prior: predicted reduction x peak load; textbook: cluster members first, then peak load; peak load)."""
    frame = oof.filter(pl.col("pred_model").is_not_null() & pl.col("pred_model").is_not_nan()).with_columns(
        (pl.col("reduction_pct") * pl.col("peak_kw") / 100.0).alias("realised_kw"),
        (pl.col("pred_model") * pl.col("peak_kw")).alias("pred_model"),
        (pl.col("pred_prior") * pl.col("peak_kw")).alias("pred_prior"),
    )
    if frame.height == 0:
        return pl.DataFrame(schema={"rule": pl.String, "n_targeted": pl.Int64, "cumulative_kw": pl.Float64})
    out = []
    for rule, score in CURVE_RULES.items():
        ranked = frame.sort([score, "household_id"], descending=[True, False])
        out.append(
            pl.DataFrame(
                {
                    "rule": [rule] * ranked.height,
                    "n_targeted": np.arange(1, ranked.height + 1, dtype=np.int64),
                    "cumulative_kw": np.cumsum(ranked["realised_kw"].to_numpy()),
                }
            )
        )
    return pl.concat(out)
