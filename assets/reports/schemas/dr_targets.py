"""Schemas of ``model.dr_targets`` (ranked households) and its rule comparison."""

import pandera.polars as pa
import polars as pl

from assets.common.table_model import TableModel
from assets.reports.expected_kw import RULES


class DrTargets(TableModel):
    rank: pl.Int64 = pa.Field(
        unique=True, ge=1, description="1 = largest expected kW reduction at peak (ties: household_id ascending)."
    )
    household_ref: pl.String = pa.Field(
        unique=True, description="LCLid, or its keyed pseudonym (HMAC-SHA256) when settings.pseudonymise."
    )
    persona_id: pl.String = pa.Field(description="Persona id.")
    persona_name: pl.String = pa.Field(description="Persona name.")
    textbook_cluster: pl.Int32 = pa.Field(ge=0, description="Cluster of the textbook K=3 load-shape K-means.")
    peak_kw: pl.Float64 = pa.Field(
        ge=0, description="peak_kwh_per_half_hour x 2: mean kW over 16:00-20:00 local, all days."
    )
    peak_load_kw: pl.Float64 = pa.Field(
        ge=0,
        description="Load the evening event acts on: winter_weekday_peak_kw (mean kW 16:00-20:00 local on Dec-Feb "
        "weekdays of the lifestyle window), peak_kw where the household has no winter weekdays.",
    )
    peak_load_basis: pl.String = pa.Field(description="What peak_load_kw was measured on (load and window).")
    response_source: pl.String = pa.Field(
        isin=["measured", "response model", "program evidence (intention-to-treat)", "no response evidence"],
        description="measured = shrunk DiD estimate of this household (on the dynamic tariff); response model = predicted from pre-period lifestyle and Acorn (used only when it beat ranking by peak load out of sample: response_model.py); program evidence (intention-to-treat) = never on the tariff: the sourced figure of the program the toolkit offers it, measured on everyone offered that program (program_evidence.csv), the same % for every such household, so among them the list ranks by peak load; no response evidence = no household of the data had a measured price response (the expected columns are empty and the list ranks by peak_load_kw).",
    )
    response_basis: pl.String = pa.Field(
        description="Which figure sizes the household: its evening High events (start 17:00-23:00 local) or, "
        "for a measured household without one, all its High events; the response model's prediction; or the "
        "offered program, its central figure and the trials behind it."
    )
    expected_reduction_pct: pl.Float64 = pa.Field(
        nullable=True,
        description="Expected reduction of the peak load in an evening High-price event (%), unclipped: a measured increase is negative.",
    )
    expected_reduction_ci_low_pct: pl.Float64 = pa.Field(
        nullable=True,
        description="Lower bound of the 95 % interval of expected_reduction_pct (interval_basis), unclipped.",
    )
    expected_reduction_ci_high_pct: pl.Float64 = pa.Field(
        nullable=True,
        description="Upper bound of the 95 % interval of expected_reduction_pct (interval_basis), unclipped.",
    )
    expected_kw_reduction: pl.Float64 = pa.Field(
        nullable=True,
        description="peak_load_kw x expected_reduction_pct / 100 (kW; negative for a measured increase); empty when "
        "response_source is 'no response evidence' or the offered program has no sourced central figure.",
    )
    expected_kw_ci_low: pl.Float64 = pa.Field(
        nullable=True,
        description="peak_load_kw x expected_reduction_ci_low_pct / 100 (kW; the response's interval, unclipped).",
    )
    expected_kw_ci_high: pl.Float64 = pa.Field(
        nullable=True,
        description="peak_load_kw x expected_reduction_ci_high_pct / 100 (kW; the response's interval, unclipped).",
    )
    interval_basis: pl.String = pa.Field(
        description="What the interval was measured on: the household's own events (empirical-Bayes posterior "
        "with its event-bootstrap SE), the response model's held-out residuals, or the lowest to highest figure of "
        "the trials behind the offered program (program evidence: a range over trials, not a sampling interval)."
    )
    responder_label: pl.String = pa.Field(
        description="The one responder definition (persona membership and the report's counts): the features' "
        "Benjamini-Hochberg flag over all High events with a reduction; a flag whose own 95% event-bootstrap "
        "interval covers 0 says so; 'measured, not a significant responder'; or 'not measured'. The expected kW "
        "uses the evening events instead, so a flagged household can carry a small or negative kW."
    )
    selected_by_ranking: pl.Boolean = pa.Field(
        description="Among the top N of the ranking (N = textbook selection size or settings.dr_budget_households)."
    )
    selected_by_textbook: pl.Boolean = pa.Field(
        description="Member of the highest-load K=3 load-shape cluster (the textbook rule)."
    )


