"""The report's "What could not be computed" list from the warehouse's counts (assets/reports/data_gaps.py).

The whole-graph versions of these shapes, cut from the real sample, are in tests/real_data/test_data_shapes.py.
"""

from __future__ import annotations

from dataclasses import replace

from assets.reports.data_gaps import DataShape, data_gaps, response_gap

FULL = DataShape(
    schedule_events=161,
    treated=34,
    controls=185,
    with_pre_period=20,
    treated_measured=34,
    treated_all_controls=0,
    baseline_placebo_households=3,
    unsized_targets=0,
)


def test_nothing_missing_says_nothing():
    assert data_gaps(FULL) == []
    assert response_gap(FULL) is None


def test_each_missing_piece_is_named_with_what_was_done_instead():
    unmeasured = replace(FULL, treated_measured=0, unsized_targets=201)
    no_schedule = data_gaps(replace(unmeasured, schedule_events=0))
    assert no_schedule[0].startswith("No tariff schedule with price events")
    assert "ranks households by their winter weekday 16:00-20:00 peak load alone" in no_schedule[1]
    assert data_gaps(replace(unmeasured, treated=0))[0].startswith("No household on the dynamic tariff (ToU)")
    assert data_gaps(replace(unmeasured, controls=0))[0].startswith("No control (flat-rate) household")
    # the schedule is checked first: without it nothing else can be measured, whatever the groups
    assert response_gap(replace(unmeasured, schedule_events=0, controls=0)).startswith("No tariff schedule")


def test_the_peak_load_sentence_only_when_the_list_is_unsized():
    sized = data_gaps(replace(FULL, treated_measured=0, treated=0, unsized_targets=0))
    assert len(sized) == 1 and "peak load alone" not in sized[0]


def test_pre_period_gaps():
    none = data_gaps(replace(FULL, with_pre_period=0))
    assert none == [
        "No household has a pre-period (baseline-year) profile: comparison groups cannot be matched on "
        "pre-period behaviour, so every household is compared with all controls at the same half hour (the "
        "stated fallback design), there is no covariate balance table, and the baseline-year placebo could not "
        "be run."
    ]
    some = data_gaps(replace(FULL, treated_all_controls=34))
    assert some == [
        "34 of the 34 measured dynamic-tariff households have no pre-period profile: they are compared with all "
        "controls at the same half hour (the stated fallback design) and are not in the covariate balance table."
    ]
    no_placebo = data_gaps(replace(FULL, baseline_placebo_households=0))
    assert no_placebo == [
        "The baseline-year placebo could not be run: no household has readings at the placebo events."
    ]
