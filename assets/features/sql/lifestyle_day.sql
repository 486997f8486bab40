-- (household, local day) totals of actual readings in a lifestyle window, with the day's size and its
-- largest and smallest reading (meter health). {readings}: clean readings table; {grid}: the window's
-- included local half hours.
SELECT r.household_id, g.local_date, any_value(g.day_half_hours) AS day_half_hours,
       count(*) AS n, sum(r.kwh) AS total, max(r.kwh) AS max_kwh, min(r.kwh) AS min_kwh
FROM {readings} r
JOIN {grid} g ON r.interval_start_utc = g.interval_start_utc
WHERE r.quality_code = 'A' AND r.interval_start_utc >= $lo AND r.interval_start_utc < $hi
GROUP BY ALL
