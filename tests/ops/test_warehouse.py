"""The warehouse resource: stock DuckDBResource API, settings as configuration (never SQL text), the
writer lock (waits, logs who holds it, can be interrupted), and the ``schema`` asset checks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import dagster as dg
import duckdb
import polars as pl
import pytest
from dagster_duckdb import DuckDBResource

import pipelines.definitions
from assets.common.resources import MeterSource, ReportsDir, Warehouse
from assets.common.warehouse import read_table, replace_table, warehouse_lock
from pipelines.engines import DuckDBEngine
from pipelines.resources import resources_from_env
from tests.ops.services import INGEST_CLEAN_ASSETS, MONTHS, REPO, rows_by_month, write_source

ODD_NAME = 'it\'s a "warehouse"; DROP TABLE x; --.duckdb'


@pytest.fixture(scope="module")
def defs() -> dg.Definitions:
    return pipelines.definitions.defs()


def test_warehouse_is_a_duckdb_resource_configured_by_env_vars(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("METER_WAREHOUSE", "/somewhere/w.duckdb")
    monkeypatch.setenv("METER_SOURCE_DIR", "/somewhere/source")
    monkeypatch.setenv("METER_REPORTS_DIR", "/somewhere/reports")
    monkeypatch.setenv("METER_SYNTHETIC_HOUSEHOLDS", "12")
    resources = resources_from_env()
    warehouse = resources["warehouse"]
    assert isinstance(warehouse, DuckDBResource)
    assert isinstance(warehouse.database, dg.EnvVar) and warehouse.database.env_var_name == "METER_WAREHOUSE"
    assert warehouse.path == Path("/somewhere/w.duckdb")
    assert isinstance(resources["source"].source_dir, dg.EnvVar)
    assert isinstance(resources["reports"].path, dg.EnvVar)
    assert resources["source"].synthetic_households.env_var_name == "METER_SYNTHETIC_HOUSEHOLDS"
    assert set(warehouse.connection_config) >= {"memory_limit", "threads", "preserve_insertion_order"}


def test_documented_defaults_when_nothing_is_set(monkeypatch: pytest.MonkeyPatch):
    for name in ("METER_WAREHOUSE", "METER_SOURCE_DIR", "METER_REPORTS_DIR", "METER_SYNTHETIC_HOUSEHOLDS"):
        monkeypatch.delenv(name, raising=False)
    resources = resources_from_env()
    assert resources["warehouse"].database == "data/warehouse.duckdb"
    assert resources["source"].is_synthetic and resources["source"].synthetic_households == 300
    assert resources["reports"].path == "reports"


def test_settings_reach_duckdb_as_configuration(tmp_path: Path):
    database = tmp_path / ODD_NAME
    warehouse = Warehouse(database=str(database), connection_config={"memory_limit": "512MB", "threads": 1})
    with warehouse.get_connection() as con:
        settings = dict(
            con.sql(
                "SELECT name, value FROM duckdb_settings() WHERE name IN "
                "('TimeZone', 'temp_directory', 'threads', 'preserve_insertion_order')"
            ).fetchall()
        )
    assert settings == {
        "TimeZone": "UTC",
        "temp_directory": str(database) + ".tmp",
        "threads": "1",
        "preserve_insertion_order": "false",
    }
    assert database.exists()


def test_ingest_and_clean_with_an_apostrophe_and_quotes_in_the_warehouse_path(defs: dg.Definitions, tmp_path: Path):
    folder = tmp_path / "source"
    write_source(folder)
    warehouse = tmp_path / 'odd dir\'s "x"' / ODD_NAME
    result = defs.resolve_job_def("ingest_and_clean").execute_in_process(
        resources={"warehouse": Warehouse(database=str(warehouse)), "source": MeterSource(source_dir=str(folder))},
        instance=dg.DagsterInstance.ephemeral(tempdir=str(tmp_path / "dagster_home")),
        tags={"dagster/asset_partition_range_start": MONTHS[0], "dagster/asset_partition_range_end": MONTHS[-1]},
    )
    assert result.success
    assert set(rows_by_month(warehouse, "clean.clean_readings")) == set(MONTHS)
    checks = {(e.asset_key.to_user_string(), e.check_name): e.passed for e in result.get_asset_check_evaluations()}
    assert {a: checks.get((a, "schema")) for a in INGEST_CLEAN_ASSETS} == dict.fromkeys(INGEST_CLEAN_ASSETS, True)


def test_replace_and_read_quote_identifiers(tmp_path: Path):
    frame = pl.DataFrame({"a": [1, 2]})
    with Warehouse(database=str(tmp_path / "w.duckdb")).get_connection() as con:
        replace_table(con, 'odd schema.ta"ble; DROP', frame)
        assert read_table(con, 'odd schema.ta"ble; DROP').equals(frame)
        with pytest.raises(duckdb.CatalogException):
            read_table(con, "odd schema.ta")


def test_every_table_asset_has_a_blocking_schema_check(defs: dg.Definitions):
    graph = defs.resolve_asset_graph()
    tables = [k for k in graph.materializable_asset_keys if "duckdb" in graph.get(k).kinds]
    # every DuckDB table asset: comparison_balance, the 4 feature aggregates, placebo_draws, response_checks,
    # and settlement's 7 tables (the monthly event-day windows and the six settlement tables)
    assert len(tables) == 34
    missing = [
        k.to_user_string()
        for k in tables
        if dg.AssetCheckKey(k, "schema") not in graph.asset_check_keys
        or not graph.get_check_spec(dg.AssetCheckKey(k, "schema")).blocking
    ]
    assert missing == []


def test_invalid_table_is_not_stored_and_the_check_records_why(
    defs: dg.Definitions, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    import assets.ingest.tariff_schedule as tariffs

    folder = tmp_path / "source"
    write_source(folder)
    good_loader = tariffs.load_tariff_schedule

    def bad_loader(files):
        schedule, chosen = good_loader(files)
        return schedule.with_columns(pl.lit("Medium").alias("band")), chosen

    monkeypatch.setattr(tariffs, "load_tariff_schedule", bad_loader)
    warehouse = tmp_path / "w.duckdb"
    result = dg.materialize(
        defs.assets,
        selection=dg.AssetSelection.assets("tariff_schedule"),
        resources={
            "warehouse": Warehouse(database=str(warehouse)),
            "source": MeterSource(source_dir=str(folder)),
            "reports": ReportsDir(path=str(tmp_path / "reports")),
            "engine": DuckDBEngine(),
        },
        instance=dg.DagsterInstance.ephemeral(tempdir=str(tmp_path / "dagster_home")),
        raise_on_error=False,
    )
    assert not result.success
    [evaluation] = result.get_asset_check_evaluations()
    assert (evaluation.check_name, evaluation.passed) == ("schema", False)
    assert evaluation.metadata["num_failures"].value > 0
    assert "band" in evaluation.metadata["failure_sample"].value
    assert not warehouse.exists()  # validated before the warehouse was even opened


WAITER = """
import sys
from pathlib import Path
from assets.common.warehouse import connect_exclusive, connection_config
db = Path(sys.argv[1])
with connect_exclusive(db, connection_config(db), poll_s=0.2, log=lambda m: print(m, flush=True)):
    print("acquired", flush=True)
