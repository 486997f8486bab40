"""Behavioural segmentation, stage 2: explain personas with socio-demographic and lifestyle features.

Global tests (is the feature distributed differently across personas?)
* categorical (acorn_group, acorn, tariff_group; null -> "unknown"): Pearson chi-square on the
  persona x level contingency table (no continuity correction), effect size Cramer's V =
  sqrt(chi2 / (n * (min(r, c) - 1))).
* continuous: Kruskal-Wallis H across personas, effect size epsilon^2 = H / (n - 1)
  (Tomczak & Tomczak 2014; equals H / ((n^2 - 1) / (n + 1))).
* roles: ``outside_covariate`` (settings.outside_covariates: Acorn, Acorn group -- register fields the
  personas were NOT built from; the only tests that can explain the personas; tested across the
  LIFESTYLE SEGMENTS, not the personas: the personas split each segment by measured price response, which
  exists only for ToU households, and ToU homes are more Affluent (SMD +0.28 on the real sample), so
  Acorn across personas would mix in ToU status), ``descriptive`` (the
  lifestyle features the clusters were fitted on, tariff_group and the measured response that define
  the price-responsive personas: different by construction, so circular as evidence) and
  ``response_among_measured`` (the High-period response across LIFESTYLE SEGMENTS among measured ToU
  households only -- the one response test that is not circular; its power is stated as
  ``min_detectable_difference``: the difference in mean reduction (percentage points) between the
  largest and the smallest segment that a two-sided test at ``alpha`` detects with ``power_target``
  (80 %) power, normal approximation with the pooled within-segment SD:
  (z_{1-alpha/2} + z_power) x SD x sqrt(1/n_largest + 1/n_smallest));
* p-values are adjusted within each role (Benjamini-Hochberg (FDR, default) or Holm (FWER) --
  :func:`assets.features.significance.adjust_p_values`, scipy's false_discovery_control).

Per-persona contrasts (what distinguishes this persona from the rest?)
* continuous: Cliff's delta of persona vs rest (delta = P(X > Y) - P(X < Y), in [-1, 1]; |delta| >=
  0.147 / 0.33 / 0.474 is small / medium / large by Romano et al. 2006), with both medians;
* categorical: share of each level in the persona vs the rest (difference in percentage points).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import polars as pl

from assets.features.catalogue import feature, hours_label
from assets.features.significance import adjust_p_values
from assets.model.settings import SegmentationSettings

UNKNOWN = "unknown"


def _hh(name: str) -> str:
    """'16-22': the whole-hour window of a catalogued feature."""
    start, end = feature(name).window()
    return f"{int(start):02d}-{int(end):02d}"


FEATURE_LABELS = {
    "mean_daily_kwh": "daily consumption (kWh)",
    "log_mean_daily_kwh": "daily consumption (log kWh)",
    "peak_kw": f"average load {hours_label(feature('peak_kwh_per_half_hour').window())} (kW)",
    "peak_offpeak_ratio": "peak / off-peak ratio",
    "daily_cv": "day-to-day variability",
    "load_factor": "load factor (flatness)",
    "night_share": f"night share of use ({_hh('night_share')})",
    "daytime_share": f"daytime share of use ({_hh('daytime_share')})",
    "evening_share": f"evening share of use ({_hh('evening_share')})",
    "evening_peak_hour": "hour of the evening peak",
    "morning_peak_hour": "hour of the morning peak",
    "weekday_weekend_ratio": "weekday / weekend ratio",
    "winter_summer_ratio": "winter / summer ratio",
    "shape_entropy": "irregularity of the daily shape (entropy)",
    "high_reduction_shrunk_pct": "measured reduction in High-price periods (%)",
    "acorn_group": "Acorn group",
    "acorn": "Acorn category",
    "tariff_group": "tariff group",
}


def feature_label(name: str) -> str:
    return FEATURE_LABELS.get(name, name.replace("_", " "))


@dataclass(frozen=True)
class ChiSquareResult:
    statistic: float
    p_value: float
    dof: int
    cramers_v: float
    n: int
    test: str = "chi_square"  # "chi_square_permutation" when the table is sparse (see chi_square_cramers_v)


@dataclass(frozen=True)
class KruskalResult:
    statistic: float
    p_value: float
    epsilon_squared: float
    n: int
    n_groups: int


def contingency_table(groups: Sequence, categories: Sequence) -> np.ndarray:
    """Counts of (group, category) pairs; rows = sorted groups, columns = sorted categories."""
    g = np.asarray([str(v) for v in groups])
    c = np.asarray([str(v) for v in categories])
    g_levels, g_idx = np.unique(g, return_inverse=True)
    c_levels, c_idx = np.unique(c, return_inverse=True)
    table = np.zeros((len(g_levels), len(c_levels)), dtype=np.int64)
    np.add.at(table, (g_idx, c_idx), 1)
    return table


# Expected count below which the chi-square approximation of a cell is not trusted (Cochran 1954: no expected
# count below 1 and at most 20 % of the cells below 5); a table failing it gets a permutation p-value.
SPARSE_EXPECTED = 5.0
SPARSE_SHARE = 0.2
PERMUTATIONS = 9999


def chi_square_cramers_v(groups: Sequence, categories: Sequence, seed: int = 0) -> ChiSquareResult:
    """Pearson chi-square of independence (no Yates correction) and Cramer's V.

    Sparse tables (Cochran's rule: an expected count below 1, or more than 20 % of the cells below 5) get a
    permutation p-value instead of the asymptotic one (scipy PermutationMethod, PERMUTATIONS resamples of the
    group labels, seeded): ``test`` = 'chi_square_permutation'.
    NaN statistic / p / V when the table has fewer than 2 rows or columns.
    """
    table = contingency_table(groups, categories)
    table = table[table.sum(axis=1) > 0][:, table.sum(axis=0) > 0]
    n = int(table.sum())
    r, c = table.shape
    if r < 2 or c < 2:
        return ChiSquareResult(float("nan"), float("nan"), 0, float("nan"), n)
    from scipy import stats  # lazy: scipy is slow to import
    from scipy.stats.contingency import association

    res = stats.chi2_contingency(table, correction=False)
    v = float(association(table, method="cramer", correction=False))
    expected = res.expected_freq
    if expected.min() < 1.0 or np.mean(expected < SPARSE_EXPECTED) > SPARSE_SHARE:
        exact = stats.chi2_contingency(
            table,
            correction=False,
            method=stats.PermutationMethod(n_resamples=PERMUTATIONS, rng=np.random.default_rng(seed)),
        )
        return ChiSquareResult(float(res.statistic), float(exact.pvalue), int(res.dof), v, n, "chi_square_permutation")
    return ChiSquareResult(float(res.statistic), float(res.pvalue), int(res.dof), v, n)


def kruskal_epsilon_squared(values: Sequence[float], groups: Sequence) -> KruskalResult:
    """Kruskal-Wallis H across groups (nulls / NaN dropped) and epsilon^2 = H / (n - 1)."""
    v = np.asarray(values, dtype=np.float64)
    g = np.asarray([str(x) for x in groups])
    ok = np.isfinite(v)
    v, g = v[ok], g[ok]
    samples = [v[g == lab] for lab in np.unique(g)]
    samples = [s for s in samples if s.size > 0]
    n = int(v.size)
    if len(samples) < 2 or n < 3 or np.ptp(v) == 0:
        return KruskalResult(float("nan"), float("nan"), float("nan"), n, len(samples))
    from scipy import stats  # lazy: scipy is slow to import

    res = stats.kruskal(*samples)
    h = float(res.statistic)
    return KruskalResult(h, float(res.pvalue), h / (n - 1), n, len(samples))


def cliffs_delta(x: Sequence[float], y: Sequence[float]) -> float:
    """Cliff's delta = P(X > Y) - P(X < Y), from the Mann-Whitney U statistic."""
    a = np.asarray(x, dtype=np.float64)
    b = np.asarray(y, dtype=np.float64)
    a, b = a[np.isfinite(a)], b[np.isfinite(b)]
    if a.size == 0 or b.size == 0:
        return float("nan")
    from scipy import stats  # lazy: scipy is slow to import

    u = stats.mannwhitneyu(a, b, alternative="two-sided").statistic
    return float(2.0 * u / (a.size * b.size) - 1.0)


OUTSIDE = "outside_covariate"
DESCRIPTIVE = "descriptive"
RESPONSE_AMONG_MEASURED = "response_among_measured"
RESPONSE_TEST_FEATURE = "high_reduction_by_segment_measured"
FEATURE_LABELS[RESPONSE_TEST_FEATURE] = "measured High-price reduction (%) across lifestyle segments, ToU only"

TESTS_SCHEMA = {
    "feature": pl.String,
    "role": pl.String,
    "feature_label": pl.String,
    "kind": pl.String,
    "test": pl.String,
    "statistic": pl.Float64,
    "dof": pl.Int64,
    "n": pl.Int64,
    "p_value": pl.Float64,
    "p_adjusted": pl.Float64,
    "effect_size": pl.Float64,
    "effect_size_name": pl.String,
    "significant": pl.Boolean,
    "compared_across": pl.String,
    "min_detectable_difference": pl.Float64,
}

CONTRASTS_SCHEMA = {
    "persona_id": pl.String,
    "feature": pl.String,
    "feature_label": pl.String,
    "kind": pl.String,
    "level": pl.String,
    "persona_value": pl.Float64,
    "rest_value": pl.Float64,
    "direction": pl.String,
    "effect_size": pl.Float64,
    "effect_size_name": pl.String,
    "feature_significant": pl.Boolean,
    "rank": pl.Int32,
}


def _category_values(frame: pl.DataFrame, column: str) -> list[str]:
    return frame[column].cast(pl.String).fill_null(UNKNOWN).to_list()


def _role(col: str, settings: SegmentationSettings) -> str:
    return OUTSIDE if col in settings.outside_covariates else DESCRIPTIVE


def min_detectable_difference(values: Sequence[float], groups: Sequence, alpha: float, power: float) -> float | None:
    """Smallest difference in means between the largest and the smallest group detectable with ``power`` by a
    two-sided test at ``alpha`` (normal approximation, pooled within-group SD); None with < 2 groups of >= 2."""
    v = np.asarray(values, dtype=np.float64)
    g = np.asarray([str(x) for x in groups])
    ok = np.isfinite(v)
    v, g = v[ok], g[ok]
    samples = [v[g == lab] for lab in np.unique(g)]
    samples = [x for x in samples if x.size >= 2]
    if len(samples) < 2:
        return None
    from scipy import stats  # lazy: scipy is slow to import

    dof = sum(x.size - 1 for x in samples)
    sd = float(np.sqrt(sum(((x - x.mean()) ** 2).sum() for x in samples) / dof))
    sizes = sorted(x.size for x in samples)
    z = float(stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power))
    return z * sd * float(np.sqrt(1 / sizes[0] + 1 / sizes[-1]))


