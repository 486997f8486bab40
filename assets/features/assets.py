"""Feature assets: baseline lifestyle, trial-year price response, the population summary and the
household feature table that feeds the persona model. One step computes them together (they share
DuckDB staging), and each table is its own asset with schema, row count and column lineage."""

from datetime import date
from typing import TYPE_CHECKING

import dagster as dg
from pydantic import Field, field_validator, model_validator

from assets.common.metadata import (
    OWNERS,
    markdown_table,
    schema_check_failed,
    schema_check_passed,
    schema_check_spec,
    table_metadata,
    violating_asset,
)
from assets.common.partitions import month_window, monthly_partitions
from assets.common.resources import MeterEngine, Warehouse
from assets.features.settings import FeatureSettings

if TYPE_CHECKING:
    import polars as pl

    from assets.common.table_model import TableModel

# asset name -> (DuckDB table, schema class name in assets.features.schemas, lineage key in
# feat.column_lineage, description). Schemas are resolved when a run needs them (feature_models).
FEATURE_TABLES: dict[str, tuple[str, str, str | None, str]] = {
    "baseline_features": (
        "features.baseline_features",
        "lifestyle_features.BaselineFeatures",
        "baseline_features",
        "One row per household that passed the baseline-window coverage gate: mean daily kWh, "
        "48-slot local-time profile (kWh and shape), peak/off-peak, volatility, load factor, base "
        "load, peak timing, weekday/weekend and winter/summer ratios, shape entropy, coverage.",
    ),
    "baseline_exclusions": (
        "features.baseline_exclusions",
        "feature_exclusions.BaselineExclusions",
        None,
        "Households with readings but no baseline features, with coverage and the reason.",
    ),
    "normal_day_lifestyle": (
        "features.normal_day_lifestyle",
        "lifestyle_features.NormalDayLifestyle",
        "normal_day_lifestyle",
        "The same lifestyle features over trial-window days without any High/Low half hour "
        "(for households without a baseline year).",
    ),
    "treatment_features": (
        "features.treatment_features",
        "treatment_features.TreatmentFeatures",
        "treatment_features",
        "Per household of the trial window: High/Low difference-in-differences (kWh/half hour "
        "and %), rebound, pre-loading, response by event start time, method used, empirical "
        "p-value against the control placebo distribution and BH responder flag.",
    ),
    "treatment_event_responses": (
        "features.treatment_event_responses",
        "treatment_features.TreatmentEventResponses",
        "treatment_event_responses",
        "Per household and event: own change, matched-control change and DiD.",
    ),
    "comparison_balance": (
        "features.comparison_balance",
        "treatment_features.ComparisonBalance",
        None,
        "Covariate balance (standardised mean differences) of the pre-period matched comparison groups.",
    ),
    "placebo_draws": (
        "features.placebo_draws",
        "response_checks.PlaceboDraws",
        None,
        "Pseudo-treatment placebo, one row per draw x band: a random subset of controls the size of the "
        "measured treated group, scored against the remaining controls with the production estimator, "
        "bootstrap and BH (pooled effect, its CI, households flagged).",
    ),
    "response_checks": (
        "features.response_checks",
        "response_checks.ResponseChecks",
        None,
        "Checks that can fail, per band, each with a verdict: the pseudo-treatment placebo (null range with "
        "the treated estimate placed in it, share of draws with any flag, the CI's real coverage), the "
        "baseline-year placebo with its n, and the paired adjacent-day sensitivity.",
    ),
    "tariff_response_summary": (
        "features.tariff_response_summary",
        "tariff_response_summary.TariffResponseSummaryTable",
        "tariff_response_summary",
        "Population effect of High and Low events (and by event start time, rebound, "
        "pre-loading, placebo on the baseline year) with block-bootstrap CIs.",
    ),
    "responder_share_curve": (
        "features.responder_share_curve",
        "tariff_response_summary.ResponderShareCurve",
        "responder_share_curve",
        "Share of ToU households counted as responders, as a curve over thresholds.",
    ),
    "household_features": (
        "features.household_features",
        "household_features.HouseholdFeatures",
        "household_features",
        "Baseline, treatment and socio-demographic features joined: the model's input (docs/CONTRACTS.md).",
    ),
    "household_feature_exclusions": (
        "features.household_feature_exclusions",
        "feature_exclusions.HouseholdFeatureExclusions",
        None,
        "Households without household features, with the reason.",
    ),
}

