"""The synthetic household population: ids, archetypes, Acorn, tariff group, response, layout, span.

Everything here is one small table (one row per household) drawn from the seed. Counts use quotas
(largest-remainder rounding) so small populations still contain every archetype, both tariff groups
and both file layouts:

- archetypes by :data:`ARCHETYPE_SHARES` (night storage heating ~4 %);
- Acorn group drawn given the archetype (moderate association), category uniform within the group,
  ~1 % ``ACORN-U`` (no group);
- a LATENT responsiveness for every household, controls included (:func:`latent_responsiveness`):
  a latent index that is ``response_signal_strength`` parts lifestyle archetype + Acorn group
  (:data:`ARCHETYPE_RESPONSIVENESS`, :data:`ACORN_RESPONSIVENESS`) and the rest household noise; the
  upper half (rounded) of the households that are not storage heaters are latent responders, with
  ``latent_high_effect_pct`` running evenly from -0.02 (lowest index) to -0.15 (highest) and
  ``latent_low_effect_pct`` ~ U[+0.02, +0.15] (realistic sizes: the LCL reanalyses find -5.8 % on
  average, trials 3-12 %); rounded to 4 decimals. ``response_signal`` (the standardised lifestyle +
  Acorn part) is in the truth file. Only ToU households express it (``is_responder``, ``true_*``);
  controls never do. Pre-loading before and rebound after High events are ``PRELOAD_SHARE`` /
  ``REBOUND_SHARE`` of the High reduction (``true_preload_pct``, ``true_rebound_pct``, increases in
  the Normal half hours of the 3 h before / after);
- exactly ``round(tou_share * n)`` ToU households, selected as in a recruited trial: ON BEHAVIOUR, the
  odds of joining are ``TOU_ODDS_EVENING`` times higher for evening-heavy archetypes (evening
  peaker, morning-evening double peak) and ``TOU_ODDS_AFFLUENT`` times higher for Affluent Acorn
  households (larger loads), so a naive ToU-vs-Std comparison is biased; and ON RESPONSIVENESS, times
  ``exp(selection_on_response * z)``, z the household's latent High reduction standardised over the
  population (the weight is in the truth file as ``tou_selection_weight``);
- a ToU-only trend ``group_trend_pct`` (0 for Std households; applied in :mod:`.load`);
- ~10 % of households written in the Kaggle layout (one file each), the rest in block files;
- ~15 % start late (meter installed mid-day, 09:00-16:00 UTC, within the first 40 % of the span), ~8 %
  stop early (within the last 30 %).
"""

from __future__ import annotations

import numpy as np
import polars as pl

from assets.synthetic.archetypes import (
    ACORN_CATEGORIES,
    ACORN_GROUP_GIVEN_ARCHETYPE,
    ACORN_GROUP_SCALE,
    ACORN_GROUPS,
    ARCHETYPE_SHARES,
    ARCHETYPES,
    DAYTIME_AT_HOME,
    EVENING_PEAKER,
    FLAT_BASELOAD,
    MORNING_EVENING_DOUBLE_PEAK,
    NIGHT_STORAGE_HEATING,
)
from assets.synthetic.settings import DEFAULT_SETTINGS, GeneratorSettings

ACORN_U_SHARE = 0.01
RESPONDER_SHARE_OF_TOU = 0.5  # latent responders among non-storage-heater households (ToU or not)
HIGH_EFFECT_RANGE = (-0.15, -0.02)
LOW_EFFECT_RANGE = (0.02, 0.15)
PRELOAD_SHARE = 0.3  # pre-loading in the 3 h before a High event: 0.3 x the High reduction
REBOUND_SHARE = 0.4  # rebound in the 3 h after it: 0.4 x the High reduction
TOU_ODDS_EVENING = 2.0  # odds of joining ToU, evening-heavy archetypes vs others
TOU_ODDS_AFFLUENT = 2.0  # odds of joining ToU, Affluent Acorn group vs others
EVENING_HEAVY = ("evening_peaker", "morning_evening_double_peak")
LATE_START_SHARE = 0.15
EARLY_STOP_SHARE = 0.08
MEAN_KWH_PER_HALF_HOUR = 0.2
SCALE_LOG_SD = 0.45

# How responsive each lifestyle / Acorn group is, in units of the latent index before standardising
# (only the contrasts matter). People at home in the day can move laundry and dishwashing out of a
# High event; evening peakers have some discretionary evening load; always-on flat loads have little to
# move; families with young children (the double peak) found it hardest to be flexible (CLNR);
# Affluent homes have more discretionary appliances, Adversity homes less (UKPN social housing: <= 2.2 %).
ARCHETYPE_RESPONSIVENESS: dict[str, float] = {
    DAYTIME_AT_HOME: 1.0,
    EVENING_PEAKER: 0.4,
    FLAT_BASELOAD: -0.7,
    MORNING_EVENING_DOUBLE_PEAK: -0.6,
    NIGHT_STORAGE_HEATING: 0.0,  # never a latent responder (not eligible)
}
ACORN_RESPONSIVENESS: dict[str, float] = {"Affluent": 0.4, "Comfortable": 0.0, "Adversity": -0.4, "ACORN-U": 0.0}

