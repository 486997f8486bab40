-- Sufficient statistics of the time-of-week regression (towt.py) per (household, schedule, event, weekday
-- of the fitting day): days, and the sums of t, y, t*t, t*y, where y is the event window's kWh on the
-- fitting day and t its distance from the event day in weeks. {windows}: settlement.event_day_windows;
-- {selection}: (schedule, event_id, local_date, weekday, t_weeks) of the 'towt' days.
SELECT w.household_id, w.schedule, w.event_id, s.weekday,
       CAST(count(*) AS INTEGER) AS n_days, sum(s.t_weeks) AS st, sum(w.kwh) AS sy,
       sum(s.t_weeks * s.t_weeks) AS stt, sum(s.t_weeks * w.kwh) AS sty
FROM {windows} w
JOIN {selection} s ON w.schedule = s.schedule AND w.event_id = s.event_id AND w.local_date = s.local_date
WHERE w.role = 'event'
GROUP BY w.household_id, w.schedule, w.event_id, s.weekday
