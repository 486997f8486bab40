-- (household, slot, day type, week) sums of actual readings on event-free, fully labelled days, for
-- the households of {events}. {readings}: clean readings; {grid}: the trial window's local half hours.
SELECT r.household_id, g.slot, g.day_type, g.week_idx, sum(r.kwh) AS s, count(*) AS n
FROM {readings} r
JOIN {grid} g ON r.interval_start_utc = g.interval_start_utc
WHERE r.quality_code = 'A' AND g.ref_eligible
  AND r.interval_start_utc >= $lo AND r.interval_start_utc < $hi
  AND r.household_id IN (SELECT DISTINCT household_id FROM {events})
GROUP BY ALL
