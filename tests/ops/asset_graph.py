"""A sorted, JSON-able description of the code location (assets, checks, jobs, schedules, sensors).

``python -m tests.ops.asset_graph`` prints it; tests/ops/test_asset_graph_snapshot.py runs that in a
subprocess with a controlled environment and compares it with tests/ops/snapshots/asset_graph.json.
Descriptions (docstrings) are not part of it, only whether they exist, so rewording is no change.
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from typing import Any

import dagster as dg


def _policy(policy: dg.BackfillPolicy | None) -> str | None:
    if policy is None:
        return None
    if policy.max_partitions_per_run is None:
        return "single_run"
    return f"multi_run({policy.max_partitions_per_run})"


def _partitions(partitions_def: dg.PartitionsDefinition | None) -> str | None:
    if partitions_def is None:
        return None
    if isinstance(partitions_def, dg.MonthlyPartitionsDefinition):
        text = f"monthly from {partitions_def.start.date().isoformat()} ({partitions_def.timezone})"
        excluded = sorted(
            str(e) if isinstance(e, str) else datetime.fromtimestamp(e.timestamp, UTC).date().isoformat()
            for e in partitions_def.exclusions or []
        )
        if excluded:
            text += f", excluding {excluded[0]}..{excluded[-1]} ({len(excluded)} months)"
        return text
    return str(partitions_def)


def describe(defs: dg.Definitions) -> dict[str, Any]:
    graph = defs.resolve_asset_graph()
    checks_by_asset: dict[str, list[dict[str, Any]]] = {}
    for check_key in graph.asset_check_keys:
        spec = graph.get_check_spec(check_key)
        checks_by_asset.setdefault(check_key.asset_key.to_user_string(), []).append(
            {"name": check_key.name, "blocking": bool(spec.blocking)}
        )
    assets = {}
    for key in sorted(graph.get_all_asset_keys()):
        node = graph.get(key)
        name = key.to_user_string()
        assets[name] = {
            "deps": sorted(parent.to_user_string() for parent in node.parent_keys),
            "group": node.group_name,
            "kinds": sorted(node.kinds),
            "owners": sorted(node.owners),
            "has_description": bool((node.description or "").strip()),
            "materializable": node.is_materializable,
            "partitions": _partitions(node.partitions_def),
            "backfill_policy": _policy(node.backfill_policy),
            "pools": sorted(node.pools or []),
            "io_manager_key": node.io_manager_key if node.is_materializable else None,
            "automation_condition": node.automation_condition.get_label() if node.automation_condition else None,
            "checks": sorted(checks_by_asset.get(name, []), key=lambda c: c["name"]),
        }
    jobs = {}
    for job in sorted(defs.resolve_all_job_defs(), key=lambda j: j.name):
        if job.name.startswith("__"):
            continue  # Dagster's implicit asset jobs
        jobs[job.name] = {
            "assets": sorted(k.to_user_string() for k in job.asset_layer.selected_asset_keys),
            "checks": sorted(
                f"{k.asset_key.to_user_string()}:{k.name}"
                for k in job.asset_layer.asset_graph.asset_check_keys
                if k.asset_key in job.asset_layer.selected_asset_keys
            ),
            "partitions": _partitions(job.partitions_def),
        }
    schedules = {
        s.name: {
            "cron": s.cron_schedule,
            "timezone": s.execution_timezone,
            "job": s.job_name,
            "default_status": s.default_status.value,
        }
        for s in sorted((defs.resolve_schedule_def(s.name) for s in defs.schedules or []), key=lambda s: s.name)
    }
    sensors = {
        s.name: {
            "jobs": sorted(t.job_name for t in s.targets),
            "minimum_interval_seconds": s.minimum_interval_seconds,
            "default_status": s.default_status.value,
        }
        for s in sorted((defs.resolve_sensor_def(s.name) for s in defs.sensors or []), key=lambda s: s.name)
    }
    return {
        "assets": assets,
        "jobs": jobs,
        "schedules": schedules,
        "sensors": sensors,
        "resources": sorted(defs.resources or {}),
    }


def main() -> int:
    import warnings

    warnings.filterwarnings("ignore")  # beta/preview/deprecation noise must not reach stdout anyway
    import pipelines.definitions

    json.dump(describe(pipelines.definitions.defs()), sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