MONTH_AGGREGATES = ["household_month_slots", "household_days"]
AGGREGATES = [*MONTH_AGGREGATES, "household_event_readings", "household_reference_slots"]
UPSTREAM = {
    "baseline_features": ["clean_readings", *MONTH_AGGREGATES, "households"],
    "baseline_exclusions": ["clean_readings", *MONTH_AGGREGATES, "households"],
    "normal_day_lifestyle": ["clean_readings", *AGGREGATES, "tariff_schedule"],
    "treatment_features": ["clean_readings", *AGGREGATES, "tariff_schedule", "households", "baseline_features"],
    "treatment_event_responses": ["clean_readings", *AGGREGATES, "tariff_schedule", "households"],
    "comparison_balance": ["baseline_features", "households"],
    "tariff_response_summary": ["treatment_features", "treatment_event_responses"],
    "responder_share_curve": ["treatment_features", "placebo_draws"],
    "placebo_draws": ["treatment_features", "treatment_event_responses"],
    "response_checks": ["placebo_draws", "tariff_response_summary", "treatment_event_responses"],
    "household_features": ["baseline_features", "normal_day_lifestyle", "treatment_features", "households"],
    "household_feature_exclusions": ["baseline_exclusions", "treatment_features", "households"],
}


def feature_models() -> "dict[str, type[TableModel]]":
    """Asset name -> its pandera schema (imported on demand: pandera is not needed to load the code)."""
    import importlib

    models = {}
    for name, (_, ref, _, _) in FEATURE_TABLES.items():
        module, cls = ref.rsplit(".", 1)
        models[name] = getattr(importlib.import_module(f"assets.features.schemas.{module}"), cls)
    return models


_FEATURE_DEFAULTS = FeatureSettings()


class FeatureConfig(dg.Config):
    """Feature windows (UK local dates, half-open) and statistical settings, editable in the launchpad.

    Defaults come from :class:`FeatureSettings` (the one home of every default); field bounds are checked
    here, cross-field rules (windows ordered, ...) by building the settings."""

    baseline_start: str = Field(
        _FEATURE_DEFAULTS.baseline_start.isoformat(), description="Baseline window start (YYYY-MM-DD, local)."
    )
    baseline_end: str = Field(_FEATURE_DEFAULTS.baseline_end.isoformat(), description="Baseline window end, exclusive.")
    treatment_start: str = Field(
        _FEATURE_DEFAULTS.treatment_start.isoformat(), description="Trial window start (YYYY-MM-DD, local)."
    )
    treatment_end: str = Field(_FEATURE_DEFAULTS.treatment_end.isoformat(), description="Trial window end, exclusive.")
    coverage_threshold: float = Field(
        _FEATURE_DEFAULTS.coverage_threshold,
        gt=0,
        le=1,
        description="Share of actual half hours a household needs (0, 1].",
    )
    fdr_alpha: float = Field(
        _FEATURE_DEFAULTS.fdr_alpha, gt=0, lt=1, description="Benjamini-Hochberg FDR level (0, 1)."
    )
    bootstrap_replicates: int = Field(
        _FEATURE_DEFAULTS.bootstrap_replicates, ge=1, description="Bootstrap replicates of the summary CIs (>= 1)."
    )

    @field_validator("baseline_start", "baseline_end", "treatment_start", "treatment_end")
    @classmethod
    def _iso_date(cls, value: str) -> str:
        try:
            date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"{value!r} is not a date in YYYY-MM-DD form") from None
        return value

    @model_validator(mode="after")
    def _valid_settings(self) -> "FeatureConfig":
        self.settings()  # cross-field rules (windows ordered, ...) live in FeatureSettings.__post_init__
        return self

    def settings(self) -> FeatureSettings:
        return FeatureSettings(
            baseline_start=date.fromisoformat(self.baseline_start),
            baseline_end=date.fromisoformat(self.baseline_end),
            treatment_start=date.fromisoformat(self.treatment_start),
            treatment_end=date.fromisoformat(self.treatment_end),
            coverage_threshold=self.coverage_threshold,
            fdr_alpha=self.fdr_alpha,
            bootstrap_replicates=self.bootstrap_replicates,
        )


