-- Settlement's windows of one month of local days: per (household, schedule, event, local day, role) the
-- kWh of the window's actual readings, kept only when every half hour of the window is an actual reading.
-- {readings}: clean readings; {windows}: (schedule, event_id, local_date, role, interval_start_utc), every
-- half hour of every window (calendar.window_map); {expected}: the same keys with the window's half hours.
-- $lo, $hi: the partition months of the readings to read (the local days' month, the one before and after:
-- windows reach across midnight and month ends). Standard SQL (the Spark engine transpiles it).
-- The kWh is rounded to 1e-9 kWh: a parallel sum adds in no fixed order, so its last bits differ run to
-- run (and engine to engine); unrounded, a reduction of exactly 0 could come out as +-1e-16 and be paid
-- in one run and not in the next. Readings carry 3 decimals: the rounding changes no real digit.
WITH w AS (
    SELECT r.household_id, m.schedule, m.event_id, m.local_date, m.role,
           round(sum(r.kwh), 9) AS kwh, count(*) AS n
    FROM {readings} r
    JOIN {windows} m ON r.interval_start_utc = m.interval_start_utc
    WHERE r.quality_code = 'A' AND r.reading_month >= $lo AND r.reading_month < $hi
    GROUP BY r.household_id, m.schedule, m.event_id, m.local_date, m.role
)
SELECT CAST($month AS DATE) AS day_month, w.household_id, w.schedule, w.event_id, w.local_date, w.role,
       w.kwh, CAST(w.n AS INTEGER) AS n_half_hours
FROM w
JOIN {expected} e
  ON w.schedule = e.schedule AND w.event_id = e.event_id AND w.local_date = e.local_date AND w.role = e.role
WHERE w.n = e.n
