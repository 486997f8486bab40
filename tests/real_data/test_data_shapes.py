"""The data-shape matrix: real utility data is not shaped like the LCL sample.

Each test cuts a source folder from the real sample in one shape a utility's data comes in (no
pre-period, no controls, one month, other interval lengths, stuck meters, ...), runs the whole asset
graph on it through Dagster, and asserts the specific right outcome: the run completes and the report
says what could not be computed and why, or it stops at once with one sentence naming what is missing
and what to do. Never a library traceback, never a silently wrong number.
"""

from __future__ import annotations

import csv
import gzip
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from assets.common.resources import MeterSource, ReportsDir, Warehouse
from pipelines.definitions import defs
from pipelines.engines import DuckDBEngine
from pipelines.run_plan import materialize_in_order
from pipelines.tooling.demo import source_month_range
from tests.real_data import data_shapes as shapes

pytestmark = [pytest.mark.real_data, pytest.mark.slow]

N_STD, N_TOU = 24, 8  # enough households to segment (the model needs 11), small enough to run in seconds


@dataclass
class Outcome:
    success: bool
    failed_step: str | None
    message: str | None  # the failed step's error, innermost cause
    warehouse: Path
    reports: Path

    def con(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.warehouse), read_only=True)

    def report(self) -> str:
        return (self.reports / "persona_report.md").read_text()

    def targets(self) -> list[dict[str, str]]:
        with (self.reports / "dr_targets.csv").open(newline="") as fh:
            return list(csv.DictReader(fh))


def run_graph(source: Path, out: Path) -> Outcome:
    """The whole graph on ``source`` in the run plan's order, over the months its files cover."""
    warehouse, reports = out / "warehouse.duckdb", out / "reports"
    resources = {
        "warehouse": Warehouse(database=str(warehouse)),
        "source": MeterSource(source_dir=str(source)),
        "reports": ReportsDir(path=str(reports)),
        "engine": DuckDBEngine(),
    }
    instance = dg.DagsterInstance.ephemeral(tempdir=str(out / "dagster_home"))
    first, last = source_month_range(source)
    for result in materialize_in_order(defs(), resources, instance, first, last):
        if not result.success:
            failure = next(e for e in result.all_events if e.is_step_failure)
            if failure.step_failure_data.user_failure_data is not None:  # a dg.Failure: its description
                return Outcome(
                    False, failure.step_key, failure.step_failure_data.user_failure_data.description, warehouse, reports
                )
            error = failure.step_failure_data.error
            while error.cause is not None:
                error = error.cause
            return Outcome(False, failure.step_key, error.message.strip(), warehouse, reports)
    return Outcome(True, None, None, warehouse, reports)


@pytest.fixture(scope="module")
def households(lcl_sample: Path) -> dict[str, list[str]]:
    return {
        "Std": shapes.full_year_kaggle(lcl_sample, "Std", N_STD),
        "ToU": shapes.full_year_kaggle(lcl_sample, "ToU", 40),  # every ToU household with a full 2013
    }


def files(sample: Path, ids: list[str]) -> list[Path]:
    return [shapes.kaggle_file(sample, h) for h in ids]


def one_sentence(message: str) -> bool:
    """A refusal a person reads: one sentence, no traceback, no library exception text."""
    return "Traceback" not in message and message.count("\n") == 0 and message.rstrip().endswith(".")


def refusal(outcome: Outcome, step: str = "cluster_model") -> str:
    """The one sentence a stopped run gives (a dg.Failure's description: no traceback to read)."""
    assert not outcome.success, "the run should have stopped"
    assert outcome.failed_step == step, (outcome.failed_step, outcome.message)
    assert one_sentence(outcome.message), outcome.message
    return outcome.message


