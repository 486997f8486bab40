"""Report assets: the intervention toolkit, the DR target list and the persona report.

Domain modules (polars, pandera, scikit-learn, matplotlib) are imported inside the asset bodies, so
that the code location loads fast.
"""

from typing import TYPE_CHECKING

import dagster as dg

from assets.common.metadata import (
    OWNERS,
    column_schema,
    markdown_table,
    png_markdown,
    schema_check_failed,
    schema_check_passed,
    schema_check_spec,
    store_table,
    write_table,
)
from assets.common.partitions import run_as_of_month
from assets.common.resources import MeterEngine, MeterSource, ReportsDir, Warehouse

if TYPE_CHECKING:
    from assets.reports.dr_targets import DrTargets as DrTargetsResult

INTERVENTIONS_TABLE = "reports.interventions"
DR_TARGETS_TABLE = "reports.dr_targets"
DR_COMPARISON_TABLE = "reports.dr_target_comparison"
RESPONSE_SCORES_TABLE = "reports.response_model_scores"
CAPTURE_CURVE_TABLE = "reports.dr_capture_curve"


@dg.asset(
    deps=["personas", "segment_assignments", "cluster_model", "household_features", "treatment_event_responses"],
    group_name="reports",
    kinds={"polars", "duckdb"},
    owners=OWNERS,
    check_specs=[schema_check_spec("interventions", [INTERVENTIONS_TABLE])],
)
def interventions(warehouse: Warehouse):
    """The intervention toolkit: for each persona a program chosen and sized only from the sourced
    evidence table (program_evidence.csv): measured price responders -> critical-peak / dynamic
    pricing scaled by their measured response; others -> the program the evidence ranks first, or where
    the ranges overlap (peak-time rebate vs behavioural DR messaging) a randomised pilot led by the one with
    a sourced intent-to-treat central; programs without a sourced figure (automation) listed, not sized.
    Low / central / high kW and the central % of peak, rationale and formula."""
    from assets.common.table_model import SchemaViolation
    from assets.common.warehouse import read_table
    from assets.model.tables import PERSONAS_TABLE, load_segmentation_inputs
    from assets.reports import api as seg
    from assets.reports.schemas.interventions import Interventions

    with warehouse.get_connection() as con:
        run = seg.with_evening_response(con, load_segmentation_inputs(con))
        try:
            table = seg.compute_interventions(run.features, run.assignments, read_table(con, PERSONAS_TABLE), run.model)
            meta = write_table(con, INTERVENTIONS_TABLE, Interventions, table)
        except SchemaViolation as violation:
            yield schema_check_failed("interventions", violation)
            raise
    view = table.select(
        "persona_name", "n_households", "program", "expected_reduction_kw", "expected_reduction_pct", "rationale"
    )
    yield dg.MaterializeResult(
        metadata={**meta, "toolkit": dg.MetadataValue.md(markdown_table(view))},
        check_results=[schema_check_passed("interventions", {INTERVENTIONS_TABLE: table.height})],
    )


