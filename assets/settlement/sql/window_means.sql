-- Per (household, schedule, event, day set, role): the mean kWh of the window over the selected days with
-- a complete window, and how many there were. {windows}: settlement.event_day_windows; {selection}:
-- (schedule, event_id, local_date, use) for the uses 'target', 'caiso', 'dfs' (calendar.select_days).
SELECT w.household_id, w.schedule, w.event_id, s.use, w.role,
       avg(w.kwh) AS kwh, CAST(count(*) AS INTEGER) AS n_days
FROM {windows} w
JOIN {selection} s ON w.schedule = s.schedule AND w.event_id = s.event_id AND w.local_date = s.local_date
WHERE s.use IN ('target', 'caiso', 'dfs')
GROUP BY w.household_id, w.schedule, w.event_id, s.use, w.role