def test_trial_year_only_uses_all_controls_and_says_so(lcl_sample, households, tmp_path):
    """No pre-period (the Kaggle 2013 files alone): before, the features step crashed in the covariate
    balance (ColumnNotFoundError 'shape_s00'). Now every household uses the all-controls design, there is
    no balance table, and the report says why."""
    source = shapes.source_folder(
        lcl_sample, tmp_path / "source", files(lcl_sample, households["Std"] + households["ToU"][:N_TOU])
    )
    outcome = run_graph(source, tmp_path)
    assert outcome.success, outcome.message
    with outcome.con() as con:
        designs = con.sql("SELECT DISTINCT comparison_design FROM features.treatment_features").fetchall()
        balance = con.sql("SELECT count(*) FROM features.comparison_balance").fetchall()[0][0]
        measured = con.sql(
            "SELECT n_households FROM features.tariff_response_summary WHERE analysis = 'treatment' AND band = 'High' "
            "AND method = 'primary' AND window_kind = 'event' AND start_bucket = 'all' AND season = 'all'"
        ).fetchall()[0][0]
    assert designs == [("all_controls",)]
    assert balance == 0
    assert measured == N_TOU
    report = outcome.report()
    assert "No household has a pre-period (baseline-year) profile" in report
    assert "no covariate balance table" in report


def test_pre_period_only_is_refused_naming_coverage(lcl_sample, tmp_path):
    """2012 only (the 6-column files cut before 2013): 19 households, most of them installed in autumn
    2012. Before, the refusal blamed 'mean daily kWh >= 0.5'; now it names the real cause, coverage."""
    source = tmp_path / "source"
    shapes.source_folder(lcl_sample, source, [])
    for path in shapes.lds_files(lcl_sample):
        with gzip.open(path, "rt", newline="") as fh:
            lines = [line for line in fh.read().split("\r\n") if line and line.split(",")[2] < "2013"]
        with gzip.open(source / "readings" / path.name, "wt", newline="") as fh:
            fh.write("".join(f"{line}\r\n" for line in lines))
    text = refusal(run_graph(source, tmp_path))
    assert "at least 11 households" in text
    assert "of the 19 households with readings" in text
    assert "too little data in every lifestyle window" in text
    assert "mean daily kWh >= 0.5" not in text


def test_no_tou_households_rank_by_peak_load_and_say_so(lcl_sample, households, tmp_path):
    """No household on the dynamic tariff: before, every expected kW was 0.0 and the list came out in
    alphabetical order while the report said 'by peak load'. Now the expected kW is left empty and the list
    is ordered by the winter weekday peak load, and the report says why."""
    source = shapes.source_folder(lcl_sample, tmp_path / "source", files(lcl_sample, households["Std"]))
    outcome = run_graph(source, tmp_path)
    assert outcome.success, outcome.message
    targets = outcome.targets()
    loads = [float(t["peak_load_kw"]) for t in targets]
    assert loads == sorted(loads, reverse=True)
    assert [t["household"] for t in targets] != sorted(t["household"] for t in targets)
    assert {t["expected_kw"] for t in targets} == {""}
    assert {t["prediction_source"] for t in targets} == {"no response evidence"}
    report = outcome.report()
    assert "No household on the dynamic tariff (ToU) has enough data" in report
    assert f"ranks the {len(targets)} households by their winter weekday 16:00-20:00 peak load alone" in report


def test_only_tou_households_have_no_controls_and_say_so(lcl_sample, households, tmp_path):
    source = shapes.source_folder(lcl_sample, tmp_path / "source", files(lcl_sample, households["ToU"]))
    outcome = run_graph(source, tmp_path)
    assert outcome.success, outcome.message
    with outcome.con() as con:
        measured = con.sql("SELECT count(*) FROM features.treatment_features WHERE response_method <> 'none'")
        assert measured.fetchall()[0][0] == 0
    assert {t["expected_kw"] for t in outcome.targets()} == {""}
    report = outcome.report()
    assert "No control (flat-rate) household has enough data" in report
    assert "No household on the dynamic tariff" not in report


