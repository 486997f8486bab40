"""Every rule of event settlement, with where it comes from (one settings object, no Dagster).

Tags as in ``../shared/notes/domain.md``: [V] the cited source says this; [R] recalled from the
literature, unverified (kept as a setting so that a utility can put its own contract's rule in);
[D] our choice, with the reason. All hours are UK local clock hours relative to the event start;
windows are half-open.

Baseline methods (``METHODS``; the formulas are in ``assets/settlement/baselines.py``):

* ``control_group``: the product's estimator design (``assets/features/event_response.py``): the
  household's own change against its reference days minus the mean change of the control households
  (tariff group ``control_group``, leave-one-out for a control) in the same event window. The
  reference here is the CAISO day set below, so the method is scored on placebo events exactly like
  the others. [D] (domain.md §5 option 3; Nexant recommends control-group baselines where possible [V])
* ``caiso``: CAISO 10-in-10: the mean of the event window on the 10 most recent similar non-event days
  (weekdays for a weekday event; the 4 most recent weekend/holiday days for a weekend event) within
  ``caiso_lookback_days``. [V] CAISO 10-in-10 / AEMO WDR baseline register (domain.md §5);
  the weekend 4-in-4 and the 45-day lookback [R].
* ``caiso_adjusted``: the same, times the day-of ratio (actual / baseline) over the hours
  ``caiso_adjustment_hours`` before the event, capped at ``1 +- caiso_adjustment_cap``.
  The +-20 % cap [R] (issue 25); the window (4 h to 1 h before the start) [R].
* ``dfs``: the DFS domestic baseline: the mean over the 10 most recent working days outside events
  (the 4 most recent weekend days for a weekend event) within ``dfs_lookback_days``.
  [V] Utility Week, "Demand Flexibility Service adjusted to prevent gaming" (2023): "average usage during
  the same period on the previous 10 weekdays, excluding days on which there was another event";
  Octopus Saving Sessions FAQ: "or the last 4 weekend days" (domain.md §3.2). Lookback 60 days [R].
* ``dfs_adjusted``: plus the in-day adjustment: the mean difference (actual - baseline) per half
  hour over the 3 hours before the event, added to every event half hour (additive, uncapped).
  [V] window: Utility Week (above): "an in-day adjustment ... based on their consumption during the
  three hours before the beginning of an event"; additive and uncapped [R]. Dropped for domestic
  sites in 2023/24 because pre-loading gamed it [V] (Current News, "DFS 2023/24: what's changing").
* ``caiso_adjusted_clear`` / ``dfs_adjusted_clear``: the adjusted methods with their adjustment window
  moved back so that it ends ``preload_hours`` before the event (the "without the 3 h before" side of
  the pre-loading comparison; same width). [D]
* ``towt``: a time-of-week regression baseline in the spirit of CalTRACK hourly / OpenDSM DRmeter,
  fitted per household and event on the non-event days within ``towt_weeks`` weeks either side of
  the event (``assets/settlement/towt.py`` says how and why it is not opendsm). [V] CalTRACK 2.0
  hourly methods; DRmeter TOWT methodology (domain.md §3.1).

Day exclusions (all methods): a day with any High/Low half hour is never a baseline day (CAISO and DFS
both exclude event days [V]); for placebo events the placebo days are excluded as well (they are
events for the method being scored). A day counts for a window only if every half hour of that window
is an actual reading (quality A; estimated values never enter a baseline: domain.md §4, "exclude
estimated values from response features"). A baseline needs ``min_baseline_days`` such days, else it
is empty. Day selection is calendar-based (the same days for every household), as the programmes
define it; a household's missing day is not replaced by an older one. [D]

Placebo events (``placebo_week_offsets``): each real High event's local clock window laid on an
event-free day of the same weekday a whole number of weeks away (the first of the offsets that is
event-free, inside the trial window, with no event half hour from the earliest adjustment window to
the end of the snapback window, and not already a placebo day). Nexant's CAISO baseline accuracy
assessment scores baselines on such placebo ("proxy") event days [V] (Bode & Ciccone 2017, domain.md §5).
"""

from __future__ import annotations

from dataclasses import dataclass

from assets.features.settings import FeatureSettings

METHODS = (
    "control_group",
    "caiso",
    "caiso_adjusted",
    "caiso_adjusted_clear",
    "dfs",
    "dfs_adjusted",
    "dfs_adjusted_clear",
    "towt",
)
ADJUSTED = {"caiso_adjusted": "caiso_adjusted_clear", "dfs_adjusted": "dfs_adjusted_clear"}
SCHEDULES = ("tariff", "placebo")
# The windows of a day that settlement sums (role -> hours relative to the event start; None = the event).
ROLES = ("event", "preload", "caiso_adjust", "clear_adjust", "snapback")


def _on_grid(hours: float, name: str) -> int:
    half_hours = hours * 2
    if half_hours != int(half_hours):
        raise ValueError(f"{name}={hours!r} must be on the half-hour grid")
    return int(half_hours)


