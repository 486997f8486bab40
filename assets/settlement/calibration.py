"""Calibration of the DR target list on held-out events (program.py's docstring: the design).

The list's rule is the reports layer's own (``reports.api.compute_expectations`` with the evening response
of ``reports.dr_targets.evening_response``), fed one half of the evening High events at a time; nothing of
the rule is restated here. A household enters a fold only when that half gives it its own evening estimate
(``response_source`` 'measured' with an evening figure): otherwise the rule would fall back to all events,
the held-out half included.
"""

from __future__ import annotations

import polars as pl

from assets.features.duck import table_exists
from assets.settlement.program import PRODUCT_METHOD, calibration_table
from assets.settlement.settings import SettlementSettings

SCORED_SCHEMA = {
    "household_id": pl.String,
    "fold": pl.Int8,
    "expected_kw": pl.Float64,
    "expected_ci_low_kw": pl.Float64,
    "expected_ci_high_kw": pl.Float64,
    "selected": pl.Boolean,
}


def fold_expectations(con) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(per household and fold: the list's expected kW built on that fold's evening High events and whether
    the list would select it; (event_id, fold) of the evening High events). Empty without a segmentation."""
    from assets.model.tables import load_segmentation_inputs
    from assets.reports import api as seg
    from assets.reports.expected_kw import EVENING_COLUMNS, evening_response
    from assets.reports.heldout_comparison import read_heldout_event_rows

    if not (table_exists(con, "features.treatment_event_responses") and table_exists(con, "model.segment_assignments")):
        return pl.DataFrame(schema=SCORED_SCHEMA), pl.DataFrame(schema={"event_id": pl.Int32, "fold": pl.Int8})
    inputs = load_segmentation_inputs(con)
    rows = read_heldout_event_rows(con)
    folds = rows.select("event_id", "fold").unique()
    base = inputs.features.drop([c for c in EVENING_COLUMNS if c in inputs.features.columns])
    settings = inputs.model.settings
    parts = []
    for fold in sorted(folds["fold"].unique().to_list()):
        evening = evening_response(rows.filter(pl.col("fold") == fold).drop("fold"), inputs.features)
        features = base.join(evening, on="household_id", how="left")
        expected = seg.compute_expectations(features, inputs.assignments, inputs.model)
        n_selected = settings.dr_budget_households or int(
            expected.filter(pl.col("textbook_cluster") == _textbook(expected)).height
        )
        ranked = expected.sort(
            ["expected_kw_reduction", "peak_load_kw", "household_id"], descending=[True, True, False], nulls_last=True
        ).with_row_index("rank", offset=1)
        own = evening.filter(pl.col("evening_did_pct").is_not_null()).select("household_id")
        scored = ranked.join(own, on="household_id", how="semi").filter(pl.col("response_source") == "measured")
        parts.append(
            scored.select(
                "household_id",
                fold=pl.lit(fold, pl.Int8),
                expected_kw="expected_kw_reduction",
                expected_ci_low_kw="expected_kw_ci_low",
                expected_ci_high_kw="expected_kw_ci_high",
                selected=pl.col("rank") <= n_selected,
            )
        )
    scored = (
        pl.concat(parts).cast(SCORED_SCHEMA).drop_nulls("expected_kw") if parts else pl.DataFrame(schema=SCORED_SCHEMA)
    )  # type: ignore[arg-type]
    return scored, folds.with_columns(pl.col("event_id").cast(pl.Int32), pl.col("fold").cast(pl.Int8))


def _textbook(expected: pl.DataFrame) -> int:
    from assets.reports.expected_kw import textbook_cluster_choice

    return textbook_cluster_choice(expected)


def dr_calibration(con, long: pl.DataFrame, settings: SettlementSettings) -> pl.DataFrame:
    """``settlement.dr_target_calibration`` (empty when there is no segmentation or no evening event)."""
    scored, folds = fold_expectations(con)
    if scored.height == 0:
        return pl.DataFrame()
    rows = long.filter((pl.col("schedule") == "tariff") & (pl.col("method") == PRODUCT_METHOD)).join(
        folds, on="event_id", how="inner"
    )
    return calibration_table(scored, rows, settings)
