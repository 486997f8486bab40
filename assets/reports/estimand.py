"""The estimand the DR list sizes, measured at the population level.

The DR list (dr_targets) sizes a reduction at the WINTER WEEKDAY 16:00-20:00 peak: each household's load is its
winter weekday 16:00-20:00 mean, and a measured household's response is its evening High-event DiD (events
starting 17:00-23:00 local, all seasons). The population evidence for that quantity is the pooled DiD of the
dynamic-tariff households over the High events that start in the evening on a winter (settings.seasons
'winter': Dec-Feb) weekday (Mon-Fri, local). It is computed here with the features' own estimator
(features/bootstrap.population_effect: pooled DiD, bootstrap over week blocks of events and households), beside
the all-event and the all-season evening effects of features.tariff_response_summary, so the report can say
whether the effect the list sizes is distinguishable from 0.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from assets.common.sql import load_sql

ALL_EVENTS = "all High events"
EVENING = "evening High events (start 17:00-23:00 local), all seasons"
WINTER_WEEKDAY_EVENING = "evening High events on winter weekdays (Dec-Feb, Mon-Fri): the reduction the DR list sizes"
SEED_OFFSET = 7000  # the bootstrap stream of this effect (features.tariff_response_summary uses 0..5999)


@dataclass(frozen=True)
class EstimandEffect:
    label: str
    effect_pct: float | None
    ci_low_pct: float | None
    ci_high_pct: float | None
    n_households: int
    n_events: int

    @property
    def distinguishable_from_zero(self) -> bool | None:
        if self.ci_low_pct is None or self.ci_high_pct is None:
            return None
        return not (self.ci_low_pct <= 0 <= self.ci_high_pct)

    def sentence(self) -> str:
        if self.effect_pct is None:
            return f"{self.label}: not measured ({self.n_events} events)"
        return (
            f"{self.label}: {100 * self.effect_pct:+.1f}% (95% CI {100 * self.ci_low_pct:+.1f}% to "
            f"{100 * self.ci_high_pct:+.1f}%; {self.n_households:,} households, {self.n_events:,} events)"
        )


def read_estimand_rows(con, treated_group: str) -> pl.DataFrame:
    return con.sql(load_sql(__file__, "estimand_event_rows"), params={"treated": treated_group}).pl()


def winter_weekday_evening_effect(rows: pl.DataFrame, settings=None) -> EstimandEffect:
    """Pooled DiD of ``rows`` (read_estimand_rows) over evening High events starting on a winter weekday."""
    from assets.features.bootstrap import population_effect
    from assets.features.settings import FeatureSettings

    s = settings or FeatureSettings()
    winter = list(dict(s.seasons)["winter"])
    sel = rows.filter(
        (pl.col("start_bucket") == "evening") & pl.col("start_month").is_in(winter) & (pl.col("start_isodow") <= 5)
    )
    eff = population_effect(sel, s, np.random.default_rng([s.seed, SEED_OFFSET]))
    return EstimandEffect(
        WINTER_WEEKDAY_EVENING,
        eff.effect_pct,
        eff.ci_low_pct,
        eff.ci_high_pct,
        eff.n_households,
        eff.n_events,
    )
