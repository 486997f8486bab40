"""The DR target list on the real sample: expected kW at the winter evening peak with intervals, and
the response model not used where the data cannot support it (few ToU households with a baseline year)."""

import polars as pl
import pytest

pytestmark = pytest.mark.real_data


@pytest.fixture
def targets(real_con) -> pl.DataFrame:
    return real_con.sql("SELECT * FROM reports.dr_targets").pl()


def test_every_expected_kw_has_an_interval_and_its_basis(targets):
    t = targets
    assert t.height > 150
    assert (t["expected_kw_ci_low"] <= t["expected_kw_reduction"] + 1e-12).all()
    assert (t["expected_kw_reduction"] <= t["expected_kw_ci_high"] + 1e-12).all()
    assert (t["expected_kw_ci_high"] > 0).all()
    for col in ("peak_load_basis", "response_basis", "interval_basis"):
        assert t[col].null_count() == 0
    # most real households have only 2013: their load is measured on the trial year's event-free days
    assert t["peak_load_basis"].str.contains("winter weekday").mean() > 0.9
    measured = t.filter(pl.col("response_source") == "measured")
    assert measured.height >= 20
    assert (measured["response_basis"] == "evening High events").mean() > 0.8


def test_response_model_is_not_used_on_the_real_sample_and_the_verdict_says_why(real_con, targets):
    assert "response model" not in targets["response_source"].to_list()
    scores = real_con.sql("SELECT * FROM reports.response_model_scores").pl()
    n = scores["n_households"].max()
    print(
        f"\nreal: {targets.height} ranked, sources {dict(targets['response_source'].value_counts().iter_rows())}, "
        f"scored {n}, kW {targets['expected_kw_reduction'].sum():.2f} "
        f"({targets['expected_kw_ci_low'].sum():.2f}..{targets['expected_kw_ci_high'].sum():.2f})"
    )
    # only households with a baseline-year (pre-period) lifestyle train the model: 3 ToU at most
    assert n is None or n <= 3
