-- (household, local day) totals of actual readings in a lifestyle window, with the day's size and
-- largest reading. {readings}: clean readings table; {grid}: the window's included local half hours.
SELECT r.household_id, g.local_date, any_value(g.day_half_hours) AS day_half_hours,
       count(*) AS n, sum(r.kwh) AS total, max(r.kwh) AS max_kwh
FROM {readings} r
JOIN {grid} g ON r.interval_start_utc = g.interval_start_utc
WHERE r.quality_code = 'A' AND r.interval_start_utc >= $lo AND r.interval_start_utc < $hi
GROUP BY ALL
