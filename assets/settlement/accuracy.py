"""Baseline accuracy, measured where the true reduction is known to be 0, and what pre-loading does.

Populations (Nexant's CAISO baseline accuracy assessment scores baselines on placebo event days [V]):
* placebo events: every household on the placebo days (settings.py): nobody was asked to do anything;
* real events, control households: they were not on the tariff.

Per (population, method, persona, season), over the (household, event) settlements e = baseline - actual:
    bias %   = 100 x sum(e) / sum(actual)
    CV(RMSE) = sqrt(mean(e^2)) / mean(actual)
    paid     = share of settlements with e > payment_threshold_kwh (a reduction nobody made, paid)
Intervals: a two-way bootstrap, households and events resampled independently (each settlement weighted
by its household's times its event's multiplicity): events share the weather and the day, households their
habits, so neither alone is independent (as the features' population bootstrap, features/bootstrap.py).
A method is flagged for a persona when its bias interval excludes 0.

The control_group method on the controls at real events is leave-one-out against the other controls, so its
pooled bias over all controls is 0 by construction (only its per-persona rows say something there).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from assets.settlement.settings import ADJUSTED, METHODS, SettlementSettings

PLACEBO = "placebo events, all households"
CONTROLS = "real events, control households"
TREATED_REAL = "real events, ToU households"
ALL = "all"
ALL_NAME = "all households"


@dataclass(frozen=True)
class TwoWay:
    """Per (household, event) sums of a group as dense matrices (households x events)."""

    households: list[str]
    events: list[int]
    sums: dict[str, np.ndarray]


def two_way(rows: pl.DataFrame, columns: dict[str, pl.Expr]) -> TwoWay:
    """Matrices of ``columns`` (expressions summed per household x event) over the rows' households and events."""
    agg = rows.group_by("household_id", "event_id").agg(**{name: expr.sum() for name, expr in columns.items()})
    hh = sorted(agg["household_id"].unique().to_list())
    ev = sorted(agg["event_id"].unique().to_list())
    hi = {h: i for i, h in enumerate(hh)}
    ei = {e: i for i, e in enumerate(ev)}
    r = np.array([hi[h] for h in agg["household_id"]], dtype=np.int64)
    c = np.array([ei[e] for e in agg["event_id"]], dtype=np.int64)
    sums = {}
    for name in columns:
        m = np.zeros((len(hh), len(ev)))
        np.add.at(m, (r, c), agg[name].cast(pl.Float64).fill_null(0.0).to_numpy())
        sums[name] = m
    return TwoWay(hh, ev, sums)


def bootstrap_weights(n: int, reps: int, rng: np.random.Generator) -> np.ndarray:
    """(reps, n) multiplicities of a resample with replacement."""
    return rng.multinomial(n, np.full(n, 1.0 / n), size=reps).astype(float)


def replicate_totals(tw: TwoWay, reps: int, rng: np.random.Generator, events_too: bool = True) -> dict[str, np.ndarray]:
    """Per replicate, each sum's total with households (and events) resampled."""
    wh = bootstrap_weights(len(tw.households), reps, rng)
    we = bootstrap_weights(len(tw.events), reps, rng) if events_too else np.ones((reps, len(tw.events)))
    # sum over h and e of wh[r, h] m[h, e] we[r, e]: one matrix product, then a row-wise dot with we
    return {name: np.einsum("re,re->r", wh @ m, we) for name, m in tw.sums.items()}


def _interval(draws: np.ndarray, level: float) -> tuple[float | None, float | None]:
    draws = draws[np.isfinite(draws)]
    if draws.size < 10:
        return None, None
    q = 100 * (1 - level) / 2
    lo, hi = np.percentile(draws, [q, 100 - q])
    return float(lo), float(hi)


def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(den > 0, num / den, np.nan)


