"""The persona report: a self-contained HTML file (images embedded as base64) and a Markdown summary.

The HTML comes from the Jinja2 template ``templates/persona_report.html.j2`` (autoescape on); this
module only prepares plain data for it (``report_context``: strings, lists, dicts, ``TableData``).

Written for a DR program manager: plain words first (what the personas are, what to offer them,
whom to target and how many kW that buys), methods and model diagnostics last. Every table row
describing fewer than ``k_anonymity`` households is suppressed (privacy.suppress_small_groups).
"""

from __future__ import annotations

import base64
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
import polars as pl

from assets.common.markdown import markdown_table
from assets.model.cluster_model import ClusterModel, cluster_metrics_table
from assets.model.persona_explanation import outside_explanation_sentence
from assets.model.personas import PersonaResult
from assets.model.segmentation_history import (
    Drift,
    drift_sentence,
    no_history,
    transition_matrix,
)
from assets.reports import month_over_month as mom
from assets.reports import plots
from assets.reports.data_confidence import DataConfidence
from assets.reports.data_confidence import block as data_block
from assets.reports.dr_targets import DrTargets
from assets.reports.expected_kw import NO_RESPONSE, PEAK_LOAD_RULE, PROGRAM_EVIDENCE, RANKING_RULE, RULES, TEXTBOOK_RULE
from assets.reports.interventions import NO_CENTRAL, household_program_kw, program_options
from assets.reports.privacy import suppress_small_counts, suppress_small_groups
from assets.reports.profiles import PersonaProfiles, profile_notes

SECTIONS: tuple[tuple[str, str], ...] = (
    ("data", "Data and confidence"),
    ("summary", "Summary"),
    ("personas", "Personas"),
    ("interventions", "Intervention toolkit"),
    ("dr-targets", "DR targets: ranking vs peak load vs textbook rule"),
    ("response-model", "Households never on the tariff: response model, scored out of sample"),
    ("responsiveness", "Price responsiveness per persona"),
    ("acorn", "Who the personas are (Acorn)"),
    ("load-shapes", "Load-shape clusters (textbook segmentation)"),
    ("model-selection", "How the number of clusters was chosen"),
    ("statistics", "Statistical explanation of the personas"),
    ("method", "Method, assumptions and caveats"),
    ("model-details", "Model details"),
    ("drift", "Persona drift since the previous segmentation"),
    ("month-over-month", "What changed since the previous segmentation"),
)

Fmt = Callable[[object], str]
Columns = Sequence[tuple[str, str, Fmt | None]]
TEMPLATE = "persona_report.html.j2"


def _f(digits: int) -> Fmt:
    return lambda v: f"{v:,.{digits}f}"


def _pct(v: object) -> str:
    return f"{float(v):.0%}"


def _pct1(v: object) -> str:
    return f"{float(v):.1f}%"


@dataclass
class ReportInputs:
    """Everything the report shows; all frames are the validated asset outputs."""

    features: pl.DataFrame
    model: ClusterModel
    assignments: pl.DataFrame
    personas: PersonaResult
    interventions: pl.DataFrame
    dr: DrTargets
    expectations: pl.DataFrame
    title: str = "Demand-response personas"
    images: dict[str, bytes] = field(default_factory=dict)
    drift: Drift | None = None  # persona drift since the previous segmentation (None: no history)
    data: DataConfidence | None = None  # source, months, fingerprint, funnel, population effect, placebo
    response_scores: pl.DataFrame | None = None  # reports.response_model_scores (None: not computed)
    capture: pl.DataFrame | None = None  # reports.dr_capture_curve
    profiles: PersonaProfiles | None = None  # kW profiles and the event-day overlay (reports.profiles)
    month_over_month: mom.MonthOverMonth | None = None  # effect, persona sizes, DR list vs the previous run

    @property
    def k(self) -> int:
        return self.model.settings.k_anonymity


@dataclass
class Report:
    html: str
    markdown: str
    images: dict[str, bytes]
    dr_targets_csv: pl.DataFrame | None = None  # written as reports/dr_targets.csv beside the HTML
    month_over_month_csv: pl.DataFrame | None = (
        None  # reports/month_over_month.csv (assets/reports/month_over_month.py)
    )


