"""A placebo that can fail: repeated random pseudo-treatment of the controls.

Each draw d (``placebo_draws`` of them, seeded by ``[placebo_seed, d]``) picks as many measured
controls as there are measured treated households ("pseudo-treated", P) and re-runs the production
estimator on them, with the remaining controls R as their comparison group:

    did_i(e) = own_i(e) - mean over j in R with data at e of own_j(e)        (i in P; not leave-one-out)

(a household with pre-period matched controls uses those of them that are in R, as the production
SQL uses its matched controls; none left -> the mean over R, as production falls back). The
remaining controls are scored as production scores controls: against the leave-one-out mean of R.
Then, exactly as for the treated households:

* the pooled population effect of P with the two-way bootstrap CI (event blocks x households,
  :func:`assets.features.bootstrap.effect_from_matrices`, the code behind ``population_effect``);
* (High) the studentised score of every household, empirical p-values of P against R's scores
  (:func:`significance.empirical_p_values`) and Benjamini-Hochberg at ``fdr_alpha`` over P.

Under no effect the draws give the null distribution of the pooled effect (its 95 % range must cover
0 and the treated estimate is placed in it: a permutation test), the share of draws in which BH flags
any pseudo-treated household (at most about fdr_alpha: under the complete null, BH's FDR is the
probability of any discovery), and the share whose 95 % CI covers 0 (the CI's real coverage, about
ci_level). Each can fail: contaminated or heterogeneous controls that the CI does not account for
lower the coverage; a biased estimator shifts the null; miscalibrated p-values raise the flag share.

Everything works on the per-household per-event rows the features stage already holds
(treatment_event_responses: own change, reference, half hours), as (controls x events) matrices.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from assets.features.bootstrap import PopulationEffect, effect_from_matrices
from assets.features.settings import FeatureSettings
from assets.features.significance import benjamini_hochberg, empirical_p_values

METHODS = ("within", "baseline")
LABEL_METHOD = {"within_window_did": "within", "baseline_year_did": "baseline"}
BANDS = ("High", "Low")


@dataclass(frozen=True)
class ControlPanel:
    """One band's event rows (kind 'event') of the control households as (C, E) matrices.

    own / has: per reference method, every control's own change and whether it has a row (the pool
    a comparison mean is taken over, as in event_did.sql). method: index in METHODS of the control's
    primary method (-1: not measured). n / ref / own_p: the primary method's half hours, reference
    and own change (0 without a row). pair_i / pair_k: matched-control pairs (control indices)."""

    households: list[str]
    events: np.ndarray
    blocks: np.ndarray
    method: np.ndarray
    own: np.ndarray  # (M, C, E)
    has: np.ndarray  # (M, C, E) bool
    n: np.ndarray
    ref: np.ndarray
    own_p: np.ndarray
    pair_i: np.ndarray
    pair_k: np.ndarray

    @property
    def measured(self) -> np.ndarray:
        return self.method >= 0


def control_panel(
    event_responses: pl.DataFrame,
    features: pl.DataFrame,
    pairs: pl.DataFrame,
    band: str,
    settings: FeatureSettings,
) -> ControlPanel:
    """The panel of ``band`` from treatment_event_responses, treatment_features (primary method per
    household) and the matched pairs (household_id, control_id)."""
    controls = features.filter(pl.col("tariff_group") == settings.control_group).sort("household_id")
    ids = controls["household_id"].to_list()
    method = np.array(
        [METHODS.index(LABEL_METHOD[m]) if m in LABEL_METHOD else -1 for m in controls["response_method"].to_list()],
        dtype=int,
    )
    rows = event_responses.filter(
        (pl.col("band") == band)
        & (pl.col("kind") == "event")
        & pl.col("household_id").is_in(ids)
        & (pl.col("n_half_hours") > 0)
        & pl.col("own_change_kwh").is_not_null()
    )
    events = rows.select("event_id", "block_id").unique("event_id").sort("event_id")
    c, e = len(ids), events.height
    own = np.zeros((len(METHODS), c, e))
    has = np.zeros((len(METHODS), c, e), dtype=bool)
    n = np.zeros((len(METHODS), c, e))
    ref = np.zeros((len(METHODS), c, e))
    if rows.height:
        h_idx = rows.select(pl.col("household_id").replace_strict(ids, range(c), return_dtype=pl.Int64)).to_series()
        e_idx = rows.select(
            pl.col("event_id").replace_strict(events["event_id"], range(e), return_dtype=pl.Int64)
        ).to_series()
        m_idx = rows.select(pl.col("method").replace_strict(list(METHODS), range(len(METHODS)))).to_series()
        at = (m_idx.to_numpy(), h_idx.to_numpy(), e_idx.to_numpy())
        own[at] = rows["own_change_kwh"].to_numpy()
        has[at] = True
        n[at] = rows["n_half_hours"].cast(pl.Float64).to_numpy()
        ref[at] = rows["ref_kwh"].to_numpy()
    pick = np.clip(method, 0, None)
    primary = np.arange(c)
    measured = (method >= 0)[:, None]
    pos = {h: i for i, h in enumerate(ids)}
    pr = pairs.filter(pl.col("household_id").is_in(ids) & pl.col("control_id").is_in(ids))
    return ControlPanel(
        households=ids,
        events=events["event_id"].to_numpy(),
        blocks=events["block_id"].to_numpy(),
        method=method,
        own=own,
        has=has,
        n=np.where(measured, n[pick, primary], 0.0),
        ref=np.where(measured, ref[pick, primary], 0.0),
        own_p=np.where(measured, own[pick, primary], 0.0),
        pair_i=np.array([pos[h] for h in pr["household_id"].to_list()], dtype=int),
        pair_k=np.array([pos[h] for h in pr["control_id"].to_list()], dtype=int),
    )


def pseudo_did(panel: ControlPanel, in_p: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(did, valid), both (C, E): every measured control's DiD under its primary method when the
    controls ``in_p`` are pseudo-treated. P is compared with the mean over R; R members with the
    leave-one-out mean over R; households with matched pairs with their matched controls in R."""
    pool = ~in_p
    m = np.clip(panel.method, 0, None)
    in_pool = panel.has & pool[None, :, None]  # (M, C, E)
    s = (panel.own * in_pool).sum(axis=1)  # (M, E)
    k = in_pool.sum(axis=1).astype(float)
    own_row = panel.has[m, np.arange(m.size)]  # the household's own primary row
    self_in = (own_row & pool[:, None]).astype(float)
    num = s[m] - panel.own_p * self_in
    cnt = k[m] - self_in
    with np.errstate(invalid="ignore", divide="ignore"):
        comp = np.where(cnt > 0, num / np.where(cnt > 0, cnt, 1.0), np.nan)
    if panel.pair_i.size:
        keep = pool[panel.pair_k]
        pi, pk = panel.pair_i[keep], panel.pair_k[keep]
        mm = m[pi]
        knn_sum = np.zeros_like(comp)
        knn_cnt = np.zeros_like(comp)
        np.add.at(knn_sum, pi, panel.own[mm, pk] * panel.has[mm, pk])
        np.add.at(knn_cnt, pi, panel.has[mm, pk].astype(float))
        with np.errstate(invalid="ignore", divide="ignore"):
            comp = np.where(knn_cnt > 0, knn_sum / np.where(knn_cnt > 0, knn_cnt, 1.0), comp)
    valid = own_row & (panel.method >= 0)[:, None] & np.isfinite(comp)
    did = np.where(valid, panel.own_p - np.where(valid, comp, 0.0), 0.0)
    return did, valid