def _kruskal_row(feature: str, role: str, values: pl.Series, groups: Sequence) -> dict:
    """One Kruskal-Wallis row of the feature tests (values across ``groups``, with epsilon squared)."""
    r = kruskal_epsilon_squared(values.cast(pl.Float64).fill_null(np.nan).to_numpy(), groups)
    return {
        "feature": feature,
        "role": role,
        "feature_label": feature_label(feature),
        "kind": "continuous",
        "test": "kruskal_wallis",
        "statistic": r.statistic,
        "dof": max(r.n_groups - 1, 0),
        "n": r.n,
        "p_value": r.p_value,
        "effect_size": r.epsilon_squared,
        "effect_size_name": "epsilon_squared",
    }


def feature_tests(frame: pl.DataFrame, groups: Sequence[str], settings: SegmentationSettings) -> pl.DataFrame:
    """One row per feature: global test across personas, adjusted p-value (within its role), effect size.

    If ``frame`` has ``segment`` and ``response_measured``, one more row tests the measured High-period
    response across lifestyle segments among measured households only (role response_among_measured).
    """
    rows = []
    segments = frame["segment"].to_list() if "segment" in frame.columns else None
    for col in settings.categorical_features:
        if col not in frame.columns:
            continue
        across_segments = segments is not None and _role(col, settings) == OUTSIDE
        r = chi_square_cramers_v(
            segments if across_segments else groups, _category_values(frame, col), settings.random_state
        )
        rows.append(
            {
                "feature": col,
                "compared_across": "lifestyle_segments" if across_segments else "personas",
                "role": _role(col, settings),
                "feature_label": feature_label(col),
                "kind": "categorical",
                "test": r.test,
                "statistic": r.statistic,
                "dof": r.dof,
                "n": r.n,
                "p_value": r.p_value,
                "effect_size": r.cramers_v,
                "effect_size_name": "cramers_v",
            }
        )
    for col in settings.continuous_features:
        if col not in frame.columns:
            continue
        across_segments = segments is not None and _role(col, settings) == OUTSIDE
        row = _kruskal_row(col, _role(col, settings), frame[col], segments if across_segments else groups)
        rows.append(row | {"compared_across": "lifestyle_segments" if across_segments else "personas"})
    if {"segment", "response_measured", "high_reduction_shrunk_pct"} <= set(frame.columns):
        # measured = households with a measured price response: ToU households only (responsiveness.py)
        measured = frame.filter(pl.col("response_measured").fill_null(False))
        values = measured["high_reduction_shrunk_pct"]
        row = _kruskal_row(RESPONSE_TEST_FEATURE, RESPONSE_AMONG_MEASURED, values, measured["segment"].to_list())
        mdd = min_detectable_difference(
            values.cast(pl.Float64).fill_null(np.nan).to_numpy(),
            measured["segment"].to_list(),
            settings.alpha,
            settings.power_target,
        )
        rows.append(row | {"compared_across": "lifestyle_segments", "min_detectable_difference": mdd})
    if not rows:
        return pl.DataFrame(schema=TESTS_SCHEMA)
    for r in rows:
        r.setdefault("min_detectable_difference", None)
    for role in sorted({r["role"] for r in rows}):
        part = [r for r in rows if r["role"] == role]
        adjusted = adjust_p_values([r["p_value"] for r in part], settings.p_adjust)
        for r, q in zip(part, adjusted, strict=True):
            r["p_adjusted"] = float(q)
            r["significant"] = bool(np.isfinite(q) and q < settings.alpha)
    frame_out = pl.DataFrame(rows, schema=TESTS_SCHEMA)
    return frame_out.with_columns(
        pl.col(c).fill_nan(None) for c in ("statistic", "p_value", "p_adjusted", "effect_size")
    )


