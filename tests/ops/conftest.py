"""Fixtures for the operations tests: one real webserver + daemon per session, loaded by the CLI.

The services are started once per session for tests/ops/test_backfills.py (starting them is slow;
the crash-recovery and browser tests still start their own: they need another source and config).
The fixture loads January-March 2013 once with ``dagster asset materialize --partition-range``
(test (a) checks that run).
"""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.ops.services import BIN, INGEST_CLEAN_ASSETS, MONTHS, REPO, DagsterServices, write_source

RUNS_QUERY = """
query { runsOrError(limit: 1000) { ... on Runs { results {
  runId status jobName startTime endTime tags { key value } } } } }"""


def all_runs(services: DagsterServices) -> list[dict]:
    results = services.client.execute(RUNS_QUERY)["runsOrError"]["results"]
    return [{**r, "tags": {t["key"]: t["value"] for t in r["tags"]}} for r in results]


@dataclass
class CliLoad:
    returncode: int
    output: str
    seconds: float
    runs_before: set[str]
    new_runs: list[dict]


@dataclass
class LoadedServices:
    services: DagsterServices
    files: dict[str, Path]
    cli: CliLoad


def cli_materialize(services: DagsterServices, select: str, partition_range: str | None = None, timeout: float = 180):
    args = [str(BIN / "dagster"), "asset", "materialize", "-m", "pipelines.definitions", "--select", select]
    if partition_range:
        args += ["--partition-range", partition_range]
    return subprocess.run(args, cwd=REPO, env=services.env, capture_output=True, text=True, timeout=timeout)


@pytest.fixture(scope="session")
def loaded_services(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LoadedServices]:
    services = DagsterServices(tmp_path_factory.mktemp("dagster-services"))
    # the source-files sensor (STOPPED unless a test starts it: test_operations_daemon.py) ticks every 5 s
    services.prepare({"METER_SENSOR_INTERVAL_SECONDS": "5"})
    files = write_source(services.source)
    try:
        services.start(daemon=True)
        before = {r["runId"] for r in all_runs(services)}
        started = time.monotonic()
        proc = cli_materialize(services, ",".join(INGEST_CLEAN_ASSETS), f"{MONTHS[0]}...{MONTHS[-1]}")
        seconds = time.monotonic() - started
        new_runs = [r for r in all_runs(services) if r["runId"] not in before]
        cli = CliLoad(proc.returncode, proc.stdout + proc.stderr, seconds, before, new_runs)
        yield LoadedServices(services, files, cli)
    finally:
        services.stop()