def studentised_scores(did: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Per row: :func:`significance.studentised_score` of its valid events (NaN below 2 events)."""
    k = valid.sum(axis=1).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean = np.where(k > 0, (did * valid).sum(axis=1) / np.where(k > 0, k, 1.0), np.nan)
        dev = np.where(valid, did - mean[:, None], 0.0)
        sd = np.sqrt((dev**2).sum(axis=1) / np.where(k > 1, k - 1, 1.0))
        t = np.where(sd > 0, mean / (sd / np.sqrt(k)), np.sign(mean) * np.inf)
    t = np.where(np.isnan(mean) | (sd == 0) & (mean == 0), 0.0, t)
    return np.where(k < 2, np.nan, t)


def pseudo_p_values(panel: ControlPanel, did: np.ndarray, valid: np.ndarray, in_p: np.ndarray) -> np.ndarray:
    """Empirical one-sided p-values of the pseudo-treated (in control order) against the remaining
    measured controls' scores, as production scores the treated against the controls."""
    scored = panel.measured
    t = studentised_scores(did[scored], valid[scored])
    is_control = ~in_p[scored]
    return empirical_p_values(t, is_control)[~is_control]


@dataclass(frozen=True)
class DrawResult:
    effect: PopulationEffect
    n_flagged: int | None  # BH discoveries among P (High only)
    n_scored: int | None  # P households with a p-value
    flagged_at: dict[float, int]  # BH discoveries among P at each fdr_curve_levels (High only)


def score_draw(
    panel: ControlPanel,
    in_p: np.ndarray,
    settings: FeatureSettings,
    rng: np.random.Generator,
    flags: bool,
) -> DrawResult:
    """One pseudo-treatment draw of one band: the population effect of P and (``flags``) BH over P."""
    did, valid = pseudo_did(panel, in_p)
    sel = np.flatnonzero(in_p)  # sorted control order = production's household order
    n = np.where(valid[sel], panel.n[sel], 0.0)
    eff = effect_from_matrices(n, n * did[sel], n * panel.ref[sel], panel.blocks, settings, rng)
    if not flags:
        return DrawResult(eff, None, None, {})
    p_t = pseudo_p_values(panel, did, valid, in_p)
    n_scored = int(np.isfinite(p_t).sum())
    flagged_at = {q: int(benjamini_hochberg(p_t, q).sum()) for q in settings.fdr_curve_levels}
    return DrawResult(eff, int(benjamini_hochberg(p_t, settings.fdr_alpha).sum()), n_scored, flagged_at)


def draw_subsets(panel: ControlPanel, n_treated: int, settings: FeatureSettings) -> list[np.ndarray]:
    """The pseudo-treated masks of every draw: n_treated of the measured controls, seeded per draw."""
    candidates = np.flatnonzero(panel.measured)
    out = []
    for d in range(settings.placebo_draws):
        rng = np.random.default_rng([settings.placebo_seed, d])
        in_p = np.zeros(len(panel.households), dtype=bool)
        in_p[rng.choice(candidates, size=n_treated, replace=False)] = True
        out.append(in_p)
    return out


DRAW_SCHEMA = {
    "draw": pl.Int32,
    "band": pl.String,
    "n_pseudo_treated": pl.Int32,
    "n_remaining_controls": pl.Int32,
    "n_events": pl.Int32,
    "effect_kwh": pl.Float64,
    "effect_pct": pl.Float64,
    "ci_low_pct": pl.Float64,
    "ci_high_pct": pl.Float64,
    "ci_covers_zero": pl.Boolean,
    "n_flagged": pl.Int32,
    "share_flagged": pl.Float64,
}


@dataclass(frozen=True)
class PseudoPlacebo:
    draws: pl.DataFrame  # DRAW_SCHEMA rows, one per draw x band
    n_treated: int
    n_controls: int  # measured controls the subsets are drawn from
    note: str | None  # why no draws were run
    curve_share: dict[float, float]  # mean share of P flagged at each fdr_curve_levels (High)


def pseudo_treatment_placebo(
    event_responses: pl.DataFrame,
    features: pl.DataFrame,
    pairs: pl.DataFrame,
    settings: FeatureSettings,
) -> PseudoPlacebo:
    """Every draw of both bands (see the module docstring). The subset of draw d is the same for High
    and Low; the pseudo-treated group has the size of the measured treated group."""
    measured = pl.col("response_method") != "none"
    n_treated = features.filter((pl.col("tariff_group") == settings.treated_group) & measured).height
    n_controls = features.filter((pl.col("tariff_group") == settings.control_group) & measured).height
    empty = pl.DataFrame(schema=DRAW_SCHEMA)
    if settings.placebo_draws == 0:
        return PseudoPlacebo(empty, n_treated, n_controls, "switched off (placebo_draws = 0)", {})
    if n_treated == 0:
        return PseudoPlacebo(empty, n_treated, n_controls, "no measured treated household", {})
    if n_controls < n_treated + 2:
        return PseudoPlacebo(
            empty,
            n_treated,
            n_controls,
            f"{n_controls} measured controls: too few to draw {n_treated} pseudo-treated and keep a comparison group",
            {},
        )
    rows: list[dict] = []
    curve: dict[float, list[float]] = {q: [] for q in settings.fdr_curve_levels}
    subsets = None
    for b, band in enumerate(BANDS):
        panel = control_panel(event_responses, features, pairs, band, settings)
        subsets = subsets if subsets is not None else draw_subsets(panel, n_treated, settings)
        for d, in_p in enumerate(subsets):
            res = score_draw(
                panel, in_p, settings, np.random.default_rng([settings.placebo_seed, d, b]), band == "High"
            )
            e = res.effect
            covers = None if e.ci_low_pct is None or e.ci_high_pct is None else e.ci_low_pct <= 0 <= e.ci_high_pct
            rows.append(
                {
                    "draw": d,
                    "band": band,
                    "n_pseudo_treated": e.n_households,
                    "n_remaining_controls": int((~in_p & panel.measured).sum()),
                    "n_events": e.n_events,
                    "effect_kwh": e.effect_kwh,
                    "effect_pct": e.effect_pct,
                    "ci_low_pct": e.ci_low_pct,
                    "ci_high_pct": e.ci_high_pct,
                    "ci_covers_zero": covers,
                    "n_flagged": res.n_flagged,
                    "share_flagged": res.n_flagged / res.n_scored if res.n_scored else None,
                }
            )
            if res.n_scored:
                for q, k in res.flagged_at.items():
                    curve[q].append(k / res.n_scored)
    frame = pl.DataFrame(rows, schema=DRAW_SCHEMA, orient="row")
    return PseudoPlacebo(frame, n_treated, n_controls, None, {q: float(np.mean(v)) for q, v in curve.items() if v})


@dataclass(frozen=True)
class NullSummary:
    """The reading of one band's draws (see :func:`summarise_draws`)."""

    n_draws: int
    null_low_pct: float | None
    null_high_pct: float | None
    estimate_pct: float | None
    estimate_percentile: float | None  # share of draws with an effect <= the treated estimate
    permutation_p_value: float | None  # two-sided: (1 + #|null| >= |estimate|) / (1 + draws)
    share_any_flagged: float | None
    mean_flagged: float | None
    ci_coverage: float | None  # share of draws whose CI covers 0
    coverage_mc_se: float | None
    verdict: str
    reason: str


def summarise_draws(
    draws: pl.DataFrame, band: str, estimate_pct: float | None, settings: FeatureSettings, note: str | None = None
) -> NullSummary:
    """Null 95 % range of the pooled effect, the treated estimate placed in it, the share of draws with
    any BH flag, the CI's real coverage, and the verdict: 'fails' when the null range excludes 0, the
    coverage is more than placebo_tolerance_z Monte-Carlo SEs below ci_level, or (High) the any-flag
    share more than placebo_tolerance_z SEs above fdr_alpha; else 'passes'."""
    rows = draws.filter((pl.col("band") == band) & pl.col("effect_pct").is_not_null())
    if rows.height == 0:
        why = note or "no draw gave a pooled effect (no control event rows in this band)"
        return NullSummary(0, None, None, estimate_pct, None, None, None, None, None, None, "not run", why)
    null = rows["effect_pct"].to_numpy()
    d = null.size
    alpha = 1.0 - settings.ci_level
    lo, hi = (float(x) for x in np.quantile(null, [alpha / 2, 1 - alpha / 2]))
    pct = p_perm = None
    if estimate_pct is not None:
        pct = float((null <= estimate_pct).mean())
        p_perm = float((1 + (np.abs(null) >= abs(estimate_pct)).sum()) / (1 + d))
    cov_rows = rows["ci_covers_zero"].drop_nulls()
    coverage = float(cov_rows.mean()) if cov_rows.len() else None
    z = settings.placebo_tolerance_z
    cov_se = float(np.sqrt(settings.ci_level * alpha / max(cov_rows.len(), 1)))
    flags = rows["n_flagged"].drop_nulls()
    any_flag = float((flags > 0).mean()) if flags.len() else None
    mean_flag = float(flags.mean()) if flags.len() else None
    fdr = settings.fdr_alpha
    flag_limit = fdr + z * float(np.sqrt(fdr * (1 - fdr) / max(flags.len(), 1)))
    problems = []
    if not lo <= 0 <= hi:
        problems.append(
            f"the null {100 * settings.ci_level:.0f}% range ({100 * lo:+.1f}% to {100 * hi:+.1f}%) excludes 0"
        )
    if coverage is not None and coverage < settings.ci_level - z * cov_se:
        problems.append(
            f"the {100 * settings.ci_level:.0f}% CI covers 0 in only {100 * coverage:.1f}% of draws "
            f"(limit {100 * (settings.ci_level - z * cov_se):.1f}%)"
        )
    if any_flag is not None and any_flag > flag_limit:
        problems.append(
            f"BH flags a pseudo-treated household in {100 * any_flag:.1f}% of draws (limit {100 * flag_limit:.1f}%)"
        )
    verdict = "fails" if problems else "passes"
    reason = (
        "; ".join(problems) if problems else "null range covers 0, coverage and flag share within Monte-Carlo error"
    )
    return NullSummary(d, lo, hi, estimate_pct, pct, p_perm, any_flag, mean_flag, coverage, cov_se, verdict, reason)