def persona_contrasts(
    frame: pl.DataFrame, groups: Sequence[str], tests: pl.DataFrame, settings: SegmentationSettings
) -> pl.DataFrame:
    """Persona-vs-rest contrasts of every feature, ranked within persona by |effect|."""
    g = np.asarray(groups)
    significant = dict(zip(tests["feature"].to_list(), tests["significant"].to_list(), strict=True))
    rows = []
    for persona in sorted(set(g.tolist())):
        inside = g == persona
        prow = []
        for col in settings.continuous_features:
            if col not in frame.columns:
                continue
            v = frame[col].cast(pl.Float64).fill_null(np.nan).to_numpy()
            a, b = v[inside], v[~inside]
            a, b = a[np.isfinite(a)], b[np.isfinite(b)]
            if a.size == 0 or b.size == 0:
                continue
            d = cliffs_delta(a, b)
            prow.append(
                {
                    "persona_id": persona,
                    "feature": col,
                    "feature_label": feature_label(col),
                    "kind": "continuous",
                    "level": None,
                    "persona_value": float(np.median(a)),
                    "rest_value": float(np.median(b)),
                    "direction": "higher" if d > 0 else "lower",
                    "effect_size": d,
                    "effect_size_name": "cliffs_delta",
                    "feature_significant": bool(significant.get(col, False)),
                }
            )
        for col in settings.categorical_features:
            if col not in frame.columns:
                continue
            values = np.asarray(_category_values(frame, col))
            for level in sorted(set(values.tolist())):
                share_in = float(np.mean(values[inside] == level))
                share_out = float(np.mean(values[~inside] == level)) if (~inside).any() else float("nan")
                if not np.isfinite(share_out):
                    continue
                diff = share_in - share_out
                prow.append(
                    {
                        "persona_id": persona,
                        "feature": col,
                        "feature_label": feature_label(col),
                        "kind": "categorical",
                        "level": level,
                        "persona_value": share_in,
                        "rest_value": share_out,
                        "direction": "over-represented" if diff > 0 else "under-represented",
                        "effect_size": diff,
                        "effect_size_name": "share_difference",
                        "feature_significant": bool(significant.get(col, False)),
                    }
                )
        prow.sort(
            key=lambda r: (
                not r["feature_significant"],
                -abs(r["effect_size"]),
                r["feature"],
                r["level"] or "",
            )
        )
        for i, r in enumerate(prow, start=1):
            r["rank"] = i
        rows.extend(prow)
    if not rows:
        return pl.DataFrame(schema=CONTRASTS_SCHEMA)
    return pl.DataFrame(rows, schema=CONTRASTS_SCHEMA)


