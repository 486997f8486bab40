"""The persona report's view model: its inputs and every table it shows, as plain data (``TableData``:
headers and formatted rows), with rows describing fewer than ``k_anonymity`` households suppressed
(privacy.suppress_small_groups). The HTML (``html_report``) and the Markdown summary
(``markdown_report``) render the same tables."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import polars as pl

from assets.model.cluster_model import ClusterModel
from assets.model.personas import PersonaResult
from assets.model.segmentation_history import (
    Drift,
    transition_matrix,
)
from assets.reports import month_over_month as mom
from assets.reports.data_confidence import DataConfidence
from assets.reports.dr_targets import DrTargets
from assets.reports.expected_kw import NO_RESPONSE, PROGRAM_EVIDENCE, RANKING_RULE, RULES, TEXTBOOK_RULE
from assets.reports.interventions import NO_CENTRAL, household_program_kw, program_options
from assets.reports.privacy import suppress_small_counts, suppress_small_groups
from assets.reports.profiles import PersonaProfiles

Fmt = Callable[[object], str]


Columns = Sequence[tuple[str, str, Fmt | None]]


def _f(digits: int) -> Fmt:
    return lambda v: f"{v:,.{digits}f}"


def _pct(v: object) -> str:
    return f"{float(v):.0%}"


def pct1(v: object) -> str:
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


PERSONA_COLUMNS: Columns = (
    ("persona_name", "persona", None),
    ("n_households", "households", _f(0)),
    ("share", "share", _pct),
    ("mean_daily_kwh", "kWh/day", _f(1)),
    ("mean_peak_kw", "mean kW 16-20h", _f(2)),
    ("peak_kw_interval", "95% CI (kW)", None),
    ("n_measured", "response measured (ToU)", None),
    ("n_responsive", "of them significant responders", None),
    ("mean_high_reduction_pct", "mean measured High reduction (shrunk)", pct1),
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


def captured_interval_text(row: dict) -> str:
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
            row[f"kw_{i}"] = ci_text(
                r.get("cumulative_kw"), r.get("cumulative_kw_ci_low"), r.get("cumulative_kw_ci_high")
            )
        for key, rule in (("rank_vs_peak", RANKING_RULE), ("text_vs_peak", TEXTBOOK_RULE)):
            r = at.get(rule, {})
            lo, hi = r.get("minus_peak_load_ci_low"), r.get("minus_peak_load_ci_high")
            row[key] = ci_text(r.get("minus_peak_load_kw"), lo, hi, sign="+")
        rows.append(row)
    if not rows:
        return None
    return pl.DataFrame(
        rows, schema={"k": pl.Int64, "share": pl.String} | {c: pl.String for c in rows[0] if c not in ("k", "share")}
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
        ci_text(r.get("heldout_kw_captured"), r.get("heldout_kw_ci_low"), r.get("heldout_kw_ci_high"))
        for r in comp.iter_rows(named=True)
    ]
    diff = [
        ci_text(
            r.get("heldout_kw_minus_textbook"),
            r.get("heldout_kw_minus_textbook_ci_low"),
            r.get("heldout_kw_minus_textbook_ci_high"),
            sign="+",
        )
        for r in comp.iter_rows(named=True)
    ]
    vs_peak = [
        ci_text(
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


def n_responders(inputs: ReportInputs) -> int:
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


def with_small_counts(frame: pl.DataFrame, k: int) -> pl.DataFrame:
    """``n_households`` as text, "< k" on suppressed rows (after ``suppress_small_groups``)."""
    return frame.with_columns(
        pl.when(pl.col("suppressed"))
        .then(pl.lit(f"< {k}"))
        .otherwise(pl.col("n_households").cast(pl.String))
        .alias("n_households")
    )


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


def ci_text(v: float | None, lo: float | None, hi: float | None, digits: int = 2, sign: str = "") -> str | None:
    if v is None:
        return None
    return f"{v:{sign}.{digits}f}" + ("" if lo is None or hi is None else f" ({lo:.{digits}f} to {hi:.{digits}f})")
