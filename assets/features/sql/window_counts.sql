-- Actual half hours per household in [$lo, $hi). {readings}: clean readings table.
SELECT household_id, count(*) AS actual_half_hours
FROM {readings}
WHERE quality_code = 'A' AND interval_start_utc >= $lo AND interval_start_utc < $hi
GROUP BY ALL
