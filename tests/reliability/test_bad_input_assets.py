"""The ingest and clean assets on bad input, through Dagster: odd ids never block the graph, every
file is balanced by the blocking conservation check, non-data files are listed."""

from __future__ import annotations

import codecs
from pathlib import Path

import dagster as dg
import duckdb

from assets.common.resources import MeterSource, ReportsDir, Warehouse
from pipelines.definitions import defs
from pipelines.engines import DuckDBEngine
from tests.lcl_files import lds_line, write_lines


def test_odd_ids_and_out_of_range_lines_do_not_block_households_or_clean(tmp_path: Path):
    src = tmp_path / "src"
    write_lines(
        src / "r.csv",
        [
            lds_line("MAC000001", "2013-01-10 00:30:00", "0.2"),
            lds_line("MAC 0002", "2013-01-10 00:30:00", "0.2"),
            lds_line("MAC000001", "2030-01-15 01:00:00", "0.2"),
            lds_line("MAC000003", "2013-01-10 01:00:00", "0.2", group="ToU"),
        ],
    )
    (src / "notes.txt").write_bytes(codecs.BOM_UTF16_LE + "not data\r\n".encode("utf-16-le"))
    database = tmp_path / "warehouse.duckdb"
    resources = {
        "warehouse": Warehouse(database=str(database)),
        "source": MeterSource(source_dir=str(src)),
        "reports": ReportsDir(path=str(tmp_path / "reports")),
        "engine": DuckDBEngine(),
    }
    definitions, instance = defs(), dg.DagsterInstance.ephemeral(tempdir=str(tmp_path / "home"))
    result = dg.materialize(
        definitions.assets,
        selection=dg.AssetSelection.assets("raw_readings", "clean_readings").required_multi_asset_neighbors(),
        resources=resources,
        instance=instance,
        partition_key="2013-01-01",
    )
    assert result.success
    register = dg.materialize(
        definitions.assets, selection=dg.AssetSelection.assets("households"), resources=resources, instance=instance
    )
    assert register.success
    assert all(c.passed for c in register.get_asset_check_evaluations())
    checks = {c.check_name + ":" + c.asset_key.to_user_string(): c for c in result.get_asset_check_evaluations()}
    assert all(c.passed for c in checks.values()), [k for k, c in checks.items() if not c.passed]
    conservation = checks["conservation:clean_readings"]
    assert conservation.metadata["files_checked"].value == 1
    raw = next(
        m
        for m in result.asset_materializations_for_node("raw_readings")
        if m.asset_key.to_user_string() == "raw_readings"
    )
    assert raw.metadata["ignored_files"].value == ["notes.txt"]
    with duckdb.connect(str(database), read_only=True) as con:
        assert con.execute("SELECT household_id FROM ingest.households ORDER BY 1").fetchall() == [
            ("MAC000001",),
            ("MAC000003",),
        ]
        rules = con.execute("SELECT source_line, rule_id FROM clean.quarantined_readings ORDER BY 1").fetchall()
    assert rules == [(2, "V10_INVALID_HOUSEHOLD_ID"), (3, "V11_OUT_OF_RANGE_TIMESTAMP")]


def test_a_new_unreadable_file_is_refused_by_the_asset_and_the_other_files_load(tmp_path: Path):
    """Through the asset and the engine resource: a corrupt gzip delivered beside a good file is refused
    (listed in ingest.refused_source_files, the source_files_readable check fails naming it), and the good
    file's month loads."""
    src = tmp_path / "src"
    write_lines(src / "good.csv", [lds_line("MAC000001", "2013-01-10 00:30:00", "0.2")])
    (src / "broken.csv.gz").write_bytes(b"\x1f\x8b\x08\x00 not really gzip")
    database = tmp_path / "warehouse.duckdb"
    resources = {
        "warehouse": Warehouse(database=str(database)),
        "source": MeterSource(source_dir=str(src)),
        "reports": ReportsDir(path=str(tmp_path / "reports")),
        "engine": DuckDBEngine(),
    }
    result = dg.materialize(
        defs().assets,
        selection=dg.AssetSelection.assets("raw_readings"),
        resources=resources,
        instance=dg.DagsterInstance.ephemeral(tempdir=str(tmp_path / "home")),
        partition_key="2013-01-01",
        raise_on_error=False,
    )
    assert result.success
    (readable,) = [c for c in result.get_asset_check_evaluations() if c.check_name == "source_files_readable"]
    assert not readable.passed and "broken.csv.gz" in readable.description
    with duckdb.connect(str(database), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM ingest.raw_readings").fetchone()[0] == 1
        refused = con.execute("SELECT source_file FROM ingest.refused_source_files").fetchall()
    assert refused == [("broken.csv.gz",)]