def dr_targets_csv(inputs: ReportInputs) -> pl.DataFrame:
    """The ranked target list for a program manager: household, persona, program, measured or
    predicted, ``expected_kw`` = the expected reduction in a High-price event at the winter evening
    peak with its 95 % interval (what was measured: dr_targets, method in assets/reports/dr_targets.py),
    and ``program_kw_low/central/high`` = the household's kW under its listed program, sized from the
    evidence as the toolkit sizes its persona (interventions.household_program_kw; central empty where
    no trial reports one), what each was measured on, and rank."""
    t = inputs.dr.targets
    program_kw = household_program_kw(t, inputs.interventions)
    measured = pl.col("response_source") == "measured"
    return (
        t.join(program_kw, on="household_ref", how="left")
        .select(
            "rank",
            pl.col("household_ref").alias("household"),
            pl.col("persona_name").alias("persona"),
            "program",
            pl.when(measured)
            .then(pl.lit("measured"))
            .when(pl.col("response_source") == NO_RESPONSE)
            .then(pl.lit("not sized"))
            .when(pl.col("response_source") == PROGRAM_EVIDENCE)
            .then(pl.lit("program evidence"))
            .otherwise(pl.lit("predicted"))
            .alias("measured_or_predicted"),
            pl.col("response_source").alias("prediction_source"),
            "response_basis",
            pl.col("peak_load_kw").round(4),
            "peak_load_basis",
            pl.col("expected_kw_reduction").round(4).alias("expected_kw"),
            pl.col("expected_kw_ci_low").round(4),
            pl.col("expected_kw_ci_high").round(4),
            pl.lit(EXPECTED_KW_BASIS).alias("expected_kw_basis"),
            "interval_basis",
            "responder_label",
            pl.col("program_kw_low").round(4),
            pl.col("program_kw_central").round(4),
            pl.col("program_kw_high").round(4),
            "program_kw_basis",
        )
        .sort("rank")
    )


EXPECTED_KW_BASIS = (
    "expected reduction at the winter weekday 16:00-20:00 peak x peak_load_kw, unclipped (negative = a measured "
    "increase): measured households = their own evening High-price event response to the dynamic tariff (recruited "
    "volunteers); households never on the tariff = the intention-to-treat figure of the program offered to them "
    "(response_basis); program_kw_* = the household under its listed program"
)


def render_images(inputs: ReportInputs) -> dict[str, bytes]:
    """All report figures as PNG bytes, keyed by name."""
    m, k = inputs.model, inputs.k
    order = inputs.personas.personas["persona_name"].to_list()
    resp = inputs.expectations.select(
        "persona_name", "response_measured", "high_reduction_shrunk_pct", "expected_reduction_pct"
    )
    extra = {}
    if inputs.capture is not None:
        cv, held = split_capture_curve(inputs.capture)
        if cv.height:  # no chart without a curve: the report says so in words
            extra["capture_curve"] = plots.plot_capture_curve(
                cv, "Capture curve, response model cross-validated over households"
            )
        if held.height:
            extra["heldout_capture_curve"] = plots.plot_capture_curve(held, "Capture curve, held-out events")
    profiles = inputs.profiles
    kw_lines = profiles.lines if profiles is not None and not profiles.empty else None
    if profiles is not None and not profiles.empty:
        extra["event_day_overlay"] = plots.plot_event_day_overlay(profiles.lines, profiles.high_share, k=k)
    if inputs.data is not None and inputs.data.placebo_null:
        extra["placebo_null"] = placebo_null_figure(inputs.data)
    return extra | {
        "load_shape_clusters": plots.plot_load_shape_clusters(inputs.features, inputs.assignments, k=k),
        "textbook_clusters": plots.plot_load_shape_clusters(
            inputs.features, inputs.assignments, "textbook_cluster", "textbook_cluster_name", k=k
        ),
        "k_sweep": plots.plot_k_sweep(m.load_shape_sweep, m.load_shape.k, m.settings.textbook_k),
        "persona_profiles": plots.plot_persona_profiles(inputs.personas.personas, k=k, kw_lines=kw_lines),
        "persona_pca": plots.plot_persona_pca(inputs.assignments, k=k),
        "responsiveness": plots.plot_responsiveness(resp, order, k=k),
        "acorn": plots.plot_acorn_composition(inputs.assignments, inputs.features, k=k, persona_order=order),
    }


def placebo_null_figure(data: DataConfidence) -> bytes:
    """The pseudo-treatment placebo's null distribution with the measured estimate marked (per band)."""
    estimates = {r["band"]: r["estimate_pct"] for r in data.checks if r["check"] == "pseudo_treatment_placebo"}
    return plots.plot_placebo_null(data.placebo_null, estimates)


@dataclass(frozen=True)
class TableData:
    """A table for the template: header texts and rows of cell texts (already formatted)."""

    columns: list[str]
    rows: list[list[str]]


def table_data(frame: pl.DataFrame, columns: Columns, suppressed_text: str = "suppressed") -> TableData:
    """``columns`` (name, header, formatter) of ``frame`` as text; nulls of suppressed rows say so."""
    sup = frame["suppressed"].to_list() if "suppressed" in frame.columns else [False] * frame.height
    rows = []
    for row, is_sup in zip(frame.iter_rows(named=True), sup, strict=True):
        missing = suppressed_text if is_sup else "–"
        rows.append([missing if row.get(name) is None else (fmt or str)(row[name]) for name, _, fmt in columns])
    return TableData(columns=[header for _, header, _ in columns], rows=rows)