def test_no_tariff_schedule_completes_without_a_response(lcl_sample, households, tmp_path):
    """No schedule file: before, the run failed with FileNotFoundError; segmentation and the peak-load
    ranking need no schedule, so the run completes and says what the schedule would have given."""
    source = shapes.source_folder(
        lcl_sample,
        tmp_path / "source",
        files(lcl_sample, households["Std"] + households["ToU"][:N_TOU]),
        tariffs=False,
    )
    outcome = run_graph(source, tmp_path)
    assert outcome.success, outcome.message
    with outcome.con() as con:
        assert con.sql("SELECT count(*) FROM ingest.tariff_schedule").fetchall()[0][0] == 0
    assert "No tariff schedule with price events in the source" in outcome.report()
    assert {t["prediction_source"] for t in outcome.targets()} == {"no response evidence"}


@pytest.mark.parametrize("n", [5, 1])
def test_too_few_households_are_refused_in_one_sentence(lcl_sample, households, tmp_path, n):
    ids = (households["Std"][:3] + households["ToU"][:2])[:n]
    source = shapes.source_folder(lcl_sample, tmp_path / "source", files(lcl_sample, ids))
    text = refusal(run_graph(source, tmp_path))
    assert "at least 11 households with enough data" in text
    assert f"only {n} have it" in text
    assert "lower k_max" in text


def test_one_month_is_refused_naming_the_coverage(lcl_sample, households, tmp_path):
    """One month of readings (March 2013) against a year-long lifestyle window."""
    source = shapes.source_folder(lcl_sample, tmp_path / "source", [])
    for h in households["Std"] + households["ToU"][:N_TOU]:
        shapes.rewrite_kaggle(
            shapes.kaggle_file(lcl_sample, h), source / "readings" / f"{h}.csv.gz", shapes.only_month(2013, 3)
        )
    text = refusal(run_graph(source, tmp_path))
    assert f"of the {N_STD + N_TOU} households with readings, {N_STD + N_TOU} too little data" in text
    assert "the best covers 8% of its window; the gate is 80%" in text


def test_duplicate_delivery_changes_nothing(lcl_sample, households, tmp_path):
    """The same files delivered twice (a second folder): every copy is an exact duplicate, collapsed and
    counted; each household keeps one reading per half hour."""
    ids = households["Std"] + households["ToU"][:N_TOU]
    source = shapes.source_folder(lcl_sample, tmp_path / "source", files(lcl_sample, ids))
    redelivered = ids[:4]
    shapes.copy_readings(files(lcl_sample, redelivered), source, "readings/redelivered")
    outcome = run_graph(source, tmp_path)
    assert outcome.success, outcome.message
    lines = sum(len(shapes.read_kaggle(shapes.kaggle_file(lcl_sample, h))) for h in redelivered)
    with outcome.con() as con:
        collapsed, rows, distinct = con.execute(
            "SELECT sum(duplicate_rows), count(*), count(DISTINCT (household_id, interval_end_utc)) "
            "FROM clean.clean_readings WHERE quality_code = 'A' AND household_id IN (SELECT unnest($ids))",
            {"ids": redelivered},
        ).fetchall()[0]
        conflicts = con.sql("SELECT count(*) FROM clean.quarantined_readings").fetchall()[0][0]
    assert collapsed == lines  # every line of the second copy
    assert rows == distinct == lines
    assert conflicts == 0
    assert len(outcome.targets()) == len({t["household"] for t in outcome.targets()})


