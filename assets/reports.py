"""Report assets: the intervention toolkit, the DR target list and the persona report."""

import dagster as dg

from assets.model import ASSIGNMENTS_TABLE, FEATURES_TABLE, PERSONAS_TABLE, as_of_month, load_latest, write
from assets.model import personas as personas_asset
from assets.model import segment_assignments as assignments_asset
from assets.schemas.dr_targets import DrTargetComparison, DrTargets
from assets.schemas.interventions import Interventions
from assets.transforms import segmentation_history
from assets.transforms.segmentation import api as seg
from assets.transforms.segmentation.personas import PersonaResult
from assets.transforms.warehouse import read_table, replace_table
from pipelines.metadata import OWNERS, column_schema, markdown_table, png_markdown
from pipelines.resources import ReportsDir, Warehouse

INTERVENTIONS_TABLE = "reports.interventions"
DR_TARGETS_TABLE = "reports.dr_targets"
DR_COMPARISON_TABLE = "reports.dr_target_comparison"


@dg.asset(
    deps=[personas_asset, assignments_asset],
    group_name="reports",
    kinds={"polars", "duckdb"},
    owners=OWNERS,
    pool="duckdb",
)
def interventions(warehouse: Warehouse):
    """The intervention toolkit: for each persona a program (critical-peak / dynamic pricing,
    peak-time rebate, automation or direct load control, efficiency advice, no action), its
    rationale, the formula used and the expected peak reduction in kW and %."""
    with warehouse.connect() as con:
        _, model = load_latest(con)
        features, assignments = read_table(con, FEATURES_TABLE), read_table(con, ASSIGNMENTS_TABLE)
        table = seg.compute_interventions(features, assignments, read_table(con, PERSONAS_TABLE), model)
        meta = write(con, INTERVENTIONS_TABLE, Interventions, table)
    view = table.select(
        "persona_name", "n_households", "program", "expected_reduction_kw", "expected_reduction_pct", "rationale"
    )
    return dg.MaterializeResult(metadata={**meta, "toolkit": dg.MetadataValue.md(markdown_table(view))})


@dg.asset(
    deps=[personas_asset, assignments_asset],
    group_name="reports",
    kinds={"polars", "duckdb"},
    owners=OWNERS,
    pool="duckdb",
)
def dr_targets(warehouse: Warehouse):
    """Households ranked by expected kW reduction at peak (peak-period load x estimated
    responsiveness, shrunk towards the persona for households without a measured response),
    beside the textbook rule (every household of the highest-load cluster). IDs are pseudonymised
    when configured; the comparison table says what each rule captures."""
    with warehouse.connect() as con:
        _, model = load_latest(con)
        features, assignments = read_table(con, FEATURES_TABLE), read_table(con, ASSIGNMENTS_TABLE)
        result = seg.compute_dr_targets(features, assignments, model)
        meta = write(con, DR_TARGETS_TABLE, DrTargets, result.targets)
        replace_table(con, DR_COMPARISON_TABLE, result.comparison)
    return dg.MaterializeResult(
        metadata={
            **meta,
            "rule_comparison": dg.MetadataValue.md(markdown_table(result.comparison)),
            "comparison_table": DR_COMPARISON_TABLE,
            "comparison_schema": dg.MetadataValue.table_schema(column_schema(DrTargetComparison)),
            "households_selected": result.n_selected,
            "textbook_cluster": result.textbook_cluster,
        }
    )


@dg.asset(
    deps=[interventions, dr_targets, personas_asset, assignments_asset],
    group_name="reports",
    kinds={"html", "matplotlib"},
    owners=OWNERS,
    pool="duckdb",
)
def persona_report(context: dg.AssetExecutionContext, warehouse: Warehouse, reports: ReportsDir):
    """A report a DR program manager can read without code: load-shape clusters with centroids,
    elbow and silhouette curves, PCA scatter, responsiveness and Acorn mix per persona, the
    intervention toolkit, the DR target comparison and persona drift since the last month.
    Written as HTML (self-contained) plus PNGs and Markdown; the plots are also in this metadata."""
    with warehouse.connect() as con:
        record, model = load_latest(con)
        features, assignments = read_table(con, FEATURES_TABLE), read_table(con, ASSIGNMENTS_TABLE)
        persona_result = PersonaResult(
            read_table(con, PERSONAS_TABLE),
            read_table(con, "model.persona_feature_tests"),
            read_table(con, "model.persona_feature_contrasts"),
        )
        dr = seg.compute_dr_targets(features, assignments, model)
        report = seg.compute_report(
            features, model, assignments, persona_result, read_table(con, "reports.interventions"), dr
        )
        month = as_of_month(context, con)
        drift = segmentation_history.drift_against_previous(con, month)
    drift_md = "## Persona drift since the previous segmentation\n\n" + segmentation_history.transition_matrix_markdown(
        drift
    )
    markdown = report.markdown + "\n\n" + drift_md
    html = report.html.replace("</body>", f"<section><pre>{_escape(drift_md)}</pre></section></body>")
    paths = []
    for folder in (reports.folder(), reports.folder("history", str(month))):
        (folder / "persona_report.html").write_text(html)
        (folder / "persona_report.md").write_text(markdown)
        for name, png in report.images.items():
            (folder / f"{name}.png").write_bytes(png)
        paths.append(folder / "persona_report.html")
    return dg.MaterializeResult(
        metadata={
            "report_html": dg.MetadataValue.path(str(paths[0].resolve())),
            "report_history": dg.MetadataValue.path(str(paths[1].resolve())),
            "as_of_month": str(month),
            "model_version": record.version,
            "summary": dg.MetadataValue.md(markdown),
            **{f"plot_{name}": png_markdown(png, name) for name, png in report.images.items()},
            "plots": len(report.images),
        }
    )


def _escape(text: str) -> str:
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