def personas_for_report(inputs: ReportInputs) -> pl.DataFrame:
    """Persona table with small groups suppressed (persona size, then measured-member counts)."""
    k = inputs.k
    p = inputs.personas.personas.select(
        "persona_name",
        "n_households",
        "share",
        "n_measured",
        "n_responsive",
        "mean_high_reduction_pct",
        "segment_prior_reduction_pct",
        "mean_daily_kwh",
        "mean_peak_kw",
        "distinguishing_features",
        "explanation",
    )
    p = p.join(peak_kw_intervals(inputs), on="persona_name", how="left", maintain_order="left")
    # one figure per persona: what the DR list gives its members never on the tariff (the offered program's
    # intention-to-treat evidence), not the volunteers' segment prior; a persona without such members shows "–"
    p = p.drop("segment_prior_reduction_pct").join(dr_prior_by_persona(inputs), on="persona_name", how="left")
    p = suppress_small_groups(p, "n_households", k, keep_columns=("persona_name",))
    small_measured = pl.col("n_measured").is_not_null() & (pl.col("n_measured") < k) & (pl.col("n_measured") > 0)
    small_resp = pl.col("n_responsive").is_not_null() & (pl.col("n_responsive") < k) & (pl.col("n_responsive") > 0)
    return p.with_columns(
        pl.when(small_measured)
        .then(None)
        .otherwise(pl.col("mean_high_reduction_pct"))
        .alias("mean_high_reduction_pct"),
        pl.when(small_measured)
        .then(pl.lit(f"< {k}"))
        .otherwise(pl.col("n_measured").cast(pl.String))
        .alias("n_measured"),
        pl.when(small_resp | small_measured)
        .then(pl.lit(f"< {k}"))
        .otherwise(pl.col("n_responsive").cast(pl.String))
        .alias("n_responsive"),
    )


DR_PRIOR_HEADER = (
    "what sizes its members never on the tariff in the DR list (% of peak, range over trials: the offered "
    "program's intention-to-treat evidence)"
)


def dr_prior_by_persona(inputs: ReportInputs) -> pl.DataFrame:
    """persona_name, dr_prior: the expected reduction the DR list (dr_targets) gives the persona's members
    never on the tariff: the offered program's intention-to-treat figure with the trials' range; 'response
    model' where the model predicted them instead."""
    t = inputs.dr.targets.filter(pl.col("response_source") != "measured")
    rows = []
    for (persona,), g in t.group_by(["persona_name"], maintain_order=True):
        ev = g.filter(pl.col("response_source") == PROGRAM_EVIDENCE)
        parts = []
        if ev.height:
            mid = ev["expected_reduction_pct"].max()
            lo, hi = ev["expected_reduction_ci_low_pct"].min(), ev["expected_reduction_ci_high_pct"].max()
            parts.append(
                f"{'no central figure' if mid is None else f'{mid:.1f}%'} (trials {lo:.1f}-{hi:.1f}%)"
                if lo is not None and hi is not None
                else "not sized"
            )
        if ev.height < g.height:
            parts.append(f"response model for {g.height - ev.height}")
        rows.append((persona, "; ".join(parts)))
    return pl.DataFrame(rows, schema={"persona_name": pl.String, "dr_prior": pl.String}, orient="row")


def peak_kw_intervals(inputs: ReportInputs) -> pl.DataFrame:
    """Per persona: the 95 % t interval over its households of the mean kW at 16:00-20:00 (``peak_kw``
    of the prepared features, the quantity ``mean_peak_kw`` averages), as text 'low-high'."""
    from assets.reports.profiles import t_interval

    f = inputs.features.select("household_id", "peak_kw").join(
        inputs.assignments.select("household_id", "persona_name"), on="household_id"
    )
    agg = f.group_by("persona_name").agg(
        pl.len().alias("n"), pl.col("peak_kw").mean().alias("m"), pl.col("peak_kw").std().alias("sd")
    )
    if agg.height == 0:
        return pl.DataFrame(schema={"persona_name": pl.String, "peak_kw_interval": pl.String})
    lo, hi = t_interval(agg["m"].to_numpy(), agg["sd"].fill_null(float("nan")).to_numpy(), agg["n"].to_numpy())
    text = [f"{a:.2f}-{b:.2f}" if a == a and b == b else "–" for a, b in zip(lo, hi, strict=True)]
    return agg.select("persona_name").with_columns(pl.Series("peak_kw_interval", text, dtype=pl.String))


def _summary_paragraphs(inputs: ReportInputs) -> list[str]:
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
        f"{_n_responders(inputs):,} of them responded significantly (a significant reduction in High-price "
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
            f"about {rank_row['expected_kw_captured']:.1f} kW{_captured_interval(rank_row)}; "
            f"the textbook rule (all households of the highest-load load-shape cluster, same number of households) "
            f"about {text_row['expected_kw_captured']:.1f} kW"
            f"{_captured_interval(text_row)}; {rank_row['overlap_households']:,} households are "
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


