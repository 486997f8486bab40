"""Seeded fuzz: damage a few hundred lines of real LCL sample files in random ways, run ingest +
clean twice, and check that every physical line is accounted for (per file and per month) and that
the second run gives exactly the same tables."""

from __future__ import annotations

import gzip
import random
from datetime import date
from pathlib import Path

import duckdb
import pytest

from assets.clean.clean_readings import BALANCE_TABLE, CLEAN_TABLE, COVERAGE_TABLE, QUARANTINE_TABLE, clean_window
from assets.common.sql import qualified_name
from assets.ingest.raw_ingest import RAW_TABLE, load_raw_readings
from assets.ingest.source_files import discover, of_kind

pytestmark = pytest.mark.real_data  # reads (and damages copies of) real sample files: not in make test-fast

SEED = 20261129
START, END = date(2011, 11, 1), date(2014, 3, 1)
TABLES = (RAW_TABLE, CLEAN_TABLE, QUARANTINE_TABLE, COVERAGE_TABLE, BALANCE_TABLE)
ODD_BYTES = ("\x00", "\x01", "\x7f", "é", "\u00a0", '"', "\t")
DAMAGES = (
    "truncate",
    "extra_fields",
    "garbage_stamp",
    "out_of_range_stamp",
    "odd_id",
    "odd_byte",
    "blank_line",  # and, at the end of a file, a missing final newline or a cut last line
    "exact_duplicate",
    "conflicting_duplicate",
)


def _damage_file(text: str, rng: random.Random, n_damaged: int, layout_fields: int) -> tuple[str, dict[int, str]]:
    """The damaged text and {1-based line number: damage} of the lines whose fate the test knows."""
    lines = text.rstrip("\n").split("\n")
    has_header = lines[0].lower().startswith("lclid")
    first_data = 1 if has_header else 0
    # never the first 25 data lines: the layout of a header-less file is voted on from them
    chosen = dict.fromkeys(rng.sample(range(first_data + 25, len(lines)), n_damaged))
    for i in chosen:
        chosen[i] = rng.choice(DAMAGES)
    ts_field = 1 if layout_fields == 3 else 2
    out: list[str] = []
    known: dict[int, str] = {}
    for i, line in enumerate(lines):
        damage = chosen.get(i)
        fields = line.split(",")
        if damage == "truncate":
            line = line[: rng.randrange(1, max(2, len(line) - 1))]
        elif damage == "extra_fields":
            line = line + ",x" * rng.randint(1, 3)
            known[len(out) + 1] = "V01_MALFORMED_LINE"
        elif damage == "garbage_stamp":
            fields[ts_field] = rng.choice(["", "2013-13-45 99:99:99", "yesterday", "20130101", "Null"])
            line = ",".join(fields)
            known[len(out) + 1] = "V03_BAD_TIMESTAMP"
        elif damage == "out_of_range_stamp":
            fields[ts_field] = rng.choice(["2030-01-15 00:30:00", "2010-06-01 00:00:00", "2016-03-01 12:00:00"])
            line = ",".join(fields)
            known[len(out) + 1] = "V11_OUT_OF_RANGE_TIMESTAMP"
        elif damage == "odd_id":
            pos = rng.randrange(1, len(fields[0]))
            fields[0] = fields[0][:pos] + rng.choice([" ", "'", '"', "\x00", "é"]) + fields[0][pos:]
            line = ",".join(fields)
            known[len(out) + 1] = "V10_INVALID_HOUSEHOLD_ID"
        elif damage == "odd_byte":
            pos = rng.randrange(0, len(line) + 1)
            line = line[:pos] + rng.choice(ODD_BYTES) + line[pos:]
        elif damage == "blank_line":
            out.append(rng.choice(["", " ", "\r"]))
            known[len(out)] = "V01_MALFORMED_LINE"
        elif damage == "exact_duplicate":
            out.append(line)
        elif damage == "conflicting_duplicate":
            copy = fields.copy()
            copy[ts_field + 1] = " 9.999 "
            out.append(",".join(copy))
        out.append(line)
    ending = "" if rng.random() < 0.5 else "\n"  # half the files lose their final newline
    if not ending and rng.random() < 0.7:  # ... and most of those a few characters of their last line
        out[-1] = out[-1][: -rng.randint(1, 4)]
        known[len(out)] = "V12_TRUNCATED_LAST_LINE"
    return "\n".join(out) + ending, known


def _physical_data_lines(path: Path) -> int:
    data = path.read_bytes()
    text = (gzip.decompress(data) if path.suffix == ".gz" else data).decode("utf-8")
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    return len(lines) - (1 if lines[0].lower().startswith("lclid") else 0)


@pytest.fixture(scope="module")
def damaged_sample(lcl_sample: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    rng = random.Random(SEED)
    src = tmp_path_factory.mktemp("fuzz") / "src"
    picks = sorted((lcl_sample / "readings" / "kaggle_2013").glob("*.csv.gz"))[:4]
    picks += sorted((lcl_sample / "readings" / "lds_acorn_6col").glob("*.csv.gz"))[:2]
    known: dict[tuple[str, int], str] = {}
    for n, path in enumerate(picks):
        text = gzip.decompress(path.read_bytes()).decode("utf-8")
        layout_fields = 3 if "kaggle" in path.parent.name else 6
        damaged, lines = _damage_file(text, rng, 50, layout_fields)
        relative = f"{path.parent.name}/{path.name}" if n % 2 else f"{path.parent.name}/{path.name[:-3]}"
        target = src / relative
        target.parent.mkdir(parents=True, exist_ok=True)
        data = damaged.encode("utf-8")
        target.write_bytes(gzip.compress(data) if relative.endswith(".gz") else data)
        known |= {(relative, line): rule for line, rule in lines.items()}
    return src, known


def _snapshot(con: duckdb.DuckDBPyConnection) -> dict[str, list]:
    return {t: sorted(map(repr, con.execute(f"SELECT * FROM {qualified_name(t)}").fetchall())) for t in TABLES}


def test_damaged_real_files_are_conserved_per_file_and_month_and_rerun_identically(con, damaged_sample):
    src, known = damaged_sample
    files = of_kind(discover(src), "readings")
    assert len(files) == 6
    expected_lines = {f.relative: _physical_data_lines(f.path) for f in files}
    snapshots = []
    for _ in range(2):
        load_raw_readings(con, files, START, END)
        result = clean_window(con, START, END)
        failing_months = [c for c in result.conservation if not c.holds]
        assert result.conservation and not failing_months
        by_file = {f.source_file: f for f in result.file_conservation}
        assert {name: f.raw_rows for name, f in by_file.items()} == expected_lines  # every physical line stored
        assert {name: f.lines_in_file for name, f in by_file.items()} == expected_lines  # ingest counted them all
        assert [f for f in by_file.values() if not f.holds] == []
        snapshots.append(_snapshot(con))
    assert snapshots[0] == snapshots[1]

    quarantine = {
        (f, n): rule
        for f, n, rule in con.execute(
            f"SELECT source_file, source_line, rule_id FROM {qualified_name(QUARANTINE_TABLE)}"
        ).fetchall()
    }
    assert len(known) > 100
    assert {key: quarantine.get(key) for key in known} == known  # each known damage under its own rule
    # the balance table is the queryable per-file form of the check
    ((files_in_balance,),) = con.execute(
        f"SELECT count(DISTINCT source_file) FROM {qualified_name(BALANCE_TABLE)}"
    ).fetchall()
    assert files_in_balance == 6
