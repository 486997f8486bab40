-- Per UK-local half-hour slot: the share of High-event days (a High half hour and no Low half hour, as in
-- persona_kw_profiles.sql) on which that
-- half hour was priced High. Calendar data only: {grid} = local calendar of the schedule's days,
-- {schedule} = the tariff schedule on the readings' UTC grid.
WITH labelled AS (
    SELECT g.local_date, g.slot, s.band
    FROM {grid} g
    LEFT JOIN {schedule} s ON s.interval_start_utc = g.interval_start_utc
),
event_days AS (
    SELECT local_date FROM labelled GROUP BY local_date HAVING bool_or(band = 'High') AND NOT bool_or(band = 'Low')
)
SELECT l.slot::SMALLINT AS slot, avg(CASE WHEN l.band = 'High' THEN 1.0 ELSE 0.0 END) AS high_share,
       count(DISTINCT l.local_date) AS n_days
FROM labelled l JOIN event_days USING (local_date)
GROUP BY l.slot
ORDER BY l.slot
