"""Model assets: the fitted cluster model, household segment assignments, and the personas."""

from datetime import UTC, datetime

import dagster as dg
from pydantic import Field, model_validator

from assets.common.metadata import (
    OWNERS,
    column_schema,
    markdown_table,
    schema_check_failed,
    schema_check_passed,
    schema_check_spec,
    store_table,
    write_table,
)
from assets.common.partitions import run_as_of_month
from assets.common.resources import MeterEngine, Warehouse
from assets.model.settings import SegmentationSettings

# Domain modules (polars, pandera, scikit-learn via the model api) are imported inside the asset
# bodies, so that the code location loads fast.

_SEGMENTATION_DEFAULTS = SegmentationSettings()


class SegmentationConfig(dg.Config):
    """Model choices editable in the launchpad (everything else: SegmentationSettings defaults).

    Defaults come from :class:`SegmentationSettings` (the one home of every default); field bounds are
    checked here, cross-field rules (k_min <= textbook_k <= k_max, ...) by building the settings."""

    random_state: int = Field(_SEGMENTATION_DEFAULTS.random_state, ge=0, description="Seed of every fit (>= 0).")
    k_max: int = Field(
        _SEGMENTATION_DEFAULTS.k_max,
        ge=_SEGMENTATION_DEFAULTS.textbook_k,
        description=f"Largest K of the load-shape sweep (>= textbook K = {_SEGMENTATION_DEFAULTS.textbook_k}).",
    )
    persona_k_max: int = Field(
        _SEGMENTATION_DEFAULTS.persona_k_max,
        ge=_SEGMENTATION_DEFAULTS.persona_k_min,
        description=f"Largest number of personas tried (>= {_SEGMENTATION_DEFAULTS.persona_k_min}).",
    )
    pseudonymise_ids: bool = Field(
        _SEGMENTATION_DEFAULTS.pseudonymise, description="Replace household ids (needs METER_PSEUDONYM_KEY)."
    )
    k_anonymity: int = Field(
        _SEGMENTATION_DEFAULTS.k_anonymity, ge=1, description="Smallest group size shown in reports (>= 1)."
    )

    @model_validator(mode="after")
    def _valid_settings(self) -> "SegmentationConfig":
        # every cross-field rule lives in SegmentationSettings.__post_init__; the pseudonym key is
        # read from the environment only where the run executes (see settings()).
        self._settings(pseudonym_key="set-at-run-time" if self.pseudonymise_ids else None)
        return self

    def settings(self) -> SegmentationSettings:
        import os

        return self._settings(pseudonym_key=os.environ.get("METER_PSEUDONYM_KEY"))

    def _settings(self, pseudonym_key: str | None) -> SegmentationSettings:
        return SegmentationSettings(
            random_state=self.random_state,
            k_max=self.k_max,
            persona_k_max=self.persona_k_max,
            pseudonymise=self.pseudonymise_ids,
            pseudonym_key=pseudonym_key,
            k_anonymity=self.k_anonymity,
        )


CLUSTER_MODEL_ASSET = dict(
    # clean_readings: a run without a partition month is as of the latest clean month
    deps=["household_features", "household_feature_exclusions", "clean_readings"],
    group_name="model",
    kinds={"scikitlearn", "duckdb"},
    owners=OWNERS,
    check_specs=[schema_check_spec("cluster_model", ["model.cluster_metrics"])],
)


