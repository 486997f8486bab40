"""A time-of-week regression baseline in the spirit of CalTRACK hourly and OpenDSM DRmeter.

Per household and event, on the non-event days within ``towt_weeks`` weeks either side of the event
(event days, placebo days and the event day itself excluded; settings.py), the event window's kWh y_d
of fitting day d is modelled as

    y_d = alpha_{weekday(d)} + beta * t_d + e_d,    t_d = (d - event day) in weeks,

a time-of-week term (the window fixes the time of day, the weekday the day of week: the window's
sum over the 168-hour time-of-week bins of CalTRACK) plus a linear drift across the weeks around the
event (heating and lighting change over a month; the fitting days are not symmetric around the event
near the trial's ends or when event days cluster). Ordinary least squares; the prediction for the event
day is alpha_{weekday(event)} (t = 0). The closed form, from per-weekday sufficient statistics (days,
sum t, sum y, sum t^2, sum t*y; ``sql/towt_sums.sql``, additive, so they are summed in SQL):

    beta  = sum_w S_ty(w) / sum_w S_tt(w),   S_ty(w) = sum ty - sum t sum y / n,  S_tt(w) = sum tt - (sum t)^2 / n
    alpha = ybar(w*) - beta * tbar(w*)       (w* the event's weekday; beta = 0 when sum S_tt = 0)

The event's weekday needs ``towt_min_days_in_bin`` fitting days, else no baseline.

Why not opendsm: it is not installed and cannot be fetched here (package registries only), and its
DRmeter model is the TOWT *with temperature* on hourly data: the LCL sample has half-hourly data and no
weather, so the model reduces to the time-of-week terms above; writing them as a closed-form regression
over SQL sums keeps the fit in the warehouse (one pass over the windows, no per-household Python loop,
millions of fits at full LCL scale) and on either engine. Without weather this baseline cannot follow a
cold snap on the event day itself; the placebo scoring (accuracy.py) measures what that costs.
"""

from __future__ import annotations

import polars as pl

from assets.settlement.settings import SettlementSettings

KEYS = ["household_id", "schedule", "event_id"]


def towt_predictions(sums: pl.DataFrame, events: pl.DataFrame, settings: SettlementSettings) -> pl.DataFrame:
    """(household_id, schedule, event_id, towt_kwh, towt_days) from the per-weekday sums of towt_sums.sql
    (n_days, st, sy, stt, sty) and the events (schedule, event_id, weekday)."""
    if sums.height == 0:
        return pl.DataFrame(
            schema={
                **{k: v for k, v in zip(KEYS, (pl.String, pl.String, pl.Int32), strict=True)},
                "towt_kwh": pl.Float64,
                "towt_days": pl.Int32,
            }
        )
    n = pl.col("n_days").cast(pl.Float64)
    per_bin = sums.with_columns(
        s_tt=pl.col("stt") - pl.col("st") ** 2 / n,
        s_ty=pl.col("sty") - pl.col("st") * pl.col("sy") / n,
    )
    slope = (
        per_bin.group_by(KEYS)
        .agg(s_tt=pl.col("s_tt").sum(), s_ty=pl.col("s_ty").sum(), towt_days=pl.col("n_days").sum().cast(pl.Int32))
        .with_columns(beta=pl.when(pl.col("s_tt") > 1e-12).then(pl.col("s_ty") / pl.col("s_tt")).otherwise(0.0))
    )
    target = per_bin.join(
        events.select("schedule", "event_id", pl.col("weekday").cast(sums["weekday"].dtype)),
        on=["schedule", "event_id", "weekday"],
        how="inner",
    ).filter(pl.col("n_days") >= settings.towt_min_days_in_bin)
    out = target.join(slope, on=KEYS, how="inner").select(
        *KEYS,
        towt_kwh=(pl.col("sy") / n - pl.col("beta") * pl.col("st") / n).clip(lower_bound=0.0),
        towt_days="towt_days",
    )
    return out
