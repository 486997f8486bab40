"""``METER_ENGINE=spark`` runs the whole graph: two months of the real sample through ingest, clean,
aggregates, features, model and reports, in a process of its own (tests/spark/whole_graph.py)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import REPO
from tests.spark.conftest import require_spark

pytestmark = [pytest.mark.spark, pytest.mark.slow, pytest.mark.real_data]


@pytest.mark.timeout(3700)
def test_whole_graph_runs_on_spark(lcl_sample: Path, tmp_path: Path):
    require_spark()
    done = subprocess.run(
        [sys.executable, "-m", "tests.spark.whole_graph", str(tmp_path), str(lcl_sample), "2012-12-01", "2013-01-01"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=3600,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    assert done.returncode == 0 and lines, done.stderr[-5000:]
    result = json.loads(lines[-1].removeprefix("RESULT "))
    # the half-hourly clean tables exist only in the lake: every later layer read them there
    assert "clean" not in result["warehouse_schemas"], result
    assert result["lake_clean_months"] == ["reading_month=2012-12-01", "reading_month=2013-01-01"], result
    counts = result["counts"]
    assert counts["features.household_features"] >= 200, counts
    assert counts["features.treatment_features"] >= 200, counts
    assert min(counts.values()) > 0, counts
    assert result["checks"] > 10 and not [c for c in result["failed_checks"] if c[3] != "AssetCheckSeverity.WARN"], (
        result
    )
    assert result["report_has_kw_profiles"], "the persona report's kW profiles (computed on Spark) are missing"