LAYOUT_LDS = "lds_6col"
LAYOUT_KAGGLE = "kaggle_3col"


def household_id(index: int) -> str:
    return f"MAC{index + 1:06d}"


def quota(n: int, shares: list[float]) -> np.ndarray:
    """Largest-remainder rounding of ``n * shares`` (sums to ``n``)."""
    raw = np.asarray(shares, dtype=float) / float(np.sum(shares)) * n
    counts = np.floor(raw).astype(int)
    remainder = n - int(counts.sum())
    order = np.argsort(-(raw - counts), kind="stable")
    counts[order[:remainder]] += 1
    return counts


def latent_responsiveness(
    archetype: np.ndarray, group: np.ndarray, seed: int, settings: GeneratorSettings = DEFAULT_SETTINGS
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(signal, latent responder, latent High effect, latent Low effect) of every household.

    ``signal``: archetype + Acorn responsiveness, standardised over the eligible (non-storage-heater)
    households (0 for storage heaters). Latent index ``z = sqrt(k) signal + sqrt(1 - k) noise`` with
    ``k = response_signal_strength`` and standard normal household noise, so k is the share of the
    index's variance explained by lifestyle and Acorn. The upper half of the eligible households by z
    (exact quota, as before) are latent responders; their High effect runs evenly from -2 % (lowest z)
    to -15 % (highest z), so the response is a monotone function of z. The Low effect is drawn
    uniformly in [+2 %, +15 %], independently (as before). k = 0: random responders and sizes.
    """
    n = archetype.shape[0]
    rng = np.random.default_rng(np.random.SeedSequence([seed, 11]))
    noise = rng.standard_normal(n)
    tie_break = rng.random(n)
    low_u = rng.uniform(*LOW_EFFECT_RANGE, size=n)
    eligible = archetype != NIGHT_STORAGE_HEATING
    raw = np.array([ARCHETYPE_RESPONSIVENESS[a] for a in archetype]) + np.array(
        [ACORN_RESPONSIVENESS[g] for g in group]
    )
    signal = np.zeros(n)
    if eligible.sum() >= 2 and np.std(raw[eligible]) > 0:
        signal[eligible] = (raw[eligible] - raw[eligible].mean()) / raw[eligible].std()
    k = settings.response_signal_strength
    z = np.sqrt(k) * signal + np.sqrt(1.0 - k) * noise
    candidates = np.flatnonzero(eligible)
    order = candidates[np.lexsort((tie_break[candidates], z[candidates]))]  # ascending z
    n_latent = round(RESPONDER_SHARE_OF_TOU * candidates.size)
    chosen = order[order.size - n_latent :]  # ascending z among the responders
    latent = np.zeros(n, dtype=bool)
    latent[chosen] = True
    latent_high = np.zeros(n)
    if n_latent:
        u = (np.arange(n_latent) + 0.5) / n_latent
        latent_high[chosen] = np.round(HIGH_EFFECT_RANGE[1] + (HIGH_EFFECT_RANGE[0] - HIGH_EFFECT_RANGE[1]) * u, 4)
    latent_low = np.where(latent, np.round(low_u, 4), 0.0)
    return signal, latent, latent_high, latent_low


def response_selection_odds(latent_high: np.ndarray, strength: float) -> np.ndarray:
    """Relative odds of joining ToU from the latent High reduction: ``exp(strength * zr)``, zr the
    reduction (-latent_high) standardised over the population; 1 everywhere for strength 0."""
    if strength == 0.0 or latent_high.size < 2 or np.std(latent_high) == 0:
        return np.ones(latent_high.shape[0])
    zr = (latent_high.mean() - latent_high) / latent_high.std()
    return np.exp(strength * zr)


def _choose(rng: np.random.Generator, candidates: np.ndarray, k: int) -> np.ndarray:
    k = max(0, min(k, candidates.size))
    return np.sort(rng.choice(candidates, size=k, replace=False)) if k else np.array([], dtype=int)


def sample_population(
    n: int,
    seed: int,
    n_slots: int,
    tou_share: float = 0.2,
    kaggle_share: float = 0.1,
    households_per_block: int = 50,
    settings: GeneratorSettings = DEFAULT_SETTINGS,
) -> pl.DataFrame:
    """One row per household (ordered by id). ``n_slots``: half hours in the span (UTC grid).

    The main stream (seed, 1) draws archetype, Acorn, layout, level and span; the latent
    responsiveness (seed, 11) and the ToU draw (seed, 12) have their own streams, so changing a
    :class:`GeneratorSettings` strength changes nothing else about a household."""
    if n < 1:
        raise ValueError("need at least one household")
    if not 0.0 <= tou_share <= 1.0:
        raise ValueError("tou_share must be within [0, 1]")
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1]))
    idx = np.arange(n)

    counts = quota(n, [ARCHETYPE_SHARES[a] for a in ARCHETYPES])
    archetype = rng.permutation(np.repeat(np.array(ARCHETYPES), counts))

    group = np.empty(n, dtype=object)
    for a in ARCHETYPES:
        sel = archetype == a
        group[sel] = rng.choice(np.array(ACORN_GROUPS), size=int(sel.sum()), p=ACORN_GROUP_GIVEN_ARCHETYPE[a])
    acorn = np.array([ACORN_CATEGORIES[g][rng.integers(len(ACORN_CATEGORIES[g]))] for g in group], dtype=object)
    scale_group = np.array([ACORN_GROUP_SCALE[g] for g in group])
    n_u = round(ACORN_U_SHARE * n)
    unknown = _choose(rng, idx, n_u)
    acorn[unknown] = "ACORN-U"
    group[unknown] = "ACORN-U"

    signal, latent, latent_high, latent_low = latent_responsiveness(archetype, group, seed, settings)

    n_tou = round(tou_share * n)
    observed_weight = np.where(np.isin(archetype, EVENING_HEAVY), TOU_ODDS_EVENING, 1.0) * np.where(
        group == "Affluent", TOU_ODDS_AFFLUENT, 1.0
    )
    weight = observed_weight * response_selection_odds(latent_high, settings.selection_on_response)
    tou = np.zeros(n, dtype=bool)
    if n_tou:
        tou_rng = np.random.default_rng(np.random.SeedSequence([seed, 12]))
        tou[np.sort(tou_rng.choice(idx, size=n_tou, replace=False, p=weight / weight.sum()))] = True
    responder = latent & tou
    high = np.where(responder, latent_high, 0.0)
    low = np.where(responder, latent_low, 0.0)

    n_kaggle = round(kaggle_share * n)
    if kaggle_share > 0 and n >= 2:
        n_kaggle = max(1, n_kaggle)
    layout = np.full(n, LAYOUT_LDS, dtype=object)
    layout[_choose(rng, idx, n_kaggle)] = LAYOUT_KAGGLE

    scale = MEAN_KWH_PER_HALF_HOUR * np.exp(rng.normal(0.0, SCALE_LOG_SD, size=n) - SCALE_LOG_SD**2 / 2) * scale_group
    season_amplitude = rng.uniform(0.12, 0.30, size=n)

    n_days = n_slots // 48
    first = np.zeros(n, dtype=np.int64)
    stop = np.full(n, n_slots, dtype=np.int64)
    late_candidates = rng.random(n) < LATE_START_SHARE
    late_day = rng.integers(1, max(2, int(0.4 * n_days)), size=n)
    late_slot = rng.integers(18, 33, size=n)  # meter installed 09:00-16:00 UTC
    if n_days >= 2:
        first = np.where(late_candidates, np.minimum(late_day, n_days - 1) * 48 + late_slot, 0)
    early = rng.random(n) < EARLY_STOP_SHARE
    early_by = (rng.uniform(0.0, 0.3, size=n) * n_slots).astype(np.int64) + 1
    if n_days >= 2:
        stop = np.where(early, n_slots - early_by, n_slots)
    # Keep at least a third of the span for everybody.
    stop = np.maximum(stop, first + max(1, n_slots // 3))
    stop = np.minimum(stop, n_slots)

    ids = [household_id(i) for i in idx]
    return pl.DataFrame(
        {
            "index": idx.astype(np.int64),
            "household_id": ids,
            "archetype": archetype.astype(str),
            "tariff_group": np.where(tou, "ToU", "Std"),
            "acorn_written": acorn.astype(str),
            "acorn_group_written": group.astype(str),
            "is_responder": responder,
            "true_high_effect_pct": high,
            "true_low_effect_pct": low,
            "true_preload_pct": np.round(-PRELOAD_SHARE * high, 4) + 0.0,
            "true_rebound_pct": np.round(-REBOUND_SHARE * high, 4) + 0.0,
            "latent_is_responder": latent,
            "latent_high_effect_pct": latent_high,
            "latent_low_effect_pct": latent_low,
            "tou_selection_weight": np.round(weight, 6),
            "response_signal": np.round(signal, 4),
            "group_trend_pct": np.where(tou, settings.group_trend_pct, 0.0),
            "layout": layout.astype(str),
            "block": (idx // max(1, households_per_block)).astype(np.int64),
            "scale": scale,
            "season_amplitude": season_amplitude,
            "first_slot": first.astype(np.int64),
            "stop_slot": stop.astype(np.int64),
        }
    )