def score_group(rows: pl.DataFrame, settings: SettlementSettings, rng: np.random.Generator) -> dict:
    """Bias %, CV(RMSE) and the paid share of one group's settlements, each with its interval."""
    n_h, n_e = rows["household_id"].n_unique(), rows["event_id"].n_unique()
    base = {"n_households": n_h, "n_events": n_e, "n_settlements": rows.height}
    if rows.height == 0:
        return {**base, "note": "no settlement in this group"}
    e = pl.col("reduction_kwh")
    tw = two_way(
        rows,
        {
            "e": e,
            "e2": e**2,
            "a": pl.col("actual_kwh"),
            "n": pl.lit(1.0),
            "paid": (e > settings.payment_threshold_kwh).cast(pl.Float64),
        },
    )
    total = {k: float(m.sum()) for k, m in tw.sums.items()}
    point = {
        "mean_load_kwh": total["a"] / total["n"],
        "bias_pct": 100 * total["e"] / total["a"] if total["a"] > 0 else None,
        "cv_rmse": float(np.sqrt(total["e2"] / total["n"]) / (total["a"] / total["n"])) if total["a"] > 0 else None,
        "share_paid": total["paid"] / total["n"],
    }
    out = {**base, **point}
    if n_h < settings.min_households or n_e < 2:
        return {**out, "note": f"{n_h} households, {n_e} events: too few for an interval"}
    d = replicate_totals(tw, settings.bootstrap_replicates, rng)
    draws = {
        "bias_pct": 100 * _ratio(d["e"], d["a"]),
        "cv_rmse": _ratio(np.sqrt(_ratio(d["e2"], d["n"])), _ratio(d["a"], d["n"])),
        "share_paid": _ratio(d["paid"], d["n"]),
    }
    for name, values in draws.items():
        lo, hi = _interval(values, settings.ci_level)
        stem = name.removesuffix("_pct")
        suffix = "_pct" if name.endswith("_pct") else ""
        out[f"{stem}_ci_low{suffix}"], out[f"{stem}_ci_high{suffix}"] = lo, hi
    lo, hi = out.get("bias_ci_low_pct"), out.get("bias_ci_high_pct")
    out["bias_flagged"] = None if lo is None else bool(lo > 0 or hi < 0)
    out["note"] = f"{n_h} households x {n_e} events; {CI_NOTE}"
    return out


CI_NOTE = "95% two-way bootstrap (households and events)"


def _groups(rows: pl.DataFrame) -> list[tuple[str, str, str, pl.DataFrame]]:
    """(persona_id, persona_name, season, rows) for every persona x season and their 'all' margins."""
    names = rows.select("persona_id", "persona_name").drop_nulls("persona_id").unique().sort("persona_id")
    out = []
    personas = [(ALL, ALL_NAME, rows)] + [
        (pid, pname, rows.filter(pl.col("persona_id") == pid)) for pid, pname in names.iter_rows()
    ]
    for pid, pname, part in personas:
        out.append((pid, pname, ALL, part))
        for season in ("winter", "spring", "summer", "autumn"):
            out.append((pid, pname, season, part.filter(pl.col("season") == season)))
    return out


def accuracy_populations(long: pl.DataFrame, control_group: str) -> dict[str, pl.DataFrame]:
    return {
        PLACEBO: long.filter(pl.col("schedule") == "placebo"),
        CONTROLS: long.filter((pl.col("schedule") == "tariff") & (pl.col("tariff_group") == control_group)),
    }


def baseline_accuracy(long: pl.DataFrame, settings: SettlementSettings, control_group: str = "Std") -> pl.DataFrame:
    """``settlement.baseline_accuracy`` rows from the long settlements (baselines.long_settlements)."""
    rows = []
    for p, (population, part) in enumerate(accuracy_populations(long, control_group).items()):
        for m, method in enumerate(METHODS):
            for g, (pid, pname, season, group) in enumerate(_groups(part.filter(pl.col("method") == method))):
                rng = np.random.default_rng([settings.seed, p, m, g])
                if group.height == 0 and season != ALL:
                    continue
                rows.append(
                    {
                        "population": population,
                        "method": method,
                        "persona_id": pid,
                        "persona_name": pname,
                        "season": season,
                        **score_group(group, settings, rng),
                    }
                )
    return pl.DataFrame(rows, infer_schema_length=None)


def recommend(accuracy: pl.DataFrame) -> pl.DataFrame:
    """Which baseline to trust for whom: per persona (placebo events, all seasons), among the methods whose
    bias interval covers 0, the one with the smallest CV(RMSE); every method whose interval excludes 0 listed."""
    placebo = accuracy.filter((pl.col("population") == PLACEBO) & (pl.col("season") == ALL))
    rows = []
    for (pid, pname), group in placebo.group_by("persona_id", "persona_name", maintain_order=True):
        flagged = sorted(group.filter(pl.col("bias_flagged").fill_null(False))["method"].to_list())
        ok = group.filter(pl.col("bias_flagged") == False).drop_nulls("cv_rmse").sort("cv_rmse", "method")  # noqa: E712
        best = ok.row(0, named=True) if ok.height else None
        rows.append(
            {
                "persona_id": pid,
                "persona_name": pname,
                "recommended_method": best["method"] if best else None,
                "bias_pct": best["bias_pct"] if best else None,
                "bias_ci_low_pct": best["bias_ci_low_pct"] if best else None,
                "bias_ci_high_pct": best["bias_ci_high_pct"] if best else None,
                "cv_rmse": best["cv_rmse"] if best else None,
                "flagged_methods": ", ".join(flagged),
                "rule": "placebo events: the lowest CV(RMSE) among the methods whose bias interval covers 0"
                if best
                else "no method's placebo bias interval covers 0 (or none could be scored): settle with care",
            }
        )
    return pl.DataFrame(rows, infer_schema_length=None).sort("persona_id")


