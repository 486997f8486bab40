"""DR targets: households ranked by expected kW reduction at the winter evening peak (``expected_kw``),
against the rule a utility uses without us (peak load) and the textbook rule. Every expected kW carries a
95 % interval and says what it was measured on.

Textbook rule: every household of the highest-load cluster of the K=3 load-shape segmentation
(highest mean peak_kw of its members). The ranking selects the same number of households (or
``dr_budget_households``) so the rules are compared on kW captured for equal effort. Peak-load rule (the
one a utility uses without us): the top households by peak_load_kw, as many as the ranking selects.

Captured kW of a rule (compare_rules, captured_kw_interval): total T = sum_i expected_kw_i over the
selected households (unclipped). Interval: the measured and model households' part T_m +- z sd with
    sd^2 = sum_i (L_i s_i / 100)^2
(L_i = peak_load_kw_i; s_i = ``reduction_own_sd_pct``: a measured household's posterior SD sqrt(B_i) se_i, a
model household's residual half-interval / z; errors independent), plus the program-evidence households'
summed low and high figures (one trial range shared by all of them, so added as it is). No bound is clipped.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from assets.model.settings import SegmentationSettings
from assets.reports.expected_kw import (
    PEAK_LOAD_RULE,
    PROGRAM_EVIDENCE,
    RANKING_RULE,
    TEXTBOOK_RULE,
    captured_kw_interval,
    textbook_cluster_choice,
)
from assets.reports.heldout_comparison import HeldOutComparison, add_heldout
from assets.reports.privacy import pseudonymise_ids


@dataclass
class DrTargets:
    targets: pl.DataFrame
    comparison: pl.DataFrame
    textbook_cluster: int
    n_selected: int
    heldout: HeldOutComparison | None = None


def rank_dr_targets(
    expectations: pl.DataFrame, settings: SegmentationSettings, heldout: HeldOutComparison | None = None
) -> DrTargets:
    """The ranked household table and the two-row comparison of the selection rules (with the
    held-out-event comparison's columns, null when ``heldout`` is None)."""
    tb = textbook_cluster_choice(expectations)
    # ties (and, without any response evidence, every household) are ordered by the peak load the event acts on
    ranked = expectations.sort(
        ["expected_kw_reduction", "peak_load_kw", "household_id"], descending=[True, True, False], nulls_last=True
    ).with_columns(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias("rank"),
        (pl.col("textbook_cluster") == tb).alias("selected_by_textbook"),
    )
    n_text = int(ranked["selected_by_textbook"].sum())
    n_sel = settings.dr_budget_households if settings.dr_budget_households is not None else n_text
    n_sel = max(0, min(n_sel, ranked.height))
    ranked = ranked.with_columns((pl.col("rank") <= n_sel).alias("selected_by_ranking"))
    if settings.pseudonymise:
        ref = pseudonymise_ids(ranked["household_id"], settings.pseudonym_key or "", settings.pseudonym_salt)
    else:
        ref = ranked["household_id"].alias("household_ref")
    targets = ranked.with_columns(ref.alias("household_ref")).select(
        "rank",
        "household_ref",
        "persona_id",
        "persona_name",
        "textbook_cluster",
        "peak_kw",
        "peak_load_kw",
        "peak_load_basis",
        "response_source",
        "response_basis",
        "expected_reduction_pct",
        "expected_reduction_ci_low_pct",
        "expected_reduction_ci_high_pct",
        "expected_kw_reduction",
        "expected_kw_ci_low",
        "expected_kw_ci_high",
        "interval_basis",
        "responder_label",
        "selected_by_ranking",
        "selected_by_textbook",
    )
    comparison = add_heldout(compare_rules(ranked), heldout)
    return DrTargets(targets=targets, comparison=comparison, textbook_cluster=tb, n_selected=n_sel)


def peak_load_selection(ranked: pl.DataFrame, n: int) -> pl.Series:
    """The peak-load rule's selection: the top ``n`` by peak_load_kw (ties: household_id ascending)."""
    top = ranked.sort(["peak_load_kw", "household_id"], descending=[True, False], nulls_last=True).head(n)
    return ranked["household_id"].is_in(top["household_id"].implode())


def compare_rules(ranked: pl.DataFrame) -> pl.DataFrame:
    """Three rows (ranking, peak load, textbook): households, kW captured (with the sum of the households'
    interval bounds: conservative, their errors treated as fully correlated), overlap with the ranking's
    selection (the ranking's row: with the textbook's), Jaccard, responders. The peak-load rule takes as many
    households as the ranking."""
    sized = ranked["expected_kw_reduction"].null_count() < ranked.height  # else: no response evidence at all
    total_kw = float(ranked["expected_kw_reduction"].sum())
    n_rank = int(ranked["selected_by_ranking"].sum())
    ranked = ranked.with_columns(peak_load_selection(ranked, n_rank).alias("selected_by_peak_load"))
    a = ranked["selected_by_ranking"].to_numpy()
    rows = []
    for rule, mask_col in (
        (RANKING_RULE, "selected_by_ranking"),
        (PEAK_LOAD_RULE, "selected_by_peak_load"),
        (TEXTBOOK_RULE, "selected_by_textbook"),
    ):
        sel = ranked.filter(pl.col(mask_col))
        other = ranked["selected_by_textbook"].to_numpy() if rule == RANKING_RULE else ranked[mask_col].to_numpy()
        overlap = int(np.sum(a & other))
        union = int(np.sum(a | other))
        kw = float(sel["expected_kw_reduction"].sum()) if sized else None
        interval = captured_kw_interval(sel) if sized else (None, None, None)
        rows.append(
            {
                "rule": rule,
                "n_households": sel.height,
                "expected_kw_captured": kw,
                "expected_kw_captured_ci_low": interval[0],
                "expected_kw_captured_ci_high": interval[1],
                "program_evidence_households": int((sel["response_source"] == PROGRAM_EVIDENCE).sum())
                if "response_source" in sel.columns
                else 0,
                "mean_expected_kw_per_household": None if kw is None else kw / sel.height if sel.height else 0.0,
                "peak_kw_covered": float(sel["peak_kw"].sum()),
                "share_of_total_expected_kw": None if kw is None else kw / total_kw if total_kw > 0 else 0.0,
                "measured_responders_selected": int(sel["is_responsive"].fill_null(False).sum()),
                "overlap_households": overlap,
                "jaccard": overlap / union if union else 0.0,
            }
        )
    return pl.DataFrame(
        rows,
        schema={
            "rule": pl.String,
            "n_households": pl.Int64,
            "expected_kw_captured": pl.Float64,
            "expected_kw_captured_ci_low": pl.Float64,
            "expected_kw_captured_ci_high": pl.Float64,
            "program_evidence_households": pl.Int64,
            "mean_expected_kw_per_household": pl.Float64,
            "peak_kw_covered": pl.Float64,
            "share_of_total_expected_kw": pl.Float64,
            "measured_responders_selected": pl.Int64,
            "overlap_households": pl.Int64,
            "jaccard": pl.Float64,
        },
    )
