-- Baseline-year reference: same household, slot and day type, baseline calendar month +- tolerance
-- ({neighbours}: month -> ref_month), for the cells of {events}. {readings}: clean readings;
-- {grid}: the baseline window's local half hours.
WITH need AS (
    SELECT DISTINCT household_id, slot, day_type, month FROM {events}
),
base AS (
    SELECT r.household_id, g.slot, g.day_type, g.month, sum(r.kwh) AS s, count(*) AS n
    FROM {readings} r
    JOIN {grid} g ON r.interval_start_utc = g.interval_start_utc
    WHERE r.quality_code = 'A' AND r.interval_start_utc >= $lo AND r.interval_start_utc < $hi
      AND r.household_id IN (SELECT household_id FROM need)
    GROUP BY ALL
)
SELECT need.household_id, need.slot, need.day_type, need.month,
       sum(base.s) / sum(base.n) AS ref_kwh, sum(base.n) AS ref_n
FROM need
JOIN {neighbours} nb ON nb.month = need.month
JOIN base ON base.household_id = need.household_id AND base.slot = need.slot
         AND base.day_type = need.day_type AND base.month = nb.ref_month
GROUP BY ALL
HAVING sum(base.n) > 0
