"""Interventions, DR targets (ranking vs textbook rule), pseudonyms and small-group suppression."""

from __future__ import annotations

import dataclasses

import polars as pl
import pytest

from assets.model.settings import PROGRAMS, SegmentationSettings
from assets.reports.dr_targets import rank_dr_targets
from assets.reports.expected_kw import (
    NO_RESPONSE,
    PROGRAM_EVIDENCE,
    RANKING_RULE,
    TEXTBOOK_RULE,
    offered_program_evidence,
    textbook_cluster_choice,
)
from assets.reports.interventions import (
    EVIDENCE_FILE,
    UNSELECTED_PROGRAMS,
    ProgramRange,
    build_interventions,
    choose_unselected_program,
    household_program_kw,
    program_evidence,
    program_ranges,
)
from assets.reports.privacy import pseudonymise_ids, suppress_small_groups
from assets.reports.schemas.interventions import PROGRAMS as SCHEMA_PROGRAMS


def test_interventions_cover_every_persona(outputs):
    personas = outputs["personas"].personas
    iv = outputs["interventions"]
    assert iv["persona_id"].to_list() == personas["persona_id"].to_list()
    assert set(iv["program"]) <= set(PROGRAMS)
    assert list(PROGRAMS) == SCHEMA_PROGRAMS
    for col in ("expected_reduction_kw", "expected_reduction_pct", "expected_reduction_kw_per_household"):
        # None only where the program has no central figure (no trial reports one)
        known = iv[col].drop_nulls()
        assert known.is_finite().all() and (known >= 0).all()
        no_central = iv.filter(pl.col(col).is_null())["program"].to_list()
        assert all(program_ranges()[p].central_pct is None for p in no_central)
    assert iv["rationale"].str.len_chars().min() > 20
    responsive = iv.join(personas.select("persona_id", "is_price_responsive"), on="persona_id")
    assert (responsive.filter(pl.col("is_price_responsive"))["program"] == "critical-peak pricing / dynamic ToU").all()
    # expected kW for price programs = sum(peak_kw * r) from the household expectations
    e = outputs["expectations"].group_by("persona_id").agg(pl.col("expected_kw_reduction").sum().alias("kw"))
    j = iv.join(e, on="persona_id").filter(pl.col("program") == "critical-peak pricing / dynamic ToU")
    assert j["expected_reduction_kw"].to_list() == pytest.approx(j["kw"].to_list())


def _expectations() -> pl.DataFrame:
    # hand-made: 6 households, textbook clusters 0/1/2; cluster 1 has the highest mean peak kW
    return pl.DataFrame(
        {
            "household_id": ["h1", "h2", "h3", "h4", "h5", "h6"],
            "persona_id": ["p-a", "p-a", "p-b", "p-b", "p-c", "p-c"],
            "persona_name": ["a", "a", "b", "b", "c", "c"],
            "textbook_cluster": pl.Series([0, 1, 1, 2, 0, 2], dtype=pl.Int32),
            "peak_kw": [1.0, 3.0, 2.0, 0.5, 1.5, 2.5],
            "response_source": [
                "measured",
                PROGRAM_EVIDENCE,
                "measured",
                PROGRAM_EVIDENCE,
                "measured",
                PROGRAM_EVIDENCE,
            ],
            "expected_reduction_pct": [20.0, 2.0, 0.0, 10.0, 10.0, 6.0],
            "is_responsive": [True, False, False, False, True, False],
            "response_measured": [True, False, True, False, True, False],
            "mean_daily_kwh": [8.0, 20.0, 15.0, 4.0, 10.0, 12.0],
            "flexible_kw": [0.5, 2.0, 1.0, 0.1, 0.6, 1.5],
            "is_price_responsive_persona": [True, False, False, False, True, False],
        }
    ).with_columns(
        pl.col("peak_kw").alias("peak_load_kw"),
        pl.lit("winter weekday 16:00-20:00 mean kW, baseline year").alias("peak_load_basis"),
        pl.lit("evening High events").alias("response_basis"),
        (pl.col("expected_reduction_pct") / 2).alias("expected_reduction_ci_low_pct"),
        (pl.col("expected_reduction_pct") * 2).alias("expected_reduction_ci_high_pct"),
        (pl.col("peak_kw") * pl.col("expected_reduction_pct") / 100).alias("expected_kw_reduction"),
        (pl.col("peak_kw") * pl.col("expected_reduction_pct") / 200).alias("expected_kw_ci_low"),
        (pl.col("peak_kw") * pl.col("expected_reduction_pct") / 50).alias("expected_kw_ci_high"),
        pl.lit("hand-made").alias("interval_basis"),
        pl.lit("measured, not a significant responder").alias("responder_label"),
    )