def _p_adjust_name(settings) -> str:
    return "Benjamini-Hochberg" if settings.p_adjust == "bh" else "Holm"


PERSONA_COLUMNS: Columns = (
    ("persona_name", "persona", None),
    ("n_households", "households", _f(0)),
    ("share", "share", _pct),
    ("mean_daily_kwh", "kWh/day", _f(1)),
    ("mean_peak_kw", "mean kW 16-20h", _f(2)),
    ("peak_kw_interval", "95% CI (kW)", None),
    ("n_measured", "response measured (ToU)", None),
    ("n_responsive", "of them significant responders", None),
    ("mean_high_reduction_pct", "mean measured High reduction (shrunk)", _pct1),
    ("dr_prior", DR_PRIOR_HEADER, None),
)
INTERVENTION_COLUMNS: Columns = (
    ("persona_name", "persona", None),
    ("n_households", "households", _f(0)),
    ("program", "program", None),
    ("scenario_low_kw", "low kW", _f(1)),
    ("central_kw_text", "central kW", None),
    ("scenario_high_kw", "high kW", _f(1)),
    ("per_household_kw", "kW per household: central (low-high)", None),
    ("central_pct_text", "central % of peak", None),
    ("response_basis", "based on", None),
    ("rationale", "why", None),
    ("evidence_source", "evidence (trial | source)", None),
)
PROGRAM_OPTION_COLUMNS: Columns = (
    ("persona_name", "persona", None),
    ("program", "program", None),
    ("recommended", "recommended", lambda v: "yes" if v else "no"),
    ("range_pct", "peak reduction: low / central / high", None),
    ("range_kw", "kW: low / central / high", None),
    ("why", "why", None),
    ("trial", "trial", None),
    ("source", "source", None),
)
DR_COMPARISON_COLUMNS: Columns = (
    ("rule", "rule", None),
    ("n_households", "households", _f(0)),
    ("expected_kw_captured", "expected kW", _f(1)),
    ("expected_kw_interval", "95% interval (kW)", None),
    ("per_household_kw", "expected kW per household (95% interval)", None),
    ("peak_kw_covered", "their mean kW 16-20h (sum)", _f(1)),
    ("share_of_total_expected_kw", "share of all expected kW", _pct),
    ("measured_responders_selected", "measured responders", _f(0)),
    ("overlap_households", "picked by both", _f(0)),
    ("jaccard", "Jaccard overlap", _f(2)),
    ("program_evidence_households", "sized by program evidence (ITT)", _f(0)),
    ("heldout_n_households", "held out: households", _f(0)),
    ("heldout_kw_text", "held out: realised kW (95% CI)", None),
    ("heldout_diff_text", "held out: minus textbook (95% CI)", None),
    ("heldout_vs_peak_text", "held out: minus peak load (95% CI)", None),
)
CAPTURE_AT_K_COLUMNS: Columns = (
    ("k", "households targeted", _f(0)),
    ("share", "share of measured", None),
    *((f"kw_{i}", f"{rule}: realised kW (95% CI)", None) for i, rule in enumerate(RULES)),
    ("rank_vs_peak", "ranking minus peak load (95% CI)", None),
    ("text_vs_peak", "textbook minus peak load (95% CI)", None),
)
CAPTURE_SHARES = (0.10, 0.25, 0.50)  # small k of the held-out capture curve shown as a table
LOAD_SHAPE_COLUMNS: Columns = (
    ("load_shape_cluster", "cluster", None),
    ("load_shape_name", "name", None),
    ("n_households", "households", _f(0)),
)
METRICS_COLUMNS: Columns = (
    ("segmentation", "segmentation", None),
    ("model_family", "model", None),
    ("k", "K", None),
    ("silhouette", "silhouette", _f(3)),
    ("davies_bouldin", "Davies-Bouldin", _f(2)),
    ("calinski_harabasz", "Calinski-Harabasz", _f(0)),
    ("bic", "BIC", _f(0)),
    ("stability_ari", "stability (ARI)", _f(2)),
    ("smallest_cluster", "smallest cluster", None),
    ("eligible", "eligible", None),
    ("chosen", "chosen", None),
)
ROLE_LABELS = {
    "outside_covariate": "explanatory: an outside variable the personas were not built from",
    "descriptive": "descriptive / circular: the personas are built from or split by it",
    "response_among_measured": "response across lifestyle segments (measured ToU households only)",
}
TEST_LABELS = {
    "chi_square": "chi-square",
    "chi_square_permutation": "chi-square, permutation p (sparse table)",
    "kruskal_wallis": "Kruskal-Wallis",
}
TESTS_COLUMNS: Columns = (
    ("feature_label", "feature", None),
    ("role", "role", lambda v: ROLE_LABELS.get(str(v), str(v))),
    ("test", "test", lambda v: TEST_LABELS.get(str(v), str(v))),
    ("statistic", "statistic", _f(2)),
    ("p_value", "p", lambda v: f"{float(v):.2g}"),
    ("p_adjusted", "adjusted p", lambda v: f"{float(v):.2g}"),
    ("effect_size", "effect size", _f(3)),
    ("effect_size_name", "effect measure", None),
    ("significant", "significant", None),
)


