"""Sanity checks on the population response summary (plain functions; the asset emits them)."""

from __future__ import annotations

import polars as pl


def _row(effects: pl.DataFrame, analysis: str, band: str) -> dict | None:
    """The all-events, all-seasons row of ``analysis`` (primary method; the placebo has only 'within')."""
    rows = effects.filter(
        (pl.col("analysis") == analysis)
        & (pl.col("band") == band)
        & (pl.col("window_kind") == "event")
        & (pl.col("start_bucket") == "all")
        & (pl.col("season") == "all")
        & (pl.col("method") == ("within" if analysis == "placebo" else "primary"))
    )
    return rows.row(0, named=True) if rows.height else None


def placebo_covers_zero(effects: pl.DataFrame) -> tuple[bool, dict]:
    """The schedule shifted onto the baseline year must show no effect: its CI covers 0."""
    row = _row(effects, "placebo", "High")
    if row is None or row["ci_low_pct"] is None or row["ci_high_pct"] is None:
        return True, {"note": "no placebo estimate (no baseline-year data for treated households)"}
    covers = row["ci_low_pct"] <= 0 <= row["ci_high_pct"]
    return covers, {k: row[k] for k in ("effect_pct", "ci_low_pct", "ci_high_pct", "n_households", "n_events")}


def high_effect_negative(effects: pl.DataFrame) -> tuple[bool, dict]:
    """Households on the dynamic tariff use less in High half hours: the CI lies below 0."""
    row = _row(effects, "treatment", "High")
    if row is None or row["ci_high_pct"] is None:
        return False, {"note": "no High-event estimate"}
    return row["ci_high_pct"] < 0, {
        k: row[k] for k in ("effect_pct", "ci_low_pct", "ci_high_pct", "n_households", "n_events")
    }


CHECK_NAMES = {
    "pseudo_treatment_placebo": ("pseudo_treatment_placebo_passes", ("fails",)),
    "sensitivity_adjacent_days": ("no_adjacent_day_spillover", ("differs",)),
}


def check_verdicts(checks: pl.DataFrame) -> list[tuple[str, bool, dict]]:
    """(asset check name, passed, metadata) of features.response_checks: the pseudo-treatment placebo
    passes unless a band 'fails'; the sensitivity passes unless a band 'differs' ('not run' passes and
    says so)."""
    out = []
    for check, (name, failing) in CHECK_NAMES.items():
        rows = checks.filter(pl.col("check") == check)
        meta = {f"{r['band']}": f"{r['verdict']}: {r['reason']}" for r in rows.iter_rows(named=True)}
        passed = not rows.filter(pl.col("verdict").is_in(list(failing))).height
        out.append((name, passed, meta or {"note": "not run"}))
    return out
