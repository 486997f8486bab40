-- (household, local slot, day type, season) sums of actual readings in a lifestyle window (the profile,
-- weekday/weekend and winter/summer means, and winter_weekday_peak_kw come from this one scan).
-- {readings}: clean readings table; {grid}: the window's included local half hours.
SELECT r.household_id, g.slot, g.day_type, g.season, sum(r.kwh) AS kwh, count(*) AS n
FROM {readings} r
JOIN {grid} g ON r.interval_start_utc = g.interval_start_utc
WHERE r.quality_code = 'A' AND r.interval_start_utc >= $lo AND r.interval_start_utc < $hi
GROUP BY ALL
