"""The persona report's sentences: the summary paragraphs, the held-out comparison in words, what sizes
the DR list, the method notes. Plain data in, strings out (``report_tables`` holds the tables)."""

from __future__ import annotations

import polars as pl

from assets.model.persona_explanation import outside_explanation_sentence
from assets.reports.expected_kw import PEAK_LOAD_RULE, PROGRAM_EVIDENCE, RANKING_RULE, RULES, TEXTBOOK_RULE
from assets.reports.report_tables import ReportInputs, captured_interval_text, ci_text, n_responders


def summary_paragraphs(inputs: ReportInputs) -> list[str]:
    m, k = inputs.model, inputs.k
    personas = inputs.personas.personas
    n = int(personas["n_households"].sum())
    comp = inputs.dr.comparison
    rank_row = comp.filter(pl.col("rule") == RANKING_RULE).row(0, named=True)
    text_row = comp.filter(pl.col("rule") == TEXTBOOK_RULE).row(0, named=True)
    iv = inputs.interventions
    best = (
        iv.filter(pl.col("n_households") >= k).sort("expected_reduction_kw", descending=True, nulls_last=True).head(1)
    )
    out = [
        f"{n:,} households were grouped into {personas.height} personas by how and when they use "
        "electricity, "
        f"and split further where their measured response to the dynamic time-of-use tariff differs. "
        f"{m.response_prior.n_measured:,} households on the dynamic tariff had their price response measured; "
        f"{n_responders(inputs):,} of them responded significantly (a significant reduction in High-price "
        "periods).",
        outside_explanation_sentence(inputs.personas.tests),
    ]
    if rank_row["expected_kw_captured"] is None:
        out.append(
            f"No household's price response was measured, so no expected reduction can be sized: the DR list ranks "
            f"the {inputs.dr.targets.height:,} households by their winter weekday 16:00-20:00 peak load alone "
            f"(the textbook rule picks the {text_row['n_households']:,} households of the highest-load load-shape "
            f"cluster; {rank_row['overlap_households']:,} are in both)."
        )
    elif rank_row["n_households"] >= k:
        out.append(
            f"Ranking by expected peak reduction selects {rank_row['n_households']:,} households expected to give "
            f"about {rank_row['expected_kw_captured']:.1f} kW{captured_interval_text(rank_row)}; "
            f"the textbook rule (all households of the highest-load load-shape cluster, same number of households) "
            f"about {text_row['expected_kw_captured']:.1f} kW"
            f"{captured_interval_text(text_row)}; {rank_row['overlap_households']:,} households are "
            "picked by both. These expected figures are in sample: they score the quantity the ranking maximises."
        )
        out.append(sizing_sentence(inputs))
    out.append(heldout_sentence(comp))
    if best.height:
        b = best.row(0, named=True)
        central = (
            f"no central figure, range {b['scenario_low_kw']:.1f}-{b['scenario_high_kw']:.1f} kW"
            if b["expected_reduction_kw"] is None
            else f"about {b['expected_reduction_kw']:.1f} kW (comparable trials' range {b['scenario_low_kw']:.1f}-"
            f"{b['scenario_high_kw']:.1f} kW; central {b['expected_reduction_pct']:.1f}% of its peak)"
        )
        pilot = (
            f" The evidence cannot rank it against {b['pilot_comparison']} (overlapping ranges): offer both as a "
            "randomised test-and-learn pilot."
            if b.get("pilot_comparison")
            else ""
        )
        out.append(
            f"The largest single opportunity is '{b['persona_name']}' ({b['n_households']:,} households): "
            f"{b['program']}, {central} at 16:00-20:00.{pilot}"
        )
    if m.response_prior.n_measured == 0:
        out.append(
            "WARNING: no household has a measured price response, so the programs' kW rest on comparable trials "
            "only (the toolkit's sourced ranges) and the DR list is not sized in kW."
        )
    return out


def tests_per_role(tests: pl.DataFrame) -> str:
    """'2 explanatory, 14 descriptive / circular and 1 response test(s)': the p-values are adjusted within
    each role (persona_explanation.feature_tests), so each role is its own family."""
    if tests.height == 0 or "role" not in tests.columns:
        return "0 tests"
    short = {
        "outside_covariate": "explanatory",
        "descriptive": "descriptive / circular",
        "response_among_measured": "response",
    }
    by = tests.group_by("role", maintain_order=True).len()
    parts = [f"{n} {short.get(r, r)}" for r, n in by.iter_rows()]
    return ", ".join(parts) + " test(s), each role a separate family"


def p_adjust_name(settings) -> str:
    return "Benjamini-Hochberg" if settings.p_adjust == "bh" else "Holm"


RULE_WORDS = {RANKING_RULE: "the ranking", PEAK_LOAD_RULE: "ranking by peak load", TEXTBOOK_RULE: "the textbook rule"}


