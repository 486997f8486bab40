"""The persona report: a self-contained HTML file (images embedded as base64) and a Markdown summary.

Written for a DR program manager: plain words first (what the personas are, what to offer them,
whom to target and how many kW that buys), methods and model diagnostics last. Every table row
describing fewer than ``k_anonymity`` households is suppressed (privacy.suppress_small_groups).
"""

from __future__ import annotations

import base64
import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import polars as pl

from assets.reports import plots
from assets.model.cluster_model import ClusterModel, cluster_metrics_table
from assets.reports.dr_targets import RANKING_RULE, TEXTBOOK_RULE, DrTargets
from assets.model.personas import PersonaResult
from assets.reports.privacy import suppress_small_groups

SECTIONS: tuple[tuple[str, str], ...] = (
    ("summary", "Summary"),
    ("personas", "Personas"),
    ("interventions", "Intervention toolkit"),
    ("dr-targets", "DR targets: ranking vs textbook rule"),
    ("responsiveness", "Price responsiveness per persona"),
    ("acorn", "Who the personas are (Acorn)"),
    ("load-shapes", "Load-shape clusters (textbook segmentation)"),
    ("model-selection", "How the number of clusters was chosen"),
    ("statistics", "Statistical explanation of the personas"),
    ("method", "Method, assumptions and caveats"),
    ("model-details", "Model details"),
)

Fmt = Callable[[object], str]


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

    @property
    def k(self) -> int:
        return self.model.settings.k_anonymity


@dataclass
class Report:
    html: str
    markdown: str
    images: dict[str, bytes]


def render_images(inputs: ReportInputs) -> dict[str, bytes]:
    """All report figures as PNG bytes, keyed by name."""
    m, k = inputs.model, inputs.k
    order = inputs.personas.personas["persona_name"].to_list()
    resp = inputs.expectations.select(
        "persona_name", "response_measured", "high_reduction_shrunk_pct", "expected_reduction_pct"
    )
    return {
        "load_shape_clusters": plots.plot_load_shape_clusters(inputs.features, inputs.assignments, k=k),
        "textbook_clusters": plots.plot_load_shape_clusters(
            inputs.features, inputs.assignments, "textbook_cluster", "textbook_cluster_name", k=k
        ),
        "k_sweep": plots.plot_k_sweep(m.load_shape_sweep, m.load_shape.k, m.settings.textbook_k),
        "persona_profiles": plots.plot_persona_profiles(inputs.personas.personas, k=k),
        "persona_pca": plots.plot_persona_pca(inputs.assignments, k=k),
        "responsiveness": plots.plot_responsiveness(resp, order, k=k),
        "acorn": plots.plot_acorn_composition(inputs.assignments, inputs.features, k=k, persona_order=order),
    }


