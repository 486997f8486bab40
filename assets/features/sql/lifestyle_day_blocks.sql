-- (household, local day, block of the day) kWh of actual readings (blocks: slot // $block_slots), for
-- the daily-shape types of shape_entropy. {readings}: clean readings; {grid}: included half hours.
SELECT r.household_id, g.local_date, CAST(g.slot // $block_slots AS INTEGER) AS block, sum(r.kwh) AS kwh
FROM {readings} r
JOIN {grid} g ON r.interval_start_utc = g.interval_start_utc
WHERE r.quality_code = 'A' AND r.interval_start_utc >= $lo AND r.interval_start_utc < $hi
GROUP BY ALL