def tell_apart(a: str, b: str, lo: float | None, hi: float | None) -> str:
    """Which of rules ``a`` and ``b`` captures more out of sample, from the interval of a - b."""
    wa, wb = RULE_WORDS[a], RULE_WORDS[b]
    if lo is not None and lo > 0:
        return f"{wa} captures more than {wb}"
    if hi is not None and hi < 0:
        return f"{wb} captures more than {wa}"
    return f"the data cannot tell {wa} from {wb}"


def heldout_sentence(comp: pl.DataFrame) -> str:
    """The out-of-sample comparison of the three rules in words (held-out columns of dr_target_comparison):
    each rule's realised kW and which pairs the data can tell apart (intervals of the differences)."""
    rows = {r["rule"]: r for r in comp.iter_rows(named=True)}
    if any(rows.get(rule, {}).get("heldout_kw_captured") is None for rule in RULES):
        why = str(rows.get(RANKING_RULE, {}).get("heldout_measured_on") or "no held-out comparison run")
        return f"No out-of-sample comparison of the three rules was possible ({why}); no capture curve is drawn."
    rank, text = rows[RANKING_RULE], rows[TEXTBOOK_RULE]

    def value(row: dict, col: str, sign: str = "") -> str | None:
        return ci_text(row[col], row[f"{col}_ci_low"], row[f"{col}_ci_high"], sign=sign)

    kw = "; ".join(
        f"{RULE_WORDS[rule]} {ci_text(r['heldout_kw_captured'], r['heldout_kw_ci_low'], r['heldout_kw_ci_high'])} kW"
        for rule, r in ((rule, rows[rule]) for rule in RULES)
    )
    pairs = [
        (RANKING_RULE, PEAK_LOAD_RULE, rank, "heldout_kw_minus_peak_load"),
        (RANKING_RULE, TEXTBOOK_RULE, rank, "heldout_kw_minus_textbook"),
        (TEXTBOOK_RULE, PEAK_LOAD_RULE, text, "heldout_kw_minus_peak_load"),
    ]
    diffs = "; ".join(
        f"{RULE_WORDS[a]} minus {RULE_WORDS[b]} {value(row, col, '+')} kW: "
        f"{tell_apart(a, b, row[col + '_ci_low'], row[col + '_ci_high'])}"
        for a, b, row, col in pairs
    )
    return (
        f"Out of sample ({rank['heldout_measured_on']}), the {rank['heldout_n_households']:,} households each rule "
        f"picks realised: {kw}. Differences (95% intervals): {diffs}."
    )


def sizing_sentence(inputs: ReportInputs) -> str:
    """Which figure sizes which households of the list, plainly (measured vs program evidence)."""
    targets = inputs.dr.targets
    ev = pl.col("response_source") == PROGRAM_EVIDENCE
    n_all, n_ev = targets.height, int(targets.select(ev.sum()).item())
    n_meas = int(targets.select((pl.col("response_source") == "measured").sum()).item())
    sel = targets.filter(pl.col("selected_by_ranking"))
    n_sel, n_sel_ev = sel.height, int(sel.select(ev.sum()).item())
    basis = targets.filter(ev)["response_basis"].head(1).to_list()
    return (
        f"Which figure sizes which households: the {n_meas:,} measured households on the dynamic tariff are sized "
        "with their own measured evening response to the trial's price signal (recruited volunteers); the "
        f"{n_ev:,} households never on the tariff ({n_sel_ev:,} of the {n_sel:,} the ranking selects) are sized "
        f"with intention-to-treat evidence for the program they would be offered ({basis[0] if basis else '-'}), "
        f"not with the volunteers' response. That is one % for all of them, so among them the list ranks by peak "
        f"load alone. Of the {n_all:,} ranked households, the two groups' figures answer different questions: "
        "the measured figure is what a volunteer on the dynamic tariff did, the evidence figure what an average "
        "invited household does."
    )


