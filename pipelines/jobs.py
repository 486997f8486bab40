"""Jobs: what a run materializes."""

import dagster as dg


INGEST_AND_CLEAN = dg.AssetSelection.groups("ingest", "clean")

ingest_and_clean_job = dg.define_asset_job(
    name="ingest_and_clean",
    selection=dg.AssetSelection.assets("raw_readings", "clean_readings", "quarantined_readings",
                                       "household_month_coverage"),
    description="Load and clean the month(s) of the run. A partition range runs as one run.",
)
