"""Every table model: strict, ordered, a description on every field, and it validates its output."""

from __future__ import annotations

import polars as pl
import pytest

from assets.common.table_model import SchemaViolation, validate
from assets.model.cluster_model import cluster_metrics_table
from assets.model.schemas.cluster_metrics import ClusterMetrics
from assets.model.schemas.persona_explanations import PersonaFeatureContrasts, PersonaFeatureTests
from assets.model.schemas.personas import Personas
from assets.model.schemas.segment_assignments import SegmentAssignments
from assets.reports.schemas.dr_targets import DrTargetComparison, DrTargets
from assets.reports.schemas.interventions import Interventions

MODELS = [
    ClusterMetrics,
    SegmentAssignments,
    Personas,
    PersonaFeatureTests,
    PersonaFeatureContrasts,
    Interventions,
    DrTargets,
    DrTargetComparison,
]


@pytest.mark.parametrize("model", MODELS, ids=lambda m: m.__name__)
def test_models_are_strict_ordered_and_described(model):
    schema = model.to_schema()
    assert schema.strict is True and schema.ordered is True
    missing = [name for name, col in schema.columns.items() if not (col.description or "").strip()]
    assert not missing, missing


def test_outputs_validate(outputs):
    model = outputs["model"]
    validate(ClusterMetrics, cluster_metrics_table(model))
    validate(SegmentAssignments, outputs["assignments"])
    validate(Personas, outputs["personas"].personas)
    validate(PersonaFeatureTests, outputs["personas"].tests)
    validate(PersonaFeatureContrasts, outputs["personas"].contrasts)
    validate(Interventions, outputs["interventions"])
    validate(DrTargets, outputs["dr"].targets)
    validate(DrTargetComparison, outputs["dr"].comparison)
    metrics = cluster_metrics_table(model)
    assert metrics.filter(pl.col("chosen")).height == 2
    assert metrics.filter(pl.col("textbook_default"))["k"].to_list() == [3]


def test_violations_are_caught(outputs):
    bad = outputs["assignments"].with_columns(pl.lit("Cluster 3").alias("persona_id"))
    with pytest.raises(SchemaViolation, match="persona_id"):
        validate(SegmentAssignments, bad, "segment_assignments")
    with pytest.raises(SchemaViolation):
        personas = outputs["personas"].personas
        validate(Personas, personas.select(list(reversed(personas.columns))))
    swapped = outputs["interventions"].select(pl.all()).rename({"rationale": "why"})
    with pytest.raises(SchemaViolation):
        validate(Interventions, swapped)
