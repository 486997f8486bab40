-- The actual readings at the selected half hours of partition months [$lo, $hi): one row per (partition
-- month, household, half hour). {readings}: clean readings; {selection}: the half hours some event,
-- rebound or preload window of the tariff schedule or of its placebo shift holds (aggregates.py).
-- Standard SQL (no DuckDB-only syntax): the Spark engine transpiles it.
SELECT r.reading_month, r.household_id, r.interval_start_utc, r.kwh
FROM {readings} r
JOIN {selection} s ON r.interval_start_utc = s.interval_start_utc
WHERE r.quality_code = 'A' AND r.reading_month >= $lo AND r.reading_month < $hi
