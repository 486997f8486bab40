-- Per household seen in the month (clean or quarantined): expected, actual, estimated and missing
-- half hours, quarantined rows and spikes (actual rows and spikes from _actual, estimates from
-- _estimated).
CREATE OR REPLACE TEMP TABLE _coverage AS
WITH a AS (
    SELECT household_id, reading_month, count(*) AS actual, count(*) FILTER (WHERE is_spike) AS spikes
    FROM _actual GROUP BY ALL),
e AS (SELECT household_id, reading_month, count(*) AS estimated FROM _estimated GROUP BY ALL),
q AS (SELECT household_id, reading_month, count(*) AS n FROM _quarantined GROUP BY ALL),
hh AS (
    SELECT household_id, reading_month FROM a
    UNION SELECT household_id, reading_month FROM e
    UNION SELECT household_id, reading_month FROM q WHERE household_id IS NOT NULL)
SELECT hh.household_id, hh.reading_month,
       CAST(48 * day(last_day(hh.reading_month)) AS INTEGER) AS expected_half_hours,
       CAST(coalesce(a.actual, 0) AS INTEGER) AS actual_half_hours,
       CAST(coalesce(e.estimated, 0) AS INTEGER) AS estimated_half_hours,
       CAST(48 * day(last_day(hh.reading_month)) - coalesce(a.actual, 0) - coalesce(e.estimated, 0)
            AS INTEGER) AS missing_half_hours,
       CAST(coalesce(q.n, 0) AS INTEGER) AS quarantined_rows,
       CAST(coalesce(a.spikes, 0) AS INTEGER) AS spike_half_hours,
       coalesce(a.actual, 0) / (48 * day(last_day(hh.reading_month))) AS coverage
FROM hh LEFT JOIN a USING (household_id, reading_month) LEFT JOIN e USING (household_id, reading_month)
LEFT JOIN q USING (household_id, reading_month)
