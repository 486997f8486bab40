"""Half-hourly kWh of a block of households on the UTC grid, vectorised with numpy.

``kWh[h, k] = scale_h * expected_h(k) * weather(k) * day_factor_h(day(k)) * noise_h(k) * response_h(k)``

- ``expected``: the household's weekday/weekend shape at the LOCAL slot of the interval start, times
  a general season factor ``1 + a_h * cos(2 pi (doy - 15) / 365.25)`` (winter higher), plus winter
  evening lighting and, for night storage heaters, a winter-only heating charge in the night window;
- ``weather``: a day-to-day factor common to all households (colder than usual -> more load; the
  date-keyed daily weather of :mod:`.weather`), stronger for heating;
- ``day_factor``: per household and local day, lognormal (sd 0.12);
- ``noise``: per half hour, lognormal with autocorrelated log-noise (moving average of 4 half hours,
  weights 0.6^j, sd 0.35), mean 1;
- ``trend``: a common trend in the trial year, the same for every household (ToU or not): load drifts
  linearly from 1 on 1 January 2013 to ``1 + TRIAL_TREND_PCT`` on 1 January 2014 (UTC), 1 before;
  a before/after comparison without controls picks it up, a difference in differences does not;
- ``group trend``: ToU households only, ``1 + group_trend_pct * t`` over the same trial year
  (``GeneratorSettings.group_trend_pct``, default 0): a drift not caused by price, which a
  difference in differences attributes to the tariff (a placebo / pre-trend check should catch it);
- ``response``: ``1 + true_high_effect_pct`` in half hours whose START is a High label of the local
  schedule, ``1 + true_low_effect_pct`` in Low ones, and, in the Normal half hours of the 3 h before
  a High run / after it, ``1 + true_preload_pct`` / ``1 + true_rebound_pct`` (pre-loading and
  rebound; expressed responders only, so only ToU households and only in 2013).

:func:`true_peak_load_kw` is the truth of each household's winter weekday 16:00-20:00 load (pre-period
year, noise-free), the load a DR event at the evening peak acts on.

Values are rounded to 3 decimals (integer milli-kWh), clipped to [0, 19.999] kWh. Every household's
random numbers come from its own stream (seed, household index), so a household's series does not
depend on the block size or on the other households.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

import numpy as np
import polars as pl

from assets.synthetic.archetypes import bump, household_shape
from assets.synthetic.tariff_calendar import HIGH, LOW, NORMAL, SCHEDULE_YEAR
from assets.synthetic.timegrid import TimeGrid
from assets.synthetic.weather import DailyWeather

NOISE_SD = 0.35
NOISE_WEIGHTS = 0.6 ** np.arange(4)  # log-noise = sum_j w_j eps_{t-j}: AR(1)-like, cheap
DAY_SD = 0.12
MAX_MILLI_KWH = 19_999
TRIAL_TREND_PCT = -0.04  # common trend over the trial year (every household)
PEAK_REFERENCE_YEAR = SCHEDULE_YEAR - 1  # the pre-period year: winter weekdays of Jan, Feb, Dec 2012
PEAK_SLOTS = (32, 40)  # local 16:00-20:00, the winter evening peak the DR list sizes
PEAK_CHUNK = 2000
SHIFT_SLOTS = 6  # pre-loading / rebound windows: 3 h (the features' preload_hours / rebound_hours)
# Share of values >= 1 kWh written with single-precision artefacts (1.0779999 / 1.2410001), as in LCL.
ARTEFACT_SHARE = 0.12

_LIGHTING = 0.12 * bump(18.0, 2.0)


@dataclass(frozen=True)
class GridFeatures:
    """Per-slot calendar/tariff features shared by all households of a generation run."""

    slot: np.ndarray  # local slot of the interval start (0..47)
    weekend: np.ndarray  # local weekend (Saturday/Sunday)
    day: np.ndarray  # local day index
    winter: np.ndarray  # cos(2 pi (doy - 15) / 365.25), +1 mid January, -1 mid July
    weather: np.ndarray  # per local day, common log-factor
    band: np.ndarray  # NORMAL/HIGH/LOW of the interval start (UTC grid)
    trend: np.ndarray  # common trial-year trend factor per half hour
    trial_progress: np.ndarray  # 0 on 1 Jan 2013 .. 1 on 1 Jan 2014 (UTC), 0 outside the trial year
    preload: np.ndarray  # Normal half hour within 3 h before the start of a High run
    rebound: np.ndarray  # Normal half hour within 3 h after the end of a High run

    @classmethod
    def build(cls, grid: TimeGrid, bands: np.ndarray, weather: DailyWeather) -> GridFeatures:
        """``weather``: the daily weather from the grid's first local date (= ``grid.start``) on."""
        doy = grid.local_day_of_year.astype(float)
        winter = np.cos(2.0 * np.pi * (doy - 15.0) / 365.25)
        if weather.first != grid.start or weather.anomaly_c.shape[0] < grid.n_local_days:
            raise ValueError("the weather must cover the grid's local days from its start")
        weather_day = weather.load_log_factor[: grid.n_local_days]
        t = grid.interval_start_utc
        year_start = datetime(SCHEDULE_YEAR, 1, 1)
        frac = ((t - year_start).dt.total_seconds() / (365.0 * 86400.0)).to_numpy()
        in_trial = (frac >= 0.0) & (frac < 1.0)
        trial_progress = np.where(in_trial, frac, 0.0)
        trend = 1.0 + TRIAL_TREND_PCT * trial_progress
        preload, rebound = shift_windows(bands)
        return cls(
            trend=trend,
            trial_progress=trial_progress,
            preload=preload,
            rebound=rebound,
            slot=grid.local_slot.astype(np.int64),
            weekend=grid.local_weekend.astype(np.int64),
            day=grid.local_day_index.astype(np.int64),
            winter=winter,
            weather=weather_day,
            band=bands,
        )


