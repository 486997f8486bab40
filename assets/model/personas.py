"""Personas: lifestyle segments x measured price responsiveness, named by rule.

Catalogue (fixed at fit time, stored in the model)
* each lifestyle segment gets a name from the naming rules applied to its members' mean profile
  and mean daily kWh (persona_naming.py), made unique across segments by use level;
* if the segment's measured members respond little (segment prior < unresponsive_below_pct with at
  least min_measured_for_label measured members) its base persona is ``unresponsive <name>``;
* if at least min_cluster_size of its members are measured responders (responsiveness.py), they
  form a second persona ``price-responsive <shifter form>``; everybody else (non-responders and
  households without a measured response) stays in the base persona.
Persona ids are slugs of the names: stable across re-fits, seeds and row orders.

Assignment of a household: segment = behavioural pipeline; persona = the segment's
price-responsive persona if the household is a measured responder and that persona exists,
otherwise the segment's base persona.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from assets.features.slots import N_SLOTS
from assets.model.inputs import row_normalise, shape_matrix
from assets.model.persona_explanation import (
    describe_top_features,
    feature_tests,
    persona_contrasts,
)
from assets.model.persona_naming import (
    cluster_levels,
    disambiguate,
    levels_from_profile,
    name_from_levels,
    population_levels,
    responsive_name,
    slugify,
    unresponsive_name,
)
from assets.model.responsiveness import ResponsePrior, segment_priors
from assets.model.settings import SegmentationSettings

CENTROID_COLUMNS: tuple[str, ...] = tuple(f"centroid_s{i:02d}" for i in range(N_SLOTS))


@dataclass(frozen=True)
class SegmentEntry:
    segment: int
    segment_name: str
    naming_reason: str
    base_persona_id: str
    base_persona_name: str
    responsive_persona_id: str | None
    responsive_persona_name: str | None
    n_measured: int
    n_responsive: int
    prior_pct: float


def build_persona_catalogue(
    features: pl.DataFrame,
    segments: np.ndarray,
    response: pl.DataFrame,
    prior: ResponsePrior,
    settings: SegmentationSettings,
) -> tuple[SegmentEntry, ...]:
    """Names, ids and priors of every segment's persona(s) (see module docstring)."""
    shapes = row_normalise(shape_matrix(features))
    kwh = features["mean_daily_kwh"].to_numpy().astype(np.float64)
    seg_ids = sorted(set(int(s) for s in segments))
    priors = segment_priors(response, segments, prior, settings)
    names, reasons, levels_kwh = [], [], []
    population = population_levels(shapes, kwh)
    for seg in seg_ids:
        members = segments == seg
        level = float(kwh[members].mean())
        name, reason = name_from_levels(
            cluster_levels(shapes[members], kwh[members], settings.naming), settings.naming, population
        )
        names.append(name)
        reasons.append(reason)
        levels_kwh.append(level)
    unique_names = disambiguate(names, levels_kwh)
    entries = []
    for seg, name, reason in zip(seg_ids, unique_names, reasons, strict=True):
        p = priors[seg]
        base = name
        if p["n_measured"] >= settings.min_measured_for_label and p["prior_pct"] < settings.unresponsive_below_pct:
            base = unresponsive_name(name)
            reason += (
                f"; 'unresponsive' because its {int(p['n_measured'])} measured member(s) give a prior "
                "High-period "
                f"reduction of {p['prior_pct']:.1f}% (< {settings.unresponsive_below_pct:g}%)"
            )
        resp_name = responsive_name(name) if p["n_responsive"] >= settings.min_cluster_size else None
        entries.append(
            SegmentEntry(
                segment=seg,
                segment_name=name,
                naming_reason=reason,
                base_persona_id=slugify(base),
                base_persona_name=base,
                responsive_persona_id=slugify(resp_name) if resp_name else None,
                responsive_persona_name=resp_name,
                n_measured=int(p["n_measured"]),
                n_responsive=int(p["n_responsive"]),
                prior_pct=float(p["prior_pct"]),
            )
        )
    ids = [e.base_persona_id for e in entries] + [e.responsive_persona_id for e in entries if e.responsive_persona_id]
    if len(set(ids)) != len(ids):
        raise ValueError(f"persona ids are not unique: {ids}")
    return tuple(entries)


def assign_personas(
    segments: np.ndarray, is_responsive: np.ndarray, catalogue: tuple[SegmentEntry, ...]
) -> tuple[list[str], list[str], list[bool]]:
    """(persona_id, persona_name, is_price_responsive_persona) per household."""
    by_seg = {e.segment: e for e in catalogue}
    ids, names, flags = [], [], []
    for seg, resp in zip(segments, is_responsive, strict=True):
        e = by_seg[int(seg)]
        if resp and e.responsive_persona_id is not None:
            ids.append(e.responsive_persona_id)
            names.append(e.responsive_persona_name)
            flags.append(True)
        else:
            ids.append(e.base_persona_id)
            names.append(e.base_persona_name)
            flags.append(False)
    return ids, names, flags


@dataclass
class PersonaResult:
    personas: pl.DataFrame
    tests: pl.DataFrame
    contrasts: pl.DataFrame


PRIOR_WORDS = (
    "their lifestyle segment's prior in the DR list (the shrunk mean evening-event response of all the "
    "segment's measured households, including the significant responders split out into its price-responsive "
    "persona, so it can exceed what this persona's own measured members show; value in the report's persona "
    "table), or the response model's prediction where that beats the prior out of sample"
)


