"""The generator's settings: what the synthetic data plant beyond the population's fixed constants.

One frozen dataclass, :class:`GeneratorSettings`, passed to :func:`assets.synthetic.generate.generate`
(``settings=``; the CLI has one flag per field). Each field says what it plants, its unit and why its
default. ``GeneratorSettings()`` is what the built-in data set (``METER_SYNTHETIC_HOUSEHOLDS``, via
``assets.common.resources.ensure_synthetic_data``) is generated with.

The four threats of issue 21 ("a generator that can test targeting"):

- ``response_signal_strength`` (0..1, default 0.5): the share of the variance of every household's
  LATENT responsiveness index explained by its lifestyle archetype and Acorn group; the rest is
  household noise. The index decides who is a latent responder (the upper half of the non-storage-
  heater households) and how large its High reduction is (-2 % .. -15 %, larger index = larger cut),
  so the response is a monotone function of the index: its own R^2 on archetype + Acorn is a little
  below the strength (measured on 3,000 households: 0.27 at 0.3, 0.46 at 0.5, 0.55 at 0.6, 0.88 at 1;
  cross-validated in ``tests/synthetic/test_synthetic_targeting.py``). 0 = the response is assigned at
  random, independently of archetype, Acorn and level (the generator before issue 21). The strength
  moves WHO responds, not how much: half the eligible households respond, -2 % .. -15 %, at any value.
  Default 0.5: a moderate link that a response model on pre-period lifestyle + Acorn can learn (so the
  demo data can show whether targeting beats "rank by peak load"), while half the variance stays
  idiosyncratic, as observed responsiveness is (LCL's shifters were predicted at ~70 % accuracy).
- ``selection_on_response`` (0..5, default 0.3): log-odds of joining ToU per population standard
  deviation of latent High reduction, on top of the selection on observables (evening-heavy
  archetypes, Affluent). 0 = none. Default 0.3: recruited volunteers are more responsive than the
  never-treated (opted-in vs intention-to-treat effects differ by ~4x in Octopus' Saving Sessions), so
  a prior measured on ToU households overstates what never-treated households would deliver. At 0.3,
  62 % of the eligible ToU households are latent responders (50 % of all eligible ones) and the ToU
  group's mean planted High effect is about -5.7 % (LCL reanalysis: -5.8 %) against -3.7 % among the
  controls. The ToU households' own effect (the estimand of the DiD) stays correctly measured.
- ``group_trend_pct`` (fraction, default 0.0): a ToU-only drift in load over the trial year that is
  not caused by price: ToU load is multiplied by ``1 + group_trend_pct * t``, t running from 0 on
  1 January 2013 to 1 on 1 January 2014 (the same shape as the common trend). Default 0 so the
  planted effects stay what a DiD identifies; set it (e.g. -0.05) to check that a placebo / pre-trend
  test detects a violated common trend.
- ``weather_event_correlation`` (-1..1, default 0.2): High events are placed preferentially on cold
  days. The value is the intended point-biserial correlation between "a High event starts on this
  local day" and the day's cold anomaly (minus its temperature anomaly); the placement tilts the
  day's odds by ``exp(gamma * cold_z)`` with ``gamma = correlation * sqrt(q / p)`` (p the share of
  days with a High event). Measured over 40 seeds: 0.18 (sd 0.05 between years) at 0.2, 0.37 at 0.5
  (the tilt saturates: events may not touch each other). 0 = the day is drawn uniformly (the schedule
  of the generator before issue 21, byte for byte, on the same seed). Default 0.2: LCL's
  constraint-management events were called against network peaks, which cold days drive, while its
  supply-following events followed wind and sun, not temperature; a modest positive value makes
  High-event days 1.4 degC colder than other days (measured over 30 seeds), so their load is ~4 %
  higher for every household: a before/after comparison is biased, a same-half-hour DiD is not. The
  weather is written to ``ground_truth/weather.csv`` (local date, temperature, anomaly, load factor).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class GeneratorSettings:
    response_signal_strength: float = 0.5
    selection_on_response: float = 0.3
    group_trend_pct: float = 0.0
    weather_event_correlation: float = 0.2

    def __post_init__(self) -> None:
        if not 0.0 <= self.response_signal_strength <= 1.0:
            raise ValueError("response_signal_strength must be within [0, 1]")
        if not 0.0 <= self.selection_on_response <= 5.0:
            raise ValueError("selection_on_response must be within [0, 5] (log-odds per SD)")
        if not -0.5 <= self.group_trend_pct <= 0.5:
            raise ValueError("group_trend_pct must be within [-0.5, 0.5]")
        if not -1.0 <= self.weather_event_correlation <= 1.0:
            raise ValueError("weather_event_correlation must be within [-1, 1]")

    def as_dict(self) -> dict[str, float]:
        return asdict(self)


DEFAULT_SETTINGS = GeneratorSettings()