def test_dr_ranking_and_textbook_comparison():
    e = _expectations()
    # expected kW: h1 .20, h2 .06, h3 0, h4 .05, h5 .15, h6 .15 -> h1, h6, h5 (tie -> the larger peak load
    # first: h6 2.5 kW, h5 1.5 kW), h2, h4, h3
    assert textbook_cluster_choice(e) == 1  # mean peak: c0 1.25, c1 2.5, c2 1.5
    dr = rank_dr_targets(e, SegmentationSettings())
    t = dr.targets
    assert t["household_ref"].to_list() == ["h1", "h6", "h5", "h2", "h4", "h3"]
    assert t["rank"].to_list() == [1, 2, 3, 4, 5, 6]
    assert t["expected_kw_reduction"].to_list() == pytest.approx([0.2, 0.15, 0.15, 0.06, 0.05, 0.0])
    assert t.filter(pl.col("selected_by_textbook"))["household_ref"].sort().to_list() == ["h2", "h3"]
    assert t.filter(pl.col("selected_by_ranking"))["household_ref"].to_list() == ["h1", "h6"]
    assert dr.n_selected == 2
    c = {r["rule"]: r for r in dr.comparison.iter_rows(named=True)}
    assert c[RANKING_RULE]["expected_kw_captured"] == pytest.approx(0.35)
    assert c[TEXTBOOK_RULE]["expected_kw_captured"] == pytest.approx(0.06)
    # without an error model (no sd columns) the interval is the envelope: the sums of the bounds
    assert c[RANKING_RULE]["expected_kw_captured_ci_low"] == pytest.approx(0.35 / 2)
    assert c[RANKING_RULE]["expected_kw_captured_ci_high"] == pytest.approx(0.35 * 2)
    assert c[TEXTBOOK_RULE]["peak_kw_covered"] == pytest.approx(5.0)
    assert c[RANKING_RULE]["overlap_households"] == 0 and c[RANKING_RULE]["jaccard"] == 0.0
    assert c[RANKING_RULE]["measured_responders_selected"] == 1
    assert c[RANKING_RULE]["share_of_total_expected_kw"] == pytest.approx(0.35 / 0.61)
    # explicit budget
    dr3 = rank_dr_targets(e, SegmentationSettings(dr_budget_households=3))
    assert dr3.targets["selected_by_ranking"].sum() == 3


def test_dr_ranking_without_any_response_evidence_is_by_peak_load():
    """No household measured (no ToU, no controls or no schedule): nothing sizes a reduction, so the
    expected kW stays empty (never a 0.0 that looks measured) and the list is ordered by peak load,
    not by household id."""
    expected_cols = [c for c in _expectations().columns if c.startswith("expected_")]
    e = _expectations().with_columns(
        pl.lit(NO_RESPONSE).alias("response_source"),
        *[pl.lit(None, dtype=pl.Float64).alias(c) for c in expected_cols],
    )
    dr = rank_dr_targets(e, SegmentationSettings())
    # peak loads: h1 1.0, h2 3.0, h3 2.0, h4 0.5, h5 1.5, h6 2.5
    assert dr.targets["household_ref"].to_list() == ["h2", "h6", "h3", "h5", "h1", "h4"]
    assert dr.targets["expected_kw_reduction"].null_count() == dr.targets.height
    c = {r["rule"]: r for r in dr.comparison.iter_rows(named=True)}
    assert c[RANKING_RULE]["expected_kw_captured"] is None
    assert c[RANKING_RULE]["expected_kw_captured_ci_low"] is None
    assert c[RANKING_RULE]["share_of_total_expected_kw"] is None


