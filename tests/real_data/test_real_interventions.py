"""The intervention toolkit, the target list and the persona priors on the real LCL sample (issue 11).

On the real sample no measured ToU household outside the price-responsive personas responded, so every
other persona gets an evidence-based program: the peak-time rebate (0-10 %) and behavioural DR messaging
("up to 5 %") overlap, so the toolkit must say it cannot rank them and recommend a randomised pilot;
dr_targets.csv must give each household's kW under its listed program next to its High-price kW; the
persona table must show the prior the DR list uses.
"""

import polars as pl
import pytest

from assets.reports.interventions import CPP, NO_CENTRAL, program_ranges

pytestmark = pytest.mark.real_data


@pytest.fixture(scope="module")
def folder(real_warehouse):
    return real_warehouse.parent / "reports"


def test_real_toolkit_does_not_rank_overlapping_programs(real_con):
    iv = real_con.sql(
        "SELECT persona_name, program, evidence_ranks_programs, pilot_comparison, rationale, "
        "scenario_low_kw, scenario_central_kw, scenario_high_kw FROM reports.interventions"
    ).pl()
    others = iv.filter(pl.col("program") != CPP)
    assert others.height > 0
    assert (others["program"] == "peak-time rebate").all()
    assert (~others["evidence_ranks_programs"]).all()
    assert (others["pilot_comparison"] == "behavioural DR messaging").all()
    assert others["rationale"].str.contains("cannot rank").all()
    assert "efficiency advice" not in iv["program"].to_list()
    for r in iv.iter_rows(named=True):
        assert r["scenario_low_kw"] <= r["scenario_central_kw"] <= r["scenario_high_kw"] + 1e-9


def test_real_target_csv_program_and_kw_agree(folder):
    csv = pl.read_csv(folder / "dr_targets.csv")
    ranges = program_ranges()
    assert csv["expected_kw_basis"].str.contains("High-price event").all()
    assert csv["expected_kw_basis"].str.contains("intention-to-treat").all()
    rebate = csv.filter(pl.col("program") == "peak-time rebate")
    # a household never on the tariff: its expected kW IS its program's central kW (one figure sizes it)
    invited = rebate.filter(pl.col("measured_or_predicted") == "program evidence")
    assert invited["expected_kw"].to_list() == pytest.approx(invited["program_kw_central"].to_list(), abs=2e-4)
    assert rebate.height > 100  # most households are never-measured members of non-responder personas
    ev = ranges["peak-time rebate"]
    assert rebate["program_kw_high"].to_list() == pytest.approx(
        (rebate["peak_load_kw"] * ev.high_pct / 100).to_list(), abs=2e-4
    )
    cpp = csv.filter(pl.col("program") == CPP)
    assert cpp["program_kw_central"].to_list() == pytest.approx(cpp["expected_kw"].to_list(), abs=2e-4)
    assert csv["program_kw_low"].null_count() == 0 and csv["program_kw_high"].null_count() == 0


def test_real_report_shows_one_prior_per_persona_with_its_basis(folder, real_con):
    html = (folder / "persona_report.html").read_text(encoding="utf-8")
    assert "what sizes its members never on the tariff in the DR list" in html
    assert "merely invited" in html
    assert "prior for unmeasured members</th>" not in html
    assert NO_CENTRAL in html  # behavioural DR messaging has no central figure
    # a fully measured persona's explanation no longer promises a segment prior to unmeasured members
    p = real_con.sql("SELECT n_households, n_measured, explanation FROM model.personas").pl()
    full = p.filter(pl.col("n_measured") >= pl.col("n_households"))
    assert full.height > 0
    assert not full["explanation"].str.contains("Unmeasured members").any()
    assert full["explanation"].str.contains("no prior is used").all()