@dg.asset(
    # the held-out events' rows, the schedule's evening events, the fitted model
    deps=["personas", "segment_assignments", "treatment_event_responses", "tariff_schedule", "cluster_model"],
    group_name="reports",
    kinds={"polars", "duckdb"},
    owners=OWNERS,
    check_specs=[
        schema_check_spec(
            "dr_targets", [DR_TARGETS_TABLE, DR_COMPARISON_TABLE, RESPONSE_SCORES_TABLE, CAPTURE_CURVE_TABLE]
        )
    ],
)
def dr_targets(warehouse: Warehouse):
    """Households ranked by expected kW reduction at peak (peak-period load x estimated
    responsiveness, shrunk towards the persona for households without a measured response),
    beside the textbook rule (every household of the highest-load cluster). IDs are pseudonymised
    when configured; the comparison table says what each rule captures."""
    import polars as pl

    from assets.common.table_model import SchemaViolation, validate
    from assets.model.tables import load_segmentation_inputs
    from assets.reports import api as seg
    from assets.reports.heldout_comparison import read_heldout_event_rows
    from assets.reports.schemas.dr_targets import DrTargetComparison, DrTargets
    from assets.reports.schemas.response_model import CaptureCurve, ResponseModelScores

    with warehouse.get_connection() as con:
        run = seg.with_evening_response(con, load_segmentation_inputs(con))
        try:
            result = seg.compute_dr_targets(
                run.features, run.assignments, run.model, heldout_rows=read_heldout_event_rows(con)
            )
            scores, curve = seg.compute_response_model(run.features, run.assignments, run.model)
            if result.heldout is not None and result.heldout.curve.height:
                curve = pl.concat([result.heldout.curve, curve.select(result.heldout.curve.columns)])
            validate(DrTargetComparison, result.comparison, DR_COMPARISON_TABLE)  # all before writing any
            validate(ResponseModelScores, scores.scores, RESPONSE_SCORES_TABLE)
            validate(CaptureCurve, curve, CAPTURE_CURVE_TABLE)
            meta = write_table(con, DR_TARGETS_TABLE, DrTargets, result.targets)
            store_table(con, DR_COMPARISON_TABLE, DrTargetComparison, result.comparison)
            store_table(con, RESPONSE_SCORES_TABLE, ResponseModelScores, scores.scores)
            store_table(con, CAPTURE_CURVE_TABLE, CaptureCurve, curve)
        except SchemaViolation as violation:
            yield schema_check_failed("dr_targets", violation)
            raise
    rows = {DR_TARGETS_TABLE: result.targets.height, DR_COMPARISON_TABLE: result.comparison.height}
    rows[RESPONSE_SCORES_TABLE] = scores.scores.height
    rows[CAPTURE_CURVE_TABLE] = curve.height
    yield dg.MaterializeResult(
        metadata={
            **meta,
            "rule_comparison": dg.MetadataValue.md(markdown_table(result.comparison)),
            "comparison_table": DR_COMPARISON_TABLE,
            "comparison_schema": dg.MetadataValue.table_schema(column_schema(DrTargetComparison)),
            "households_selected": result.n_selected,
            "response_model_verdict": dg.MetadataValue.text(scores.verdict),
            "response_model_scores": dg.MetadataValue.md(markdown_table(scores.scores)),
            "textbook_cluster": result.textbook_cluster,
        },
        check_results=[schema_check_passed("dr_targets", rows)],
    )


PERSONA_REPORT_ASSET = dict(
    # every table the report reads (data and confidence, checks, estimand, kW profiles) is a declared upstream
    deps=[
        interventions,
        dr_targets,
        "personas",
        "segment_assignments",
        "households",
        "tariff_schedule",
        "tariff_response_summary",
        "treatment_event_responses",
        "placebo_draws",
        "response_checks",
        "cluster_model",  # the model registry and the load-shape sweep
        "raw_readings",  # the funnel counts raw readings; the source-file index
        "clean_readings",  # the kW profiles
    ],
    group_name="reports",
    kinds={"html", "matplotlib"},
    owners=OWNERS,
    name="persona_report",
)