def _captured_interval(row: dict) -> str:
    """' (95% interval a-b kW)' of a rule's captured kW (dr_targets.captured_kw_interval)."""
    return f" (95% interval {row['expected_kw_captured_ci_low']:.1f}-{row['expected_kw_captured_ci_high']:.1f} kW)"


def split_capture_curve(curve: pl.DataFrame) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(response-model CV curve, held-out-event curve of the DR target rules) of reports.dr_capture_curve."""
    held = pl.col("rule").is_in(list(RULES))
    return curve.filter(~held), curve.filter(held)


def capture_at_k(curve: pl.DataFrame | None, k_min: int = 1) -> pl.DataFrame | None:
    """The held-out-event capture curve at small k (CAPTURE_SHARES of the measured households, at least
    ``k_min``: the report passes its small-group threshold, so no row sums fewer households):
    each rule's realised kW and the ranking's and the textbook's difference with the peak-load rule, each
    with its 95 % paired-bootstrap interval. None without a held-out curve."""
    if curve is None:
        return None
    _, held = split_capture_curve(curve)
    if held.height == 0:
        return None
    n = int(held["n_targeted"].max())
    rows, seen = [], set()
    for share in CAPTURE_SHARES:
        k = max(k_min, round(share * n))
        if k > n or k in seen:
            continue
        seen.add(k)
        at = {r["rule"]: r for r in held.filter(pl.col("n_targeted") == k).iter_rows(named=True)}
        row = {"k": k, "share": f"{100 * k / n:.0f}% of {n}"}
        for i, rule in enumerate(RULES):
            r = at.get(rule, {})
            row[f"kw_{i}"] = _ci(r.get("cumulative_kw"), r.get("cumulative_kw_ci_low"), r.get("cumulative_kw_ci_high"))
        for key, rule in (("rank_vs_peak", RANKING_RULE), ("text_vs_peak", TEXTBOOK_RULE)):
            r = at.get(rule, {})
            lo, hi = r.get("minus_peak_load_ci_low"), r.get("minus_peak_load_ci_high")
            row[key] = _ci(r.get("minus_peak_load_kw"), lo, hi, sign="+")
        rows.append(row)
    if not rows:
        return None
    return pl.DataFrame(
        rows, schema={"k": pl.Int64, "share": pl.String} | {c: pl.String for c in rows[0] if c not in ("k", "share")}
    )


def _ci(v: float | None, lo: float | None, hi: float | None, digits: int = 2, sign: str = "") -> str | None:
    if v is None:
        return None
    return f"{v:{sign}.{digits}f}" + ("" if lo is None or hi is None else f" ({lo:.{digits}f} to {hi:.{digits}f})")


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
        return _ci(row[col], row[f"{col}_ci_low"], row[f"{col}_ci_high"], sign=sign)

    kw = "; ".join(
        f"{RULE_WORDS[rule]} {_ci(r['heldout_kw_captured'], r['heldout_kw_ci_low'], r['heldout_kw_ci_high'])} kW"
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


def dr_comparison_for_report(inputs: ReportInputs) -> pl.DataFrame:
    """The rule comparison with each rule's 95 % kW interval (dr_targets.captured_kw_interval), also per
    household, and the held-out-event comparison as 'kW (low to high)' texts."""
    comp = inputs.dr.comparison
    texts, per = [], []
    for lo, hi, mean, n in comp.select(
        "expected_kw_captured_ci_low", "expected_kw_captured_ci_high", "mean_expected_kw_per_household", "n_households"
    ).iter_rows():
        bounds = None if lo is None or hi is None else (float(lo), float(hi))
        texts.append("no interval" if bounds is None else f"{bounds[0]:.1f}-{bounds[1]:.1f}")
        per.append(
            None
            if mean is None
            else f"{mean:.3f}" + ("" if bounds is None or not n else f" ({bounds[0] / n:.3f}-{bounds[1] / n:.3f})")
        )
    held = [
        _ci(r.get("heldout_kw_captured"), r.get("heldout_kw_ci_low"), r.get("heldout_kw_ci_high"))
        for r in comp.iter_rows(named=True)
    ]
    diff = [
        _ci(
            r.get("heldout_kw_minus_textbook"),
            r.get("heldout_kw_minus_textbook_ci_low"),
            r.get("heldout_kw_minus_textbook_ci_high"),
            sign="+",
        )
        for r in comp.iter_rows(named=True)
    ]
    vs_peak = [
        _ci(
            r.get("heldout_kw_minus_peak_load"),
            r.get("heldout_kw_minus_peak_load_ci_low"),
            r.get("heldout_kw_minus_peak_load_ci_high"),
            sign="+",
        )
        for r in comp.iter_rows(named=True)
    ]
    return comp.with_columns(
        pl.Series("expected_kw_interval", texts, dtype=pl.String),
        pl.Series("per_household_kw", per, dtype=pl.String),
        pl.Series("heldout_kw_text", held, dtype=pl.String),
        pl.Series("heldout_diff_text", diff, dtype=pl.String),
        pl.Series("heldout_vs_peak_text", vs_peak, dtype=pl.String),
    )


def interventions_for_report(inputs: ReportInputs) -> pl.DataFrame:
    """Intervention rows with the per-household kW as 'central (low-high)' (no central figure said so)."""
    iv = inputs.interventions
    per = []
    for c, lo, hi, hh in iv.select(
        "scenario_central_kw", "scenario_low_kw", "scenario_high_kw", "n_households"
    ).iter_rows():
        if not hh:
            per.append("–")
        elif c is None:
            per.append(f"{NO_CENTRAL} ({lo / hh:.3f}-{hi / hh:.3f})")
        else:
            per.append(f"{c / hh:.3f} ({lo / hh:.3f}-{hi / hh:.3f})")
    return iv.with_columns(
        pl.Series("per_household_kw", per, dtype=pl.String),
        pl.when(pl.col("scenario_central_kw").is_null())
        .then(pl.lit(NO_CENTRAL))
        .otherwise(pl.col("scenario_central_kw").round(1).cast(pl.String))
        .alias("central_kw_text"),
        pl.when(pl.col("expected_reduction_pct").is_null())
        .then(pl.lit(NO_CENTRAL))
        .otherwise(pl.format("{}%", pl.col("expected_reduction_pct").round(1)))
        .alias("central_pct_text"),
    )


def program_options_for_report(inputs: ReportInputs) -> pl.DataFrame:
    """Every applicable program per persona (interventions.program_options) with the ranges as text."""
    opts = program_options(inputs.interventions)

    def rng(lo, mid, hi, unit, digits):
        if lo is None or hi is None:
            return "not sized"
        central = NO_CENTRAL if mid is None else f"{mid:.{digits}f}"
        return f"{lo:.{digits}f} / {central} / {hi:.{digits}f}{unit}"

    return opts.with_columns(
        pl.Series(
            "range_pct",
            [rng(*r, "%", 1) for r in opts.select("low_pct", "central_pct", "high_pct").iter_rows()],
            dtype=pl.String,
        ),
        pl.Series(
            "range_kw",
            [rng(*r, " kW", 2) for r in opts.select("low_kw", "central_kw", "high_kw").iter_rows()],
            dtype=pl.String,
        ),
    )


def _n_responders(inputs: ReportInputs) -> int:
    e = inputs.expectations
    return int(e["is_responsive"].fill_null(False).sum()) if "is_responsive" in e.columns else 0


def drift_table(drift: Drift, k: int) -> TableData | None:
    """The persona transition matrix (previous persona x current persona), or None without one.
    Cells of 1 to k-1 households read "< k"."""
    if drift.previous_month is None or drift.transitions.height == 0:
        return None
    wide = transition_matrix(drift)
    wide = suppress_small_counts(wide, wide.columns[1:], k)
    return table_data(wide, [(c, c, None) for c in wide.columns])


def report_context(inputs: ReportInputs) -> dict[str, object]:
    """Everything the template shows, as plain data: strings, lists, dicts and ``TableData``."""
    m, k, s = inputs.model, inputs.k, inputs.model.settings
    images = inputs.images or render_images(inputs)
    pr = personas_for_report(inputs)
    sizes = (
        inputs.assignments.group_by("load_shape_cluster", "load_shape_name")
        .len("n_households")
        .sort("load_shape_cluster")
    )
    drift = inputs.drift or no_history()
    return {
        "title": inputs.title,
        "sections": [{"id": sid, "title": title} for sid, title in SECTIONS],
        "images": {name: base64.b64encode(png).decode("ascii") for name, png in images.items()},
        "k": k,
        "textbook_k": s.textbook_k,
        "summary": _summary_paragraphs(inputs),
        "data": data_block(inputs.data),
        "personas": {
            "table": table_data(pr, PERSONA_COLUMNS),
            "profile_notes": profile_notes(inputs.profiles.lines, k) if inputs.profiles is not None else [],
            "overlay": "event_day_overlay" in images,
            "explanations": [
                {"name": r["persona_name"], "text": r["explanation"] or f"suppressed (fewer than {k} households)"}
                for r in pr.iter_rows(named=True)
            ],
        },
        "interventions": {
            "table": table_data(
                suppress_small_groups(
                    interventions_for_report(inputs), "n_households", k, keep_columns=("persona_name", "program")
                ),
                INTERVENTION_COLUMNS,
            ),
            "options": table_data(
                suppress_small_groups(
                    program_options_for_report(inputs),
                    "n_households",
                    k,
                    keep_columns=("persona_name", "program", "recommended", "trial", "source"),
                ),
                PROGRAM_OPTION_COLUMNS,
            ),
        },
        "dr": {
            "table": table_data(
                suppress_small_groups(dr_comparison_for_report(inputs), "n_households", k, keep_columns=("rule",)),
                DR_COMPARISON_COLUMNS,
            ),
            "textbook_cluster": inputs.dr.textbook_cluster,
            "pseudonymised": s.pseudonymise,
            "heldout": heldout_sentence(inputs.dr.comparison),
            "heldout_curve": "heldout_capture_curve" in (inputs.images or {}),
            "at_k": None
            if (at_k := capture_at_k(inputs.capture, k)) is None
            else table_data(at_k, CAPTURE_AT_K_COLUMNS),
        },
        "load_shapes": {
            "reason": m.load_shape_choice.reason,
            "table": table_data(
                suppress_small_groups(sizes, "n_households", k, keep_columns=("load_shape_cluster", "load_shape_name")),
                LOAD_SHAPE_COLUMNS,
            ),
        },
        "model_selection": {
            "reason": m.behaviour_choice.reason,
            "table": table_data(cluster_metrics_table(m), METRICS_COLUMNS),
        },
        "statistics": {
            "n_tests": tests_per_role(inputs.personas.tests),
            "adjustment": _p_adjust_name(s),
            "alpha": str(s.alpha),
            "table": table_data(inputs.personas.tests, TESTS_COLUMNS),
        },
        "method_notes": method_notes(inputs),
        "model": {
            "version": m.version,
            "fingerprint": m.fingerprint,
            "sklearn_version": m.sklearn_version,
            "random_state": s.random_state,
            "n_households": f"{m.n_households:,}",
            "n_excluded": len(m.excluded_from_fit),
            "min_daily_kwh_for_fit": f"{s.min_daily_kwh_for_fit:g}",
            "n_unusable": len(m.unusable),
        },
        "drift": {"sentence": drift_sentence(drift), "table": drift_table(drift, k)},
        "month_over_month": _month_over_month_context(inputs.month_over_month),
        "response_model": _response_model_context(inputs),
    }


# Plain words for the response model's score names (reports.response_model_scores.metric); a name not
# listed here is shown as stored.
METRIC_LABELS = {
    "spearman_kw": "rank correlation with the held-out households' realised kW",
    "captured_kw_top_share": "realised kW of each held-out fold's top third (summed over folds)",
    "spearman_kw_gain_over_peak_load": "gain in rank correlation over ranking by peak load",
    "captured_kw_gain_over_peak_load": "gain in captured kW over ranking by peak load",
    "spearman_kw_gain_over_peak_load_null": "gain in rank correlation over peak load, responses shuffled (null)",
    "captured_kw_gain_over_peak_load_null": "gain in captured kW over peak load, responses shuffled (null)",
    "auc_responder": "AUC: tells responders from non-responders (first CV repeat)",
    "observed_responder_rate": "observed share of responders",
}


def _month_over_month_context(m: mom.MonthOverMonth | None) -> dict:
    if m is None:
        return {"sentence": "No month-over-month comparison for this report.", "table": None}
    table = mom.display_table(m)
    return {
        "sentence": m.sentence,
        "table": table_data(table, [(c, c, None) for c in table.columns]) if table.height else None,
    }


def _response_model_context(inputs: ReportInputs) -> dict:
    from assets.model.response_model import decide

    scores = inputs.response_scores
    if scores is None:
        return {"verdict": "The response model was not scored for this report.", "table": None, "curve": False}
    n = int(scores["n_households"].max() or 0) if scores.height else 0
    _, verdict = decide(scores, n)
    fmt = lambda v: f"{v:.3f}"  # noqa: E731
    return {
        "verdict": verdict,
        "table": table_data(
            scores.with_columns(pl.col("metric").replace(METRIC_LABELS)),
            [
                ("method", "rule", None),
                ("family", "family", None),
                ("metric", "metric", None),
                ("estimate", "estimate", fmt),
                ("ci_low", "95% low", fmt),
                ("ci_high", "95% high", fmt),
                ("p_value", "permutation p", fmt),
                ("n_households", "households", None),
                ("interval_basis", "interval", None),
            ],
        ),
        "curve": inputs.capture is not None and "capture_curve" in (inputs.images or {}),
    }


@functools.cache
def _template() -> jinja2.Template:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("assets.reports", "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env.get_template(TEMPLATE)


def render_html_report(inputs: ReportInputs) -> str:
    """The complete self-contained HTML report."""
    return _template().render(report_context(inputs))


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
        f"{_p_adjust_name(s)} correction within each role (explanatory, descriptive / circular, response); "
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


def _with_small_counts(frame: pl.DataFrame, k: int) -> pl.DataFrame:
    """``n_households`` as text, "< k" on suppressed rows (after ``suppress_small_groups``)."""
    return frame.with_columns(
        pl.when(pl.col("suppressed"))
        .then(pl.lit(f"< {k}"))
        .otherwise(pl.col("n_households").cast(pl.String))
        .alias("n_households")
    )


def _markdown(table: TableData, right_align: Sequence[str] = ()) -> str:
    frame = pl.DataFrame(table.rows, schema=[(c, pl.String) for c in table.columns], orient="row")
    return markdown_table(frame, right_align=right_align)


def _drift_markdown(drift: Drift, k: int) -> str:
    table = drift_table(drift, k)
    return f"_{drift_sentence(drift)}_" if table is None else f"{drift_sentence(drift)}\n\n{_markdown(table)}"


def build_markdown_summary(inputs: ReportInputs) -> str:
    """Short Markdown for Dagster metadata: key facts, personas, DR comparison (small groups suppressed)
    and persona drift."""
    m, k = inputs.model, inputs.k
    ranged = inputs.interventions.with_columns(
        pl.format("{}-{}", pl.col("scenario_low_kw").round(1), pl.col("scenario_high_kw").round(1)).alias("kw_range")
    )
    iv = _with_small_counts(
        suppress_small_groups(ranged, "n_households", k, keep_columns=("persona_name",)), k
    ).with_columns(pl.col("program").fill_null("suppressed"))
    toolkit = table_data(
        iv,
        [
            ("persona_name", "persona", None),
            ("n_households", "households", None),
            ("program", "program", None),
            ("expected_reduction_kw", "expected kW", lambda v: f"{v:.1f}"),
            ("kw_range", "low-high kW", None),
            ("expected_reduction_pct", "% of peak", _pct1),
        ],
        suppressed_text="–",
    )
    comp = _with_small_counts(
        suppress_small_groups(dr_comparison_for_report(inputs), "n_households", k, keep_columns=("rule",)), k
    )
    rules = table_data(
        comp,
        [
            ("rule", "rule", None),
            ("n_households", "households", None),
            ("expected_kw_captured", "expected kW", lambda v: f"{v:.1f}"),
            ("expected_kw_interval", "95% interval (kW)", None),
            ("overlap_households", "overlap", None),
            ("heldout_kw_text", "held out: realised kW (95% CI)", None),
        ],
        suppressed_text="–",
    )
    lines = [f"### {inputs.title}", ""]
    data = data_block(inputs.data)
    if data["synthetic"]:
        lines += ["**SYNTHETIC DATA: not real households.**", ""]
    lines += [f"**WARNING: {w}**" for w in data["top_warnings"]] + ([""] if data["top_warnings"] else [])
    lines += [f"- {t}" for t in data["lines"]]
    if data["funnel"]:
        lines.append("- Household funnel: " + " -> ".join(f"{label} {n}" for label, n in data["funnel"]))
    lines += [f"- NOT COMPUTED: {g}" for g in data["gaps"]]
    lines += [f"- WARNING: {w}" for w in data["warnings"]]
    lines += [f"- Check: {c}" for c in data["checks"]]
    lines += [f"- {t}" for t in _summary_paragraphs(inputs)]
    lines += [
        f"- Load shapes: {m.load_shape_choice.reason}",
        f"- Personas: {m.behaviour_choice.reason}",
        f"- Model `{m.version}`",
        "",
        _markdown(toolkit, right_align=("households", "expected kW", "low-high kW", "% of peak")),
        "",
        _markdown(rules, right_align=("households", "expected kW", "95% interval (kW)", "overlap")),
        "",
        f"#### {dict(SECTIONS)['drift']}",
        "",
        _drift_markdown(inputs.drift or no_history(), k),
        "",
        f"#### {dict(SECTIONS)['month-over-month']}",
        "",
        mom.markdown(inputs.month_over_month),
    ]
    return "\n".join(lines) + "\n"


def build_report(inputs: ReportInputs) -> Report:
    images = inputs.images or render_images(inputs)
    inputs.images = images
    return Report(
        html=render_html_report(inputs),
        markdown=build_markdown_summary(inputs),
        images=images,
        dr_targets_csv=dr_targets_csv(inputs),
        month_over_month_csv=None if inputs.month_over_month is None else inputs.month_over_month.csv(),
    )


def write_html_report(inputs: ReportInputs, path: str | Path) -> Path:
    """Write the HTML report (atomically) and return its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(render_html_report(inputs), encoding="utf-8")
    tmp.replace(path)
    return path