def test_dr_targets_on_synthetic(outputs):
    dr, e = outputs["dr"], outputs["expectations"]
    t = dr.targets
    assert t.height == outputs["assignments"].height
    assert (t["expected_kw_reduction"].diff().drop_nulls() <= 1e-15).all()
    assert t["selected_by_ranking"].sum() == t["selected_by_textbook"].sum() == dr.n_selected
    c = {r["rule"]: r for r in dr.comparison.iter_rows(named=True)}
    assert c[RANKING_RULE]["expected_kw_captured"] >= c[TEXTBOOK_RULE]["expected_kw_captured"]
    # measured households use their own shrunk estimate, unclipped (an increase stays negative); the
    # others the offered program's intention-to-treat evidence, one % for all
    measured = e.filter(pl.col("response_measured"))
    assert measured["expected_reduction_pct"].to_list() == pytest.approx(measured["shrunk_pct"].to_list())
    assert (measured["expected_reduction_ci_low_pct"] < measured["expected_reduction_ci_high_pct"]).all()
    unmeasured = e.filter(~pl.col("response_measured"))
    offered = offered_program_evidence()
    assert (unmeasured["response_source"] == PROGRAM_EVIDENCE).all()
    assert (unmeasured["expected_reduction_pct"] == offered["central_pct"]).all()
    assert (unmeasured["expected_reduction_ci_low_pct"] == offered["low_pct"]).all()
    assert (e["expected_kw_reduction"] == e["peak_kw"] * e["expected_reduction_pct"] / 100).all()


def test_pseudonymisation():
    ids = pl.Series(["MAC000002", "MAC000003", None])
    a = pseudonymise_ids(ids, key="k1", salt="s")
    assert a.to_list() == pseudonymise_ids(ids, key="k1", salt="s").to_list()
    b = pseudonymise_ids(ids, key="k2", salt="s")
    assert a[0] != b[0] and a[1] != b[1] and a[0] != a[1]
    assert pseudonymise_ids(ids, key="k1", salt="other")[0] != a[0]
    assert a[2] is None and a[0].startswith("HH-") and len(a[0]) == 3 + 16
    with pytest.raises(ValueError):
        pseudonymise_ids(ids, key="")
    e = _expectations()
    s = SegmentationSettings(pseudonymise=True, pseudonym_key="secret")
    refs = rank_dr_targets(e, s).targets["household_ref"].to_list()
    assert not set(refs) & set(e["household_id"].to_list())
    assert refs[0] == pseudonymise_ids(["h1"], key="secret", salt=s.pseudonym_salt)[0]
    with pytest.raises(ValueError):
        SegmentationSettings(pseudonymise=True)


def test_suppress_small_groups():
    f = pl.DataFrame({"name": ["a", "b", "c"], "n": [3, 5, 12], "kw": [1.0, 2.0, 3.0], "text": ["x", "y", "z"]})
    out = suppress_small_groups(f, "n", k=5, keep_columns=("name",))
    assert out["suppressed"].to_list() == [True, False, False]
    assert out.row(0) == ("a", None, None, None, True)
    assert out.row(1) == ("b", 5, 2.0, "y", False)
    assert out.schema["n"] == pl.Int64 and out.schema["kw"] == pl.Float64
    assert suppress_small_groups(f, "n", k=1)["suppressed"].sum() == 0
    with pytest.raises(KeyError):
        suppress_small_groups(f, "missing")


def _hand_personas() -> pl.DataFrame:
    return pl.DataFrame(
        {
            "persona_id": ["p-a", "p-b", "p-c"],
            "persona_name": ["a", "b", "c"],
            "is_price_responsive": [True, False, False],
            "n_households": [2, 2, 2],
        }
    )


