"""Intervention toolkit: one program per persona, its rationale and expected peak reduction.

Inputs per household (dr_targets.expected_household_reduction): peak_kw (mean kW 16:00-20:00),
r_i (expected High-period reduction %, measured-and-shrunk or segment prior), flexible_kw =
peak_kw * (1 - 1 / peak_offpeak_ratio) (the part of the peak above the household's off-peak level).

Per persona P (sums over its members):
    price_kw(P)    = sum_i peak_kw_i * r_i / 100                        (price-based reduction)
    price_pct(P)   = 100 * price_kw(P) / sum_i peak_kw_i
Program rules, first match wins (thresholds in settings):
1. ``critical-peak pricing / dynamic ToU``: P is a price-responsive persona (its members responded
   to the dynamic tariff).
   expected = price_kw * cpp_response_factor
2. ``peak-time rebate``: price_pct >= ptr_min_reduction_pct (response expected from the measured
   members / segment prior, but not shown by each member; a rebate carries no bill risk).
   expected = price_kw * ptr_response_factor
3. ``automation / direct load control``: mean peak kW >= the automation_peak_quantile of all
   households and the flexible share sum(flexible_kw)/sum(peak_kw) >= automation_min_flexible_share
   (large, shiftable peaks but little price response).
   expected = max(price_kw, automation_capture_fraction * sum_i flexible_kw_i)
4. ``efficiency advice``: mean daily kWh >= the efficiency_daily_kwh_quantile of all households.
   expected = efficiency_peak_reduction_fraction * sum_i peak_kw_i
5. ``no action``: otherwise.
   expected = 0
Expected reduction % = 100 * expected kW / sum_i peak_kw_i. The factors are settings (documented
assumptions), the responsiveness and peak loads are measured: nothing here is a hard-coded result.

Evidence scenarios: ``program_evidence.csv`` (next to this module; figures and sources from
comparable trials, domain notes 1.5) gives each program's peak reduction as a low / central / high
percentage with its source. Scenario kW = that percentage x sum_i peak_kw_i, shown beside the
data-based figure; a program without a sourced figure (automation) has no scenario (null).
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from assets.model.settings import PROGRAMS, SegmentationSettings

CPP, PTR, AUTOMATION, EFFICIENCY, NO_ACTION = PROGRAMS
EVIDENCE_FILE = Path(__file__).resolve().parent / "program_evidence.csv"


def program_evidence() -> pl.DataFrame:
    """The sourced evidence table: program, trial, low/central/high % peak reduction, source, note."""
    frame = pl.read_csv(
        EVIDENCE_FILE,
        schema_overrides={"low_pct": pl.Float64, "central_pct": pl.Float64, "high_pct": pl.Float64},
    )
    missing = set(PROGRAMS) - set(frame["program"].to_list())
    if missing:
        raise ValueError(f"program_evidence.csv lacks {sorted(missing)}")
    return frame


def with_evidence_scenarios(table: pl.DataFrame) -> pl.DataFrame:
    """Add scenario_{low,central,high}_kw (evidence % x total peak kW) and the evidence source."""
    ev = program_evidence().select(
        "program",
        pl.col("low_pct").alias("_lo"),
        pl.col("central_pct").alias("_mid"),
        pl.col("high_pct").alias("_hi"),
        pl.concat_str([pl.col("trial").fill_null(""), pl.col("source").fill_null("")], separator=" | ").alias(
            "evidence_source"
        ),
    )
    return (
        table.join(ev, on="program", how="left", maintain_order="left")
        .with_columns(
            (pl.col(c) * pl.col("total_peak_kw") / 100.0).alias(f"scenario_{n}_kw")
            for c, n in (("_lo", "low"), ("_mid", "central"), ("_hi", "high"))
        )
        .drop("_lo", "_mid", "_hi")
    )


def build_interventions(
    personas: pl.DataFrame, expectations: pl.DataFrame, settings: SegmentationSettings
) -> pl.DataFrame:
    """One row per persona (same order as ``personas``)."""
    auto_kw = float(expectations["peak_kw"].quantile(settings.automation_peak_quantile, "linear"))
    eff_kwh = float(expectations["mean_daily_kwh"].quantile(settings.efficiency_daily_kwh_quantile, "linear"))
    agg = expectations.group_by("persona_id").agg(
        pl.len().alias("n"),
        pl.col("peak_kw").sum().alias("total_peak_kw"),
        pl.col("peak_kw").mean().alias("mean_peak_kw"),
        pl.col("expected_kw_reduction").sum().alias("price_kw"),
        pl.col("flexible_kw").sum().alias("flexible_kw"),
        pl.col("mean_daily_kwh").mean().alias("mean_daily_kwh"),
        pl.col("response_measured").sum().alias("n_measured"),
    )
    frame = personas.select("persona_id", "persona_name", "is_price_responsive", "n_households").join(
        agg, on="persona_id", how="left", maintain_order="left"
    )
    rows = []
    for r in frame.iter_rows(named=True):
        total = r["total_peak_kw"] or 0.0
        price_kw = r["price_kw"] or 0.0
        price_pct = 100.0 * price_kw / total if total > 0 else 0.0
        flex_share = (r["flexible_kw"] or 0.0) / total if total > 0 else 0.0
        basis = (
            "measured response"
            if r["n_measured"] and r["n_measured"] == r["n"]
            else "measured response and segment prior"
        )
        if r["is_price_responsive"]:
            program = CPP
            kw = price_kw * settings.cpp_response_factor
            rationale = (
                "Its members cut load in High-price periods on the dynamic tariff (expected "
                f"{price_pct:.1f}% of their "
                f"peak). Price signals work for them: keep or offer dynamic ToU / critical-peak pricing."
            )
            formula = f"sum(peak_kw x measured reduction) x cpp_response_factor ({settings.cpp_response_factor:g})"
        elif price_pct >= settings.ptr_min_reduction_pct:
            program = PTR
            kw = price_kw * settings.ptr_response_factor
            rationale = (
                f"Expected price response of {price_pct:.1f}% (>= {settings.ptr_min_reduction_pct:g}%) but "
                "not shown "
                f"by each member: a peak-time rebate rewards reductions without bill risk."
            )
            formula = f"sum(peak_kw x expected reduction) x ptr_response_factor ({settings.ptr_response_factor:g})"
            basis = "segment prior" if not r["n_measured"] else basis
        elif r["mean_peak_kw"] >= auto_kw and flex_share >= settings.automation_min_flexible_share:
            program = AUTOMATION
            kw = max(price_kw, settings.automation_capture_fraction * (r["flexible_kw"] or 0.0))
            rationale = (
                f"Large peaks (mean {r['mean_peak_kw']:.2f} kW >= the "
                f"{settings.automation_peak_quantile:.0%} quantile "
                f"{auto_kw:.2f} kW) of which {flex_share:.0%} sits above the off-peak level, but little "
                "price "
                f"response ({price_pct:.1f}%): automation / direct load control captures it without relying "
                "on behaviour."
            )
            formula = (
                f"max(price-based kW, automation_capture_fraction ({settings.automation_capture_fraction:g}) "
                f"x sum(flexible_kw))"
            )
            basis = "flexible load (program assumption)"
        elif r["mean_daily_kwh"] >= eff_kwh:
            program = EFFICIENCY
            kw = settings.efficiency_peak_reduction_fraction * total
            rationale = (
                f"High consumption ({r['mean_daily_kwh']:.1f} kWh/day >= the "
                f"{settings.efficiency_daily_kwh_quantile:.0%} quantile {eff_kwh:.1f}) with little price "
                "response "
                f"({price_pct:.1f}%) and modest peaks: efficiency advice lowers the whole profile, peak "
                "included."
            )
            fraction = settings.efficiency_peak_reduction_fraction
            formula = f"efficiency_peak_reduction_fraction ({fraction:g}) x sum(peak_kw)"
            basis = "program assumption"
        else:
            program = NO_ACTION
            kw = 0.0
            rationale = (
                f"Small peaks (mean {r['mean_peak_kw']:.2f} kW), below-median use and little price response "
                f"({price_pct:.1f}%): the cost of a program would exceed the kW it could deliver."
            )
            formula = "0"
            basis = "none"
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
                "mean_peak_kw": float(r["mean_peak_kw"] or 0.0),
                "total_peak_kw": float(total),
                "price_based_reduction_kw": float(price_kw),
                "expected_reduction_kw": float(kw),
                "expected_reduction_kw_per_household": float(kw / n) if n else 0.0,
                "expected_reduction_pct": float(100.0 * kw / total) if total > 0 else 0.0,
            }
        )
    return with_evidence_scenarios(
        pl.DataFrame(
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
            },
        )
    )