def shift_windows(bands: np.ndarray, n: int = SHIFT_SLOTS) -> tuple[np.ndarray, np.ndarray]:
    """(preload, rebound) masks: Normal half hours within ``n`` slots before a High run's first half
    hour / after its last one (a direct High -> Low switch is neither)."""
    high = bands == HIGH
    prev = np.concatenate([[False], high[:-1]])
    nxt = np.concatenate([high[1:], [False]])
    starts = np.flatnonzero(high & ~prev)
    ends = np.flatnonzero(high & ~nxt)
    size = bands.shape[0]
    preload = np.zeros(size, dtype=bool)
    rebound = np.zeros(size, dtype=bool)
    for d in range(1, n + 1):
        before = starts - d
        preload[before[before >= 0]] = True
        after = ends + d
        rebound[after[after < size]] = True
    normal = bands == NORMAL
    return preload & normal, rebound & normal


def household_rng(seed: int, index: int, stream: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence([seed, stream, int(index)]))


def relative_load(
    shapes: np.ndarray,
    heating: np.ndarray,
    season_amplitude: np.ndarray,
    slot: np.ndarray,
    weekend: np.ndarray,
    winter: np.ndarray,
    weather_log: np.ndarray,
) -> np.ndarray:
    """Expected load in units of the household's ``scale`` (noise, trend and response excluded), shape
    (households, half hours): shape x season + winter lighting, times the weather, plus storage heating
    (stronger in cold weather). ``shapes`` (households, 2, 48) weekday/weekend; ``heating`` (households, 48)."""
    season = 1.0 + season_amplitude[:, None] * winter[None, :]
    relative = shapes[:, weekend, slot] * season + (_LIGHTING[slot] * np.clip(winter, 0, None))[None, :]
    relative *= np.exp(weather_log)[None, :]
    heat_season = np.clip(winter, 0.0, None) ** 1.5
    relative += heating[:, slot] * (heat_season * np.clip(1.0 + 3.0 * weather_log, 0.2, None))[None, :]
    return relative


