"""The catalogue of validation, estimation and editing (VEE) rules, each with a stable id.

Rule ids are what analysts filter on in ``clean.quarantined_readings`` and what the data-quality
metadata counts, so they never change meaning once published.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Rule:
    rule_id: str
    action: str  # quarantine | collapse | flag | estimate
    description: str


RULES: tuple[Rule, ...] = (
    Rule(
        "V01_MALFORMED_LINE", "quarantine", "wrong number of fields for the file's layout (truncated or extra columns)"
    ),
    Rule("V02_MISSING_HOUSEHOLD", "quarantine", "household id is empty"),
    Rule("V03_BAD_TIMESTAMP", "quarantine", "timestamp cannot be parsed"),
    Rule("V04_OFF_GRID_TIMESTAMP", "quarantine", "timestamp is not on the :00/:30 half-hour grid"),
    Rule("V05_NULL_VALUE", "quarantine", "value is empty or the string Null"),
    Rule("V06_NON_NUMERIC_VALUE", "quarantine", "value is not a number"),
    Rule("V07_NEGATIVE_VALUE", "quarantine", "negative import reading"),
    Rule("V08_IMPLAUSIBLE_VALUE", "quarantine", "value above the plausible maximum per half hour"),
    Rule("V09_CONFLICTING_DUPLICATE", "quarantine", "same household and half hour read twice with different values"),
    Rule(
        "D01_EXACT_DUPLICATE", "collapse", "same household, half hour and value read more than once: kept once, counted"
    ),
    Rule("F01_SPIKE", "flag", "value far above the household's usual range in the month: flagged, kept"),
    Rule(
        "E01_SHORT_GAP_INTERPOLATED", "estimate", "gap of at most the configured length filled by linear interpolation"
    ),
)

RULES_BY_ID = {rule.rule_id: rule for rule in RULES}
QUARANTINE_RULES = frozenset(r.rule_id for r in RULES if r.action == "quarantine")


@dataclass(frozen=True)
class VeeSettings:
    """Thresholds of the VEE rules (utility-configurable)."""

    max_kwh_per_half_hour: float = 24.0  # 200 A x 240 V for 30 min, SERL "very high" bound
    max_gap_half_hours_to_estimate: int = 6  # 3 h
    spike_iqr_multiplier: float = 6.0  # value > q75 + k * IQR of the household-month ...
    spike_min_kwh: float = 2.0  # ... and at least this many kWh