def test_intervention_rules_hand_made():
    # Replaces the old test of the unsourced factors (ptr_min_reduction_pct, automation_capture_fraction
    # 0.3, efficiency 2 %): programs are now chosen and sized only from program_evidence.csv.
    e = _expectations()
    ev = program_ranges()
    iv = {r["persona_id"]: r for r in build_interventions(_hand_personas(), e).iter_rows(named=True)}
    cpp = ev["critical-peak pricing / dynamic ToU"]
    # p-a: measured responders -> CPP, central = their measured kW, low / high scaled by the evidence range
    a = iv["p-a"]
    assert a["program"] == "critical-peak pricing / dynamic ToU"
    assert a["expected_reduction_kw"] == pytest.approx(0.2 + 0.06)
    assert a["scenario_low_kw"] == pytest.approx(0.26 * cpp.low_pct / cpp.central_pct)
    assert a["scenario_high_kw"] == pytest.approx(0.26 * cpp.high_pct / cpp.central_pct)
    assert a["evidence_ranks_programs"] is None and a["pilot_comparison"] is None
    # p-c has a 7.5 % price response from segment priors but no measured responder persona: it does not
    # get a price-response-scaled figure, whatever its price response; it gets the evidence % of its peak
    choice = choose_unselected_program(ev)
    for pid, total in (("p-b", 2.5), ("p-c", 4.0)):
        r = iv[pid]
        assert r["program"] in UNSELECTED_PROGRAMS
        assert r["program"] == choice.program
        row = ev[r["program"]]
        assert r["expected_reduction_pct"] == pytest.approx(row.central_pct)
        for n in ("low", "central", "high"):
            assert r[f"scenario_{n}_kw"] == pytest.approx(getattr(row, f"{n}_pct") * total / 100)
        # the shipped evidence: the two ranges overlap, so the evidence cannot rank them and the toolkit
        # says so and names the pilot arm
        assert r["evidence_ranks_programs"] is False
        assert r["pilot_comparison"] == "behavioural DR messaging"
        assert "cannot rank" in r["rationale"] and "randomised" in r["rationale"]
    # doubling p-c's price response changes nothing for it (not price-scaled)
    e2 = e.with_columns(
        pl.when(pl.col("persona_id") == "p-c")
        .then(pl.col("expected_kw_reduction") * 2)
        .otherwise(pl.col("expected_kw_reduction"))
        .alias("expected_kw_reduction")
    )
    r2 = {x["persona_id"]: x for x in build_interventions(_hand_personas(), e2).iter_rows(named=True)}
    assert r2["p-c"]["expected_reduction_kw"] == pytest.approx(iv["p-c"]["expected_reduction_kw"])
    # automation has no sourced figure: listed, never chosen or sized
    assert all("automation / direct load control" in r["unsized_programs"] for r in iv.values())
    assert all(r["program"] != "automation / direct load control" for r in iv.values())


def _range(program: str, low: float, central: float | None, high: float) -> ProgramRange:
    return ProgramRange(program, low, central, high, "test", "test trial", "test source")


def test_choice_overlap_is_not_decided_by_a_midpoint():
    # messaging 0-5 % (no central: its midpoint 2.5 would beat the rebate's sourced 2 %), rebate 1-4 %
    # with a sourced intent-to-treat central of 2 %: the ranges overlap, so the evidence cannot rank
    # them; the lead arm is the program with a sourced central, the other is the pilot arm
    ranges = {
        "peak-time rebate": _range("peak-time rebate", 1.0, 2.0, 4.0),
        "behavioural DR messaging": _range("behavioural DR messaging", 0.0, None, 5.0),
    }
    c = choose_unselected_program(ranges)
    assert c.program == "peak-time rebate"
    assert not c.evidence_ranks
    assert c.pilot_with == ("behavioural DR messaging",)
    assert "cannot rank" in c.reason


def test_choice_disjoint_ranges_rank_whatever_the_centrals():
    # messaging 6-10 % without a central lies wholly above the rebate's 0-5 % (central 3 %): the evidence
    # ranks messaging first, though only the rebate has a central (a 'central wins' rule would pick it)
    ranges = {
        "peak-time rebate": _range("peak-time rebate", 0.0, 3.0, 5.0),
        "behavioural DR messaging": _range("behavioural DR messaging", 6.0, None, 10.0),
    }
    c = choose_unselected_program(ranges)
    assert c.program == "behavioural DR messaging"
    assert c.evidence_ranks and c.pilot_with == ()
    # touching ranges overlap: not ranked
    ranges["behavioural DR messaging"] = _range("behavioural DR messaging", 5.0, None, 10.0)
    assert not choose_unselected_program(ranges).evidence_ranks


def test_choice_overlap_without_a_single_central_leads_with_the_higher_low():
    ranges = {
        "peak-time rebate": _range("peak-time rebate", 0.0, 3.0, 6.0),
        "behavioural DR messaging": _range("behavioural DR messaging", 1.0, 2.0, 5.0),
    }
    c = choose_unselected_program(ranges)
    assert c.program == "behavioural DR messaging" and not c.evidence_ranks
    assert c.pilot_with == ("peak-time rebate",)


