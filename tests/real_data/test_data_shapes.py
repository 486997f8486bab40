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
from pipelines.demo import source_month_range
from pipelines.run_plan import materialize_in_order
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
    }
    instance = dg.DagsterInstance.ephemeral(tempdir=str(out / "dagster_home"))
    first, last = source_month_range(source)
    for result in materialize_in_order(defs(), resources, instance, first, last):
        if not result.success:
            failure = next(e for e in result.all_events if e.event_type_value == "STEP_FAILURE")
            error = failure.event_specific_data.error
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


def refusal(outcome: Outcome) -> str:
    assert not outcome.success, "the run should have stopped"
    assert outcome.failed_step == "cluster_model"
    text = outcome.message.split("Failure: ", 1)[-1]
    assert one_sentence(text), text
    return text


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
    assert "ranks the %d households by their winter weekday 16:00-20:00 peak load alone" % len(targets) in report


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
    assert f"at least 11 households with enough data" in text
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
    shapes.rewrite_kaggle(shapes.kaggle_file(lcl_sample, stuck), source / "readings" / f"{stuck}.csv.gz", shapes.constant("5.0"))
    shapes.rewrite_kaggle(shapes.kaggle_file(lcl_sample, zero), source / "readings" / f"{zero}.csv.gz", shapes.constant("0"))
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