def method_notes(inputs: ReportInputs) -> list[str]:
    s = inputs.model.settings
    return [
        "Load shapes: each household's mean day (48 half hours, UK local time) divided by its own mean; "
        "K-means for "
        f"K={s.k_min}..{s.k_max}; "
        + (
            f"chosen K = the smallest stable K without tiny clusters whose gap statistic (Tibshirani et al. 2001, "
            f"{s.gap_references} uniform references) is within one standard error of the next K's."
            if s.k_rule == "gap" and s.gap_references > 0
            else f"chosen K = best silhouette among stable K without tiny clusters, ties within "
            f"{s.silhouette_tie_tolerance} broken by the inertia elbow."
        ),
        "Personas, stage 1: lifestyle features that exist for every household ("
        + ", ".join(s.lifestyle_features)
        + ") are scaled and clustered with K-means and Gaussian mixtures over "
        f"K={s.persona_k_min}..{s.persona_k_max}; the model with the best mean rank on silhouette, "
        "Davies-Bouldin and "
        f"Calinski-Harabasz among candidates with stability ARI >= {s.min_stability_ari} (seeded re-fits on "
        f"{s.bootstrap_fraction:.0%} subsamples) wins.",
        "Price responsiveness exists only for households on the dynamic tariff. It is not imputed for "
        "controls: measured responders of a lifestyle segment form a separate 'price-responsive' persona. The "
        "personas table's segment prior (the mean of a segment's measured households, shrunk toward the overall "
        f"mean) has its strength estimated from the data: {prior_strength_text(inputs)}. The DR list does not use "
        "it: households never on the tariff are sized with the offered program's intention-to-treat evidence.",
        "Individual measured responses are shrunk (empirical Bayes: DerSimonian-Laird between-household "
        "variance; each household's standard error from a week-block bootstrap of its own event-level "
        "estimates) so that a noisy estimate does not put a household at the top of the ranking. Nothing is "
        "clipped: a measured increase stays negative in every total and interval.",
        "Names are given by fixed rules on the persona's typical day, first match wins, peak windows before "
        f"'flat': night share >= {s.naming.night_heavy_share:.0%}: night storage heating; a morning and an "
        "evening peak with a midday trough: morning and evening double peak; daytime share >= "
        f"{s.naming.daytime_share:.0%}: daytime at home; evening share >= {s.naming.evening_share:.0%}: evening "
        f"peaker; highest half hour at least {s.naming.flat_margin_sd:g} household SD below the all-household average "
        f"day's (and <= {s.naming.flat_max_to_mean:g} x the mean), with no night-storage-heated member: high all-day "
        "user (high use) or flat baseload; otherwise all-day mixed use. Duplicates are told apart by use level.",
        "kW profiles: each household's mean kW (kWh per half hour x 2) per UK-local half hour, then the mean over "
        "households with a 95% t interval. Days come from the tariff schedule on the readings' UTC grid: normal "
        "days have no High or Low half hour; High-event days have at least one High half hour and no Low half "
        "hour (a day with Low hours would show the Low-price response as pre-loading). The event-day "
        "overlay uses the persona's measured ToU households and compares each household's High-event days with "
        "its normal days of the same month and day type (weighted like its event days), so season and weekends "
        "are not mistaken for a response; the control (flat-rate) households of the same lifestyle segment get "
        "the same paired difference on the schedule's event and normal days, so what event days do without a "
        "price signal (weather, the days chosen) is visible beside it; High events start at different times of "
        "day, so the event-day line averages over them (grey bars: share of event days priced High at each half hour).",
        "Expected kW of a household = its winter weekday 16:00-20:00 load x its expected evening-peak "
        "reduction % (dr_targets.csv says what each was measured on). Programs come only from "
        "the sourced evidence table (program_evidence.csv, low / central / high % peak reduction from "
        "comparable trials): measured price responders -> dynamic ToU / critical-peak pricing, central = their "
        "measured kW, low / high = measured kW scaled by the trials' low / central and high / central; "
        "personas without measured price response -> the program the evidence ranks first (its lowest reported "
        "figure above every other's highest); when the ranges overlap (peak-time rebate / saving sessions vs "
        "behavioural DR messaging) the evidence cannot rank them, so the toolkit recommends a randomised "
        "test-and-learn pilot led by the program with a sourced intent-to-treat central estimate; evidence % x "
        "the same peak load, their price response not used. A central is shown only where a trial reports one "
        "('up to' figures are bounds: no central figure). dr_targets.csv gives both the household's expected kW "
        "in a High-price event and its kW under the listed program. Programs without a sourced figure "
        "(automation) are listed but not sized.",
        "Stage 2: chi-square / Cramér's V (a permutation p-value where the table is sparse: an expected count "
        "below 1 or over 20% of the cells below 5, Cochran's rule) and Kruskal-Wallis / epsilon-squared with "
        f"{p_adjust_name(s)} correction within each role (explanatory, descriptive / circular, response); "
        "per-persona contrasts by Cliff's delta.",
        f"Privacy: groups of fewer than {s.k_anonymity} households are suppressed in every table and figure"
        + ("; household ids are replaced by keyed pseudonyms." if s.pseudonymise else "."),
        "Caveat: the dynamic-tariff households were recruited, not randomised; measured responses are "
        "difference-in-differences against controls and remain observational.",
    ]


def prior_strength_text(inputs: ReportInputs) -> str:
    """The segment prior's strength n0 on these data (responsiveness.segment_prior_strength) in words."""
    from assets.model.responsiveness import segment_prior_strength

    e = inputs.expectations
    if not {"response_measured", "high_reduction_shrunk_pct", "segment"} <= set(e.columns):
        return "not computed"
    m = e.filter(pl.col("response_measured").fill_null(False))
    n0 = segment_prior_strength(
        m["high_reduction_shrunk_pct"].cast(pl.Float64).fill_null(float("nan")).to_numpy(), m["segment"].to_numpy()
    )
    how = (
        f"one-way random-effects ANOVA over {m.height} measured households in {m['segment'].n_unique()} segments "
        "(Searle, Casella & McCulloch 1992)"
    )
    if n0 == float("inf"):
        return f"the segments' means differ no more than chance ({how}), so every segment gets the overall mean"
    return f"n0 = {n0:.1f} pseudo-households = within-segment / between-segment variance ({how})"
