"""What the data could not support, said plainly: the report's "What could not be computed" list.

Real utility data often lack part of what the full analysis needs: no tariff schedule (no price
events), no household on the dynamic tariff, no control households, no pre-period (baseline-year)
readings. The run still completes where the rest can be computed; each missing piece becomes one
sentence naming what is missing, what was not computed, what was done instead, and what to add.
"""

from __future__ import annotations

from dataclasses import dataclass

from assets.common.sql import load_sql
from assets.features.settings import FeatureSettings


@dataclass(frozen=True)
class DataShape:
    """Counts from the warehouse (``sql/data_gaps.sql``)."""

    schedule_events: int
    treated: int  # households with features on the dynamic tariff
    controls: int  # households with features on the flat rate
    with_pre_period: int  # households with a baseline-year lifestyle profile
    treated_measured: int  # treated households with a price response estimate
    treated_all_controls: int  # of them, compared with all controls (no pre-period profile)
    baseline_placebo_households: int
    unsized_targets: int = 0  # DR list rows without an expected kW (nothing sized them)


def response_gap(shape: DataShape) -> str | None:
    """Why no price response was measured, or None when one was."""
    if shape.treated_measured > 0:
        return None
    if shape.schedule_events == 0:
        return (
            "No tariff schedule with price events in the source (Tariffs.xlsx or Tariffs.csv): no price response, "
            "population effect, placebo or responder flag could be measured; add the schedule file to measure them."
        )
    if shape.treated == 0:
        return (
            "No household on the dynamic tariff (ToU) has enough data: no price response, population effect or "
            "responder flag could be measured; load the dynamic-tariff households to measure them."
        )
    if shape.controls == 0:
        return (
            "No control (flat-rate) household has enough data: a price response is measured against controls at "
            "the same half hours (difference in differences), so none could be measured; load the flat-rate "
            "households to measure it."
        )
    return (
        f"None of the {shape.treated:,} dynamic-tariff households had an actual reading in a price event with a "
        "reference and controls: no price response could be measured."
    )


def data_gaps(shape: DataShape) -> list[str]:
    """One sentence per piece of the analysis the data could not support (empty when nothing is missing)."""
    gaps = []
    response = response_gap(shape)
    if response is not None:
        gaps.append(response)
    if response is not None and shape.unsized_targets > 0:
        gaps.append(
            "The DR target list therefore ranks households by their winter weekday 16:00-20:00 peak load alone: "
            "without a measured response no expected reduction in kW can be sized."
        )
    if shape.with_pre_period == 0:
        gaps.append(
            "No household has a pre-period (baseline-year) profile: comparison groups cannot be matched on "
            "pre-period behaviour, so every household is compared with all controls at the same half hour (the "
            "stated fallback design), there is no covariate balance table, and the baseline-year placebo could not "
            "be run."
        )
    elif shape.treated_all_controls > 0:
        gaps.append(
            f"{shape.treated_all_controls:,} of the {shape.treated_measured:,} measured dynamic-tariff households "
            "have no pre-period profile: they are compared with all controls at the same half hour (the stated "
            "fallback design) and are not in the covariate balance table."
        )
    if shape.with_pre_period > 0 and shape.baseline_placebo_households == 0 and shape.schedule_events > 0:
        gaps.append("The baseline-year placebo could not be run: no household has readings at the placebo events.")
    return gaps


def read_data_shape(con, settings: FeatureSettings | None = None) -> DataShape:
    """The counts of :class:`DataShape` from the warehouse (ingest, features)."""
    settings = settings or FeatureSettings()
    params = {"treated": settings.treated_group, "control": settings.control_group}
    row = con.execute(load_sql(__file__, "data_gaps"), params).fetchall()[0]
    return DataShape(*(int(v or 0) for v in row))
