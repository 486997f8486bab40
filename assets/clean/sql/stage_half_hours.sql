-- Half hours of sub-half-hourly readings (rows of files with parts_per_half_hour > 1, e.g. 2 for
-- 15-minute files): per (household, half hour), its valid parts and whether they make the whole half
-- hour (V14 otherwise; a part is stamped at the end of its interval, so the half hour ending hh:30
-- holds the parts stamped after hh:00 up to hh:30). The window's parts and, from the neighbouring months,
-- the parts of the two half hours at the window's edges (the part stamped 23:45 on a month's last day
-- belongs to the half hour ending 00:00 of the next month), so both months decide such a half hour
-- alike: the later month stores it, the earlier counts its own parts as merged (or quarantines them).
-- A stamp read with different values (V09) is no part; a part read twice with one value counts once.
CREATE OR REPLACE TEMP TABLE _halfhours AS
WITH edge AS (
    SELECT household_id, reading_end_utc, value, parts_per_half_hour
    FROM ({classified})
    WHERE rule_id IS NULL
      AND (reading_month < $start OR reading_month >= $end)
      AND ((reading_end_utc > $start - INTERVAL 30 MINUTE AND reading_end_utc < $start) OR reading_end_utc = $end)),
valid AS (
    SELECT household_id, reading_end_utc, value, parts_per_half_hour FROM _classified WHERE rule_id IS NULL
    UNION ALL SELECT * FROM edge),
stamps AS (
    SELECT household_id, reading_end_utc, {half_hour_end} AS interval_end_utc,
           min(value) AS value, count(DISTINCT value) AS n_values, count(*) AS n_rows,
           min(parts_per_half_hour) AS min_parts, max(parts_per_half_hour) AS max_parts
    FROM valid WHERE parts_per_half_hour > 1
    GROUP BY household_id, reading_end_utc),
halves AS (
    SELECT household_id, interval_end_utc,
           count(*) FILTER (WHERE n_values = 1) AS n_parts,
           sum(value) FILTER (WHERE n_values = 1) AS kwh,
           CAST(coalesce(sum(n_rows - 1) FILTER (WHERE n_values = 1), 0) AS INTEGER) AS duplicate_rows,
           min(min_parts) AS min_parts, max(max_parts) AS max_parts
    FROM stamps GROUP BY household_id, interval_end_utc),
half_hourly AS (
    SELECT v.household_id, v.reading_end_utc AS interval_end_utc, count(*) AS n
    FROM valid v JOIN halves k ON v.household_id = k.household_id AND v.reading_end_utc = k.interval_end_utc
    WHERE v.parts_per_half_hour = 1
    GROUP BY v.household_id, v.reading_end_utc),
checked AS (
    SELECT halves.*, coalesce(half_hourly.n, 0) AS half_hourly_rows
    FROM halves LEFT JOIN half_hourly USING (household_id, interval_end_utc))
SELECT household_id, interval_end_utc, kwh, duplicate_rows, {V14_INCOMPLETE_HALF_HOUR} AS incomplete
FROM checked