class DrTargetComparison(TableModel):
    rule: pl.String = pa.Field(
        unique=True,
        isin=list(RULES),
        description="Selection rule: the ranking by expected kW, rank by winter weekday 16:00-20:00 peak load (as "
        "many households as the ranking), the textbook highest-load K=3 load-shape cluster.",
    )
    n_households: pl.Int64 = pa.Field(ge=0, description="Households selected by the rule.")
    expected_kw_captured: pl.Float64 = pa.Field(
        nullable=True,
        description="Sum of expected kW reduction of the selected households (unclipped); empty when no household "
        "had a measured response (nothing sizes it).",
    )
    expected_kw_captured_ci_low: pl.Float64 = pa.Field(
        nullable=True,
        description="95 % low of the captured kW (dr_targets.captured_kw_interval): measured and model households' "
        "total - z sd (errors independent) plus the program-evidence households' summed low figure.",
    )
    expected_kw_captured_ci_high: pl.Float64 = pa.Field(
        nullable=True, description="95 % high: total + z sd plus the program-evidence households' summed high figure."
    )
    program_evidence_households: pl.Int64 = pa.Field(
        ge=0,
        description="Selected households sized with the offered program's intention-to-treat evidence (one % for "
        "all of them x their own peak load).",
    )
    mean_expected_kw_per_household: pl.Float64 = pa.Field(
        nullable=True, description="expected_kw_captured / n_households."
    )
    peak_kw_covered: pl.Float64 = pa.Field(ge=0, description="Sum of peak kW of the selected households.")
    share_of_total_expected_kw: pl.Float64 = pa.Field(
        nullable=True, description="Share of all households' expected kW reduction captured (unclipped totals)."
    )
    measured_responders_selected: pl.Int64 = pa.Field(
        ge=0, description="Selected households that are measured responders."
    )
    overlap_households: pl.Int64 = pa.Field(
        ge=0,
        description="Households this rule and the ranking both select (the ranking's row: the ranking and the "
        "textbook rule).",
    )
    jaccard: pl.Float64 = pa.Field(ge=0, le=1, description="overlap_households / union of the same two selections.")
    heldout_n_households: pl.Int64 = pa.Field(
        nullable=True,
        ge=0,
        description="Held-out comparison: measured households each rule selects (the textbook cluster's measured "
        "members; the ranking takes as many). Null without a comparison.",
    )
    heldout_kw_captured: pl.Float64 = pa.Field(
        nullable=True,
        description="kW the rule's selection realised on held-out events (ranked on one half of the evening High "
        "events, realised evening reduction x peak load on the other half; halves swapped, averaged).",
    )
    heldout_kw_ci_low: pl.Float64 = pa.Field(nullable=True, description="2.5 % of the bootstrap over households.")
    heldout_kw_ci_high: pl.Float64 = pa.Field(nullable=True, description="97.5 % of the bootstrap over households.")
    heldout_kw_minus_textbook: pl.Float64 = pa.Field(
        nullable=True, description="Ranking row: its held-out kW minus the textbook's (null on the textbook row)."
    )
    heldout_kw_minus_textbook_ci_low: pl.Float64 = pa.Field(
        nullable=True, description="2.5 % of the paired bootstrap over households of the difference."
    )
    heldout_kw_minus_textbook_ci_high: pl.Float64 = pa.Field(
        nullable=True, description="97.5 % of the paired bootstrap over households of the difference."
    )
    heldout_kw_minus_peak_load: pl.Float64 = pa.Field(
        nullable=True,
        description="Ranking and textbook rows: held-out kW minus the peak-load rule's (rank by winter weekday "
        "16:00-20:00 peak load, as many households); null on the peak-load row.",
    )
    heldout_kw_minus_peak_load_ci_low: pl.Float64 = pa.Field(
        nullable=True, description="2.5 % of the paired bootstrap over households of the difference."
    )
    heldout_kw_minus_peak_load_ci_high: pl.Float64 = pa.Field(
        nullable=True, description="97.5 % of the paired bootstrap over households of the difference."
    )
    heldout_measured_on: pl.String = pa.Field(
        description="What the held-out comparison was measured on, or why there is none."
    )
