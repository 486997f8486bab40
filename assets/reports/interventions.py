"""Intervention toolkit: one program per persona, sized only from the sourced evidence table.

Evidence: ``program_evidence.csv`` (next to this module; ../shared/notes/domain.md 1.5) has one row
per figure a trial reports: ``figure`` says what it is (``central estimate``, ``upper bound`` for an
"up to x %", ``range``, ``none``), ``population`` whom it was measured on (intent-to-treat, trial
participants, or opted-in households only). A figure is stored as its source states it: a central
only where a trial reports one, a bound as a bound. It is the only source of program effects: no
factor or threshold in the settings decides a program or sizes a reduction.

Per program (``program_ranges``), from its rows that describe a whole group offered the program
(opted-in-only figures are shown but never size a persona):
* low = the smallest figure reported (an "up to" bound has no lower end: it counts as 0, "no effect"
  is not excluded), high = the largest;
* central = a reported central estimate; ``None`` ("no central figure") when no trial reports one;
  when several trials do, the smallest of them (the conservative one, stated in ``central_basis``).

Inputs per household (dr_targets.expected_household_reduction): peak_load_kw (the winter weekday
16:00-20:00 load the DR targets are sized on) and expected_kw_reduction = peak_load_kw x r_i / 100
(r_i: measured evening-event or predicted High-price reduction %). Per persona P: total_peak_kw =
sum_i peak_load_kw_i, price_kw = sum_i expected_kw_reduction_i. Programs and DR targets are thus
sized on one load.

Program rule (one program per persona):
1. ``critical-peak pricing / dynamic ToU`` if P is a price-responsive persona (its members were
   measured cutting load on the dynamic tariff, the intervention the CER / CLNR / Faruqui & Sergici
   figures describe). Their own measured response is the central scenario and the evidence range
   scales it: low = price_kw x low% / central%, central = price_kw, high = price_kw x high% / central%.
2. otherwise (no measured price response) the programs whose evidence covers households not selected
   by their response (UNSELECTED_PROGRAMS: peak-time rebate, behavioural DR messaging) with a sourced
   range are compared by ``choose_unselected_program``:
   a. if one program's low is above every other's high, the evidence ranks it first: it is chosen;
   b. otherwise the ranges overlap and the evidence cannot rank the programs (a midpoint or an
      "up to" figure is not a measurement of the typical effect). A utility then runs a randomised
      test-and-learn pilot of the overlapping programs and plans on the one with a sourced
      intent-to-treat central estimate, the only figure that sizes an expected reduction: it is the
      recommended program (``pilot_comparison`` names the other arms). When none or several have a
      central, the one with the highest low (then PROGRAMS order) leads.
   Scenario kW = evidence % x total_peak_kw; the persona's price response is not used.
3. ``no action`` if P has no peak load (nothing to reduce).
Programs without a sourced figure (``automation / direct load control``) are listed in
``unsized_programs`` of every persona and never chosen or sized.

expected_reduction_kw = the central scenario (``None`` when the program has no central figure);
expected_reduction_pct = 100 x kW / total_peak_kw.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import polars as pl

from assets.model.settings import PROGRAMS, SegmentationSettings

CPP, PTR, AUTOMATION, MESSAGING, NO_ACTION = PROGRAMS
EVIDENCE_FILE = Path(__file__).resolve().parent / "program_evidence.csv"
# programs whose evidence is an effect on households not selected by their response
UNSELECTED_PROGRAMS: tuple[str, ...] = (PTR, MESSAGING)
FIGURES = ("central estimate", "upper bound", "range", "none")
# population of a figure measured only on households that chose to take part: never sizes a persona
OPTED_IN = "opted-in households only (LATE)"
NO_CENTRAL = "no central figure"
_PCT = ("low_pct", "central_pct", "high_pct")


def program_evidence(path: Path | None = None) -> pl.DataFrame:
    """The sourced evidence table, one row per trial figure: program, trial, figure, population,
    low / central / high % peak reduction (as the source states them), source, note."""
    frame = pl.read_csv(
        path or EVIDENCE_FILE,
        schema_overrides={c: pl.Float64 for c in _PCT},
    )
    missing = set(PROGRAMS) - set(frame["program"].to_list())
    if missing:
        raise ValueError(f"program_evidence.csv lacks {sorted(missing)}")
    unknown = set(frame["program"].to_list()) - set(PROGRAMS)
    if unknown:
        raise ValueError(f"program_evidence.csv: unknown programs {sorted(unknown)}")
    bad_fig = frame.filter(~pl.col("figure").is_in(FIGURES))
    if bad_fig.height:
        raise ValueError(f"program_evidence.csv: figure must be one of {FIGURES}: {bad_fig['trial'].to_list()}")
    problems = []
    for r in frame.iter_rows(named=True):
        lo, mid, hi = (r[c] for c in _PCT)
        vals = [v for v in (lo, mid, hi) if v is not None]
        if vals != sorted(vals):
            problems.append(f"{r['trial']}: low <= central <= high fails")
        if r["figure"] == "central estimate" and mid is None:
            problems.append(f"{r['trial']}: a central estimate needs central_pct")
        if r["figure"] == "upper bound" and (hi is None or lo is not None or mid is not None):
            problems.append(f"{r['trial']}: an upper bound is recorded as high_pct only")
        if r["figure"] == "range" and (lo is None or hi is None or mid is not None):
            problems.append(f"{r['trial']}: a range is low_pct and high_pct without a central")
        if r["figure"] == "none" and r["program"] != NO_ACTION and vals:
            problems.append(f"{r['trial']}: figure 'none' with numbers")
    if problems:
        raise ValueError("program_evidence.csv: " + "; ".join(problems))
    return frame


@dataclass(frozen=True)
class ProgramRange:
    """A program's evidence range (% of peak) over the trials that size a whole group offered it."""

    program: str
    low_pct: float | None
    central_pct: float | None
    high_pct: float | None
    central_basis: str
    trials: str
    sources: str

    @property
    def sized(self) -> bool:
        return self.low_pct is not None and self.high_pct is not None