"""


def _waiter(database: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", WAITER, str(database)], cwd=REPO, stdout=subprocess.PIPE, text=True)


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_a_waiting_writer_logs_the_holder_and_can_be_interrupted(tmp_path: Path, sig: signal.Signals):
    database = tmp_path / "w.duckdb"
    with warehouse_lock(database), _waiter(database) as proc:
        try:
            line = proc.stdout.readline()
            assert f"waiting for the warehouse lock held by pid {os.getpid()}" in line
            assert proc.poll() is None
            proc.send_signal(sig)
            # the lock is still held: without the signal the waiter would wait for ever, so exiting at all
            # (the timeout only bounds a broken run; no timing assert: CI machines are loaded) is the proof
            proc.wait(timeout=120)
            assert proc.returncode != 0
            assert "acquired" not in proc.stdout.read()
        finally:
            if proc.poll() is None:
                proc.kill()


def test_a_waiting_writer_proceeds_when_the_lock_is_released(tmp_path: Path):
    database = tmp_path / "w.duckdb"
    with warehouse_lock(database):
        proc = _waiter(database)
        first = proc.stdout.readline()
    with proc:
        out, _ = proc.communicate(timeout=30)
    assert "waiting for the warehouse lock" in first
    assert proc.returncode == 0 and "acquired" in out