def test_evidence_figures_are_what_their_sources_state():
    ev = program_evidence()
    by_trial = {r["trial"]: r for r in ev.iter_rows(named=True)}
    energywise = next(r for t, r in by_trial.items() if t.startswith("UKPN energywise"))
    # "up to -2.2 %" is a bound, not a central
    assert energywise["figure"] == "upper bound"
    assert energywise["central_pct"] is None and energywise["high_pct"] == 2.2
    opower = next(r for t, r in by_trial.items() if t.startswith("Opower"))
    assert opower["program"] == "behavioural DR messaging"
    assert opower["figure"] == "upper bound" and opower["central_pct"] is None and opower["high_pct"] == 5.0
    octopus = ev.filter(pl.col("trial").str.starts_with("Octopus Saving Sessions"))
    assert sorted(octopus["central_pct"].to_list()) == [10.0, 40.0]
    assert "efficiency advice" not in ev["program"].to_list()
    ranges = program_ranges(ev)
    # a program's central is a reported central of one of its (whole-group) trials, never a midpoint
    for program, r in ranges.items():
        if r.central_pct is None:
            continue
        reported = ev.filter(
            (pl.col("program") == program) & (pl.col("figure") == "central estimate") | (pl.col("figure") == "none")
        )["central_pct"].to_list()
        assert r.central_pct in reported, program
    assert ranges["behavioural DR messaging"].central_pct is None
    assert ranges["peak-time rebate"].central_pct == 10.0  # Octopus intent-to-treat, not the 40 % of opted-in
    assert (ranges["peak-time rebate"].low_pct, ranges["peak-time rebate"].high_pct) == (0.0, 10.0)


def test_evidence_table_refuses_a_bound_with_a_central(tmp_path):
    bad = EVIDENCE_FILE.read_text().replace(
        "upper bound,all households messaged,,,5.0", "upper bound,all households messaged,,2.5,5.0"
    )
    assert bad != EVIDENCE_FILE.read_text()
    path = tmp_path / "evidence.csv"
    path.write_text(bad)
    with pytest.raises(ValueError, match="upper bound"):
        program_evidence(path)


def test_household_program_kw_hand_made():
    e = _expectations()
    iv = build_interventions(_hand_personas(), e)
    ranges = program_ranges()
    hk = {r["household_id"]: r for r in household_program_kw(e, iv, key="household_id").iter_rows(named=True)}
    cpp = ranges["critical-peak pricing / dynamic ToU"]
    # h1 (price-responsive persona): its High-price kW 0.2 scaled by the trials' range over the central
    assert hk["h1"]["program"] == "critical-peak pricing / dynamic ToU"
    assert hk["h1"]["program_kw_central"] == pytest.approx(0.2)
    assert hk["h1"]["program_kw_low"] == pytest.approx(0.2 * cpp.low_pct / cpp.central_pct)
    assert hk["h1"]["program_kw_high"] == pytest.approx(0.2 * cpp.high_pct / cpp.central_pct)
    # h3 (other persona): evidence % x its own peak_load_kw, not its price response
    ptr = ranges[hk["h3"]["program"]]
    peak = e.filter(pl.col("household_id") == "h3")["peak_load_kw"][0]
    assert hk["h3"]["program_kw_low"] == pytest.approx(ptr.low_pct * peak / 100)
    assert hk["h3"]["program_kw_central"] == pytest.approx(ptr.central_pct * peak / 100)
    assert hk["h3"]["program_kw_high"] == pytest.approx(ptr.high_pct * peak / 100)
    # the households' program kW add up to the persona's toolkit scenarios
    for r in iv.iter_rows(named=True):
        members = [hk[h] for h in e.filter(pl.col("persona_id") == r["persona_id"])["household_id"]]
        for n in ("low", "central", "high"):
            assert sum(m[f"program_kw_{n}"] for m in members) == pytest.approx(r[f"scenario_{n}_kw"])


