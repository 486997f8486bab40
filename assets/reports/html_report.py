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
from dataclasses import dataclass
from pathlib import Path

import jinja2
import polars as pl

from assets.model.cluster_model import cluster_metrics_table
from assets.model.segmentation_history import (
    drift_sentence,
    no_history,
)
from assets.reports import month_over_month as mom
from assets.reports import plots
from assets.reports.data_confidence import DataConfidence
from assets.reports.data_confidence import block as data_block
from assets.reports.markdown_report import build_markdown_summary
from assets.reports.privacy import suppress_small_groups
from assets.reports.profiles import profile_notes
from assets.reports.report_tables import (
    CAPTURE_AT_K_COLUMNS,
    DR_COMPARISON_COLUMNS,
    INTERVENTION_COLUMNS,
    LOAD_SHAPE_COLUMNS,
    METRICS_COLUMNS,
    PERSONA_COLUMNS,
    PROGRAM_OPTION_COLUMNS,
    SECTIONS,
    TESTS_COLUMNS,
    ReportInputs,
    capture_at_k,
    dr_comparison_for_report,
    dr_targets_csv,
    drift_table,
    interventions_for_report,
    personas_for_report,
    program_options_for_report,
    split_capture_curve,
    table_data,
)
from assets.reports.report_text import heldout_sentence, method_notes, p_adjust_name, summary_paragraphs, tests_per_role

TEMPLATE = "persona_report.html.j2"


@dataclass
class Report:
    html: str
    markdown: str
    images: dict[str, bytes]
    dr_targets_csv: pl.DataFrame | None = None  # written as reports/dr_targets.csv beside the HTML
    month_over_month_csv: pl.DataFrame | None = (
        None  # reports/month_over_month.csv (assets/reports/month_over_month.py)
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
        "summary": summary_paragraphs(inputs),
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
            "adjustment": p_adjust_name(s),
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
