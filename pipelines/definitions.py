"""The code location: every asset, check, job, schedule, sensor and resource, assembled once."""

import warnings

import dagster as dg

import assets.clean
import assets.ingest
from pipelines.jobs import ingest_and_clean_job
from pipelines.resources import resources_from_env

# Backfill policies and pools are beta in Dagster 1.13; we rely on them deliberately.
warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)

ASSET_MODULES = [assets.ingest, assets.clean]


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(
        assets=dg.load_assets_from_modules(ASSET_MODULES),
        asset_checks=dg.load_asset_checks_from_modules(ASSET_MODULES),
        jobs=[ingest_and_clean_job],
        resources=resources_from_env(),
        executor=dg.in_process_executor,
    )