def test_stuck_and_all_zero_meters_are_kept_out_with_their_reason(lcl_sample, households, tmp_path):
    """A meter stuck at 10 kW (5 kWh every half hour) and an all-zero meter, cut from real files: before,
    the stuck meter was DR target #1 and the zero meter vanished without a reason."""
    ids = households["Std"] + households["ToU"][:N_TOU]
    stuck, zero = households["Std"][0], households["Std"][1]
    source = shapes.source_folder(lcl_sample, tmp_path / "source", files(lcl_sample, ids[2:]))
    shapes.rewrite_kaggle(
        shapes.kaggle_file(lcl_sample, stuck), source / "readings" / f"{stuck}.csv.gz", shapes.constant("5.0")
    )
    shapes.rewrite_kaggle(
        shapes.kaggle_file(lcl_sample, zero), source / "readings" / f"{zero}.csv.gz", shapes.constant("0")
    )
    outcome = run_graph(source, tmp_path)
    assert outcome.success, outcome.message
    with outcome.con() as con:
        reasons = dict(
            con.execute(
                "SELECT household_id, reason FROM features.household_feature_exclusions WHERE household_id IN ($a, $b)",
                {"a": stuck, "b": zero},
            ).fetchall()
        )
        segmented = con.execute(
            "SELECT count(*) FROM model.segment_assignments WHERE household_id IN ($a, $b)", {"a": stuck, "b": zero}
        ).fetchall()[0][0]
    assert reasons == {stuck: "meter_flat_lined", zero: "meter_all_zero"}
    assert segmented == 0
    assert not {stuck, zero} & {t["household"] for t in outcome.targets()}


def test_hourly_files_are_refused_by_name_and_the_half_hourly_households_still_run(lcl_sample, households, tmp_path):
    """Hourly readings beside half-hourly ones: before, hourly data was accepted and interpolated into
    invented half hours (doubling its energy), and mixed in, its households were dropped as 'not enough data'.
    Now every hourly line is quarantined with the detected spacing, and the rest runs."""
    ids = households["Std"] + households["ToU"][:N_TOU]
    hourly_ids = households["Std"][:3]
    source = shapes.source_folder(lcl_sample, tmp_path / "source", files(lcl_sample, ids[3:]))
    for h in hourly_ids:
        shapes.rewrite_kaggle(shapes.kaggle_file(lcl_sample, h), source / "readings" / f"{h}.csv.gz", shapes.hourly)
    outcome = run_graph(source, tmp_path)
    assert outcome.success, outcome.message
    with outcome.con() as con:
        refused = con.execute(
            "SELECT household_id, rule_id, count(*), min(reason) FROM clean.quarantined_readings GROUP BY ALL"
        ).fetchall()
        clean_hourly = con.execute(
            "SELECT count(*) FROM clean.clean_readings WHERE household_id IN (SELECT unnest($ids))", {"ids": hourly_ids}
        ).fetchall()[0][0]
        raw = dict(con.sql("SELECT household_id, count(*) FROM ingest.raw_readings GROUP BY ALL").fetchall())
    assert {(h, rule) for h, rule, _, _ in refused} == {(h, "V13_UNSUPPORTED_INTERVAL") for h in hourly_ids}
    assert all(n == raw[h] and "detected spacing: 60 minutes" in reason for h, _, n, reason in refused)
    assert clean_hourly == 0  # never interpolated into invented half hours
    assert len(outcome.targets()) == len(ids) - len(hourly_ids)


def test_all_hourly_source_stops_in_one_sentence(lcl_sample, households, tmp_path):
    source = shapes.source_folder(lcl_sample, tmp_path / "source", [])
    for h in households["Std"][:12]:
        shapes.rewrite_kaggle(shapes.kaggle_file(lcl_sample, h), source / "readings" / f"{h}.csv.gz", shapes.hourly)
    text = refusal(run_graph(source, tmp_path), "clean")
    assert text.startswith("No readings remain")
    assert "(60-minute spacing)" in text and "half-hourly" in text