def _cluster_model(
    context: dg.AssetExecutionContext, config: SegmentationConfig, warehouse: Warehouse, engine: MeterEngine
):
    import polars as pl

    from assets.common.table_model import SchemaViolation
    from assets.common.warehouse import read_table
    from assets.model import api as seg
    from assets.model import model_registry
    from assets.model.inputs import TooFewHouseholds, check_enough_households
    from assets.model.model_store import model_summary, save_model
    from assets.model.schemas.cluster_metrics import ClusterMetrics
    from assets.model.tables import EXCLUSIONS_TABLE, FEATURES_TABLE, METRICS_TABLE, run_as_of

    settings = config.settings()
    with warehouse.get_connection() as con:
        features = read_table(con, FEATURES_TABLE)
        try:
            check_enough_households(features, read_table(con, EXCLUSIONS_TABLE), settings)
        except TooFewHouseholds as refusal:  # one sentence with the cause, no traceback to read
            raise dg.Failure(description=str(refusal), allow_retries=False) from None
        month = run_as_of(run_as_of_month(context), con, engine)
        try:
            # Validates the metrics table; the model is persisted below, once named.
            model, metrics = seg.compute_cluster_model(features, settings)
        except SchemaViolation as violation:
            yield schema_check_failed("cluster_model", violation)
            raise
        path = model_registry.model_path(warehouse.path.parent / "models", model.fingerprint, model.version)
        save_model(model, path)
        meta = write_table(con, METRICS_TABLE, ClusterMetrics, metrics)
        model_registry.register(
            con,
            model_registry.ModelRecord(
                as_of_month=month,
                fitted_at=datetime.now(UTC).replace(tzinfo=None),
                version=model.version,
                fingerprint=model.fingerprint,
                path=str(path),
                load_shape_k=model.load_shape.k,
                persona_family=model.behaviour.family,
                persona_k=model.behaviour.k,
                n_households=model.n_households,
            ),
        )
    summary = model_summary(model)
    sweep = metrics.filter(pl.col("segmentation") == "load_shape").select(
        "k", "inertia", "silhouette", "davies_bouldin", "stability_ari", "chosen"
    )
    yield dg.MaterializeResult(
        metadata={
            **meta,
            "model_path": dg.MetadataValue.path(str(path)),
            "model_version": model.version,
            "training_fingerprint_sha256": model.fingerprint,
            "as_of_month": str(month),
            "households_in_fit": model.n_households,
            "load_shape_k": model.load_shape.k,
            "load_shape_k_reason": summary["load_shape"]["reason"],
            "persona_model": f"{model.behaviour.family}, K={model.behaviour.k}",
            "persona_model_reason": summary["behaviour"]["reason"],
            "load_shape_sweep": dg.MetadataValue.md(markdown_table(sweep)),
            "summary": dg.MetadataValue.json(summary),
        },
        check_results=[schema_check_passed("cluster_model", {METRICS_TABLE: metrics.height})],
    )


@dg.asset(**CLUSTER_MODEL_ASSET)
def cluster_model(
    context: dg.AssetExecutionContext, config: SegmentationConfig, warehouse: Warehouse, engine: MeterEngine
):
    """The fitted scikit-learn pipelines: load-shape K-means (K chosen by the gap statistic, K=3 kept as the
    textbook comparison) and behavioural personas (K-means vs Gaussian mixture, chosen by silhouette,
    Davies-Bouldin, Calinski-Harabasz, BIC and bootstrap stability). Persisted with a version and a
    fingerprint of its training data; seeded, so a re-fit reproduces it."""
    yield from _cluster_model(context, config, warehouse, engine)


SEGMENT_ASSIGNMENTS_ASSET = dict(
    # clean_readings: the as-of month; raw_readings: its source-file index keys the drift history
    deps=[cluster_model, "household_features", "clean_readings", "raw_readings"],
    group_name="model",
    kinds={"polars", "duckdb"},
    owners=OWNERS,
    check_specs=[schema_check_spec("segment_assignments", ["model.segment_assignments"])],
)


def _segment_assignments(context: dg.AssetExecutionContext, warehouse: Warehouse, engine: MeterEngine):
    from assets.common.table_model import SchemaViolation
    from assets.common.warehouse import read_table
    from assets.model import api as seg
    from assets.model import segmentation_history
    from assets.model.schemas.segment_assignments import SegmentAssignments
    from assets.model.tables import ASSIGNMENTS_TABLE, FEATURES_TABLE, load_latest, run_as_of

    with warehouse.get_connection() as con:
        record, model = load_latest(con)
        features = read_table(con, FEATURES_TABLE)
        try:
            assignments = seg.compute_segment_assignments(features, model)
            meta = write_table(con, ASSIGNMENTS_TABLE, SegmentAssignments, assignments)
        except SchemaViolation as violation:
            yield schema_check_failed("segment_assignments", violation)
            raise
        month = run_as_of(run_as_of_month(context), con, engine)
        segmentation_history.record(con, month, assignments, record.fingerprint)
        drift = segmentation_history.drift_against_previous(con, month)
    sizes = assignments.group_by("persona_name").len("households").sort("households", descending=True)
    yield dg.MaterializeResult(
        metadata={
            **meta,
            "as_of_month": str(month),
            "households_by_persona": dg.MetadataValue.md(markdown_table(sizes)),
            "persona_drift": dg.MetadataValue.md(
                segmentation_history.transition_matrix_markdown(drift, model.settings.k_anonymity)
            ),
            "drift_adjusted_rand_index": dg.MetadataValue.float(drift.adjusted_rand_index)
            if drift.adjusted_rand_index is not None
            else dg.MetadataValue.text("n/a (first segmentation)"),
        },
        check_results=[schema_check_passed("segment_assignments", {ASSIGNMENTS_TABLE: assignments.height})],
    )


