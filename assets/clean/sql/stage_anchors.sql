-- Valid, unambiguous readings of the neighbouring months within reach of a short gap (E01), so
-- gaps at the month's edges can be filled: classified over the month plus one month either
-- side. Only half-hourly files' readings: a sub-half-hourly part is not a half hour's kWh (such
-- households' gaps at a month's edge stay missing unless the month's own rows bound them).
CREATE OR REPLACE TEMP TABLE _anchors AS
SELECT household_id, reading_end_utc, min(value) AS value
FROM ({classified})
WHERE rule_id IS NULL AND parts_per_half_hour = 1
  AND (reading_month < $start OR reading_month >= $end)
  AND reading_end_utc >= $start - ($max_gap_half_hours_to_estimate + 1) * INTERVAL 30 MINUTE
  AND reading_end_utc < $end + ($max_gap_half_hours_to_estimate + 1) * INTERVAL 30 MINUTE
GROUP BY household_id, reading_end_utc HAVING count(DISTINCT value) = 1
