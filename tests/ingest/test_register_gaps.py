"""Register gaps on the real LCL sample: a household the register lacks keeps the tariff group and Acorn
its own 6-column file carries (register_source 'readings_file'); one whose Kaggle file carries nothing
is named as not in the register; where register and file disagree the register wins, counted."""

from __future__ import annotations

import shutil
from datetime import date
from pathlib import Path

import polars as pl
import pytest

from assets.common.table_model import validate
from assets.ingest import households as hh
from assets.ingest.raw_ingest import RAW_TABLE, load_raw_readings
from assets.ingest.schemas.households import Households
from assets.ingest.source_files import discover, of_kind

READINGS_ONLY = {"MAC000897": "Std", "MAC001410": "ToU", "MAC003903": "ToU"}  # lds_acorn_6col, ACORN-B Affluent
CONFLICT = "MAC004567"  # lds_acorn_6col file says ACORN-B,Affluent; our register says ACORN-F,Comfortable
KAGGLE_UNREGISTERED = "MAC000002"  # kaggle_2013: LCLid,tstp,energy only


@pytest.fixture(scope="module")
def source(lcl_sample: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    src = tmp_path_factory.mktemp("register_gaps")
    for household in [*READINGS_ONLY, CONFLICT]:
        (src / "readings").mkdir(exist_ok=True)
        shutil.copy(lcl_sample / "readings" / "lds_acorn_6col" / f"{household}.csv.gz", src / "readings")
    shutil.copy(lcl_sample / "readings" / "kaggle_2013" / f"{KAGGLE_UNREGISTERED}.csv.gz", src / "readings")
    lines = (lcl_sample / "households" / "informations_households.csv").read_text().splitlines()
    dropped = {*READINGS_ONLY, KAGGLE_UNREGISTERED}
    kept = [ln for ln in lines if ln.split(",")[0] not in dropped]
    kept = [f"{CONFLICT},Std,ACORN-F,Comfortable,block_x" if ln.startswith(CONFLICT + ",") else ln for ln in kept]
    assert len(kept) == len(lines) - len(dropped)
    (src / "households").mkdir()
    (src / "households" / "informations_households.csv").write_text("\n".join(kept) + "\n")
    return src


@pytest.fixture(scope="module")
def built(source: Path, tmp_path_factory: pytest.TempPathFactory):
    from assets.common.warehouse import WarehouseSettings, connect

    path = tmp_path_factory.mktemp("register_gaps_wh") / "warehouse.duckdb"
    with connect(WarehouseSettings(path, memory_limit="1GB")) as con:
        files = discover(source)
        load_raw_readings(con, of_kind(files, "readings"), date(2013, 1, 1), date(2013, 2, 1))
        registered = [hh.read_household_file(f.path, f.relative) for f in of_kind(files, "households")]
        per_household = hh.readings_households(con, RAW_TABLE)
        acorn = hh.read_acorn(source, hh.acorn_lines(con, RAW_TABLE))
    table, stats = hh.build_households(registered, hh.seen_with_group(per_household, acorn))
    return validate(Households, table, "ingest.households"), stats, hh.not_in_register(per_household, table)


def test_a_household_the_register_lacks_keeps_group_and_acorn_from_its_own_file(built):
    table, stats, _ = built
    rows = table.filter(pl.col("household_id").is_in(list(READINGS_ONLY))).sort("household_id")
    assert rows.select("household_id", "tariff_group", "acorn", "acorn_group", "register_source").rows() == [
        (household, group, "ACORN-B", "Affluent", "readings_file") for household, group in READINGS_ONLY.items()
    ]
    assert rows["source_file"].to_list() == [f"readings:readings/{h}.csv.gz" for h in READINGS_ONLY]
    assert stats["from_readings_only"] == stats["from_readings_only_with_acorn"] == 3


def test_where_register_and_file_disagree_the_register_wins_and_it_is_counted(built):
    table, stats, _ = built
    row = table.filter(pl.col("household_id") == CONFLICT).row(0, named=True)
    assert (row["acorn"], row["acorn_group"], row["register_source"]) == ("ACORN-F", "Comfortable", "register")
    assert stats["acorn_conflicts_register_wins"] == 1
    assert stats["group_conflicts_register_wins"] == 0
    assert table.filter(pl.col("register_source") == "readings_file").height == 3


def test_a_kaggle_household_the_register_lacks_is_named_not_placed(built):
    table, _, unregistered = built
    assert KAGGLE_UNREGISTERED not in table["household_id"].to_list()
    assert unregistered["household_id"].to_list() == [KAGGLE_UNREGISTERED]
