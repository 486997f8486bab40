"""Same arguments -> byte-identical files; gzip output decompresses to the plain files."""

from __future__ import annotations

import gzip
from datetime import date
from pathlib import Path

from assets.synthetic.generate import generate

ARGS = {
    "households": 14,
    "seed": 5,
    "start": date(2012, 12, 28),
    "end": date(2013, 1, 6),
    "households_per_block": 4,
}


def _tree(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_arguments_give_byte_identical_files(tmp_path: Path) -> None:
    a = generate(tmp_path / "a", **ARGS)
    b = generate(tmp_path / "b", **ARGS)
    tree_a, tree_b = _tree(tmp_path / "a"), _tree(tmp_path / "b")
    assert tree_a.keys() == tree_b.keys()
    assert set(tree_a) == set(a.files)
    for name in tree_a:
        assert tree_a[name] == tree_b[name], name
    assert a.rows_written == b.rows_written and a.faults_by_kind == b.faults_by_kind


def test_regenerating_into_the_same_folder_replaces_readings(tmp_path: Path) -> None:
    generate(tmp_path / "x", **{**ARGS, "households": 20})
    summary = generate(tmp_path / "x", **ARGS)
    assert set(_tree(tmp_path / "x")) == set(summary.files), "no stale block files of the bigger run"


def test_other_seed_gives_other_data(tmp_path: Path) -> None:
    generate(tmp_path / "a", **ARGS)
    generate(tmp_path / "c", **{**ARGS, "seed": 6})
    assert (tmp_path / "a/readings/block_000.csv").read_bytes() != (tmp_path / "c/readings/block_000.csv").read_bytes()
    assert (tmp_path / "a/tariffs/Tariffs.csv").read_bytes() != (tmp_path / "c/tariffs/Tariffs.csv").read_bytes()


def test_gzip_is_deterministic_and_holds_the_same_bytes(tmp_path: Path) -> None:
    plain = generate(tmp_path / "plain", **ARGS)
    gz1 = generate(tmp_path / "gz1", **ARGS, gzip=True)
    generate(tmp_path / "gz2", **ARGS, gzip=True)
    assert _tree(tmp_path / "gz1") == _tree(tmp_path / "gz2")
    readings = [f for f in plain.files if f.startswith("readings/")]
    assert sorted(f + ".gz" for f in readings) == sorted(f for f in gz1.files if f.startswith("readings/"))
    for rel in readings:
        assert (
            gzip.decompress((tmp_path / "gz1" / (rel + ".gz")).read_bytes()) == (tmp_path / "plain" / rel).read_bytes()
        )
    # same line numbers, file names with .gz
    plain_faults = (tmp_path / "plain/ground_truth/faults.csv").read_text()
    gz_faults = (tmp_path / "gz1/ground_truth/faults.csv").read_text()
    assert gz_faults == plain_faults.replace(".csv,", ".csv.gz,")


def test_household_series_do_not_depend_on_block_size(tmp_path: Path) -> None:
    from tests.synthetic.conftest import readings_frame

    generate(tmp_path / "b4", **{**ARGS, "households_per_block": 4}, faults=False)
    generate(tmp_path / "b50", **{**ARGS, "households_per_block": 50}, faults=False)
    a = readings_frame(tmp_path / "b4").sort("household_id", "ts")
    b = readings_frame(tmp_path / "b50").sort("household_id", "ts")
    assert a.equals(b)
