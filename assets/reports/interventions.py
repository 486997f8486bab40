"""Intervention toolkit: one program per persona, sized only from the sourced evidence table.

Evidence: ``program_evidence.csv`` (next to this module; figures and sources from comparable
trials, ../shared/notes/domain.md 1.5) gives each program's peak reduction as low / central / high
percentages with trial and source. It is the only source of program effects: no factor or
threshold in the settings decides a program or sizes a reduction.

Inputs per household (dr_targets.expected_household_reduction): peak_load_kw (the winter weekday
16:00-20:00 load the DR targets are sized on; dr_targets' module docstring) and
expected_kw_reduction = peak_load_kw x r_i / 100 (r_i: measured evening-event or predicted
reduction %). Per persona P (sums over its members): total_peak_kw = sum_i peak_load_kw_i,
price_kw = sum_i expected_kw_reduction_i. Programs and DR targets are thus sized on one load.

Program rule (one program per persona):
1. ``critical-peak pricing / dynamic ToU`` if P is a price-responsive persona (its members were
   measured cutting load on the dynamic tariff, the intervention the CER / CLNR / Faruqui & Sergici
   figures describe). Their own measured response is the central scenario and the evidence range
   scales it: low = price_kw x low% / central%, central = price_kw, high = price_kw x high% / central%
   (the trials' spread around their central figure applied to the measured figure).
2. otherwise (no measured price response: not selected for a price program), the program whose
   evidence is an intent-to-treat effect on households not selected by their response and has the
   highest central % in program_evidence.csv: ``peak-time rebate`` (Octopus Saving Sessions / UKPN
   energywise, intent-to-treat) or ``efficiency advice`` (Opower behavioural DR, sent to all
   households). Scenario kW = evidence % x total_peak_kw; the persona's price response is not used.
3. ``no action`` if P has no peak load (nothing to reduce).
Programs without a sourced figure (``automation / direct load control``) are listed in
``unsized_programs`` of every persona and never chosen or sized.

expected_reduction_kw = the central scenario; expected_reduction_pct = 100 x kW / total_peak_kw.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from assets.model.settings import PROGRAMS, SegmentationSettings

CPP, PTR, AUTOMATION, EFFICIENCY, NO_ACTION = PROGRAMS
EVIDENCE_FILE = Path(__file__).resolve().parent / "program_evidence.csv"
# programs whose evidence is an intent-to-treat effect on households not selected by their response
UNSELECTED_PROGRAMS: tuple[str, ...] = (PTR, EFFICIENCY)


def program_evidence() -> pl.DataFrame:
    """The sourced evidence table: program, trial, low/central/high % peak reduction, source, note."""
    frame = pl.read_csv(
        EVIDENCE_FILE,
        schema_overrides={"low_pct": pl.Float64, "central_pct": pl.Float64, "high_pct": pl.Float64},
    )
    missing = set(PROGRAMS) - set(frame["program"].to_list())
    if missing:
        raise ValueError(f"program_evidence.csv lacks {sorted(missing)}")
    sized = frame.drop_nulls(["low_pct", "central_pct", "high_pct"])
    bad = sized.filter(~((pl.col("low_pct") <= pl.col("central_pct")) & (pl.col("central_pct") <= pl.col("high_pct"))))
    if bad.height:
        raise ValueError(f"program_evidence.csv: low <= central <= high fails for {bad['program'].to_list()}")
    return frame


def _evidence_rows() -> dict[str, dict]:
    return {r["program"]: r for r in program_evidence().iter_rows(named=True)}


def _sized(row: dict) -> bool:
    return all(row[c] is not None for c in ("low_pct", "central_pct", "high_pct"))


def unselected_program(evidence: dict[str, dict]) -> str:
    """Program for personas without measured price response: highest central % among UNSELECTED_PROGRAMS."""
    candidates = [p for p in UNSELECTED_PROGRAMS if _sized(evidence[p])]
    if not candidates:
        return NO_ACTION
    return max(candidates, key=lambda p: evidence[p]["central_pct"])


def build_interventions(
    personas: pl.DataFrame, expectations: pl.DataFrame, settings: SegmentationSettings | None = None
) -> pl.DataFrame:
    """One row per persona (same order as ``personas``). ``settings`` is not used: no setting sizes a program."""
    evidence = _evidence_rows()
    unsized = ", ".join(p for p in PROGRAMS if p != NO_ACTION and not _sized(evidence[p]))
    fallback = unselected_program(evidence)
    agg = expectations.group_by("persona_id").agg(
        pl.len().alias("n"),
        pl.col("peak_load_kw").sum().alias("total_peak_kw"),
        pl.col("peak_load_kw").mean().alias("mean_peak_kw"),
        pl.col("expected_kw_reduction").sum().alias("price_kw"),
        pl.col("response_measured").sum().alias("n_measured"),
    )
    frame = personas.select("persona_id", "persona_name", "is_price_responsive", "n_households").join(
        agg, on="persona_id", how="left", maintain_order="left"
    )
    rows = []
    for r in frame.iter_rows(named=True):
        total = float(r["total_peak_kw"] or 0.0)
        price_kw = max(float(r["price_kw"] or 0.0), 0.0)
        price_pct = 100.0 * price_kw / total if total > 0 else 0.0
        if total <= 0:
            program = NO_ACTION
        elif r["is_price_responsive"]:
            program = CPP
        else:
            program = fallback
        ev = evidence[program]
        if program == CPP:
            lo = price_kw * ev["low_pct"] / ev["central_pct"]
            mid = price_kw
            hi = price_kw * ev["high_pct"] / ev["central_pct"]
            basis = "measured response x evidence range"
            formula = (
                f"central = sum(peak_load_kw x measured reduction); low / high = central x {ev['low_pct']:g} / "
                f"{ev['central_pct']:g} and x {ev['high_pct']:g} / {ev['central_pct']:g} (program_evidence.csv)"
            )
            rationale = (
                f"Its members cut load in High-price periods on the dynamic tariff (measured {price_pct:.1f}% of "
                f"their peak; comparable trials {ev['low_pct']:g}-{ev['high_pct']:g}%). Price signals work for "
                "them: keep or offer dynamic ToU / critical-peak pricing."
            )
        elif program == NO_ACTION:
            lo = mid = hi = 0.0
            basis = "none"
            formula = "0 (no peak load)"
            rationale = "No peak load in its members' data: nothing to reduce."
        else:
            lo, mid, hi = (ev[c] * total / 100.0 for c in ("low_pct", "central_pct", "high_pct"))
            basis = "evidence (intent-to-treat), no price response used"
            formula = (
                f"{ev['low_pct']:g} / {ev['central_pct']:g} / {ev['high_pct']:g} % x sum(peak_load_kw) "
                "(program_evidence.csv)"
            )
            rationale = (
                f"No measured price response, so no price-response-scaled figure. {program} has the highest "
                f"central intent-to-treat effect ({ev['central_pct']:g}% of peak, range {ev['low_pct']:g}-"
                f"{ev['high_pct']:g}%) among programs whose evidence covers households not selected by response."
            )
        n = r["n"] or 0
        evidence_source = " | ".join(x for x in (ev["trial"], ev["source"]) if x) or None
        rows.append(
            {
                "persona_id": r["persona_id"],
                "persona_name": r["persona_name"],
                "n_households": int(r["n_households"]),
                "program": program,
                "rationale": rationale,
                "response_basis": basis,
                "formula": formula,
                "mean_peak_kw": float(r["mean_peak_kw"] or 0.0),
                "total_peak_kw": total,
                "price_based_reduction_kw": price_kw,
                "expected_reduction_kw": float(mid),
                "expected_reduction_kw_per_household": float(mid / n) if n else 0.0,
                "expected_reduction_pct": float(100.0 * mid / total) if total > 0 else 0.0,
                "evidence_source": evidence_source,
                "scenario_low_kw": float(lo),
                "scenario_central_kw": float(mid),
                "scenario_high_kw": float(hi),
                "unsized_programs": unsized,
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "persona_id": pl.String,
            "persona_name": pl.String,
            "n_households": pl.Int64,
            "program": pl.String,
            "rationale": pl.String,
            "response_basis": pl.String,
            "formula": pl.String,
            "mean_peak_kw": pl.Float64,
            "total_peak_kw": pl.Float64,
            "price_based_reduction_kw": pl.Float64,
            "expected_reduction_kw": pl.Float64,
            "expected_reduction_kw_per_household": pl.Float64,
            "expected_reduction_pct": pl.Float64,
            "evidence_source": pl.String,
            "scenario_low_kw": pl.Float64,
            "scenario_central_kw": pl.Float64,
            "scenario_high_kw": pl.Float64,
            "unsized_programs": pl.String,
        },
    )


PROGRAM_OPTION_SCHEMA = {
    "persona_name": pl.String,
    "n_households": pl.Int64,
    "program": pl.String,
    "recommended": pl.Boolean,
    "low_pct": pl.Float64,
    "central_pct": pl.Float64,
    "high_pct": pl.Float64,
    "low_kw": pl.Float64,
    "central_kw": pl.Float64,
    "high_kw": pl.Float64,
    "basis": pl.String,
    "why": pl.String,
    "trial": pl.String,
    "source": pl.String,
}


def applicable_programs(is_price_responsive: bool) -> tuple[str, ...]:
    """Programs whose evidence applies to a persona: measured price responders -> the price program;
    the others -> every program whose evidence covers households not selected by their response, and
    automation (no sourced figure: listed, not sized)."""
    return (CPP,) if is_price_responsive else (*UNSELECTED_PROGRAMS, AUTOMATION)


def program_options(interventions: pl.DataFrame) -> pl.DataFrame:
    """Every applicable program of every persona (rows of ``reports.interventions``), with the evidence
    range in % and in kW of the persona's peak (for the price program of measured responders: their
    measured % spread by the trials' range, as sized in the toolkit), its trial and source, which one the
    toolkit recommends and why. Only program_evidence.csv sizes anything; the recommended row is the ``program`` the
    intervention table holds, so the two never disagree."""
    evidence = _evidence_rows()
    rows = []
    for r in interventions.iter_rows(named=True):
        total = float(r["total_peak_kw"] or 0.0)
        candidates = applicable_programs(bool(r["program"] == CPP))
        sized = [p for p in candidates if _sized(evidence[p])]
        for program in candidates:
            ev = evidence[program]
            chosen = program == r["program"]
            pct = (ev["low_pct"], ev["central_pct"], ev["high_pct"])
            if program == CPP:
                lo, mid, hi = r["scenario_low_kw"], r["scenario_central_kw"], r["scenario_high_kw"]
                # the kW rest on the persona's own measured response: show its % of peak, not the trials'
                pct = tuple(100.0 * v / total if total > 0 else 0.0 for v in (lo, mid, hi))
                basis = "the persona's measured response, spread by the trials' range"
                why = (
                    "Recommended: its members were measured cutting load on the dynamic tariff, the program "
                    f"these trials evaluated (trials: {ev['low_pct']:g} / {ev['central_pct']:g} / "
                    f"{ev['high_pct']:g}% of peak; the range shown is the persona's measured "
                    f"{pct[1]:.1f}% scaled by the trials' low / central and high / central)."
                )
            elif not _sized(ev):
                lo = mid = hi = None
                basis = "not sized: no sourced figure"
                why = "Not sized: the evidence table has no sourced figure for it, so it cannot be compared."
            else:
                lo, mid, hi = (ev[c] * total / 100.0 for c in ("low_pct", "central_pct", "high_pct"))
                basis = "evidence % x the persona's peak kW (intent-to-treat; its price response not used)"
                others = [p for p in sized if p != program]
                overlap = [
                    p
                    for p in others
                    if evidence[p]["low_pct"] <= ev["high_pct"] and ev["low_pct"] <= evidence[p]["high_pct"]
                ]
                best_central = max((evidence[p]["central_pct"] for p in sized), default=ev["central_pct"])
                compare = "; ".join(
                    f"{p}: {evidence[p]['central_pct']:g}% ({evidence[p]['low_pct']:g}-{evidence[p]['high_pct']:g}%)"
                    for p in others
                )
                if chosen:
                    why = (
                        f"Recommended: the highest central figure of the programs that apply ({ev['central_pct']:g}% "
                        f"of peak, range {ev['low_pct']:g}-{ev['high_pct']:g}%; {compare})."
                    )
                else:
                    why = (
                        f"Alternative: central {ev['central_pct']:g}% (range {ev['low_pct']:g}-{ev['high_pct']:g}%) "
                        f"is below the recommended program's {best_central:g}%."
                    )
                if overlap:
                    why += (
                        " The ranges overlap, so the evidence cannot rank the programs with confidence: "
                        "a local trial should decide."
                    )
            rows.append(
                {
                    "persona_name": r["persona_name"],
                    "n_households": int(r["n_households"]),
                    "program": program,
                    "recommended": chosen,
                    "low_pct": pct[0],
                    "central_pct": pct[1],
                    "high_pct": pct[2],
                    "low_kw": lo,
                    "central_kw": mid,
                    "high_kw": hi,
                    "basis": basis,
                    "why": why,
                    "trial": ev["trial"],
                    "source": ev["source"],
                }
            )
    return pl.DataFrame(rows, schema=PROGRAM_OPTION_SCHEMA)