def household_shapes(households: pl.DataFrame, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """(shapes (n, 2, 48) weekday/weekend, heating (n, 48)): each household's own jittered archetype
    shape, drawn from its own stream, the same draws :func:`block_milli_kwh` uses."""
    n_h = households.height
    shapes = np.empty((n_h, 2, 48))
    heating = np.empty((n_h, 48))
    for i, (index, archetype) in enumerate(zip(households["index"], households["archetype"], strict=True)):
        shape = household_shape(archetype, household_rng(seed, index, 3))
        shapes[i, 0], shapes[i, 1], heating[i] = shape.weekday, shape.weekend, shape.heating
    return shapes, heating


def true_peak_load_kw(households: pl.DataFrame, seed: int, weather: DailyWeather) -> np.ndarray:
    """Each household's true mean load in kW over the winter weekday peak, 16:00-20:00 local (slots
    32-39), on the weekdays of January, February and December of the pre-period year
    (``PEAK_REFERENCE_YEAR``), with the weather that happened on those days: its expectation over the
    household's noise (mean 1), without trend or price response. This is the load an evening event acts
    on; the pipeline measures the same window (``winter_weekday_peak_kw``) with noise. ``weather`` must
    cover that year."""
    year = PEAK_REFERENCE_YEAR
    days = [date(year, 1, 1) + timedelta(days=d) for d in range((date(year + 1, 1, 1) - date(year, 1, 1)).days)]
    days = [d for d in days if d.month in (1, 2, 12) and d.weekday() < 5]
    offsets = np.array([(d - weather.first).days for d in days])
    if offsets.min() < 0 or offsets.max() >= weather.anomaly_c.shape[0]:
        raise ValueError(f"the weather must cover {year}")
    slots = np.arange(PEAK_SLOTS[0], PEAK_SLOTS[1])
    doy = np.repeat(np.array([d.timetuple().tm_yday for d in days], dtype=float), slots.size)
    slot = np.tile(slots, len(days))
    weather_log = np.repeat(weather.load_log_factor[offsets], slots.size)
    winter = np.cos(2.0 * np.pi * (doy - 15.0) / 365.25)
    weekday = np.zeros(slot.size, dtype=np.int64)
    out = np.empty(households.height)
    for lo in range(0, households.height, PEAK_CHUNK):  # bounded memory for any number of households
        part = households.slice(lo, PEAK_CHUNK)
        shapes, heating = household_shapes(part, seed)
        amplitude = part["season_amplitude"].to_numpy()
        relative = relative_load(shapes, heating, amplitude, slot, weekday, winter, weather_log)
        out[lo : lo + part.height] = 2.0 * part["scale"].to_numpy() * relative.mean(axis=1)
    return out


def block_milli_kwh(
    households: pl.DataFrame,
    features: GridFeatures,
    seed: int,
    respond: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """kWh (integer milli-kWh, int32) and text variant (int8: 0 plain, 1 ``…9999``, 2 ``…0001``).

    Both of shape ``(households.height, n_slots)``, for the full grid (callers cut each household's
    active span).
    """
    n_h = households.height
    n_k = features.slot.shape[0]
    n_days = features.weather.shape[0]
    shapes, heating = household_shapes(households, seed)
    lags = NOISE_WEIGHTS.shape[0] - 1
    eps = np.empty((n_h, n_k + lags))
    day_noise = np.empty((n_h, n_days))
    u = np.empty((n_h, n_k))
    for i, index in enumerate(households["index"]):
        rng = household_rng(seed, index, 2)
        eps[i] = rng.standard_normal(n_k + lags)
        day_noise[i] = rng.standard_normal(n_days)
        u[i] = rng.random(n_k)

    relative = relative_load(
        shapes,
        heating,
        households["season_amplitude"].to_numpy(),
        features.slot,
        features.weekend,
        features.winter,
        features.weather[features.day],
    )

    # Autocorrelated log-noise (moving average over the current and 3 previous half hours).
    log_noise = np.zeros((n_h, n_k))
    for j, w in enumerate(NOISE_WEIGHTS):
        log_noise += w * eps[:, lags - j : lags - j + n_k]
    log_noise *= NOISE_SD / np.sqrt(np.sum(NOISE_WEIGHTS**2))
    log_day = day_noise * DAY_SD
    log_total = log_noise + log_day[:, features.day] - (NOISE_SD**2 + DAY_SD**2) / 2.0
    kwh = households["scale"].to_numpy()[:, None] * relative * np.exp(log_total) * features.trend[None, :]
    group_trend = households["group_trend_pct"].to_numpy()
    if np.any(group_trend != 0.0):  # a ToU-only drift, not caused by price: there with respond=False too
        kwh *= 1.0 + group_trend[:, None] * features.trial_progress[None, :]

    if respond:
        high = households["true_high_effect_pct"].to_numpy()
        low = households["true_low_effect_pct"].to_numpy()
        is_high = features.band == HIGH
        is_low = features.band == LOW
        kwh[:, is_high] *= 1.0 + high[:, None]
        kwh[:, is_low] *= 1.0 + low[:, None]
        kwh[:, features.preload] *= 1.0 + households["true_preload_pct"].to_numpy()[:, None]
        kwh[:, features.rebound] *= 1.0 + households["true_rebound_pct"].to_numpy()[:, None]

    milli = np.clip(np.rint(kwh * 1000.0), 0, MAX_MILLI_KWH).astype(np.int32)
    variant = np.zeros((n_h, n_k), dtype=np.int8)
    big = milli >= 1000
    variant[big & (u < ARTEFACT_SHARE)] = 1
    variant[big & (u >= ARTEFACT_SHARE) & (u < 2 * ARTEFACT_SHARE)] = 2
    return milli, variant