@dataclass(frozen=True)
class SettlementSettings:
    """The rules of each baseline method and of the accuracy scoring (module docstring: sources)."""

    # --- which events are settled ------------------------------------------------------------------
    band: str = "High"  # DR events are reductions: the High-price events [D]

    # --- CAISO 10-in-10 ----------------------------------------------------------------------------
    caiso_days: int = 10  # [V]
    caiso_weekend_days: int = 4  # weekend / bank holiday events: 4-in-4 [R]
    caiso_lookback_days: int = 45  # [R]
    caiso_adjustment_hours: tuple[float, float] = (4.0, 1.0)  # from 4 h to 1 h before the start [R]
    caiso_adjustment_cap: float = 0.20  # the day-of ratio capped to [0.8, 1.2] [R] (issue 25)

    # --- DFS domestic ------------------------------------------------------------------------------
    dfs_days: int = 10  # previous 10 working days excluding event days [V]
    dfs_weekend_days: int = 4  # or the last 4 weekend days [V]
    dfs_lookback_days: int = 60  # [R]
    dfs_adjustment_hours: tuple[float, float] = (3.0, 0.0)  # the 3 hours before the event [V]

    # --- pre-loading and snapback -------------------------------------------------------------------
    preload_hours: float = 3.0  # "power rinse": load inflated in the 3 h before an event [V] (domain.md §5)
    snapback_hours: float = 3.0  # the 3 h after the event [D] (as the features' rebound window)

    # --- time-of-week regression ----------------------------------------------------------------------
    towt_weeks: int = 4  # fit on +- 4 weeks of non-event days [D] (DRmeter fits one month [V])
    towt_min_days_in_bin: int = 2  # the event's weekday needs this many fitting days [D]

    # --- common -----------------------------------------------------------------------------------
    min_baseline_days: int = 4  # a baseline needs this many complete days (the weekend sets have 4) [D]
    placebo_week_offsets: tuple[int, ...] = (1, -1, 2, -2, 3, -3, 4, -4)  # [D]
    payment_threshold_kwh: float = 0.0  # a settled reduction above this is paid (DFS opt-in: positive only [V])

    # --- intervals ---------------------------------------------------------------------------------
    ci_level: float = 0.95
    bootstrap_replicates: int = 400
    seed: int = 20130425
    min_households: int = 3  # fewer households in a group: no interval, the row says so [D]

    def __post_init__(self) -> None:
        for name in ("caiso_days", "caiso_weekend_days", "dfs_days", "dfs_weekend_days", "min_baseline_days"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1")
        if self.min_baseline_days > min(self.caiso_days, self.dfs_days, self.caiso_weekend_days, self.dfs_weekend_days):
            raise ValueError("min_baseline_days cannot exceed the number of baseline days a method selects")
        for name in ("caiso_adjustment_hours", "dfs_adjustment_hours"):
            start, end = getattr(self, name)
            if not _on_grid(start, name) > _on_grid(end, name) >= 0:
                raise ValueError(
                    f"{name} must be (hours before the start, hours before the start) with start > end >= 0"
                )
        if not 0 < self.caiso_adjustment_cap < 1:
            raise ValueError("caiso_adjustment_cap must be in (0, 1)")
        _on_grid(self.preload_hours, "preload_hours")
        _on_grid(self.snapback_hours, "snapback_hours")
        if self.towt_weeks < 1 or self.towt_min_days_in_bin < 2:
            raise ValueError("towt_weeks >= 1 and towt_min_days_in_bin >= 2 (a bin mean and its spread)")
        if not 0 < self.ci_level < 1 or self.bootstrap_replicates < 10:
            raise ValueError("ci_level in (0, 1) and bootstrap_replicates >= 10")
        if not self.placebo_week_offsets or 0 in self.placebo_week_offsets:
            raise ValueError("placebo_week_offsets: whole non-zero weeks")

    def role_offsets(self, event_half_hours: int) -> dict[str, tuple[int, int]]:
        """role -> [first, last) half-hour offset from the event start (negative: before it)."""
        caiso = self.caiso_adjustment_hours
        width = _on_grid(caiso[0], "caiso") - _on_grid(caiso[1], "caiso")
        dfs = self.dfs_adjustment_hours
        if _on_grid(dfs[0], "dfs") - _on_grid(dfs[1], "dfs") != width:  # the clear window serves both methods
            raise ValueError("the CAISO and DFS adjustment windows must have the same width")
        pre = _on_grid(self.preload_hours, "preload_hours")
        return {
            "event": (0, event_half_hours),
            "preload": (-pre, 0),
            "caiso_adjust": (-_on_grid(caiso[0], "caiso"), -_on_grid(caiso[1], "caiso")),
            "clear_adjust": (-pre - width, -pre),
            "snapback": (event_half_hours, event_half_hours + _on_grid(self.snapback_hours, "snapback_hours")),
        }

    def dfs_role(self) -> str:
        """The role whose window is the DFS adjustment window (the 3 h before the event: ``preload``)."""
        if self.dfs_adjustment_hours != (self.preload_hours, 0.0):
            raise ValueError("dfs_adjustment_hours must be the preload window (the 3 hours before the event)")
        return "preload"

    @property
    def lookback_days(self) -> int:
        return max(self.caiso_lookback_days, self.dfs_lookback_days)

    @property
    def earliest_offset(self) -> int:
        """Half hours before the event start of the earliest window settlement reads."""
        return -min(lo for lo, _ in self.role_offsets(0).values())


FEATURE_SETTINGS = FeatureSettings()  # local time, bank holidays, seasons, the trial window, groups