def preloading_effect(frame: pl.DataFrame, settings: SettlementSettings, treated_group: str = "ToU") -> pl.DataFrame:
    """``settlement.preloading_effect``: per adjusted method and persona, the settled reduction with the method's
    adjustment window minus with the window moved clear of the 3 h before, as % of load (same households and
    events), and the households' load above their 10-in-10 baseline in those 3 h."""
    populations = {
        TREATED_REAL: frame.filter((pl.col("schedule") == "tariff") & (pl.col("tariff_group") == treated_group)),
        PLACEBO: frame.filter(pl.col("schedule") == "placebo"),
    }
    rows = []
    for p, (population, part) in enumerate(populations.items()):
        for m, (method, clear) in enumerate(ADJUSTED.items()):
            both = part.drop_nulls([f"baseline_{method}_kwh", f"baseline_{clear}_kwh", "preload_excess_kwh"])
            personas = [(ALL, ALL_NAME, both)] + [
                (pid, pname, both.filter(pl.col("persona_id") == pid))
                for pid, pname in both.select("persona_id", "persona_name")
                .drop_nulls("persona_id")
                .unique()
                .sort("persona_id")
                .iter_rows()
            ]
            for g, (pid, pname, group) in enumerate(personas):
                rng = np.random.default_rng([settings.seed, 100 + p, m, g])
                rows.append(
                    {
                        "population": population,
                        "method": method,
                        "persona_id": pid,
                        "persona_name": pname,
                        **_preload_row(group, method, clear, settings, rng),
                    }
                )
    return pl.DataFrame(rows, infer_schema_length=None)


def _preload_row(rows: pl.DataFrame, method: str, clear: str, settings: SettlementSettings, rng) -> dict:
    n_h, n_e = rows["household_id"].n_unique(), rows["event_id"].n_unique()
    out: dict = {"n_households": n_h, "n_events": n_e}
    if rows.height == 0:
        return {**out, "note": "no household-event with both windows"}
    with_ = pl.col(f"baseline_{method}_kwh") - pl.col("actual_kwh")
    without = pl.col(f"baseline_{clear}_kwh") - pl.col("actual_kwh")
    pre_base = pl.col("preload_excess_kwh")  # actual - 10-in-10 in the 3 h before
    tw = two_way(
        rows.with_columns(_pb=pl.col("preload_excess_kwh")),
        {
            "w": with_,
            "wo": without,
            "a": pl.col("actual_kwh"),
            "n": pl.lit(1.0),
            "pe": pre_base,
        },
    )
    # the 10-in-10 preload baseline = actual preload - excess; its sum needs the preload actuals: use the
    # event's actual load as the denominator of the effect, and the excess relative to the event load too
    t = {k: float(v.sum()) for k, v in tw.sums.items()}
    out.update(
        reduction_with_kwh=t["w"] / t["n"],
        reduction_without_kwh=t["wo"] / t["n"],
        effect_pct=100 * (t["w"] - t["wo"]) / t["a"] if t["a"] > 0 else None,
        preload_excess_pct=100 * t["pe"] / t["a"] if t["a"] > 0 else None,
    )
    if n_h < settings.min_households or n_e < 2:
        return {**out, "note": f"{n_h} households, {n_e} events: too few for an interval"}
    d = replicate_totals(tw, settings.bootstrap_replicates, rng)
    out["effect_ci_low_pct"], out["effect_ci_high_pct"] = _interval(
        100 * _ratio(d["w"] - d["wo"], d["a"]), settings.ci_level
    )
    out["preload_excess_ci_low_pct"], out["preload_excess_ci_high_pct"] = _interval(
        100 * _ratio(d["pe"], d["a"]), settings.ci_level
    )
    out["note"] = f"{n_h} households x {n_e} events; {CI_NOTE}; % of the event window's actual load"
    return out
