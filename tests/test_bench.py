"""`make bench` (pipelines/tooling/bench.py): the harness end to end on a tiny data set, the bare scan, the
held-back month and the ratios. No timing asserts: only that every number is measured and derived."""

import gzip
import json
from datetime import date
from pathlib import Path

import pytest

from assets.synthetic.generate import generate
from pipelines.tooling import bench


def test_bench_months_hold_back_the_last_whole_month():
    assert bench.bench_months(date(2012, 1, 1), date(2014, 1, 1)) == (
        date(2012, 1, 1),
        date(2013, 11, 1),
        date(2013, 12, 1),
    )
    assert bench.bench_months(date(2012, 1, 15), date(2012, 3, 1)) == (
        date(2012, 1, 1),
        date(2012, 1, 1),
        date(2012, 2, 1),
    )
    with pytest.raises(SystemExit, match="two months"):
        bench.bench_months(date(2012, 1, 1), date(2012, 2, 1))


def test_bare_scan_parses_every_line_of_every_file_gzip_included(tmp_path: Path):
    folder = tmp_path / "source"
    summary = generate(folder, households=3, seed=3, start=date(2012, 1, 1), end=date(2012, 1, 8), gzip=True)
    files = [p for p in (folder / "readings").rglob("*") if p.is_file()]
    assert files and all(p.read_bytes()[:2] == b"\x1f\x8b" for p in files)  # every readings file is gzip
    groups = bench.scan_groups(folder)
    assert {compression for _, _, compression in groups} == {"gzip"}
    assert sum(len(f) for f in groups.values()) == len(files)

    scan = bench.bare_scan(folder, "1GB")

    assert scan["rows"] == summary.rows_written  # every line, faults included
    assert scan["households"] == 3
    assert scan["parsed_values"] == _numeric_values(files)


def _numeric_values(files: list[Path]) -> int:
    """Lines whose value field is a number (not Null, not a planted fault, not a header)."""
    numeric = 0
    for path in files:
        with gzip.open(path, "rt") as fh:
            lines = fh.read().splitlines()
        for line in lines:
            fields = line.split(",")
            if len(fields) in (3, 6):
                try:
                    float(fields[-1 if len(fields) == 3 else 3].strip())
                    numeric += 1
                except ValueError:
                    pass
    return numeric


@pytest.mark.parametrize("compress", [False, True])
def test_held_back_month_arrives_as_its_own_files(tmp_path: Path, compress: bool):
    """Like a utility's monthly delivery: the held-back month's lines leave the history files for new
    files (same layout, header, line endings, compression); no line is lost or duplicated and the
    planted-fault ground truth still points at each fault's line."""
    import polars as pl

    folder = tmp_path / "source"
    generate(folder, households=4, seed=3, start=date(2012, 1, 1), end=date(2012, 3, 1), gzip=compress)

    def lines(path: Path) -> list[str]:
        opener = gzip.open if compress else open
        with opener(path, "rb") as fh:
            return fh.read().decode().splitlines()

    before = {p.relative_to(folder).as_posix(): lines(p) for p in (folder / "readings").rglob("*") if p.is_file()}
    delivery = bench.split_monthly_delivery(folder, date(2012, 2, 1))

    after = {p.relative_to(folder).as_posix(): lines(p) for p in (folder / "readings").rglob("*") if p.is_file()}
    new = {name: body for name, body in after.items() if name not in before}
    headers = sum(1 for body in new.values() if not body[0].startswith("MAC"))
    assert delivery == {
        "delivery_month": "2012-02",
        "delivery_files": len(new),
        "delivery_lines": sum(len(body) for body in new.values()) - headers,
    }
    assert len(new) == len(before) and all(bench.MONTH_FILE_SUFFIX + "2012-02" in name for name in new)
    for name, body in before.items():
        stem = name.removesuffix(".gz").removesuffix(".csv")
        [(_, delivered)] = [(n, b) for n, b in new.items() if n.startswith(stem + bench.MONTH_FILE_SUFFIX)]
        kept = after[name]
        has_header = not body[0].startswith("MAC")
        assert (kept[0] == delivered[0] == body[0]) if has_header else True
        # every line once, in its original order within each file
        assert sorted(kept[has_header:] + delivered[has_header:]) == sorted(body[has_header:])
        assert not any(",2012-02" in ln or ",2012-03" in ln for ln in kept)
        assert all(",2012-02" in ln or ",2012-03" in ln for ln in delivered[has_header:])
        with (gzip.open if compress else open)(folder / name, "rb") as fh:
            assert (b"\r\n" in fh.read()) == ("kaggle" not in name)
    faults = pl.read_csv(folder / "ground_truth" / "faults.csv", infer_schema=False)
    assert faults.height > 0
    for row in faults.iter_rows(named=True):
        if row["source_line"]:
            assert row["reading_ts_text"] in after[row["source_file"]][int(row["source_line"]) - 1], row
    assert faults["source_file"].str.contains(bench.MONTH_FILE_SUFFIX).any()  # some faults moved with their lines


