"""Issue 11 end to end on generated data: the DR rules compared on held-out events of the measured
ToU households, stored, drawn and stated in the report."""

import polars as pl
import pytest

pytestmark = pytest.mark.slow


def test_dr_rules_compared_on_held_out_events(pipeline):
    con = pipeline.con()
    try:
        comp = con.sql("SELECT * FROM reports.dr_target_comparison").pl()
        curve = con.sql("SELECT * FROM reports.dr_capture_curve").pl()
        targets = con.sql("SELECT * FROM reports.dr_targets").pl()
    finally:
        con.close()
    rows = {r["rule"]: r for r in comp.iter_rows(named=True)}
    rank = rows["ranking by expected kW reduction"]
    print(
        f"\nsynthetic held out: {rank['heldout_measured_on']}\n"
        + "\n".join(
            f"{r['rule']}: in sample {r['expected_kw_captured']:.2f} ({r['expected_kw_captured_ci_low']:.2f}.."
            f"{r['expected_kw_captured_ci_high']:.2f}), held out {r['heldout_kw_captured']:.2f} "
            f"({r['heldout_kw_ci_low']:.2f}..{r['heldout_kw_ci_high']:.2f})"
            for r in rows.values()
        )
        + f"\ndifference {rank['heldout_kw_minus_textbook']:.2f} ({rank['heldout_kw_minus_textbook_ci_low']:.2f}.."
        f"{rank['heldout_kw_minus_textbook_ci_high']:.2f}); ranking minus peak load "
        f"{rank['heldout_kw_minus_peak_load']:.2f} ({rank['heldout_kw_minus_peak_load_ci_low']:.2f}.."
        f"{rank['heldout_kw_minus_peak_load_ci_high']:.2f})"
    )
    assert set(rows) == {
        "ranking by expected kW reduction",
        "rank by winter weekday 16:00-20:00 peak load",
        "textbook: highest-load load-shape cluster",
    }
    measured = (targets["response_source"] == "measured").sum()
    assert "measured ToU households, held-out events" in rank["heldout_measured_on"]
    n = int(rank["heldout_measured_on"].split()[0])
    assert 0 < n <= measured
    for r in rows.values():
        assert r["heldout_kw_ci_low"] <= r["heldout_kw_captured"] <= r["heldout_kw_ci_high"]
    held = curve.filter(pl.col("rule").is_in(list(rows)))
    assert held.height == 3 * n and held["measured_on"].n_unique() == 1
    # the response model's cross-validated curve is kept beside it, labelled
    assert curve.filter(~pl.col("rule").is_in(list(rows)))["measured_on"].str.contains("cross-validation").all()
    html = (pipeline.reports / "persona_report.html").read_text(encoding="utf-8")
    assert 'alt="capture curve on held-out events"' in html
    assert f"Out of sample ({n} measured ToU households, held-out events" in html
    assert "the ranking minus ranking by peak load" in html and "ranking minus peak load (95% CI)" in html