def html_table(
    frame: pl.DataFrame, columns: Sequence[tuple[str, str, Fmt | None]], suppressed_text: str = "suppressed"
) -> str:
    """An HTML table of ``columns`` (name, header, formatter); nulls of suppressed rows say so."""
    head = "".join(f"<th>{html.escape(h)}</th>" for _, h, _ in columns)
    body = []
    sup = frame["suppressed"].to_list() if "suppressed" in frame.columns else [False] * frame.height
    for row, is_sup in zip(frame.iter_rows(named=True), sup, strict=True):
        cells = []
        for name, _, fmt in columns:
            v = row.get(name)
            missing = suppressed_text if is_sup else "–"
            text = missing if v is None else (fmt(v) if fmt else str(v))
            cells.append(f"<td>{html.escape(text)}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _img(png: bytes, alt: str) -> str:
    data = base64.b64encode(png).decode("ascii")
    return f'<img alt="{html.escape(alt)}" src="data:image/png;base64,{data}">'


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


def _summary_paragraphs(inputs: ReportInputs) -> list[str]:
    m, k = inputs.model, inputs.k
    personas = inputs.personas.personas
    n = int(personas["n_households"].sum())
    comp = inputs.dr.comparison
    rank_row = comp.filter(pl.col("rule") == RANKING_RULE).row(0, named=True)
    text_row = comp.filter(pl.col("rule") == TEXTBOOK_RULE).row(0, named=True)
    iv = inputs.interventions
    best = iv.filter(pl.col("n_households") >= k).sort("expected_reduction_kw", descending=True).head(1)
    out = [
        f"{n:,} households were grouped into {personas.height} personas by how and when they use "
        "electricity, "
        f"and split further where their measured response to the dynamic time-of-use tariff differs. "
        f"{m.response_prior.n_measured:,} households had a measured price response.",
    ]
    if rank_row["n_households"] >= k:
        gain = (
            f"{rank_row['expected_kw_captured'] / text_row['expected_kw_captured']:.1f} times"
            if text_row["expected_kw_captured"] > 0
            else "more than"
        )
        out.append(
            f"Targeting the {rank_row['n_households']:,} households with the largest expected peak reduction "
            f"captures about {rank_row['expected_kw_captured']:.1f} kW, {gain} the "
            f"{text_row['expected_kw_captured']:.1f} kW of the textbook rule (all households of the "
            "highest-load "
            f"load-shape cluster, same number of households); {rank_row['overlap_households']:,} households "
            "are "
            f"picked by both."
        )
    if best.height:
        b = best.row(0, named=True)
        out.append(
            f"The largest single opportunity is '{b['persona_name']}' ({b['n_households']:,} households): "
            f"{b['program']}, about {b['expected_reduction_kw']:.1f} kW ({b['expected_reduction_pct']:.1f}% "
            "of its peak)."
        )
    if m.response_prior.n_measured == 0:
        out.append(
            "WARNING: no household has a measured price response, so expected reductions rest on the "
            "configured "
            "external prior only."
        )
    return out


def render_html_report(inputs: ReportInputs) -> str:
    """The complete self-contained HTML report."""
    m, k, s = inputs.model, inputs.k, inputs.model.settings
    images = inputs.images or render_images(inputs)
    parts: dict[str, str] = {}

    parts["summary"] = "".join(f"<p>{html.escape(t)}</p>" for t in _summary_paragraphs(inputs)) + (
        "<p>How to read this report: each <b>persona</b> is a group of households with a similar daily "
        "routine "
        "(when they use electricity) and, where measured, a similar reaction to price signals. Names come "
        "from "
        "fixed rules on the group's typical day, never from a cluster number. Expected reductions are in kW "
        "at the "
        "16:00-20:00 peak. Groups smaller than "
        f"{k} households are suppressed everywhere.</p>"
    )

    pr = personas_for_report(inputs)
    parts["personas"] = (
        html_table(
            pr,
            [
                ("persona_name", "persona", None),
                ("n_households", "households", _f(0)),
                ("share", "share", _pct),
                ("mean_daily_kwh", "kWh/day", _f(1)),
                ("mean_peak_kw", "peak kW (16-20h)", _f(2)),
                ("n_measured", "on dynamic tariff", None),
                ("n_responsive", "responders", None),
                ("mean_high_reduction_pct", "measured reduction", _pct1),
                ("segment_prior_reduction_pct", "prior for unmeasured", _pct1),
            ],
        )
        + "<h3>What each persona is</h3><ul>"
        + "".join(
            f"<li><b>{html.escape(r['persona_name'])}</b>: "
            + (html.escape(r["explanation"]) if r["explanation"] else f"suppressed (fewer than {k} households)")
            + "</li>"
            for r in pr.iter_rows(named=True)
        )
        + "</ul>"
        + _img(images["persona_profiles"], "persona profiles")
        + _img(images["persona_pca"], "persona scatter")
    )

    iv = suppress_small_groups(inputs.interventions, "n_households", k, keep_columns=("persona_name", "program"))
    parts["interventions"] = (
        "<p>One program per persona, chosen by fixed rules from its measured responsiveness and peak load "
        "(rules and formulas in the method section).</p>"
        + html_table(
            iv,
            [
                ("persona_name", "persona", None),
                ("n_households", "households", _f(0)),
                ("program", "program", None),
                ("expected_reduction_kw", "expected kW", _f(1)),
                ("expected_reduction_kw_per_household", "kW per household", _f(3)),
                ("expected_reduction_pct", "% of peak", _pct1),
                ("response_basis", "based on", None),
                ("rationale", "why", None),
            ],
        )
    )

    comp = suppress_small_groups(inputs.dr.comparison, "n_households", k, keep_columns=("rule",))
    parts["dr-targets"] = (
        f"<p>Households are ranked by expected kW reduction at peak (peak kW x their measured, shrunk "
        "responsiveness, or their lifestyle segment's prior when not measured). The textbook rule takes "
        "every "
        f"household of the highest-load cluster of the K={s.textbook_k} load-shape segmentation (cluster "
        f"{inputs.dr.textbook_cluster}); the ranking takes the same number of households.</p>"
        + html_table(
            comp,
            [
                ("rule", "rule", None),
                ("n_households", "households", _f(0)),
                ("expected_kw_captured", "expected kW", _f(1)),
                ("mean_expected_kw_per_household", "kW per household", _f(3)),
                ("peak_kw_covered", "peak kW covered", _f(1)),
                ("share_of_total_expected_kw", "share of all expected kW", _pct),
                ("measured_responders_selected", "measured responders", _f(0)),
                ("overlap_households", "picked by both", _f(0)),
                ("jaccard", "Jaccard overlap", _f(2)),
            ],
        )
        + "<p>The household list itself is in the <code>dr_targets</code> table"
        + (" (pseudonymised ids)." if s.pseudonymise else ".")
        + "</p>"
    )

    parts["responsiveness"] = (
        "<p>Boxes: measured reduction of load in High-price periods for households on the dynamic tariff "
        "(difference-in-differences against controls, shrunk toward the average so that noisy single "
        "estimates do "
        "not dominate). Diamonds: the prior used for members who were not on the tariff.</p>"
        + _img(images["responsiveness"], "responsiveness per persona")
    )
    parts["acorn"] = _img(images["acorn"], "Acorn composition per persona")

    sizes = (
        inputs.assignments.group_by("load_shape_cluster", "load_shape_name")
        .len("n_households")
        .sort("load_shape_cluster")
    )
    sizes = suppress_small_groups(sizes, "n_households", k, keep_columns=("load_shape_cluster", "load_shape_name"))
    parts["load-shapes"] = (
        "<p>The textbook segmentation clusters each household's daily shape (load divided by its own mean, "
        "so "
        "big and small users with the same routine fall together). Chosen K: "
        f"{html.escape(m.load_shape_choice.reason)}. "
        f"The textbook K={s.textbook_k} is shown for comparison.</p>"
        + html_table(
            sizes,
            [
                ("load_shape_cluster", "cluster", None),
                ("load_shape_name", "name", None),
                ("n_households", "households", _f(0)),
            ],
        )
        + _img(images["load_shape_clusters"], "load-shape clusters")
        + f"<h3>Textbook K={s.textbook_k}</h3>"
        + _img(images["textbook_clusters"], "textbook clusters")
    )

    metrics = cluster_metrics_table(m)
    parts["model-selection"] = (
        _img(images["k_sweep"], "elbow and silhouette curves")
        + f"<p>Behavioural personas: {html.escape(m.behaviour_choice.reason)}.</p>"
        + "<p>Silhouette on real household profiles is typically low (about 0.13 at K=3 on LCL): daily "
        "routines form a "
        "continuum, not separate blobs. Values above 0.5 on real data would point to a bug.</p>"
        + html_table(
            metrics,
            [
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
            ],
        )
    )

    tests = inputs.personas.tests
    parts["statistics"] = (
        "<p>Does each feature differ between personas? Chi-square with Cramér's V for categories, "
        "Kruskal-Wallis "
        f"with epsilon-squared for numbers; p-values adjusted for {tests.height} tests "
        f"({'Benjamini-Hochberg' if s.p_adjust == 'bh' else 'Holm'}), significant when below {s.alpha}.</p>"
        + html_table(
            tests,
            [
                ("feature_label", "feature", None),
                ("test", "test", None),
                ("statistic", "statistic", _f(2)),
                ("p_value", "p", lambda v: f"{float(v):.2g}"),
                ("p_adjusted", "adjusted p", lambda v: f"{float(v):.2g}"),
                ("effect_size", "effect size", _f(3)),
                ("effect_size_name", "effect measure", None),
                ("significant", "significant", None),
            ],
        )
    )

    parts["method"] = "<ul>" + "".join(f"<li>{html.escape(t)}</li>" for t in method_notes(inputs)) + "</ul>"
    parts["model-details"] = (
        f"<p>Model version <code>{html.escape(m.version)}</code>; training data SHA-256 "
        f"<code>{m.fingerprint}</code>; scikit-learn {html.escape(m.sklearn_version)}; random state "
        f"{s.random_state}; {m.n_households:,} households segmented ({len(m.excluded_from_fit)} of them left "
        f"out of fitting as near-vacant, below {s.min_daily_kwh_for_fit:g} kWh/day); {len(m.unusable)} "
        f"household(s) could not be segmented (incomplete daily shape or no consumption).</p>"
    )

    body = "".join(
        f'<section id="{sid}"><h2>{html.escape(title)}</h2>{parts[sid]}</section>' for sid, title in SECTIONS
    )
    toc = "".join(f'<li><a href="#{sid}">{html.escape(title)}</a></li>' for sid, title in SECTIONS)
    return (
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>"
        f"<title>{html.escape(inputs.title)}</title><style>{_CSS}</style></head><body>"
        f"<h1>{html.escape(inputs.title)}</h1><nav><ol>{toc}</ol></nav>{body}</body></html>"
    )


def method_notes(inputs: ReportInputs) -> list[str]:
    s = inputs.model.settings
    return [
        "Load shapes: each household's mean day (48 half hours, UK local time) divided by its own mean; "
        "K-means for "
        f"K={s.k_min}..{s.k_max}; chosen K = best silhouette among stable K without tiny clusters, ties "
        "within "
        f"{s.silhouette_tie_tolerance} broken by the inertia elbow.",
        "Personas, stage 1: lifestyle features that exist for every household ("
        + ", ".join(s.lifestyle_features)
        + ") are scaled and clustered with K-means and Gaussian mixtures over "
        f"K={s.persona_k_min}..{s.persona_k_max}; the model with the best mean rank on silhouette, "
        "Davies-Bouldin and "
        f"Calinski-Harabasz among candidates with stability ARI >= {s.min_stability_ari} (seeded re-fits on "
        f"{s.bootstrap_fraction:.0%} subsamples) wins.",
        "Price responsiveness exists only for households on the dynamic tariff. It is not imputed for "
        "controls: "
        "measured responders of a lifestyle segment form a separate 'price-responsive' persona, and "
        "households "
        "without a measurement receive their segment's prior (the mean of its measured households, shrunk "
        "toward "
        f"the overall mean with {s.segment_prior_strength:g} pseudo-households).",
        "Individual measured responses are shrunk (empirical Bayes, standard errors from the reported "
        "p-values) so "
        "that a noisy estimate does not put a household at the top of the ranking.",
        "Names are given by fixed rules on the persona's typical day (night share >= "
        f"{s.naming.night_heavy_share:.0%}: night storage heating; flat profile: flat baseload; two peaks: "
        "morning and "
        f"evening double peak; daytime share >= {s.naming.daytime_share:.0%}: daytime at home; evening share "
        ">= "
        f"{s.naming.evening_share:.0%}: evening peaker); duplicates are told apart by use level.",
        "Expected kW of a household = peak kW (16:00-20:00) x expected reduction %. Programs: measured "
        "responders -> "
        f"dynamic ToU / critical-peak pricing; expected response >= {s.ptr_min_reduction_pct:g}% -> "
        "peak-time rebate; "
        f"large flexible peaks -> automation ({s.automation_capture_fraction:.0%} of the load above off-peak "
        "level); "
        f"high use -> efficiency advice ({s.efficiency_peak_reduction_fraction:.0%} of peak); otherwise no "
        "action. "
        "These factors are assumptions to revisit with program evaluations.",
        "Stage 2: chi-square / Cramér's V and Kruskal-Wallis / epsilon-squared with "
        f"{'Benjamini-Hochberg' if s.p_adjust == 'bh' else 'Holm'} correction; per-persona contrasts by "
        "Cliff's delta.",
        f"Privacy: groups of fewer than {s.k_anonymity} households are suppressed in every table and figure"
        + ("; household ids are replaced by keyed pseudonyms." if s.pseudonymise else "."),
        "Caveat: the dynamic-tariff households were recruited, not randomised; measured responses are "
        "difference-in-differences against controls and remain observational.",
    ]


def build_markdown_summary(inputs: ReportInputs) -> str:
    """Short Markdown for Dagster metadata: key facts, personas, DR comparison (small groups suppressed)."""
    m, k = inputs.model, inputs.k
    lines = [f"### {inputs.title}", ""]
    lines += [f"- {t}" for t in _summary_paragraphs(inputs)]
    lines += [
        f"- Load shapes: {m.load_shape_choice.reason}",
        f"- Personas: {m.behaviour_choice.reason}",
        f"- Model `{m.version}`",
        "",
        "| persona | households | program | expected kW | % of peak |",
        "|---|---:|---|---:|---:|",
    ]
    iv = suppress_small_groups(inputs.interventions, "n_households", k, keep_columns=("persona_name",))
    for r in iv.iter_rows(named=True):
        if r["suppressed"]:
            lines.append(f"| {r['persona_name']} | < {k} | suppressed | – | – |")
        else:
            lines.append(
                f"| {r['persona_name']} | {r['n_households']} | {r['program']} | "
                f"{r['expected_reduction_kw']:.1f} | "
                f"{r['expected_reduction_pct']:.1f}% |"
            )
    lines += ["", "| rule | households | expected kW | overlap |", "|---|---:|---:|---:|"]
    comp = suppress_small_groups(inputs.dr.comparison, "n_households", k, keep_columns=("rule",))
    for r in comp.iter_rows(named=True):
        if r["suppressed"]:
            lines.append(f"| {r['rule']} | < {k} | – | – |")
        else:
            lines.append(
                f"| {r['rule']} | {r['n_households']} | {r['expected_kw_captured']:.1f} | {r['overlap_households']} |"
            )
    return "\n".join(lines) + "\n"


def build_report(inputs: ReportInputs) -> Report:
    images = inputs.images or render_images(inputs)
    inputs.images = images
    return Report(html=render_html_report(inputs), markdown=build_markdown_summary(inputs), images=images)


def write_html_report(inputs: ReportInputs, path: str | Path) -> Path:
    """Write the HTML report (atomically) and return its path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(render_html_report(inputs), encoding="utf-8")
    tmp.replace(path)
    return path


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;max-width:1100px;margin:2em auto;
padding:0 1em;color:#222;line-height:1.45}
h1{border-bottom:3px solid #1f77b4}h2{margin-top:2em;border-bottom:1px solid #ccc}
table{border-collapse:collapse;margin:1em 0;font-size:0.85em}th,td{border:1px solid #ccc;padding:4px 7px;
vertical-align:top;text-align:left}th{background:#f0f4f8}img{max-width:100%;display:block;margin:1em 0}
nav ol{columns:2}code{background:#f4f4f4;padding:0 3px}
"""
