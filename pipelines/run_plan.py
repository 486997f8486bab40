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

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any

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


def materialize_in_order(
    definitions: dg.Definitions,
    resources: Mapping[str, Any],
    instance: dg.DagsterInstance,
    first: str,
    last: str,
    run_config: Any = None,
) -> Iterator[dg.ExecuteInProcessResult]:
    """The whole graph in :func:`run_plan`'s three runs (the partitioned one over months ``first`` ..
    ``last``, ISO dates; ``run_config`` for the last), yielding each run's result and stopping after
    a failed one (``raise_on_error=False``: the caller decides)."""
    import dagster as dg

    reference, partitioned, rest = run_plan(definitions.resolve_asset_graph())
    range_tags = {"dagster/asset_partition_range_start": first, "dagster/asset_partition_range_end": last}
    for selection, tags, config in ((reference, {}, None), (partitioned, range_tags, None), (rest, {}, run_config)):
        if not selection:
            continue
        result = dg.materialize(
            definitions.assets,
            selection=dg.AssetSelection.assets(*selection),
            resources=resources,
            instance=instance,
            tags=tags,
            run_config=config,
            raise_on_error=False,
        )
        yield result
        if not result.success:
            return


__all__ = ["materialize_in_order", "run_plan"]
