-- Per (partition month, household, schedule, local week, local month, day class, day type, local slot):
-- kWh sum and count of the actual readings on each schedule's event-free local days, for partition months
-- [$lo, $hi). {readings}: clean readings; {grid}: local labels (week_start = Monday of the local week);
-- {days}: (schedule, local_date, day_class) of every event-free day of the tariff and placebo schedules.
-- Weeks are keyed by their start date, so a week's rows from two months add up.
-- Standard SQL (no DuckDB-only syntax): the Spark engine transpiles it.
SELECT r.reading_month, r.household_id, d.schedule, g.week_start, g.local_month, d.day_class, g.day_type, g.slot,
       SUM(r.kwh) AS kwh, CAST(COUNT(*) AS BIGINT) AS n
FROM {readings} r
JOIN {grid} g ON r.interval_start_utc = g.interval_start_utc
JOIN {days} d ON g.local_date = d.local_date
WHERE r.quality_code = 'A' AND r.reading_month >= $lo AND r.reading_month < $hi
GROUP BY r.reading_month, r.household_id, d.schedule, g.week_start, g.local_month, d.day_class, g.day_type, g.slot
