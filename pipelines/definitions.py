"""The code location: every asset, check, job, schedule, sensor and resource, assembled once."""

import warnings

import dagster as dg

# Backfill policies and pools are beta in Dagster 1.13; we rely on them deliberately. (Set before
# the asset modules are imported: their decorators emit the warnings.)
warnings.filterwarnings("ignore", category=dg.BetaWarning)
warnings.filterwarnings("ignore", category=dg.PreviewWarning)

import assets.clean.assets  # noqa: E402
import assets.features.assets  # noqa: E402
import assets.ingest.assets  # noqa: E402
import assets.model.assets  # noqa: E402
import assets.reports.assets  # noqa: E402
import assets.settlement.assets  # noqa: E402
from pipelines.jobs import ingest_and_clean_job  # noqa: E402
from pipelines.resources import resources_from_env  # noqa: E402
from pipelines.schedules import SCHEDULES  # noqa: E402
from pipelines.sensors import SENSORS  # noqa: E402

ASSET_MODULES = [
    assets.ingest.assets,
    assets.clean.assets,
    assets.features.assets,
    assets.model.assets,
    assets.reports.assets,
    assets.settlement.assets,
]


@dg.definitions
def defs() -> dg.Definitions:
    return dg.Definitions(
        assets=dg.load_assets_from_modules(ASSET_MODULES),
        asset_checks=dg.load_asset_checks_from_modules(ASSET_MODULES),
        jobs=[ingest_and_clean_job],
        schedules=SCHEDULES,
        sensors=SENSORS,
        resources=resources_from_env(),
        executor=dg.in_process_executor,
    )