def program_ranges(evidence: pl.DataFrame | None = None) -> dict[str, ProgramRange]:
    """Per program: low / central / high % from the evidence rows (rules in the module docstring)."""
    evidence = program_evidence() if evidence is None else evidence
    out: dict[str, ProgramRange] = {}
    for program in PROGRAMS:
        rows = [
            r
            for r in evidence.filter(pl.col("program") == program).iter_rows(named=True)
            if r["population"] != OPTED_IN
        ]
        lows, highs, centrals = [], [], []
        for r in rows:
            if r["figure"] == "none" and program != NO_ACTION:
                continue
            lows.append(
                0.0
                if r["figure"] == "upper bound"
                else min(v for v in (r["low_pct"], r["central_pct"]) if v is not None)
            )
            highs.append(max(v for v in (r["central_pct"], r["high_pct"]) if v is not None))
            if r["central_pct"] is not None:
                centrals.append((r["central_pct"], r["trial"]))
        if centrals:
            value, trial = min(centrals)
            basis = (
                f"central estimate of {trial}"
                if len(centrals) == 1
                else f"smallest of {len(centrals)} reported central estimates ({trial})"
            )
        else:
            value, basis = None, NO_CENTRAL
        out[program] = ProgramRange(
            program=program,
            low_pct=min(lows) if lows else None,
            central_pct=value,
            high_pct=max(highs) if highs else None,
            central_basis=basis,
            trials="; ".join(r["trial"] for r in rows if r["trial"]),
            sources=" ; ".join(dict.fromkeys(r["source"] for r in rows if r["source"])),
        )
    return out


@dataclass(frozen=True)
class Choice:
    program: str
    evidence_ranks: bool
    pilot_with: tuple[str, ...]
    reason: str


def _rng(p: ProgramRange) -> str:
    mid = NO_CENTRAL if p.central_pct is None else f"central {p.central_pct:g}%"
    return f"{p.program}: {p.low_pct:g}-{p.high_pct:g}%, {mid}"


def choose_unselected_program(ranges: dict[str, ProgramRange]) -> Choice:
    """The program for personas without measured price response (rule 2 of the module docstring)."""
    cands = [ranges[p] for p in UNSELECTED_PROGRAMS if p in ranges and ranges[p].sized]
    if not cands:
        return Choice(NO_ACTION, False, (), "no program with a sourced figure applies")
    for c in cands:
        others = [o for o in cands if o is not c]
        if all(c.low_pct > o.high_pct for o in others):
            return Choice(
                c.program,
                True,
                (),
                f"the evidence ranks it first: its lowest reported figure is above every other program's highest "
                f"({'; '.join(_rng(x) for x in cands)})",
            )
    with_central = [c for c in cands if c.central_pct is not None]
    order = {p: i for i, p in enumerate(PROGRAMS)}
    pool = with_central if len(with_central) == 1 else cands
    lead = sorted(pool, key=lambda c: (-c.low_pct, order[c.program]))[0]
    why_lead = (
        "it is the only one with a sourced intent-to-treat central estimate, the figure a utility can plan on"
        if len(with_central) == 1
        else "it has the highest reported lower end (none has a single sourced central estimate to plan on)"
    )
    others = tuple(c.program for c in cands if c is not lead)
    return Choice(
        lead.program,
        False,
        others,
        f"the ranges overlap ({'; '.join(_rng(x) for x in cands)}), so the evidence cannot rank the programs. "
        f"Run them as a randomised test-and-learn pilot (households randomly offered {lead.program} or "
        f"{' / '.join(others)}, effect measured on this population); lead with {lead.program}: {why_lead}",
    )


