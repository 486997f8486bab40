"""Schema of ``model.interventions``: the intervention toolkit, one program per persona."""

import pandera.polars as pa
import polars as pl

from assets.common.table_model import TableModel

PROGRAMS = [
    "critical-peak pricing / dynamic ToU",
    "peak-time rebate",
    "automation / direct load control",
    "behavioural DR messaging",
    "no action",
]


class Interventions(TableModel):
    persona_id: pl.String = pa.Field(unique=True, description="Persona id.")
    persona_name: pl.String = pa.Field(description="Persona name.")
    n_households: pl.Int64 = pa.Field(ge=0, description="Households in the persona.")
    program: pl.String = pa.Field(
        isin=PROGRAMS,
        description=(
            "Recommended program (rule in interventions.py: measured price responders -> dynamic ToU / "
            "critical-peak pricing; others -> the program the evidence ranks first, or where the ranges overlap "
            "the one with a sourced intent-to-treat central estimate, as lead arm of a randomised pilot; "
            "no peak load -> no action). Never a program without a sourced figure."
        ),
    )
    rationale: pl.String = pa.Field(description="Why this program, in plain words, with the numbers used.")
    response_basis: pl.String = pa.Field(
        description="What the figures rest on (measured response x evidence range, evidence (intent-to-treat), none)."
    )
    formula: pl.String = pa.Field(description="Formula of the scenarios, with the program_evidence.csv percentages.")
    evidence_ranks_programs: pl.Boolean = pa.Field(
        nullable=True,
        description=(
            "For personas without measured price response: True if the evidence ranks the program first (its "
            "lowest figure above every other's highest), False if the ranges overlap and the evidence cannot rank "
            "them; None for price-responsive personas and no action."
        ),
    )
    pilot_comparison: pl.String = pa.Field(
        nullable=True,
        description=(
            "Programs to test against the recommended one in a randomised test-and-learn pilot (their evidence "
            "ranges overlap); None when the evidence ranks the program or it is not an evidence choice."
        ),
    )
    mean_peak_kw: pl.Float64 = pa.Field(
        ge=0,
        description="Mean peak load per household (kW): winter weekday 16:00-20:00 (all-day 16:00-20:00 without winter weekdays), as in dr_targets.peak_load_kw.",
    )
    total_peak_kw: pl.Float64 = pa.Field(ge=0, description="Sum of members' peak load (kW), as mean_peak_kw.")
    price_based_reduction_kw: pl.Float64 = pa.Field(
        description=(
            "Sum over members of peak_load_kw x expected reduction (kW, unclipped: a measured increase counts "
            "negative), shown for every persona; sizes the program only for price-responsive personas."
        ),
    )
    expected_reduction_kw: pl.Float64 = pa.Field(
        nullable=True,
        description=(
            "Expected peak reduction of the recommended program for the persona (kW) = central scenario; "
            "None when no trial reports a central figure for it."
        ),
    )
    expected_reduction_kw_per_household: pl.Float64 = pa.Field(
        nullable=True,
        description="Expected peak reduction per household (kW), central scenario (None: no central figure).",
    )
    expected_reduction_pct: pl.Float64 = pa.Field(
        nullable=True,
        description="Central expected reduction as % of the persona's peak load (None: no central figure; "
        "unclipped for a price-responsive persona sized on its measured response).",
    )
    evidence_source: pl.String = pa.Field(
        nullable=True,
        description="Trial(s) and source of the program's evidence range (program_evidence.csv); None for no action.",
    )
    scenario_low_kw: pl.Float64 = pa.Field(
        ge=0,
        description=(
            "Low scenario (kW): evidence low % x total peak kW, or for price responders measured kW x low% / central%."
        ),
    )
    scenario_central_kw: pl.Float64 = pa.Field(
        ge=0,
        nullable=True,
        description=(
            "Central scenario (kW): evidence central % x total peak kW (None: no trial reports a central figure), "
            "or the measured kW for price responders."
        ),
    )
    scenario_high_kw: pl.Float64 = pa.Field(
        ge=0,
        description=(
            "High scenario (kW): evidence high % x total peak kW, or for price responders measured kW x high% / central%."
        ),
    )
    unsized_programs: pl.String = pa.Field(
        description="Programs listed but not sized or chosen: no sourced figure in program_evidence.csv."
    )