def outside_explanation_sentence(tests: pl.DataFrame) -> str:
    """Plain words: which outside covariates (if any) differ across personas, and the response test."""
    outside = tests.filter(pl.col("role") == OUTSIDE) if "role" in tests.columns else tests.clear()
    parts = []
    if outside.height == 0:
        parts.append("No outside variable (such as Acorn) was available to explain the personas.")
    else:
        sig = outside.filter(pl.col("significant"))
        listed = ", ".join(
            f"{r['feature_label']} (Cramér's V {r['effect_size']:.2f}, adjusted p {r['p_adjusted']:.2g})"
            if r["effect_size"] is not None and r["p_adjusted"] is not None
            else r["feature_label"]
            for r in (sig if sig.height else outside).iter_rows(named=True)
        )
        if sig.height == 0:
            parts.append(
                "No outside variable explains the lifestyle segments behind the personas: none of the register "
                f"variables tested ({listed}) differs significantly across them after correction for multiple "
                "tests (tested across segments, not personas, because the price-responsive personas are defined "
                "by ToU membership)."
            )
        else:
            parts.append(f"Outside variables that differ across the lifestyle segments behind the personas: {listed}.")
    resp = tests.filter(pl.col("role") == RESPONSE_AMONG_MEASURED) if "role" in tests.columns else tests.clear()
    if resp.height and resp["n"][0] > 0:
        r = resp.row(0, named=True)
        if r["p_adjusted"] is None:
            parts.append(f"The measured response could not be compared across lifestyle segments (n = {r['n']}).")
        else:
            verdict = "differs" if r["significant"] else "does not differ significantly"
            sentence = (
                f"Among the {r['n']} measured ToU households, the High-price response {verdict} across "
                f"lifestyle segments (Kruskal-Wallis p {r['p_adjusted']:.2g}, epsilon² {r['effect_size']:.2f})."
            )
            mdd = r.get("min_detectable_difference")
            if mdd is not None:
                sentence += (
                    f" With these segment sizes the test has 80% power only for a difference of at least "
                    f"{mdd:.1f} percentage points in mean reduction between the largest and the smallest segment"
                    + (", so a smaller difference would go unseen." if not r["significant"] else ".")
                )
            parts.append(sentence)
    parts.append("Lifestyle differences between personas are descriptive: the personas were built from those features.")
    return " ".join(parts)


def describe_top_features(contrasts: pl.DataFrame, persona_id: str, top: int) -> list[str]:
    """Plain-words phrases for a persona's top distinguishing features."""
    part = contrasts.filter(pl.col("persona_id") == persona_id).sort("rank")
    # skip categorical levels that are under-represented (less informative for a reader)
    part = part.filter((pl.col("kind") == "continuous") | (pl.col("effect_size") > 0)).head(top)
    phrases = []
    for r in part.iter_rows(named=True):
        flag = "" if r["feature_significant"] else ", n.s."
        if r["kind"] == "continuous":
            phrases.append(
                f"{r['feature_label']} {r['direction']} (median {r['persona_value']:.3g} vs "
                f"{r['rest_value']:.3g}; "
                f"Cliff's delta {r['effect_size']:+.2f}{flag})"
            )
        else:
            phrases.append(
                f"{r['feature_label']} '{r['level']}' {r['direction']} ({r['persona_value']:.0%} vs "
                f"{r['rest_value']:.0%}{flag})"
            )
    return phrases
