"""The programme view: delivered kW per event, per persona and for the programme (ToU households, real
events), with intervals; and the calibration of the DR target list on held-out events.

Delivered kW of a settlement: (baseline - actual) / event hours. Intervals: per event, households
resampled (one event: the households are the only sampling unit); per persona and for the programme, the
two-way bootstrap of accuracy.py (households and events).

Calibration (``dr_calibration``): the DR list's rule (reports/dr_targets.py: evening High events, peak load
x the household's shrunk evening reduction) is rebuilt on one half of the evening High events (the
features' cross-fitting folds, features/crossfit.event_folds: every other High event), and the same
households' delivery is settled on the OTHER half (control-group method); halves swapped, both kept. The
households are binned by their expected kW; a calibrated list delivers what it expects in every bin.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from assets.settlement.accuracy import ALL, ALL_NAME, CI_NOTE, _interval, _ratio, replicate_totals, two_way
from assets.settlement.settings import METHODS, SettlementSettings

PRODUCT_METHOD = "control_group"


def _delivery_row(rows: pl.DataFrame, settings: SettlementSettings, rng, events_too: bool) -> dict:
    n_h, n_e = rows["household_id"].n_unique(), rows["event_id"].n_unique()
    out: dict = {"n_households": n_h, "n_events": n_e}
    if rows.height == 0:
        return {**out, "note": "no settlement"}
    hours = pl.col("event_half_hours").cast(pl.Float64) / 2.0
    snap_hours = settings.snapback_hours
    tw = two_way(
        rows,
        {
            "kw": pl.col("reduction_kwh") / hours,
            "n": pl.lit(1.0),
            "r": pl.col("reduction_kwh"),
            "b": pl.col("baseline_kwh"),
            "s": pl.col("snapback_control_kwh").fill_null(0.0) / snap_hours,
            "sn": pl.col("snapback_control_kwh").is_not_null().cast(pl.Float64),
        },
    )
    t = {k: float(v.sum()) for k, v in tw.sums.items()}
    out.update(
        delivered_kw=t["kw"] / t["n"],
        delivered_pct=100 * t["r"] / t["b"] if t["b"] > 0 else None,
        snapback_kw=t["s"] / t["sn"] if t["sn"] > 0 else None,
    )
    if n_h < settings.min_households or (events_too and n_e < 2):
        return {**out, "note": f"{n_h} households, {n_e} events: too few for an interval"}
    d = replicate_totals(tw, settings.bootstrap_replicates, rng, events_too=events_too)
    out["delivered_ci_low_kw"], out["delivered_ci_high_kw"] = _interval(_ratio(d["kw"], d["n"]), settings.ci_level)
    if t["sn"] > 0:
        out["snapback_ci_low_kw"], out["snapback_ci_high_kw"] = _interval(_ratio(d["s"], d["sn"]), settings.ci_level)
    basis = CI_NOTE if events_too else "95% bootstrap over households"
    out["note"] = f"{n_h} ToU households x {n_e} events; {basis}"
    return out


def program_delivery(long: pl.DataFrame, settings: SettlementSettings, treated_group: str = "ToU") -> pl.DataFrame:
    """``settlement.program_delivery`` from the long settlements: per real event (control-group method), per
    persona and for the programme (every method)."""
    real = long.filter((pl.col("schedule") == "tariff") & (pl.col("tariff_group") == treated_group))
    rows = []
    product = real.filter(pl.col("method") == PRODUCT_METHOD)
    for i, ((event_id, start), group) in enumerate(
        product.group_by("event_id", "event_start_utc", maintain_order=True)
    ):
        rng = np.random.default_rng([settings.seed, 200, i])
        rows.append(
            {
                "level": "event",
                "method": PRODUCT_METHOD,
                "event_id": event_id,
                "event_start_utc": start,
                "persona_id": ALL,
                "persona_name": ALL_NAME,
                **_delivery_row(group, settings, rng, events_too=False),
            }
        )
    for m, method in enumerate(METHODS):
        part = real.filter(pl.col("method") == method)
        rng = np.random.default_rng([settings.seed, 300, m])
        rows.append(
            {
                "level": "program",
                "method": method,
                "event_id": None,
                "event_start_utc": None,
                "persona_id": ALL,
                "persona_name": ALL_NAME,
                **_delivery_row(part, settings, rng, True),
            }
        )
        names = part.select("persona_id", "persona_name").drop_nulls("persona_id").unique().sort("persona_id")
        for g, (pid, pname) in enumerate(names.iter_rows()):
            rng = np.random.default_rng([settings.seed, 400, m, g])
            rows.append(
                {
                    "level": "persona",
                    "method": method,
                    "event_id": None,
                    "event_start_utc": None,
                    "persona_id": pid,
                    "persona_name": pname,
                    **_delivery_row(part.filter(pl.col("persona_id") == pid), settings, rng, True),
                }
            )
    frame = pl.DataFrame(rows, infer_schema_length=None)
    if frame.height:
        frame = frame.sort(
            pl.col("level").replace_strict({"program": 0, "persona": 1, "event": 2}),
            "method",
            "persona_id",
            "event_start_utc",
            nulls_last=True,
        )
    return frame


# --- calibration of the DR target list --------------------------------------------------------------


def calibration_table(
    scored: pl.DataFrame, settlements: pl.DataFrame, settings: SettlementSettings, n_bins: int = 4
) -> pl.DataFrame:
    """Bins of ``scored`` (household_id, fold, expected_kw, expected_ci_low_kw, expected_ci_high_kw, selected)
    by expected kW, against the kW delivered on the other fold's events (``settlements``: long rows of the
    evening High events with ``fold``, control-group method)."""
    measured = (
        "the list's rule rebuilt on one half of the evening High events; delivery settled (control-group "
        f"method) on the other half; halves swapped; {CI_NOTE}"
    )
    if scored.height == 0:
        return pl.DataFrame()
    scored = scored.with_columns(
        bin=(pl.col("expected_kw").rank("ordinal") * n_bins / (pl.len() + 1)).floor().cast(pl.Int32) + 1
    )
    hours = pl.col("event_half_hours").cast(pl.Float64) / 2.0
    delivered = settlements.with_columns(kw=pl.col("reduction_kwh") / hours)
    groups = [("all", None, scored), ("selected", None, scored.filter(pl.col("selected")))] + [
        ("bin", b, scored.filter(pl.col("bin") == b)) for b in range(1, n_bins + 1)
    ]
    rows = []
    for g, (name, b, members) in enumerate(groups):
        # a household scored on fold f delivers on the events of the other fold
        rows_ = delivered.join(members.select("household_id", pl.col("fold").alias("scored_fold")), on="household_id")
        rows_ = rows_.filter(pl.col("fold") != pl.col("scored_fold")).with_columns(
            household_id=pl.col("household_id") + "#" + pl.col("scored_fold").cast(pl.String)
        )
        out = {
            "group": name,
            "bin": b,
            "n_households": members.height,
            "expected_kw": members["expected_kw"].mean(),
            "expected_ci_low_kw": members["expected_ci_low_kw"].mean(),
            "expected_ci_high_kw": members["expected_ci_high_kw"].mean(),
            "measured_on": measured,
        }
        if rows_.height:
            tw = two_way(rows_, {"kw": pl.col("kw"), "n": pl.lit(1.0)})
            per_household = tw.sums["kw"].sum(axis=1) / np.maximum(tw.sums["n"].sum(axis=1), 1)
            out["delivered_kw"] = float(per_household.mean())
            if members.height >= settings.min_households:
                rng = np.random.default_rng([settings.seed, 500, g])
                # households and events resampled; each household's mean over its events, then the mean
                wh = rng.multinomial(
                    len(tw.households),
                    np.full(len(tw.households), 1 / len(tw.households)),
                    size=settings.bootstrap_replicates,
                ).astype(float)
                we = rng.multinomial(
                    len(tw.events), np.full(len(tw.events), 1 / len(tw.events)), size=settings.bootstrap_replicates
                ).astype(float)
                kw = tw.sums["kw"] @ we.T  # households x reps
                n = tw.sums["n"] @ we.T
                with np.errstate(divide="ignore", invalid="ignore"):
                    hh_mean = np.where(n > 0, kw / n, np.nan)
                total = np.array([np.nansum(wh[r] * np.nan_to_num(hh_mean[:, r])) for r in range(len(wh))])
                weight = np.array([np.sum(wh[r] * (n[:, r] > 0)) for r in range(len(wh))])
                # a draw whose households drew none of their events has no mean (few households with few
                # events, e.g. a short period): _interval leaves it out, and gives none below 10 draws
                draws = _ratio(total, weight)
                out["delivered_ci_low_kw"], out["delivered_ci_high_kw"] = _interval(draws, settings.ci_level)
            if out["expected_kw"]:
                out["ratio"] = out["delivered_kw"] / out["expected_kw"]
        rows.append(out)
    return pl.DataFrame(rows, infer_schema_length=None)
