"""Checks that can fail (issue 20): the pseudo-treatment placebo and the paired adjacent-day sensitivity.

Each check is shown to pass on clean data and to FAIL on data with the problem it is meant to catch,
next to the old check (the leave-one-out control row; the 'shift larger than its CI width' rule),
which does not fail on the same data."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import polars as pl
import pytest

from assets.features.bootstrap import paired_difference, population_effect
from assets.features.pseudo_placebo import (
    LABEL_METHOD,
    control_panel,
    draw_subsets,
    pseudo_did,
    pseudo_p_values,
    score_draw,
)
from assets.features.response_summary import compute_tariff_response_summary, primary_rows
from assets.features.significance import benjamini_hochberg, empirical_p_values, studentised_score
from assets.features.treatment_features import compute_treatment_features
from tests.features.feature_fixtures import modify_readings, noisy_trial_builder, trial_settings

CONTAMINATED = ["S00", "S01", "S02"]  # controls that respond to the events (or drift at their time)


def _trial(plant: str | None, control_matching: str = "knn", draws: int = 200, seed: int = 3):
    """40 controls, 8 treated households without any effect; ``plant``: 'effect' (3 controls use 60 %
    less in every High event) or 'trend' (3 controls drift down at the events' time over the trial)."""
    builder, events = noisy_trial_builder(n_controls=40, responders={}, n_null_treated=8, seed=seed)
    con = builder.build()
    if plant == "effect":
        modify_readings(con, CONTAMINATED, factor=0.4, band="High")
    elif plant == "trend":
        for k in range(len(events)):
            modify_readings(con, CONTAMINATED, factor=1.0 - 0.9 * (k + 1) / len(events), band="High", event_ids=[k + 1])
    settings = trial_settings(bootstrap_replicates=300, placebo_draws=draws, control_matching=control_matching)
    treatment = compute_treatment_features(con, settings)
    return con, settings, treatment, compute_tariff_response_summary(con, treatment, settings)


@pytest.fixture(scope="module")
def clean():
    return _trial(None)


@pytest.fixture(scope="module")
def contaminated():
    return _trial("effect")


def check(summary, name: str, band: str = "High") -> dict:
    rows = summary.checks.filter((pl.col("check") == name) & (pl.col("band") == band))
    assert rows.height == 1
    return rows.row(0, named=True)


def old_leave_one_out_placebo(treatment, settings) -> tuple[dict, int]:
    """Today's 'placebo_controls' row: every control's leave-one-out DiD pooled, and BH over the
    controls' own leave-one-out p-values (an identity: its mean is 0 and it flags none by construction)."""
    rows = primary_rows(treatment, settings, settings.control_group).filter(
        (pl.col("kind") == "event") & (pl.col("band") == "High")
    )
    eff = population_effect(rows, settings, np.random.default_rng(0))
    p = treatment.features.filter(pl.col("tariff_group") == "Std")["high_p_value"].drop_nulls().to_numpy()
    return eff.as_row(), int(benjamini_hochberg(p, settings.fdr_alpha).sum())


# --- the pseudo-treatment draw is the production estimator ------------------------------------------


def _slow_draw(treatment, settings, pseudo: list[str], band: str):
    """One draw written with the production functions on polars rows: P's DiD against the mean over the
    REMAINING controls (matched controls among them where a household has pairs), R's against the
    leave-one-out mean over R; population_effect; studentised_score, empirical_p_values."""
    controls = treatment.features.filter(
        (pl.col("tariff_group") == "Std") & (pl.col("response_method") != "none")
    ).select("household_id", method=pl.col("response_method").replace_strict(LABEL_METHOD))
    ev = treatment.event_responses.filter(
        (pl.col("kind") == "event")
        & (pl.col("band") == band)
        & pl.col("household_id").is_in(
            treatment.features.filter(pl.col("tariff_group") == "Std")["household_id"].implode()
        )
    )
    in_p = pl.col("household_id").is_in(pseudo)
    pool = ev.filter(~in_p).group_by("event_id", "method").agg(s=pl.col("own_change_kwh").sum(), k=pl.len())
    knn = (
        treatment.matched_controls.filter(~pl.col("control_id").is_in(pseudo))
        .join(
            ev.select(pl.col("household_id").alias("control_id"), "event_id", "method", "own_change_kwh"),
            on="control_id",
        )
        .group_by("household_id", "event_id", "method")
        .agg(knn=pl.col("own_change_kwh").mean())
    )
    rows = (
        ev.join(controls, on=["household_id", "method"])
        .join(pool, on=["event_id", "method"], how="left")
        .join(knn, on=["household_id", "event_id", "method"], how="left")
        .with_columns(
            fallback=pl.when(in_p)
            .then(pl.col("s") / pl.col("k"))
            .when(pl.col("k") > 1)
            .then((pl.col("s") - pl.col("own_change_kwh")) / (pl.col("k") - 1))
        )
        .with_columns(did_kwh=pl.col("own_change_kwh") - pl.coalesce("knn", "fallback"))
        .filter(pl.col("did_kwh").is_not_null())
    )
    scores = studentised_score(rows).sort("household_id")
    t = scores["t_stat"].cast(pl.Float64).fill_null(np.nan).to_numpy()
    is_p = scores["household_id"].is_in(pseudo).to_numpy()
    return rows.filter(in_p), empirical_p_values(t, ~is_p)[is_p]


@pytest.mark.parametrize("control_matching", ["knn", "all"])
def test_a_draw_is_the_production_estimator_against_the_remaining_controls(control_matching):
    _, settings, treatment, _ = _trial("effect", control_matching=control_matching, draws=3)
    if control_matching == "knn":
        assert treatment.matched_controls.height > 0  # the matched design is exercised
    panel = control_panel(treatment.event_responses, treatment.features, treatment.matched_controls, "High", settings)
    for d, in_p in enumerate(draw_subsets(panel, 8, settings)):
        pseudo = [h for h, x in zip(panel.households, in_p, strict=True) if x]
        rows, p_slow = _slow_draw(treatment, settings, pseudo, "High")
        fast = score_draw(panel, in_p, settings, np.random.default_rng([1, d]), flags=True).effect
        slow = population_effect(rows, settings, np.random.default_rng([1, d]))
        for key in ("n_households", "n_events", "n_blocks"):
            assert getattr(fast, key) == getattr(slow, key)
        for key in ("effect_kwh", "effect_pct", "ci_low_pct", "ci_high_pct", "ci_low_kwh", "ci_high_kwh"):
            assert getattr(fast, key) == pytest.approx(getattr(slow, key), rel=1e-9, abs=1e-12), key
        did, valid = pseudo_did(panel, in_p)
        np.testing.assert_allclose(pseudo_p_values(panel, did, valid, in_p), p_slow, rtol=1e-12)


def test_pseudo_treated_are_not_part_of_their_own_comparison_group():
    # one draw by hand: P's DiD equals own change minus the mean over the other 32 controls exactly
    _, settings, treatment, _ = _trial(None, control_matching="all", draws=1)
    panel = control_panel(treatment.event_responses, treatment.features, treatment.matched_controls, "High", settings)
    in_p = draw_subsets(panel, 8, settings)[0]
    did, valid = pseudo_did(panel, in_p)
    i = int(np.flatnonzero(in_p)[0])
    m = panel.method[i]
    assert panel.has[m].all()  # every control has every event here
    expected = panel.own_p[i] - panel.own[m][~in_p].mean(axis=0)
    assert valid[i].all()
    np.testing.assert_allclose(did[i], expected, rtol=1e-12)


# --- the placebo passes on clean data and fails on contaminated controls ------------------------------


def test_placebo_passes_without_an_effect_among_controls(clean):
    _, settings, _, summary = clean
    for band in ("High",):
        row = check(summary, "pseudo_treatment_placebo", band)
        assert row["n_draws"] == 200 and row["n_households"] == 8 and row["n_controls"] == 40
        assert row["low_pct"] < 0 < row["high_pct"]
        # coverage about 95 %: within 3 Monte-Carlo SEs (1.5 points at 200 draws), and not far above
        assert abs(row["ci_coverage"] - 0.95) <= 3 * row["coverage_mc_se"] + 0.01
        assert row["share_draws_any_flagged"] <= settings.fdr_alpha
        assert row["verdict"] == "passes", row["reason"]
    draws = summary.placebo_draws
    assert draws.height == 400 and set(draws["band"]) == {"High", "Low"}
    assert draws.filter(pl.col("band") == "Low")["n_flagged"].null_count() == 200  # flags are High only


@pytest.mark.parametrize("plant", ["effect", "trend"])
def test_placebo_fails_with_contaminated_controls_where_the_old_one_cannot(plant, contaminated):
    _, settings, treatment, summary = contaminated if plant == "effect" else _trial("trend")
    row = check(summary, "pseudo_treatment_placebo")
    assert row["verdict"] == "fails", row
    # the CI ignores that 3 controls move the comparison mean: it covers the true 0 far less than 95 %
    assert row["ci_coverage"] < 0.85
    clean_width = 0.06  # the null range of the clean trial is about +-3 points
    assert row["high_pct"] - row["low_pct"] > 1.5 * clean_width
    # the old leave-one-out control row on the same data: an identity that "passes"
    old, n_flagged = old_leave_one_out_placebo(treatment, settings)
    assert old["ci_low_pct"] <= 0 <= old["ci_high_pct"] and n_flagged == 0


def test_treated_estimate_is_placed_in_the_null(clean):
    summary = clean[3]
    row = check(summary, "pseudo_treatment_placebo")
    null = summary.placebo_draws.filter(pl.col("band") == "High")["effect_pct"].to_numpy()
    est = row["estimate_pct"]
    assert row["estimate_percentile"] == pytest.approx((null <= est).mean())
    assert row["permutation_p_value"] == pytest.approx((1 + (np.abs(null) >= abs(est)).sum()) / 201)
    # a treated group without effect sits inside its null
    assert 0.0 < row["estimate_percentile"] < 1.0 and row["permutation_p_value"] > 0.01


def test_any_flag_share_fails_when_p_values_are_miscalibrated(clean):
    # a draw that scored the pseudo-treated against ALL controls (themselves included) would not be the
    # production estimator; here we check the other direction of the verdict: too many flags fail it
    from assets.features.pseudo_placebo import summarise_draws

    _, settings, _, summary = clean
    draws = summary.placebo_draws.with_columns(
        n_flagged=pl.when((pl.col("band") == "High") & (pl.col("draw") % 4 == 0)).then(1).otherwise(pl.col("n_flagged"))
    )
    s = summarise_draws(draws, "High", None, settings)
    assert s.share_any_flagged >= 0.25 and s.verdict == "fails" and "BH flags" in s.reason


# --- the paired adjacent-day sensitivity ---------------------------------------------------------------


def _spillover_trial(spill: float):
    """Tuesday events, 6 treated households with different responses (a wide population CI); ``spill``:
    the treated households use this much more at the event hours on the days before and after events
    (their main reference days), which the +-1-day sensitivity leaves out."""
    responders = {"R1": 0.55, "R2": 0.7, "R3": 0.85, "R4": 1.0, "R5": 1.1, "R6": 0.8}
    builder, events = noisy_trial_builder(n_controls=30, responders=responders, n_null_treated=0, weekdays=(1,))
    con = builder.build()
    for hid, factor in responders.items():
        modify_readings(con, [hid], factor=factor, band="High")
    if spill:
        days = sorted({(e.local_start + timedelta(days=o)).date() for e in events for o in (-1, 1)})
        con.execute(
            """UPDATE clean.clean_readings SET kwh = kwh * $f
               WHERE household_id IN (SELECT unnest($h)) AND CAST(interval_start_utc AS DATE) IN (SELECT unnest($d))
                 AND hour(interval_start_utc) BETWEEN 17 AND 19""",
            {"f": 1.0 + spill, "h": list(responders), "d": days},
        )  # January-February: UTC is UK local time
    settings = trial_settings(bootstrap_replicates=400, placebo_draws=0)
    treatment = compute_treatment_features(con, settings)
    return compute_tariff_response_summary(con, treatment, settings)


def _old_rule_flags(summary) -> bool:
    """Today's reading: spillover when the estimate shifts by more than its CI width."""

    def row(analysis):
        f = summary.effects.filter(
            (pl.col("analysis") == analysis) & (pl.col("band") == "High") & (pl.col("method") == "within")
            & (pl.col("window_kind") == "event") & (pl.col("start_bucket") == "all") & (pl.col("season") == "all")
        )  # fmt: skip
        return f.row(0, named=True)

    main, sens = row("treatment"), row("sensitivity_adjacent_days")
    return abs(main["effect_pct"] - sens["effect_pct"]) > main["ci_high_pct"] - main["ci_low_pct"]


def test_paired_sensitivity_flags_a_planted_spillover_the_old_rule_misses():
    summary = _spillover_trial(0.12)
    row = check(summary, "sensitivity_adjacent_days")
    assert row["verdict"] == "differs", row
    assert row["estimate_pct"] < -0.02 and row["high_pct"] < 0  # main is pulled down by inflated references
    assert not _old_rule_flags(summary)


def test_paired_sensitivity_does_not_flag_without_spillover():
    summary = _spillover_trial(0.0)
    row = check(summary, "sensitivity_adjacent_days")
    assert row["verdict"] == "no difference detected", row
    assert row["low_pct"] <= 0 <= row["high_pct"]
    assert check(summary, "pseudo_treatment_placebo")["verdict"] == "not run"


def test_paired_difference_cancels_shared_noise():
    # two estimates that differ by a constant on the same households and events: the paired interval is
    # narrow around the constant, although each estimate alone has a wide interval
    rng = np.random.default_rng(4)
    h, e = 12, 30
    base = pl.DataFrame(
        {
            "household_id": [f"h{i:02d}" for i in range(h) for _ in range(e)],
            "event_id": [j for _ in range(h) for j in range(e)],
            "block_id": [j // 2 for _ in range(h) for j in range(e)],
            "n_half_hours": [6] * (h * e),
            "ref_kwh": [0.5] * (h * e),
            "did_kwh": (rng.normal(0, 0.05, h)[:, None] + rng.normal(0, 0.05, (h, e))).ravel(),
        }
    )
    shifted = base.with_columns(did_kwh=pl.col("did_kwh") - 0.01)
    s = trial_settings(bootstrap_replicates=500)
    diff = paired_difference(base, shifted, s, np.random.default_rng(1))
    alone = population_effect(base, s, np.random.default_rng(1))
    assert diff.effect_pct == pytest.approx(0.02)
    assert diff.ci_low_pct == pytest.approx(0.02) and diff.ci_high_pct == pytest.approx(0.02)
    assert alone.ci_high_pct - alone.ci_low_pct > 0.05