def _traces_to_evidence(iv: pl.DataFrame, expectations: pl.DataFrame) -> None:
    ev = program_ranges()
    price = dict(expectations.group_by("persona_id").agg(pl.col("expected_kw_reduction").sum()).iter_rows())
    for r in iv.iter_rows(named=True):
        if r["scenario_central_kw"] is not None:
            assert r["scenario_low_kw"] <= r["scenario_central_kw"] + 1e-12 <= r["scenario_high_kw"] + 2e-12
        assert r["expected_reduction_kw"] == (
            None if r["scenario_central_kw"] is None else pytest.approx(r["scenario_central_kw"])
        )
        if r["program"] == "no action":
            assert r["scenario_high_kw"] == 0.0
            continue
        row = ev[r["program"]]
        assert row.sized, f"{r['program']} sized without a sourced figure"
        if r["program"] == "critical-peak pricing / dynamic ToU":
            base = max(price[r["persona_id"]], 0.0)
            expected = [base * getattr(row, f"{n}_pct") / row.central_pct for n in ("low", "central", "high")]
        else:
            expected = [
                None if getattr(row, f"{n}_pct") is None else getattr(row, f"{n}_pct") * r["total_peak_kw"] / 100
                for n in ("low", "central", "high")
            ]
        got = [r[f"scenario_{n}_kw"] for n in ("low", "central", "high")]
        assert got == pytest.approx(expected), r["persona_id"]
        assert r["evidence_source"].startswith(row.trials)


def test_interventions_trace_to_evidence_hand_made():
    e = _expectations()
    _traces_to_evidence(build_interventions(_hand_personas(), e), e)


def test_interventions_size_on_the_dr_targets_peak_load():
    # programs and DR targets are sized on one load: the winter weekday evening peak (peak_load_kw),
    # not the all-day 16:00-20:00 mean (peak_kw)
    e = _expectations().with_columns((pl.col("peak_kw") * 1.7).alias("peak_load_kw"))
    iv = build_interventions(_hand_personas(), e)
    by_persona = dict(e.group_by("persona_id").agg(pl.col("peak_load_kw").sum()).iter_rows())
    for r in iv.iter_rows(named=True):
        assert r["total_peak_kw"] == pytest.approx(by_persona[r["persona_id"]])
    _traces_to_evidence(iv, e)


def test_interventions_trace_to_evidence_pipeline(outputs):
    _traces_to_evidence(outputs["interventions"], outputs["expectations"])
    personas = outputs["personas"].personas.select("persona_id", "is_price_responsive")
    iv = outputs["interventions"].join(personas, on="persona_id")
    assert (iv.filter(~pl.col("is_price_responsive"))["program"] != "critical-peak pricing / dynamic ToU").all()


def test_evidence_table_ordered_and_sourced():
    ev = program_evidence().filter(~pl.col("program").is_in(["no action", "automation / direct load control"]))
    for r in ev.iter_rows(named=True):
        vals = [r[c] for c in ("low_pct", "central_pct", "high_pct") if r[c] is not None]
        assert vals and vals == sorted(vals), r["trial"]
    assert ev["source"].str.len_chars().min() > 10


def test_settings_have_no_unsourced_intervention_factors():
    names = {f.name for f in dataclasses.fields(SegmentationSettings)}
    for old in (
        "ptr_min_reduction_pct",
        "ptr_response_factor",
        "cpp_response_factor",
        "automation_peak_quantile",
        "automation_min_flexible_share",
        "automation_capture_fraction",
        "efficiency_daily_kwh_quantile",
        "efficiency_peak_reduction_fraction",
    ):
        assert old not in names


def test_settings_validation():
    with pytest.raises(ValueError):
        SegmentationSettings(k_min=4, textbook_k=3)
    with pytest.raises(ValueError):
        SegmentationSettings(model_families=("dbscan",))
    assert dataclasses.replace(SegmentationSettings(), k_anonymity=3).k_anonymity == 3


def test_captured_interval_and_total_describe_the_same_households():
    """A program-evidence household whose program reports no central figure has no point value: its range
    bounds must not widen the interval of a total it is not in (the interval would then not contain it)."""
    from assets.reports.expected_kw import captured_kw_interval

    selected = pl.DataFrame(
        {
            "response_source": ["measured", PROGRAM_EVIDENCE, PROGRAM_EVIDENCE],
            "peak_load_kw": [2.0, 1.0, 3.0],
            "reduction_own_sd_pct": [5.0, None, None],
            "expected_kw_reduction": [0.2, 0.1, None],
            "expected_kw_ci_low": [0.0, 0.0, 0.0],
            "expected_kw_ci_high": [0.4, 0.1, 0.3],
        }
    )
    lo, hi, sd = captured_kw_interval(selected)
    assert sd == pytest.approx(0.1)
    z = 1.959963984540054
    assert (lo, hi) == pytest.approx((0.2 - z * 0.1 + 0.0, 0.2 + z * 0.1 + 0.1))
    total = selected["expected_kw_reduction"].sum()
    assert lo <= total <= hi