def _responsiveness_sentence(n_measured: int, n_resp: int, mean_red: float | None, n_households: int, k: int) -> str:
    if n_measured == 0:
        return (
            "None of its households were on the dynamic tariff, so their price response is not measured; "
            f"they get {PRIOR_WORDS}."
        )
    if n_measured < k:
        rest = "" if n_measured >= n_households else f" Unmeasured members get {PRIOR_WORDS}."
        return f"Fewer than {k} of its households were on the dynamic tariff (details suppressed).{rest}"
    resp = f"fewer than {k}" if 0 < n_resp < k else str(n_resp)
    measured = (
        f"{n_measured} of its households were on the dynamic tariff; {resp} of them responded significantly, "
        f"and their estimated High-price reduction averages {mean_red:.1f}% (shrunk estimates, all High events)."
    )
    if n_measured >= n_households:
        return measured + " All its members were measured, so no prior is used for them."
    return measured + f" Unmeasured members get {PRIOR_WORDS}."


def build_personas(
    features: pl.DataFrame,
    assignments: pl.DataFrame,
    response: pl.DataFrame,
    catalogue: tuple[SegmentEntry, ...],
    settings: SegmentationSettings,
) -> PersonaResult:
    """The personas table plus the stage-2 tests and per-persona contrasts.

    ``features`` must be prepared (inputs.prepare_features); ``assignments`` from assign_segments;
    ``response`` from responsiveness.estimate_household_response (all keyed by household_id).
    """
    frame = (
        features.join(
            assignments.select("household_id", "persona_id", "persona_name", "segment", "is_price_responsive_persona"),
            on="household_id",
            how="inner",
        )
        .join(response, on="household_id", how="left")
        .sort("household_id")
    )
    if frame.height != assignments.height:
        raise ValueError("assignments and features do not cover the same households")
    groups = frame["persona_id"].to_list()
    tests = feature_tests(frame, groups, settings)
    contrasts = persona_contrasts(frame, groups, tests, settings)
    shapes = row_normalise(shape_matrix(frame))
    by_seg = {e.segment: e for e in catalogue}
    total = frame.height
    rows = []
    k = settings.k_anonymity
    for (pid,), part in frame.group_by(["persona_id"], maintain_order=False):
        members = (frame["persona_id"] == pid).to_numpy()
        seg = int(part["segment"][0])
        entry = by_seg[seg]
        is_resp = bool(part["is_price_responsive_persona"][0])
        name = str(part["persona_name"][0])
        measured = part.filter(pl.col("response_measured"))
        n_meas = measured.height
        n_resp = int(measured["is_responsive"].sum()) if n_meas else 0
        mean_red = float(measured["high_reduction_shrunk_pct"].mean()) if n_meas else None
        profile = shapes[members].mean(axis=0)
        lv = levels_from_profile(profile, float(part["mean_daily_kwh"].mean()))
        top = describe_top_features(contrasts, pid, settings.top_features)
        reason = entry.naming_reason
        if is_resp:
            reason = (
                f"its households are measured responders of the '{entry.segment_name}' lifestyle segment; "
                + entry.naming_reason
            )
        explanation = (
            f"{name.capitalize()}: {part.height} households ({part.height / total:.0%} of all). "
            f"A typical member uses {lv.mean_daily_kwh:.1f} kWh a day with "
            f"{float(part['peak_kw'].mean()):.2f} kW "
            f"on average between 16:00 and 20:00. Named so because {reason}. "
            + (
                "Compared with the other households (descriptive: the personas are built from these "
                "features): " + "; ".join(top) + ". "
                if top
                else ""
            )
            + _responsiveness_sentence(n_meas, n_resp, mean_red, part.height, k)
        )
        row = {
            "persona_id": pid,
            "persona_name": name,
            "segment": seg,
            "segment_name": entry.segment_name,
            "is_price_responsive": is_resp,
            "n_households": part.height,
            "share": part.height / total,
            "n_measured": n_meas,
            "n_responsive": n_resp,
            "mean_high_reduction_pct": mean_red,
            "segment_prior_reduction_pct": entry.prior_pct,
            "mean_daily_kwh": lv.mean_daily_kwh,
            "mean_peak_kw": float(part["peak_kw"].mean()),
            "night_share": lv.night_share,
            "daytime_share": lv.daytime_share,
            "evening_share": lv.evening_share,
            "peak_offpeak_ratio": lv.peak_offpeak_ratio,
            "naming_rule": reason,
            "distinguishing_features": "; ".join(top),
            "explanation": explanation,
        }
        row.update({c: float(v) for c, v in zip(CENTROID_COLUMNS, profile, strict=True)})
        rows.append(row)
    personas = pl.DataFrame(rows).with_columns(
        pl.col("segment").cast(pl.Int32),
        pl.col("n_households").cast(pl.Int64),
        pl.col("n_measured").cast(pl.Int64),
        pl.col("n_responsive").cast(pl.Int64),
        pl.col("mean_high_reduction_pct").cast(pl.Float64),
    )
    personas = personas.sort(["segment", "is_price_responsive"]).select(PERSONA_COLUMNS)
    return PersonaResult(personas=personas, tests=tests, contrasts=contrasts)


PERSONA_COLUMNS: tuple[str, ...] = (
    "persona_id",
    "persona_name",
    "segment",
    "segment_name",
    "is_price_responsive",
    "n_households",
    "share",
    "n_measured",
    "n_responsive",
    "mean_high_reduction_pct",
    "segment_prior_reduction_pct",
    "mean_daily_kwh",
    "mean_peak_kw",
    "night_share",
    "daytime_share",
    "evening_share",
    "peak_offpeak_ratio",
    "naming_rule",
    "distinguishing_features",
    "explanation",
    *CENTROID_COLUMNS,
)
