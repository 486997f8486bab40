"""In which order a whole-graph run materializes the assets: one home for the demo and ``whole_graph``.

A partitioned run over a month range and an unpartitioned run cannot be one Dagster run, so the graph
is materialized in three runs, each after everything it reads:

1. the unpartitioned assets the partitioned ones read (``tariff_schedule``: the schedule aggregates
   of ``household_month_aggregates`` select its event half hours and classify its days);
2. the partitioned assets over the month range (ingest, clean, the per-household-month aggregates);
3. every other unpartitioned asset (households, features, model, reports).

Run the partitioned assets first and the schedule aggregates are built without a schedule: the
features then find every month's fingerprint stale and read the readings instead (correct, slower,
and reported), until the months are re-materialized.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import dagster as dg
    from dagster._core.definitions.assets.graph.base_asset_graph import BaseAssetGraph


def run_plan(graph: BaseAssetGraph) -> tuple[list[dg.AssetKey], list[dg.AssetKey], list[dg.AssetKey]]:
    """(unpartitioned assets upstream of a partitioned one, the partitioned assets, the other
    unpartitioned assets), each sorted, materializable assets only."""
    import dagster as dg

    keys = sorted(k for k in graph.get_all_asset_keys() if graph.get(k).is_materializable)
    partitioned = [k for k in keys if graph.get(k).is_partitioned]
    upstream = dg.AssetSelection.assets(*partitioned).upstream().resolve(graph) if partitioned else set()
    first = [k for k in keys if k in upstream and not graph.get(k).is_partitioned]
    rest = [k for k in keys if not graph.get(k).is_partitioned and k not in first]
    return first, partitioned, rest


__all__ = ["run_plan"]
