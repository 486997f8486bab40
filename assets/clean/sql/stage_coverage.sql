-- Per household seen in the month (clean or quarantined): expected, actual, estimated and missing
-- half hours, quarantined rows and spikes.
CREATE OR REPLACE TEMP TABLE _coverage AS
WITH clean AS (SELECT * FROM _actual UNION ALL SELECT * FROM _estimated),
hh AS (
    SELECT household_id, reading_month FROM clean
    UNION SELECT household_id, reading_month FROM _quarantined WHERE household_id IS NOT NULL),
c AS (
    SELECT household_id, reading_month,
           count(*) FILTER (WHERE quality_code = 'A') AS actual,
           count(*) FILTER (WHERE quality_code = 'E') AS estimated,
           count(*) FILTER (WHERE is_spike) AS spikes
    FROM clean GROUP BY ALL),
q AS (SELECT household_id, reading_month, count(*) AS n FROM _quarantined GROUP BY ALL)
SELECT hh.household_id, hh.reading_month,
       CAST(48 * day(last_day(hh.reading_month)) AS INTEGER) AS expected_half_hours,
       CAST(coalesce(c.actual, 0) AS INTEGER) AS actual_half_hours,
       CAST(coalesce(c.estimated, 0) AS INTEGER) AS estimated_half_hours,
       CAST(48 * day(last_day(hh.reading_month)) - coalesce(c.actual, 0) - coalesce(c.estimated, 0)
            AS INTEGER) AS missing_half_hours,
       CAST(coalesce(q.n, 0) AS INTEGER) AS quarantined_rows,
       CAST(coalesce(c.spikes, 0) AS INTEGER) AS spike_half_hours,
       coalesce(c.actual, 0) / (48 * day(last_day(hh.reading_month))) AS coverage
FROM hh LEFT JOIN c USING (household_id, reading_month) LEFT JOIN q USING (household_id, reading_month)
