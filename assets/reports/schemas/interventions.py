"""Schema of ``model.interventions``: the intervention toolkit, one program per persona."""

import pandera.polars as pa
import polars as pl

from assets.common.table_model import TableModel

PROGRAMS = [
    "critical-peak pricing / dynamic ToU",
    "peak-time rebate",
    "automation / direct load control",
    "efficiency advice",
    "no action",
]


class Interventions(TableModel):
    persona_id: pl.String = pa.Field(unique=True, description="Persona id.")
    persona_name: pl.String = pa.Field(description="Persona name.")
    n_households: pl.Int64 = pa.Field(ge=0, description="Households in the persona.")
    program: pl.String = pa.Field(
        isin=PROGRAMS, description="Recommended program (rules in interventions.py, first match wins)."
    )
    rationale: pl.String = pa.Field(
        description="Why this program, in plain words, with the numbers that triggered the rule."
    )
    response_basis: pl.String = pa.Field(
        description="What the expected reduction rests on (measured response, segment prior, program assumption, none)."
    )
    formula: pl.String = pa.Field(description="Formula of the expected reduction, with the settings used.")
    mean_peak_kw: pl.Float64 = pa.Field(ge=0, description="Mean load 16:00-20:00 per household (kW).")
    total_peak_kw: pl.Float64 = pa.Field(ge=0, description="Sum of members' peak load (kW).")
    price_based_reduction_kw: pl.Float64 = pa.Field(
        ge=0, description="Sum over members of peak_kw x expected price reduction (kW), whatever the program."
    )
    expected_reduction_kw: pl.Float64 = pa.Field(
        ge=0, description="Expected peak reduction of the recommended program for the whole persona (kW)."
    )
    expected_reduction_kw_per_household: pl.Float64 = pa.Field(
        ge=0, description="Expected peak reduction per household (kW)."
    )
    expected_reduction_pct: pl.Float64 = pa.Field(
        ge=0, le=100, description="Expected reduction as % of the persona's peak load."
    )
    evidence_source: pl.String = pa.Field(
        nullable=True, description="Trial(s) and source of the program's evidence range (program_evidence.csv)."
    )
    scenario_low_kw: pl.Float64 = pa.Field(
        nullable=True,
        ge=0,
        description="Low scenario: the evidence's low % peak reduction x total peak kW (None: no sourced figure).",
    )
    scenario_central_kw: pl.Float64 = pa.Field(
        nullable=True, ge=0, description="Central scenario: the evidence's central % x total peak kW."
    )
    scenario_high_kw: pl.Float64 = pa.Field(
        nullable=True, ge=0, description="High scenario: the evidence's high % x total peak kW."
    )