def test_summary_ratios_are_computed_against_the_scan():
    results = [
        {"stage": "generate", "seconds": 7.0, "rows": 10, "peak_rss_mib": 1.0},
        {"stage": "scan", "seconds": 2.0, "rows": 10, "peak_rss_mib": 1.0},
        *({"stage": s, "seconds": 4.0, "rows": 10, "peak_rss_mib": 2.0} for s in bench.GRAPH_STAGES),
        *({"stage": s, "seconds": 1.0, "rows": 1, "peak_rss_mib": 3.0} for s in bench.MONTH_STAGES),
    ]
    summary = bench.summarise(results, {"end": 5})
    assert [r["ratio_to_scan"] for r in results[:3]] == [None, 1.0, 2.0]
    n = len(bench.GRAPH_STAGES)
    assert summary["graph"]["seconds"] == 4.0 * n and summary["graph"]["ratio_to_scan"] == 2.0 * n
    assert summary["graph"]["peak_rss_mib"] == 2.0
    assert summary["settlement_to_features"] == 1.0
    assert summary["month"]["seconds"] == 1.0 * n and summary["month"]["ratio_to_full_run"] == 0.25
    assert summary["month"]["peak_rss_mib"] == 3.0


@pytest.mark.slow  # 12 child processes and the model's fixed cost: minutes
def test_bench_runs_every_stage_of_the_whole_graph(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    root = tmp_path / "bench"
    # 16 households: more than the model's fitting gate (10); a small K sweep keeps the model quick.
    argv = ["--households", "16", "--seed", "5", "--results", str(tmp_path / "results")]
    argv += ["--data", str(root / "source"), "--warehouse", str(root / "warehouse.duckdb")]
    argv += ["--reports", str(root / "reports"), "--cluster-config", json.dumps({"k_max": 3, "persona_k_max": 2})]

    assert bench.main(argv) == 0

    out = capsys.readouterr().out
    [results_file] = (tmp_path / "results").glob("*.json")
    report = json.loads(results_file.read_text())
    results = {r["stage"]: r for r in report["results"]}
    assert list(results) == list(bench.ALL_STAGES)
    scan = results["scan"]
    startup = results.pop("startup")  # not a data stage: no rows, no ratio to the scan
    assert startup["ratio_to_scan"] is None and startup["jobs"] >= 2
    assert startup["code_location_load_seconds"] > 0 and startup["run_start_seconds"] > 0
    assert report["summary"]["startup"]["load_and_start_seconds"] == pytest.approx(
        startup["code_location_load_seconds"] + startup["run_start_seconds"], abs=0.002
    )
    assert "code location load" in out and "run start" in out
    for stage, r in results.items():
        assert r["rows"] > 0 and r["seconds"] > 0 and r["peak_rss_mib"] > 0, stage
        assert r["rows_per_second"] == pytest.approx(r["rows"] / r["seconds"], rel=0.01, abs=0.1), stage
        expected = None if stage == "generate" else round(r["seconds"] / scan["seconds"], 2)
        assert r["ratio_to_scan"] == expected, stage
        assert stage in out
    # The scan reads every generated line; ingest loads all months but the held-back one (and the
    # sliver of the month after the last generated day), the increment exactly that month.
    assert scan["rows"] == results["generate"]["rows"]
    assert results["ingest"]["months"] == "2012-01..2013-11" and results["month-ingest"]["months"] == "2013-12..2013-12"
    assert 0 < results["month-ingest"]["rows"] < results["ingest"]["rows"] < scan["rows"]
    assert results["month-clean"]["rows"] <= results["month-ingest"]["rows"]
    assert results["month-features"]["rows"] > results["features"]["rows"]  # the new month is in the features' input
    summary = report["summary"]
    graph_seconds = sum(results[s]["seconds"] for s in bench.GRAPH_STAGES)
    assert summary["graph"]["seconds"] == round(graph_seconds, 2)
    assert summary["graph"]["ratio_to_scan"] == round(graph_seconds / scan["seconds"], 2)
    month_seconds = sum(results[s]["seconds"] for s in bench.MONTH_STAGES)
    assert summary["month"]["ratio_to_full_run"] == round(month_seconds / summary["graph"]["seconds"], 3)
    assert summary["warehouse_bytes"]["end"] > summary["warehouse_bytes"]["full_run"] > 0
    assert results["ingest"]["table_rows"]["raw_readings"] == results["ingest"]["rows"]  # one count per table
    assert report["machine"]["cores"] >= 1 and len(report["machine"]["load_average_before"]) == 3
    assert "whole graph (ingest..settlement)" in out and "monthly increment" in out