def _evidence_source(p: ProgramRange) -> str | None:
    return " | ".join(x for x in (p.trials, p.sources) if x) or None


def _scaled(total: float, p: ProgramRange) -> tuple[float, float | None, float]:
    """low / central / high kW = evidence % x total peak kW (central None without a central figure)."""
    mid = None if p.central_pct is None else p.central_pct * total / 100.0
    return p.low_pct * total / 100.0, mid, p.high_pct * total / 100.0


def build_interventions(
    personas: pl.DataFrame, expectations: pl.DataFrame, settings: SegmentationSettings | None = None
) -> pl.DataFrame:
    """One row per persona (same order as ``personas``). ``settings`` is not used: no setting sizes a program."""
    ranges = program_ranges()
    unsized = ", ".join(p for p in PROGRAMS if p != NO_ACTION and not ranges[p].sized)
    choice = choose_unselected_program(ranges)
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
        price_kw = float(r["price_kw"] or 0.0)  # unclipped: a measured net increase is not hidden
        price_pct = 100.0 * price_kw / total if total > 0 else 0.0
        ranks, pilot = None, None
        if total <= 0:
            program = NO_ACTION
        elif r["is_price_responsive"]:
            program = CPP
        else:
            program = choice.program
            ranks, pilot = choice.evidence_ranks, (", ".join(choice.pilot_with) or None)
        ev = ranges[program]
        if program == CPP:
            lo = price_kw * ev.low_pct / ev.central_pct
            mid = price_kw
            hi = price_kw * ev.high_pct / ev.central_pct
            basis = "measured response x evidence range"
            formula = (
                f"central = sum(peak_load_kw x measured reduction); low / high = central x {ev.low_pct:g} / "
                f"{ev.central_pct:g} and x {ev.high_pct:g} / {ev.central_pct:g} (program_evidence.csv; central: "
                f"{ev.central_basis})"
            )
            rationale = (
                f"Its members cut load in High-price periods on the dynamic tariff (measured {price_pct:.1f}% of "
                f"their peak; comparable trials {ev.low_pct:g}-{ev.high_pct:g}%). Price signals work for "
                "them: keep or offer dynamic ToU / critical-peak pricing."
            )
        elif program == NO_ACTION:
            lo = mid = hi = 0.0
            basis = "none"
            formula = "0 (no peak load)"
            rationale = "No peak load in its members' data, or no program with a sourced figure: nothing sized."
        else:
            lo, mid, hi = _scaled(total, ev)
            basis = "evidence (all households offered), no price response used"
            central = NO_CENTRAL if ev.central_pct is None else f"{ev.central_pct:g} % ({ev.central_basis})"
            formula = (
                f"low {ev.low_pct:g} % / central {central} / high {ev.high_pct:g} % x sum(peak_load_kw) "
                "(program_evidence.csv)"
            )
            rationale = f"No measured price response, so no price-response-scaled figure. {program}: {choice.reason}."
        n = r["n"] or 0
        rows.append(
            {
                "persona_id": r["persona_id"],
                "persona_name": r["persona_name"],
                "n_households": int(r["n_households"]),
                "program": program,
                "rationale": rationale,
                "response_basis": basis,
                "formula": formula,
                "evidence_ranks_programs": ranks,
                "pilot_comparison": pilot,
                "mean_peak_kw": float(r["mean_peak_kw"] or 0.0),
                "total_peak_kw": total,
                "price_based_reduction_kw": price_kw,
                "expected_reduction_kw": None if mid is None else float(mid),
                "expected_reduction_kw_per_household": None if mid is None else (float(mid / n) if n else 0.0),
                "expected_reduction_pct": None if mid is None else (float(100.0 * mid / total) if total > 0 else 0.0),
                "evidence_source": None if program == NO_ACTION else _evidence_source(ev),
                "scenario_low_kw": float(lo),
                "scenario_central_kw": None if mid is None else float(mid),
                "scenario_high_kw": float(hi),
                "unsized_programs": unsized,
            }
        )
    return pl.DataFrame(rows, schema=INTERVENTION_SCHEMA)


