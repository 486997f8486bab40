"""Jobs: what a run materializes."""

import dagster as dg

ingest_and_clean_job = dg.define_asset_job(
    name="ingest_and_clean",
    selection=dg.AssetSelection.assets(
        "raw_readings",
        "clean_readings",
        "quarantined_readings",
        "household_month_coverage",
        "household_month_slots",
        "household_days",
        "household_event_readings",
        "household_reference_slots",
        "settlement_day_windows",
    ),
    description="Load, clean and aggregate per household the month(s) of the run (every monthly asset). "
    "A partition range runs as one run.",
)

# The whole graph: a run for month M reloads and re-cleans M (the monthly assets), then recomputes
# the unpartitioned layers over all stored months (features, model, personas, reports) "as of" M,
# keeping M's segmentation in the history for drift. Scheduled by pipelines/schedules.py on the 2nd
# of each month for the month before.
monthly_resegmentation = dg.define_asset_job(
    name="monthly_resegmentation",
    selection=dg.AssetSelection.all(),
    description="Monthly re-segmentation: ingest and clean the month of the run, recompute features, re-fit "
    "the models, rebuild personas, interventions and reports as of that month.",
)
