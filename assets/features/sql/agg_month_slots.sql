-- Per (partition month, household, local month, day type, local slot): kWh sum and count of the actual
-- readings of partition months [$lo, $hi). {readings}: clean readings; {grid}: the local labels of every
-- half hour of those months. Standard SQL (no DuckDB-only syntax): the Spark engine transpiles it.
SELECT r.reading_month, r.household_id, g.local_month, g.day_type, g.slot,
       SUM(r.kwh) AS kwh, CAST(COUNT(*) AS BIGINT) AS n
FROM {readings} r
JOIN {grid} g ON r.interval_start_utc = g.interval_start_utc
WHERE r.quality_code = 'A' AND r.reading_month >= $lo AND r.reading_month < $hi
GROUP BY r.reading_month, r.household_id, g.local_month, g.day_type, g.slot