@dg.asset(**SEGMENT_ASSIGNMENTS_ASSET)
def segment_assignments(context: dg.AssetExecutionContext, warehouse: Warehouse, engine: MeterEngine):
    """Household -> load-shape cluster (and the textbook K=3 cluster), persona, distance to the centroid
    or membership probability, PCA coordinates. The month's snapshot is also kept in
    ``model.segment_assignment_history`` so that persona drift can be followed month by month."""
    yield from _segment_assignments(context, warehouse, engine)


@dg.asset(
    deps=[segment_assignments, cluster_model, "household_features"],
    group_name="model",
    kinds={"polars", "duckdb"},
    owners=OWNERS,
    check_specs=[
        schema_check_spec(
            "personas", ["model.personas", "model.persona_feature_tests", "model.persona_feature_contrasts"]
        )
    ],
)
def personas(warehouse: Warehouse):
    """Per persona: size, centroid profile, distinguishing features and a plain-language explanation,
    named by rules from its feature levels (never a cluster number). Stage 2 of the framework:
    chi-square with Cramér's V (categorical) and Kruskal-Wallis with epsilon² (continuous), p-values
    corrected for multiple tests, in ``model.persona_feature_tests`` / ``_contrasts``."""
    from assets.common.table_model import SchemaViolation
    from assets.model import api as seg
    from assets.model.schemas.persona_explanations import PersonaFeatureContrasts, PersonaFeatureTests
    from assets.model.schemas.personas import Personas
    from assets.model.tables import CONTRASTS_TABLE, PERSONAS_TABLE, TESTS_TABLE, load_segmentation_inputs

    with warehouse.get_connection() as con:
        run = load_segmentation_inputs(con)
        try:
            result = seg.compute_personas(run.features, run.assignments, run.model)  # validates all three
            meta = write_table(con, PERSONAS_TABLE, Personas, result.personas)
            store_table(con, TESTS_TABLE, PersonaFeatureTests, result.tests)
            store_table(con, CONTRASTS_TABLE, PersonaFeatureContrasts, result.contrasts)
        except SchemaViolation as violation:
            yield schema_check_failed("personas", violation)
            raise
    overview = result.personas.select(
        "persona_name",
        "n_households",
        "share",
        "is_price_responsive",
        "mean_high_reduction_pct",
        "mean_daily_kwh",
        "explanation",
    )
    rows = {PERSONAS_TABLE: result.personas.height, TESTS_TABLE: result.tests.height}
    rows[CONTRASTS_TABLE] = result.contrasts.height
    yield dg.MaterializeResult(
        metadata={
            **meta,
            "personas": dg.MetadataValue.md(markdown_table(overview)),
            "what_explains_the_personas": dg.MetadataValue.text(seg.outside_explanation_sentence(result.tests)),
            "feature_tests": dg.MetadataValue.md(markdown_table(result.tests.head(30))),
            "feature_tests_table": TESTS_TABLE,
            "feature_contrasts_table": CONTRASTS_TABLE,
            "feature_tests_schema": dg.MetadataValue.table_schema(column_schema(PersonaFeatureTests)),
            "feature_contrasts_rows": result.contrasts.height,
            "contrasts_schema": dg.MetadataValue.table_schema(column_schema(PersonaFeatureContrasts)),
        },
        check_results=[schema_check_passed("personas", rows)],
    )
