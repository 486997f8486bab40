"""Month over month: population effect with both intervals, persona sizes, DR list entries and exits
with the kW that moved, each k-suppressed; recorded per as-of month in the warehouse."""

from datetime import date

import duckdb
import polars as pl
import pytest

from assets.reports import month_over_month as mom
from assets.reports.data_confidence import Effect

K = 5


def snap(effect: tuple | None, dr: dict[str, float], personas: dict[str, int]) -> mom.Snapshot:
    return mom.Snapshot(
        pl.DataFrame([list(effect)] if effect else [], schema=mom.EFFECT_SCHEMA, orient="row"),
        pl.DataFrame({"household_ref": list(dr), "expected_kw": list(dr.values())}, schema=mom.DR_SCHEMA),
        pl.DataFrame(
            {"persona_name": list(personas), "n_households": list(personas.values())}, schema=mom.PERSONA_SCHEMA
        ),
    )


def hh(prefix: str, n: int, kw: float) -> dict[str, float]:
    return {f"{prefix}{i}": kw for i in range(n)}


PREVIOUS = snap((-0.05, -0.09, -0.01, 400), {**hh("s", 20, 0.1), **hh("old", 6, 0.2)}, {"A": 30, "B": 12, "C": 3})
CURRENT = snap(
    (-0.04, -0.08, 0.00, 410), {**hh("s", 20, 0.15), **hh("new", 7, 0.3), "x1": 0.5}, {"A": 28, "B": 14, "D": 8}
)


def by_item(rows: pl.DataFrame) -> dict[str, dict]:
    return {r["item"]: r for r in rows.iter_rows(named=True)}


def test_effect_with_both_intervals():
    rows = by_item(mom.compare(CURRENT, PREVIOUS, K))
    effect = next(r for r in rows.values() if r["section"] == "population_effect")
    assert (effect["previous"], effect["previous_ci_low"], effect["previous_ci_high"]) == pytest.approx((-5, -9, -1))
    assert (effect["current"], effect["current_ci_low"], effect["current_ci_high"]) == pytest.approx((-4, -8, 0))
    assert effect["change"] == pytest.approx(1.0) and effect["households"] == 410 and not effect["suppressed"]


def test_persona_sizes_and_small_cells():
    rows = by_item(mom.compare(CURRENT, PREVIOUS, K))
    assert (rows["A"]["previous"], rows["A"]["current"], rows["A"]["change"]) == (30, 28, -2)
    assert (rows["D"]["previous"], rows["D"]["current"], rows["D"]["change"]) == (0, 8, 8)  # a new persona
    # C had 3 households before (and none now): every number is blanked, the label stays
    assert rows["C"]["suppressed"] and rows["C"]["previous"] is None and rows["C"]["current"] is None


def test_dr_entries_and_exits_with_the_kw_that_moved():
    rows = mom.compare(CURRENT, PREVIOUS, K)
    dr = {r["item"].split(" (")[0]: r for r in rows.filter(pl.col("section") == "dr_list").iter_rows(named=True)}
    entered, left, stayed = dr["entered the DR list"], dr["left the DR list"], dr["stayed on the DR list"]
    assert (entered["households"], entered["kw"]) == (8, pytest.approx(7 * 0.3 + 0.5))
    assert (left["households"], left["kw"]) == (6, pytest.approx(6 * 0.2))
    assert (stayed["households"], stayed["kw"]) == (20, pytest.approx(20 * 0.05))
    total = dr["households on the DR list / total expected kW"]
    assert (total["previous"], total["current"], total["households"]) == (pytest.approx(3.2), pytest.approx(5.6), 28)


def test_a_handful_of_households_moving_is_suppressed_kw_included():
    current = snap(None, {**hh("s", 20, 0.1), "n1": 0.4, "n2": 0.4}, {"A": 22})
    previous = snap(None, hh("s", 20, 0.1), {"A": 20})
    entered = next(
        r for r in mom.compare(current, previous, K).iter_rows(named=True) if r["item"].startswith("entered")
    )
    assert entered["suppressed"] and entered["households"] is None and entered["kw"] is None
    # the effect over fewer than k households is blanked too
    tiny = snap((-0.1, -0.2, 0.0, 3), {}, {"A": 22})
    effect = mom.compare(tiny, previous, K).row(0, named=True)
    assert effect["section"] == "population_effect" and effect["suppressed"] and effect["current"] is None


def test_recorded_per_month_and_compared_with_the_previous_segmentation():
    con = duckdb.connect()
    con.execute("CREATE SCHEMA model")
    con.execute(
        "CREATE TABLE model.segment_assignment_history (as_of_month DATE, household_id VARCHAR, persona_name VARCHAR)"
    )
    con.execute(
        "INSERT INTO model.segment_assignment_history SELECT DATE '2013-01-01', 'h' || i, 'A' FROM range(12) t(i)"
    )
    targets = pl.DataFrame(
        {"household_ref": ["a", "b"], "expected_kw_reduction": [0.1, 0.2], "selected_by_ranking": [True, False]}
    )
    assignments = pl.DataFrame({"persona_name": ["A"] * 12})
    jan = mom.snapshot_of(Effect(-0.05, -0.1, 0.0, 300, 20), targets, assignments)
    first = mom.record_and_compare(con, date(2013, 1, 1), None, jan, K)
    assert first.previous_month is None and "No earlier segmentation" in first.sentence
    assert mom.read_snapshot(con, date(2013, 1, 1)).dr_list["household_ref"].to_list() == ["a"]
    feb = mom.snapshot_of(Effect(-0.06, -0.1, -0.02, 310, 21), targets, assignments)
    second = mom.record_and_compare(con, date(2013, 2, 1), date(2013, 1, 1), feb, K)
    assert second.previous_month == date(2013, 1, 1)
    effect = second.rows.row(0, named=True)
    assert effect["previous"] == pytest.approx(-5) and effect["current"] == pytest.approx(-6)
    csv = second.csv()
    assert (
        csv.columns[:4] == ["previous_month", "current_month", "section", "item"] and csv.height == second.rows.height
    )
    assert "Compared with the segmentation as of 2013-01" in mom.markdown(second)
    # re-running a month replaces its snapshot (idempotent)
    mom.record_and_compare(con, date(2013, 2, 1), date(2013, 1, 1), feb, K)
    assert con.execute("SELECT count(*) FROM reports.population_effect_history").fetchone()[0] == 2
    # a previous month whose report recorded nothing says so
    missing = mom.record_and_compare(con, date(2013, 3, 1), date(2012, 12, 1), feb, K)
    assert missing.previous_month is None and "recorded no report snapshot" in missing.sentence
