-- ref_within_base.sql from the aggregates (same rows, sums regrouped): (household, slot, day type, week)
-- sums of actual readings on the reference days of schedule $schedule ('reference' days, and with
-- $include_near the 'reference_near' ones) in the local months [$lo, $hi), for the households of {events}.
-- {slots}: features.household_reference_slots; week_idx counts whole weeks from $epoch (a Monday).
SELECT a.household_id, a.slot, a.day_type,
       CAST(DATE_DIFF('day', CAST($epoch AS DATE), a.week_start) / 7 AS INTEGER) AS week_idx,
       SUM(a.kwh) AS s, CAST(SUM(a.n) AS BIGINT) AS n
FROM {slots} a
WHERE a.schedule = $schedule AND a.local_month >= $lo AND a.local_month < $hi
  AND (a.day_class = 'reference' OR ($include_near AND a.day_class = 'reference_near'))
  AND a.household_id IN (SELECT DISTINCT household_id FROM {events})
GROUP BY a.household_id, a.slot, a.day_type, a.week_start
