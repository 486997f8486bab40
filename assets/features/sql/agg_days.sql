-- Per (partition month, household, local day): readings of any quality, actual readings, their kWh sum
-- largest and smallest value, and the kWh of the actual readings in each 4-hour block of the local day, for
-- partition months [$lo, $hi). {readings}: clean readings; {grid}: local labels (block = slot / 8).
-- Standard SQL (no DuckDB-only syntax): the Spark engine transpiles it.
SELECT r.reading_month, r.household_id, g.local_date,
       CAST(COUNT(*) AS BIGINT) AS n_readings,
       CAST(SUM(CASE WHEN r.quality_code = 'A' THEN 1 ELSE 0 END) AS BIGINT) AS n_actual,
       SUM(CASE WHEN r.quality_code = 'A' THEN r.kwh END) AS kwh,
       MAX(CASE WHEN r.quality_code = 'A' THEN r.kwh END) AS max_kwh,
       MIN(CASE WHEN r.quality_code = 'A' THEN r.kwh END) AS min_kwh,
       SUM(CASE WHEN r.quality_code = 'A' AND g.block = 0 THEN r.kwh ELSE 0 END) AS kwh_block_0,
       SUM(CASE WHEN r.quality_code = 'A' AND g.block = 1 THEN r.kwh ELSE 0 END) AS kwh_block_1,
       SUM(CASE WHEN r.quality_code = 'A' AND g.block = 2 THEN r.kwh ELSE 0 END) AS kwh_block_2,
       SUM(CASE WHEN r.quality_code = 'A' AND g.block = 3 THEN r.kwh ELSE 0 END) AS kwh_block_3,
       SUM(CASE WHEN r.quality_code = 'A' AND g.block = 4 THEN r.kwh ELSE 0 END) AS kwh_block_4,
       SUM(CASE WHEN r.quality_code = 'A' AND g.block = 5 THEN r.kwh ELSE 0 END) AS kwh_block_5
FROM {readings} r
JOIN {grid} g ON r.interval_start_utc = g.interval_start_utc
WHERE r.reading_month >= $lo AND r.reading_month < $hi
GROUP BY r.reading_month, r.household_id, g.local_date