# Per-household-month aggregates (monthly, like clean_readings): asset -> (table, description).
AGGREGATE_TABLES: dict[str, tuple[str, str]] = {
    "household_month_slots": (
        "features.household_month_slots",
        "Per partition month, household, local month, day type and local half-hour slot: kWh sum and "
        "count of actual readings (the lifestyle profile and the baseline-year reference regroup it).",
    ),
    "household_days": (
        "features.household_days",
        "Per partition month, household and local day: readings, actual readings, kWh, largest reading "
        "and 4-hour block kWh (daily totals, shape types, coverage counts regroup it).",
    ),
    "household_event_readings": (
        "features.household_event_readings",
        "Per partition month and household: the actual readings at the event, rebound and preload half "
        "hours of the tariff schedule and of its placebo shift (the DiD's event half hours read them).",
    ),
    "household_reference_slots": (
        "features.household_reference_slots",
        "Per partition month, household, schedule (tariff / placebo), local week, local month, day class, "
        "day type and slot: kWh sum and count of actual readings on event-free days (the within-window "
        "reference and the trial year's event-free-day profile regroup it).",
    ),
}
# The aggregates that depend on the event schedule (their month rows are built from it).
SCHEDULE_AGGREGATES = ("household_event_readings", "household_reference_slots")


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            name,
            deps=["clean_readings", "tariff_schedule"] if name in SCHEDULE_AGGREGATES else ["clean_readings"],
            group_name="features",
            kinds={"duckdb", "spark"},
            owners=OWNERS,
            description=description,
            metadata={"dagster/table_name": table},
        )
        for name, (table, description) in AGGREGATE_TABLES.items()
    ],
    check_specs=[schema_check_spec(name, [table]) for name, (table, _) in AGGREGATE_TABLES.items()],
    partitions_def=monthly_partitions,
    backfill_policy=dg.BackfillPolicy.single_run(),
)
def household_month_aggregates(context: dg.AssetExecutionContext, warehouse: Warehouse, engine: MeterEngine):
    """The month(s) of the run aggregated per household from the engine's clean readings (each month
    replaced, its fingerprint row written last), so the unpartitioned features read compact aggregates
    rather than every reading."""
    from assets.common.table_model import SchemaViolation
    from assets.features.aggregates import OUTPUTS, schedule_rows

    start, end = month_window(context)
    tables = {table: name for name, (table, _) in AGGREGATE_TABLES.items()}
    try:
        with warehouse.get_connection() as con:
            tariff_half_hours = schedule_rows(con)  # the tariff schedule lives in the warehouse on both engines
            if tariff_half_hours == 0:
                context.log.warning(
                    "no tariff schedule in the warehouse: the event and reference aggregates of these months are "
                    "built without one, so the features will read the readings for them (and report the months "
                    "stale) until they are re-materialized after tariff_schedule"
                )
            result = engine.build_aggregates(con, start, end)
    except SchemaViolation as violation:  # validated inside the month's transaction: nothing stored
        yield schema_check_failed(violating_asset(violation, tables, "household_days"), violation)
        raise
    models = {table: model for table, model, _ in OUTPUTS}
    for name, (table, _) in AGGREGATE_TABLES.items():
        yield dg.MaterializeResult(
            asset_key=name,
            metadata={
                **table_metadata(models[table], table, result.rows(table), partition_row_count=result.rows(table)),
                **engine.location_metadata(table),
                "months": dg.MetadataValue.int(result.months),
                "households": dg.MetadataValue.int(result.households),
                "tariff_schedule_half_hours": dg.MetadataValue.int(tariff_half_hours),
            },
            check_results=[schema_check_passed(name, {table: result.rows(table)})],
        )


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            name,
            deps=UPSTREAM[name],
            group_name="features",
            kinds={"duckdb", "spark", "polars"},
            owners=OWNERS,
            description=description,
            metadata={"dagster/table_name": table},
        )
        for name, (table, _, _, description) in FEATURE_TABLES.items()
    ],
    check_specs=[
        dg.AssetCheckSpec(
            "placebo_covers_zero",
            asset="tariff_response_summary",
            description="The 2013 schedule shifted 364 days back onto the baseline year gives a "
            "population High effect whose confidence interval covers 0.",
        ),
        dg.AssetCheckSpec(
            "pseudo_treatment_placebo_passes",
            asset="response_checks",
            description="Random control subsets scored as if treated against the remaining controls: the null "
            "range of the pooled effect covers 0, the CI covers 0 in about ci_level of draws and BH flags any "
            "pseudo-treated household in at most about fdr_alpha of draws (High and Low).",
        ),
        dg.AssetCheckSpec(
            "no_adjacent_day_spillover",
            asset="response_checks",
            description="The paired bootstrap interval of the main minus the adjacent-day sensitivity estimate "
            "covers 0 (reference days next to events are like the others).",
        ),
        dg.AssetCheckSpec(
            "high_effect_negative",
            asset="tariff_response_summary",
            description="The population High-event effect is negative (upper CI bound < 0).",
        ),
        *(schema_check_spec(name, [FEATURE_TABLES[name][0]]) for name in FEATURE_TABLES),
    ],
)
def features(context: dg.AssetExecutionContext, config: FeatureConfig, warehouse: Warehouse, engine: MeterEngine):
    """Baseline, treatment and household features from the engine's half-hourly tables (the same feature
    SQL on either engine, aggregated before leaving it); the per-household tables stored in the
    warehouse."""
    yield from _features(context, config, warehouse, engine)