def _persona_report(
    context: dg.AssetExecutionContext,
    warehouse: Warehouse,
    reports: ReportsDir,
    source: MeterSource,
    engine: MeterEngine,
):
    """The persona report (the docstring of ``persona_report`` below says what it holds)."""
    from assets.common.warehouse import read_table
    from assets.model import segmentation_history
    from assets.model.personas import PersonaResult
    from assets.model.tables import CONTRASTS_TABLE, PERSONAS_TABLE, TESTS_TABLE, load_segmentation_inputs, run_as_of
    from assets.reports import api as seg
    from assets.reports import month_over_month
    from assets.reports.publish import publish_report_files

    with warehouse.get_connection() as con:
        run = seg.with_evening_response(con, load_segmentation_inputs(con))
        persona_result = PersonaResult(
            read_table(con, PERSONAS_TABLE), read_table(con, TESTS_TABLE), read_table(con, CONTRASTS_TABLE)
        )
        month = run_as_of(run_as_of_month(context), con, engine)
        with engine.half_hourly(con) as readings:  # the funnel and the kW profiles read the readings
            data = seg.read_data_confidence(con, *describe_source(source), readings=readings)
            profiles = seg.read_persona_kw_profiles(readings, run.model.settings.k_anonymity)
        drift = segmentation_history.drift_against_previous(con, month)
        # what changed since the previous segmentation (recorded per month: assets/reports/month_over_month.py)
        changes = month_over_month.record_and_compare(
            con,
            month,
            drift.previous_month,
            month_over_month.snapshot_of(data.effect, read_table(con, DR_TARGETS_TABLE), run.assignments),
            run.model.settings.k_anonymity,
            drift.note,
        )
        report = seg.compute_report(
            run.features,
            run.model,
            run.assignments,
            persona_result,
            read_table(con, INTERVENTIONS_TABLE),
            stored_dr_targets(con),
            drift=drift,
            response_scores=read_table(con, RESPONSE_SCORES_TABLE),
            capture=read_table(con, CAPTURE_CURVE_TABLE),
            data=data,
            profiles=profiles,
            month_over_month=changes,
        )
    files = {
        "persona_report.html": report.html.encode("utf-8"),
        "dr_targets.csv": report.dr_targets_csv.write_csv().encode("utf-8"),
        "persona_report.md": report.markdown.encode("utf-8"),
        "month_over_month.csv": report.month_over_month_csv.write_csv().encode("utf-8"),
        **{f"{name}.png": png for name, png in report.images.items()},
    }
    paths = []
    for folder in (reports.folder(), reports.folder("history", str(month))):
        publish_report_files(folder, files)
        paths.append(folder / "persona_report.html")
    return dg.MaterializeResult(
        metadata={
            "report_html": dg.MetadataValue.path(str(paths[0].resolve())),
            "report_history": dg.MetadataValue.path(str(paths[1].resolve())),
            "as_of_month": str(month),
            "model_version": run.record.version,
            "summary": dg.MetadataValue.md(report.markdown),
            **{f"plot_{name}": png_markdown(png, name) for name, png in report.images.items()},
            "dr_targets_csv": dg.MetadataValue.path(str((paths[0].parent / "dr_targets.csv").resolve())),
        }
    )


@dg.asset(**PERSONA_REPORT_ASSET)
def persona_report(
    context: dg.AssetExecutionContext,
    warehouse: Warehouse,
    reports: ReportsDir,
    source: MeterSource,
    engine: MeterEngine,
):
    """A report a DR program manager can read without code: data and confidence first (source, with a
    SYNTHETIC banner for generated data; months, fingerprint, funnel, population effect and placebo,
    warnings), personas with kW profiles and a High-event vs normal-day overlay of their measured ToU
    households, every applicable program with its sourced range, the DR target comparison with kW
    intervals, the out-of-sample response-model scores, load-shape clusters, elbow and silhouette
    curves, Acorn mix and persona drift. Written as HTML (self-contained), PNGs, Markdown and
    dr_targets.csv; the plots are also in this metadata."""
    return _persona_report(context, warehouse, reports, source, engine)


def describe_source(source: MeterSource) -> tuple[str, bool]:
    """(how the report names its data source, is it synthetic?). Synthetic: the built-in data set, or a
    source folder the generator wrote (it leaves its planted ground truth beside the data), so generated
    data read through METER_SOURCE_DIR (tests, bench) is never presented as real households."""
    from pathlib import Path

    from assets.synthetic.generate import GROUND_TRUTH_HOUSEHOLDS

    if source.is_synthetic:
        return "the built-in data set", True
    folder = str(source.source_dir)
    if (Path(folder) / GROUND_TRUTH_HOUSEHOLDS).is_file():
        return f"{folder} (generated by assets/synthetic: it holds the generator's planted ground truth)", True
    return folder, False


def stored_dr_targets(con) -> "DrTargetsResult":
    """The ranking the ``dr_targets`` asset stored (the report shows it, it does not recompute it)."""
    import polars as pl

    from assets.common.warehouse import read_table
    from assets.reports.dr_targets import DrTargets as DrTargetsResult

    targets = read_table(con, DR_TARGETS_TABLE)
    textbook = targets.filter(pl.col("selected_by_textbook"))["textbook_cluster"]
    return DrTargetsResult(
        targets=targets,
        comparison=read_table(con, DR_COMPARISON_TABLE),
        textbook_cluster=int(textbook[0]) if textbook.len() else -1,
        n_selected=int(targets["selected_by_ranking"].sum()),
    )