def test_15_minute_readings_are_summed_exactly_to_half_hours(lcl_sample, households, tmp_path):
    """15-minute readings: before, half the lines were quarantined as off-grid and the rest read as half
    hours (every kW halved, no warning). Now each half hour is the exact sum of its two quarters: the
    clean table of the 15-minute households equals their original half-hourly files."""
    ids = households["Std"] + households["ToU"][:N_TOU]
    quarter_ids = [households["Std"][0], households["ToU"][0]]
    source = shapes.source_folder(
        lcl_sample, tmp_path / "source", files(lcl_sample, [h for h in ids if h not in quarter_ids])
    )
    for h in quarter_ids:
        shapes.rewrite_kaggle(
            shapes.kaggle_file(lcl_sample, h), source / "readings" / f"{h}.csv.gz", shapes.quarter_hourly
        )
    outcome = run_graph(source, tmp_path)
    assert outcome.success, outcome.message
    with outcome.con() as con:
        for h in quarter_ids:
            want = {t: float(v) for _, t, v in shapes.read_kaggle(shapes.kaggle_file(lcl_sample, h))}
            got = dict(
                con.execute(
                    "SELECT interval_end_utc, kwh FROM clean.clean_readings "
                    "WHERE household_id = $h AND quality_code = 'A'",
                    {"h": h},
                ).fetchall()
            )
            assert set(got) == set(want)
            assert max(abs(got[t] - want[t]) for t in want) < 1e-9
        intervals = dict(con.sql("SELECT source_file, interval_minutes FROM clean.source_file_balance").fetchall())
    assert {intervals[f"readings/{h}.csv.gz"] for h in quarter_ids} == {15}
    assert {t["household"] for t in outcome.targets()} >= set(quarter_ids)


def test_unregistered_households_keep_their_files_register_values(lcl_sample, households, tmp_path):
    """Households missing from the register: a 6-column file carries its own tariff group and Acorn, which
    are kept (register_source 'readings_file'); a Kaggle file carries none, so that household is listed as
    excluded 'not_in_register', never silently dropped as 'not enough data'."""
    ids = households["Std"] + households["ToU"][:N_TOU]
    lds = shapes.lds_files(lcl_sample)
    source = shapes.source_folder(lcl_sample, tmp_path / "source", files(lcl_sample, ids) + lds, register=False)
    lds_ids = [p.name.split(".")[0] for p in lds]
    kaggle_missing = households["Std"][0]
    shapes.copy_register(lcl_sample, source, drop=[*lds_ids, kaggle_missing])
    outcome = run_graph(source, tmp_path)
    assert outcome.success, outcome.message
    with outcome.con() as con:
        kept = con.execute(
            "SELECT household_id, tariff_group, register_source FROM ingest.households "
            "WHERE household_id IN (SELECT unnest($ids))",
            {"ids": lds_ids},
        ).fetchall()
        excluded = con.execute(
            "SELECT reason FROM features.household_feature_exclusions WHERE household_id = $h", {"h": kaggle_missing}
        ).fetchall()
    assert len(kept) == len(lds_ids)
    assert {r[2] for r in kept} == {"readings_file"}
    assert {r[1] for r in kept} == {"Std", "ToU"}  # 16 Std and 3 ToU in the 6-column files
    assert excluded == [("not_in_register",)]


def test_local_time_stamps_are_detected_and_named_in_the_report(lcl_sample, households, tmp_path):
    """Readings exported in UK local time instead of UTC: before, the repeated autumn hour was quarantined
    as conflicting duplicates and the only sign was a WARN check in the UI. Now the report names it."""
    ids = households["Std"] + households["ToU"][:N_TOU]
    source = shapes.source_folder(lcl_sample, tmp_path / "source", [])
    for h in ids:
        shapes.rewrite_kaggle(
            shapes.kaggle_file(lcl_sample, h), source / "readings" / f"{h}.csv.gz", shapes.local_time_stamps
        )
    outcome = run_graph(source, tmp_path)
    assert outcome.success, outcome.message
    report = outcome.report()
    assert "Readings look stamped in UK local time, not UTC" in report
    assert "2013-03-31" in report and "2013-10-27" in report
