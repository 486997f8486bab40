"""Snapshot of the code location's asset graph, plus invariants that must always hold.

The description (tests/ops/asset_graph.py) is computed in a subprocess under a controlled
environment (no METER_* / DAGSTER_* variables from the caller), so it does not depend on the shell.
A lineage change makes the snapshot test fail with the difference; if it is intended, rewrite the
file and commit it:

    UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/ops/test_asset_graph_snapshot.py
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from assets.common.partitions import monthly_partitions
from tests.ops.asset_graph import _partitions
from tests.ops.services import REPO

SNAPSHOT = Path(__file__).parent / "snapshots" / "asset_graph.json"
GROUPS = {"ingest", "clean", "features", "model", "reports", "settlement"}


@pytest.fixture(scope="module")
def description(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    tmp = tmp_path_factory.mktemp("asset-graph")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("METER_", "DAGSTER_"))}
    env |= {"METER_WAREHOUSE": str(tmp / "warehouse.duckdb"), "METER_REPORTS_DIR": str(tmp / "reports")}
    proc = subprocess.run(
        [sys.executable, "-m", "tests.ops.asset_graph"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr[-5000:]
    return json.loads(proc.stdout)


def test_matches_snapshot(description: dict[str, Any]):
    rendered = json.dumps(description, indent=2, sort_keys=True) + "\n"
    if os.environ.get("UPDATE_SNAPSHOTS") == "1" or not SNAPSHOT.exists():
        SNAPSHOT.parent.mkdir(parents=True, exist_ok=True)
        SNAPSHOT.write_text(rendered)
        if os.environ.get("UPDATE_SNAPSHOTS") != "1":
            pytest.fail(f"snapshot {SNAPSHOT} did not exist: written, review and commit it")
        return
    expected = json.loads(SNAPSHOT.read_text())
    assert description == expected, (
        "the asset graph changed; if intended: UPDATE_SNAPSHOTS=1 .venv/bin/pytest "
        "tests/ops/test_asset_graph_snapshot.py, then review and commit tests/ops/snapshots/asset_graph.json"
    )


def test_every_asset_is_documented_grouped_kinded_and_owned(description: dict[str, Any]):
    problems = []
    for key, asset in description["assets"].items():
        if not asset["has_description"]:
            problems.append(f"{key}: no description (docstring)")
        if asset["group"] not in GROUPS:
            problems.append(f"{key}: group {asset['group']!r} not in {sorted(GROUPS)}")
        if not asset["kinds"]:
            problems.append(f"{key}: no kinds")
        if not asset["owners"]:
            problems.append(f"{key}: no owners")
    assert problems == []


def test_partitioned_assets_are_monthly_with_single_run_backfills(description: dict[str, Any]):
    monthly = _partitions(monthly_partitions)
    partitioned = {k: a for k, a in description["assets"].items() if a["partitions"] is not None}
    assert partitioned, "expected the monthly ingest/clean layer"
    problems = [
        f"{key}: partitions {a['partitions']!r}, backfill policy {a['backfill_policy']!r}"
        for key, a in partitioned.items()
        if a["partitions"] != monthly or a["backfill_policy"] != "single_run"
    ]
    assert problems == [], f"every partitioned asset must use {monthly!r} with a single_run backfill policy"


def test_no_asset_waits_for_a_pool_slot(description: dict[str, Any]):
    """Warehouse writers are kept apart by the run queue and the warehouse file lock, which the OS
    releases when a process dies. A Dagster pool slot is kept by a killed run, and every later run
    would wait for it forever (dagster.yaml, tests/ops/test_crash_recovery.py)."""
    in_pools = [k for k, a in description["assets"].items() if a["pools"]]
    assert in_pools == []


def test_automation_is_registered(description: dict[str, Any]):
    assert description["schedules"]["monthly_resegmentation_schedule"] == {
        "cron": "0 3 2 * *",
        "timezone": "UTC",
        "job": "monthly_resegmentation",
        "default_status": "STOPPED",
    }
    assert description["sensors"]["source_files_sensor"]["jobs"] == ["ingest_and_clean"]
    monthly = {k for k, a in description["assets"].items() if a["partitions"] is not None}
    assert monthly <= set(description["jobs"]["monthly_resegmentation"]["assets"])
