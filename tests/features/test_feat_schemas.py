"""Every feature table: strict, ordered, a description on every column, and complete column lineage."""

from __future__ import annotations

import pytest

from assets.common.table_model import column_descriptions, column_names
from assets.features.lineage import column_lineage
from assets.features.schemas.feature_exclusions import BaselineExclusions, HouseholdFeatureExclusions
from assets.features.schemas.household_features import HouseholdFeatures
from assets.features.schemas.lifestyle_features import BaselineFeatures, NormalDayLifestyle
from assets.features.schemas.tariff_response_summary import ResponderShareCurve, TariffResponseSummaryTable
from assets.features.schemas.treatment_features import TreatmentEventResponses, TreatmentFeatures

MODELS = {
    "baseline_features": BaselineFeatures,
    "baseline_exclusions": BaselineExclusions,
    "normal_day_lifestyle": NormalDayLifestyle,
    "treatment_features": TreatmentFeatures,
    "treatment_event_responses": TreatmentEventResponses,
    "tariff_response_summary": TariffResponseSummaryTable,
    "responder_share_curve": ResponderShareCurve,
    "household_features": HouseholdFeatures,
    "household_feature_exclusions": HouseholdFeatureExclusions,
}
INPUTS = {"clean_readings", "tariff_schedule", "households", *MODELS}


@pytest.mark.parametrize("table", sorted(MODELS))
def test_strict_ordered_and_described(table):
    model = MODELS[table]
    schema = model.to_schema()
    assert schema.strict is True and schema.ordered is True
    missing = [c for c, d in column_descriptions(model).items() if not d.strip()]
    assert missing == []


@pytest.mark.parametrize("table", sorted(MODELS))
def test_lineage_covers_every_column(table):
    lineage = column_lineage(table)
    assert list(lineage) == column_names(MODELS[table])
    for column, sources in lineage.items():
        for source_table, source_column in sources:
            assert source_table in INPUTS, (column, source_table)
            if source_table in MODELS:
                assert source_column in column_names(MODELS[source_table]), (
                    column,
                    source_table,
                    source_column,
                )


def test_lineage_of_raw_inputs_names_real_columns():
    from assets.clean.schemas.clean_readings import CleanReadings
    from assets.ingest.schemas.households import Households
    from assets.ingest.schemas.tariff_schedule import TariffSchedule

    raw = {"clean_readings": CleanReadings, "tariff_schedule": TariffSchedule, "households": Households}
    for table, lineage in column_lineage().items():
        for sources in lineage.values():
            for source_table, source_column in sources:
                if source_table in raw:
                    assert source_column in column_names(raw[source_table]), (
                        table,
                        source_table,
                        source_column,
                    )
    assert ("clean_readings", "kwh") in column_lineage("baseline_features")["mean_daily_kwh"]