def _stale_aggregate_months(con) -> list:
    """Months whose schedule aggregates the features could not use (see aggregate_reads.stale_schedule_months)."""

    from assets.features import aggregate_reads

    return aggregate_reads.stale_schedule_months(con) if aggregate_reads.schedule_aggregates_stored(con) else []


def _features(context: dg.AssetExecutionContext, config: FeatureConfig, warehouse: Warehouse, engine: MeterEngine):
    from assets.common.table_model import SchemaViolation
    from assets.features import aggregate_reads
    from assets.features import compute as feat

    settings = config.settings()
    models = feature_models()
    tables = {table: name for name, (table, _, _, _) in FEATURE_TABLES.items()}
    try:
        # the source: the warehouse itself, or the lake with the warehouse
        with (
            warehouse.get_connection() as con,
            aggregate_reads.recorded_reads() as reads,
            engine.half_hourly(con) as source,
        ):
            validated = _compute_and_store(source, con, settings, models)
            stale = _stale_aggregate_months(source)  # coverage and fingerprints where the readings are
    except SchemaViolation as violation:
        yield schema_check_failed(violating_asset(violation, tables, "household_features"), violation)
        raise
    sources = aggregate_reads.read_sources(reads)
    fallback = sorted(reader for reader, answered_by in sources.items() if settings.readings_table in answered_by)
    context.log.info(f"reads answered by {settings.readings_table} (not the aggregates): {fallback}")
    if stale:
        context.log.warning(
            f"schedule aggregates of {len(stale)} month(s) do not match the tariff schedule ({stale[0]} .. "
            f"{stale[-1]}): the event DiD read the readings; re-materialize household_month_aggregates for them"
        )
    for name, frame in validated.items():
        table, _, lineage_key, _ = FEATURE_TABLES[name]
        lineage = feat.column_lineage(lineage_key) if lineage_key else None
        yield dg.MaterializeResult(
            asset_key=name,
            metadata={
                **table_metadata(
                    models[name],
                    table,
                    frame.height,
                    preview=frame.head(5) if frame.width < 30 else frame.select(frame.columns[:12]).head(5),
                    lineage=_as_asset_lineage(lineage),
                ),
                **_extra_metadata(name, frame),
                **(
                    {"stale_schedule_aggregate_months": dg.MetadataValue.json([m.isoformat() for m in stale])}
                    if name == "treatment_features"
                    else {}
                ),
                # which table answered each read the aggregates could answer (else the readings did)
                **(
                    {"read_sources": dg.MetadataValue.json(sources)}
                    if "household_days" in UPSTREAM.get(name, ())
                    else {}
                ),
            },
            check_results=[schema_check_passed(name, {table: frame.height})],
        )
    yield from _summary_checks(validated["tariff_response_summary"])
    yield from _response_checks(validated["response_checks"])


