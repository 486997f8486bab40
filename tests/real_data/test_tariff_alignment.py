"""Proof on the real sample that the tariff schedule is aligned with the readings.

The schedule labels the START of each half hour in UK local time; readings are UTC stamped at the
END. If ``ingest.tariff_schedule`` is right, the ToU/Std consumption ratio steps down exactly at
the first High half hour and up at the first Low half hour, both in GMT and in BST months, and the
half hour just before an event does not move. A one-hour (BST) or half-hour (interval convention)
slip would move the step to the neighbouring slot.
"""

import pytest

pytestmark = pytest.mark.real_data

STEP_SQL = """
WITH ratio AS (
    SELECT c.interval_start_utc AS t,
           avg(c.kwh) FILTER (WHERE h.tariff_group = 'ToU') / avg(c.kwh) FILTER (WHERE h.tariff_group = 'Std') AS r
    FROM clean.clean_readings c JOIN ingest.households h USING (household_id)
    WHERE c.quality_code = 'A' AND year(c.interval_start_utc) = 2013
    GROUP BY 1),
events AS (
    SELECT DISTINCT event_id, band, event_start_utc,
           timezone('Europe/London', timezone('UTC', event_start_utc)) - event_start_utc AS utc_offset
    FROM ingest.tariff_schedule WHERE event_id IS NOT NULL),
rel AS (
    SELECT e.band, e.utc_offset > INTERVAL 0 MINUTE AS bst, e.event_id,
           CAST(epoch(r.t - e.event_start_utc) / 1800 AS INTEGER) AS k, r.r
    FROM events e JOIN ratio r
      ON r.t BETWEEN e.event_start_utc - INTERVAL 2 HOUR AND e.event_start_utc + INTERVAL 30 MINUTE),
normalised AS (
    SELECT band, bst, event_id, k,
           r / avg(r) FILTER (WHERE k IN (-4, -3)) OVER (PARTITION BY event_id) AS rn
    FROM rel)
SELECT band, bst, k, avg(rn) AS step, count(DISTINCT event_id) AS events
FROM normalised WHERE k IN (-1, 0, 1) GROUP BY ALL ORDER BY ALL
"""


@pytest.fixture
def steps(real_con) -> dict[tuple[str, bool, int], float]:
    return {(band, bst, k): step for band, bst, k, step, _ in real_con.execute(STEP_SQL).fetchall()}


def test_schedule_matches_published_counts(real_con):
    bands = dict(real_con.execute("SELECT band, count(*) FROM ingest.tariff_schedule GROUP BY 1").fetchall())
    assert bands == {"High": 788, "Low": 1660, "Normal": 15072}
    events = dict(
        real_con.execute(
            "SELECT band, count(DISTINCT event_id) FROM ingest.tariff_schedule WHERE event_id IS NOT NULL GROUP BY 1"
        ).fetchall()
    )
    assert events == {"High": 69, "Low": 92}


@pytest.mark.parametrize("bst", [False, True], ids=["GMT", "BST"])
def test_high_step_is_at_first_high_half_hour(steps, bst):
    before, first = steps[("High", bst, -1)], steps[("High", bst, 0)]
    assert 0.95 < before < 1.10, "the half hour before a High event must not respond yet"
    assert first < 0.93, "consumption of ToU households drops in the first High half hour"
    assert first < before - 0.08


@pytest.mark.parametrize("bst", [False, True], ids=["GMT", "BST"])
def test_low_step_is_at_first_low_half_hour(steps, bst):
    before, first = steps[("Low", bst, -1)], steps[("Low", bst, 0)]
    assert 0.95 < before < 1.10, "the half hour before a Low event must not respond yet"
    assert first > 1.12, "consumption of ToU households rises in the first Low half hour"
    assert first > before + 0.08