INTERVENTION_SCHEMA = {
    "persona_id": pl.String,
    "persona_name": pl.String,
    "n_households": pl.Int64,
    "program": pl.String,
    "rationale": pl.String,
    "response_basis": pl.String,
    "formula": pl.String,
    "evidence_ranks_programs": pl.Boolean,
    "pilot_comparison": pl.String,
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
}

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
    measured % spread by the trials' range, as sized in the toolkit; central None where no trial reports
    one), its trials and sources, which one the toolkit recommends and why (choose_unselected_program).
    Only program_evidence.csv sizes anything; the recommended row is the ``program`` the intervention
    table holds, so the two never disagree."""
    ranges = program_ranges()
    choice = choose_unselected_program(ranges)
    rows = []
    for r in interventions.iter_rows(named=True):
        total = float(r["total_peak_kw"] or 0.0)
        for program in applicable_programs(bool(r["program"] == CPP)):
            ev = ranges[program]
            chosen = program == r["program"]
            pct: tuple[float | None, ...] = (ev.low_pct, ev.central_pct, ev.high_pct)
            if program == CPP:
                lo, mid, hi = r["scenario_low_kw"], r["scenario_central_kw"], r["scenario_high_kw"]
                # the kW rest on the persona's own measured response: show its % of peak, not the trials'
                pct = tuple(100.0 * v / total if total > 0 else 0.0 for v in (lo, mid, hi))
                basis = "the persona's measured response, spread by the trials' range"
                why = (
                    "Recommended: its members were measured cutting load on the dynamic tariff, the program "
                    f"these trials evaluated (trials: {ev.low_pct:g}-{ev.high_pct:g}% of peak, central "
                    f"{ev.central_pct:g}% = {ev.central_basis}; the range shown is the persona's measured "
                    f"{pct[1]:.1f}% scaled by the trials' low / central and high / central)."
                )
            elif not ev.sized:
                lo = mid = hi = None
                basis = "not sized: no sourced figure"
                why = "Not sized: the evidence table has no sourced figure for it, so it cannot be compared."
            else:
                lo, mid, hi = _scaled(total, ev)
                basis = "evidence % x the persona's peak kW (all households offered; its price response not used)"
                if chosen:
                    why = f"Recommended: {choice.reason}."
                elif program in choice.pilot_with:
                    why = (
                        f"Pilot arm: its range overlaps the recommended program's, so the evidence cannot rank "
                        f"them; test it against {choice.program} in a randomised pilot."
                    )
                else:
                    why = f"Alternative, not recommended: {choice.reason}."
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
                    "trial": ev.trials or None,
                    "source": ev.sources or None,
                }
            )
    return pl.DataFrame(rows, schema=PROGRAM_OPTION_SCHEMA)


def household_program_kw(
    targets: pl.DataFrame, interventions: pl.DataFrame, key: str = "household_ref"
) -> pl.DataFrame:
    """Per household of ``targets`` (dr_targets rows: ``key``, persona_name, peak_load_kw,
    expected_kw_reduction): the kW under its persona's listed program, sized as the toolkit sizes the
    persona: price program -> its measured / expected High-price kW x the evidence low / central / high
    over central; other programs -> evidence % x its peak_load_kw (central None without a central figure);
    no action -> 0. Columns: ``key``, program, program_kw_low, program_kw_central, program_kw_high,
    program_kw_basis."""
    ranges = program_ranges()
    prog = dict(interventions.select("persona_name", "program").iter_rows())
    out = []
    for hid, persona, peak, exp_kw in targets.select(
        key, "persona_name", "peak_load_kw", "expected_kw_reduction"
    ).iter_rows():
        program = prog.get(persona)
        peak = float(peak or 0.0)
        if program is None:
            lo = mid = hi = None
            basis = "persona not in the toolkit"
        elif program == NO_ACTION:
            lo = mid = hi = 0.0
            basis = "no action"
        elif program == CPP:
            ev = ranges[CPP]
            base = float(exp_kw or 0.0)  # unclipped: a measured increase stays negative
            ends = sorted((base * ev.low_pct / ev.central_pct, base * ev.high_pct / ev.central_pct))
            lo, mid, hi = ends[0], base, ends[1]  # a measured increase (negative kW) keeps low <= high
            basis = (
                f"its High-price kW (expected_kw) x trials' {ev.low_pct:g} / {ev.central_pct:g} / "
                f"{ev.high_pct:g} % over the central"
            )
        else:
            ev = ranges[program]
            lo, mid, hi = _scaled(peak, ev)
            central = NO_CENTRAL if ev.central_pct is None else f"{ev.central_pct:g}"
            basis = f"peak_load_kw x trials' {ev.low_pct:g} / {central} / {ev.high_pct:g} % (program_evidence.csv)"
        out.append((hid, program, lo, mid, hi, basis))
    return pl.DataFrame(
        out,
        schema={
            key: pl.String,
            "program": pl.String,
            "program_kw_low": pl.Float64,
            "program_kw_central": pl.Float64,
            "program_kw_high": pl.Float64,
            "program_kw_basis": pl.String,
        },
        orient="row",
    )
