-- Baseline-year reference from the per-household-month aggregates (same result as ref_baseline.sql for
-- a baseline window of whole local months): same household, slot and day type, baseline calendar
-- month +- tolerance ({neighbours}: month -> ref_month), for the cells of {events}.
-- {slots}: features.household_month_slots; local months [$lo, $hi) form the baseline window.
WITH need AS (
    SELECT DISTINCT household_id, slot, day_type, month FROM {events}
),
base AS (
    SELECT a.household_id, a.slot, a.day_type, EXTRACT(MONTH FROM a.local_month) AS month,
           SUM(a.kwh) AS s, SUM(a.n) AS n
    FROM {slots} a
    WHERE a.local_month >= $lo AND a.local_month < $hi
      AND a.household_id IN (SELECT household_id FROM need)
    GROUP BY a.household_id, a.slot, a.day_type, EXTRACT(MONTH FROM a.local_month)
)
SELECT need.household_id, need.slot, need.day_type, need.month,
       SUM(base.s) / SUM(base.n) AS ref_kwh, SUM(base.n) AS ref_n
FROM need
JOIN {neighbours} nb ON nb.month = need.month
JOIN base ON base.household_id = need.household_id AND base.slot = need.slot
         AND base.day_type = need.day_type AND base.month = nb.ref_month
GROUP BY need.household_id, need.slot, need.day_type, need.month
HAVING SUM(base.n) > 0