def _compute_and_store(source, con, settings, models: "dict[str, type[TableModel]]") -> "dict[str, pl.DataFrame]":
    """Compute every feature table from ``source``, validate them all, then write them to the warehouse
    ``con`` (a failure writes nothing)."""
    from assets.common.table_model import validate
    from assets.common.warehouse import replace_table
    from assets.features.compute import compute_feature_tables

    frames = compute_feature_tables(source, settings)
    # Validate everything before writing anything: a schema failure stores nothing.
    validated = {name: validate(models[name], frame, FEATURE_TABLES[name][0]) for name, frame in frames.items()}
    for name, frame in validated.items():
        replace_table(con, FEATURE_TABLES[name][0], frame)
    return validated


def _as_asset_lineage(lineage: dict | None) -> dict | None:
    """Feature lineage names tables (``clean_readings``); keep the entries that name our assets."""
    if not lineage:
        return None
    known = {"clean_readings", "tariff_schedule", "households", *FEATURE_TABLES}
    out = {}
    for column, deps in lineage.items():
        kept = [(t.split(".")[-1], c) for t, c in deps if t.split(".")[-1] in known]
        if kept:
            out[column] = kept
    return out


def _extra_metadata(name: str, frame: "pl.DataFrame") -> dict:
    if name == "tariff_response_summary" and frame.height:
        cols = [
            c
            for c in (
                "analysis",
                "band",
                "window_kind",
                "method",
                "season",
                "start_bucket",
                "effect_pct",
                "ci_low_pct",
                "ci_high_pct",
                "n_events",
                "n_households",
            )
            if c in frame.columns
        ]
        return {"effects": dg.MetadataValue.md(markdown_table(frame.select(cols).head(40)))}
    if name == "response_checks" and frame.height:
        cols = ["check", "band", "n_households", "estimate_pct", "low_pct", "high_pct", "ci_coverage",
                "share_draws_any_flagged", "verdict"]  # fmt: skip
        return {"checks": dg.MetadataValue.md(markdown_table(frame.select(cols)))}
    if name == "placebo_draws" and frame.height:
        from assets.features.pseudo_placebo import summarise_draws

        lines = []
        for band in ("High", "Low"):
            s = summarise_draws(frame, band, None, FeatureSettings())
            if s.null_low_pct is not None:
                lines.append(
                    f"- {band}: {s.n_draws} draws, null 95% range {100 * s.null_low_pct:+.1f}% to "
                    f"{100 * s.null_high_pct:+.1f}%, CI coverage {100 * (s.ci_coverage or 0):.1f}%"
                    + (
                        ""
                        if s.share_any_flagged is None
                        else f", any flag in {100 * s.share_any_flagged:.1f}% of draws"
                    )
                )
        return {"null_distribution": dg.MetadataValue.md("\n".join(lines) or "no draws")}
    if name == "treatment_features" and "responder" in frame.columns:
        return {"responders": dg.MetadataValue.int(int(frame["responder"].fill_null(False).sum()))}
    if name.endswith("exclusions") and "reason" in frame.columns:
        return {"by_reason": dg.MetadataValue.md(markdown_table(frame.group_by("reason").len().sort("reason")))}
    return {}


def _summary_checks(effects: "pl.DataFrame"):
    from assets.features.response_checks import high_effect_negative, placebo_covers_zero

    passed, meta = placebo_covers_zero(effects)
    yield dg.AssetCheckResult(
        asset_key="tariff_response_summary",
        check_name="placebo_covers_zero",
        passed=passed,
        metadata=meta,
        severity=dg.AssetCheckSeverity.WARN,
    )
    passed, meta = high_effect_negative(effects)
    yield dg.AssetCheckResult(
        asset_key="tariff_response_summary",
        check_name="high_effect_negative",
        passed=passed,
        metadata=meta,
        severity=dg.AssetCheckSeverity.WARN,
    )


def _response_checks(checks: "pl.DataFrame"):
    from assets.features.response_checks import check_verdicts

    for name, passed, meta in check_verdicts(checks):
        yield dg.AssetCheckResult(
            asset_key="response_checks",
            check_name=name,
            passed=passed,
            metadata=meta,
            severity=dg.AssetCheckSeverity.WARN,
        )
