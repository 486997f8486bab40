"""The persona report's Markdown summary (``persona_report.md`` and the UI metadata): the same tables
(``report_tables``) and sentences (``report_text``) as the HTML, rendered as Markdown."""

from __future__ import annotations

from collections.abc import Sequence

import polars as pl

from assets.common.markdown import markdown_table
from assets.model.segmentation_history import (
    Drift,
    drift_sentence,
    no_history,
)
from assets.reports import month_over_month as mom
from assets.reports.data_confidence import block as data_block
from assets.reports.privacy import suppress_small_groups
from assets.reports.report_tables import (
    SECTIONS,
    ReportInputs,
    TableData,
    dr_comparison_for_report,
    drift_table,
    pct1,
    table_data,
    with_small_counts,
)
from assets.reports.report_text import summary_paragraphs


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
    iv = with_small_counts(
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
            ("expected_reduction_pct", "% of peak", pct1),
        ],
        suppressed_text="–",
    )
    comp = with_small_counts(
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
    lines += [f"- {t}" for t in summary_paragraphs(inputs)]
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
