-- Per persona, line and UK-local half-hour slot: how many households, their mean kW and its spread
-- (one row per persona x line x slot; everything half-hourly stays here).
-- {readings}: clean readings (UTC, stamped at the END; interval_start_utc = start);
-- {schedule}: the tariff schedule on the same UTC grid (interval_start_utc = start of the priced half hour);
-- {grid}: the local calendar of the schedule's days (assets.features.local_time.local_grid: local date,
-- local clock slot of the interval start, day type, month); {assignments}: household -> persona and
-- lifestyle segment; {households}: household -> tariff group ($control: the control group's name).
-- Days: 'high_event' = a High half hour and no Low half hour (a day that also holds Low hours would show
-- the Low-price response as if it were pre-loading); 'normal' = every half hour labelled, none High or Low.
-- Lines:
--   all_members_normal_days  every member, mean kW on normal days;
--   high_event_days          measured ToU members, mean kW on High-event days, ...
--   normal_days              ... and on normal days of the same local month and day type, weighted like
--                            the household's event days (so season and weekends do not masquerade as response);
--   difference               high_event_days - normal_days, household by household;
--   control_difference       the same paired difference for the control (flat-rate) households of the
--                            persona's lifestyle segment(s), on the schedule's event and normal days (their own month x day-type pairing): what the event days do
--                            to load without any price signal (weather, day choice); difference minus it is
--                            the difference in differences.
WITH days AS (
    SELECT g.local_date,
           CASE WHEN bool_or(s.band = 'High') AND NOT bool_or(s.band = 'Low') THEN 'high_event'
                WHEN count(s.band) = count(*) AND NOT bool_or(s.band IN ('High', 'Low')) THEN 'normal'
           END AS day_kind
    FROM {grid} g
    LEFT JOIN {schedule} s ON s.interval_start_utc = g.interval_start_utc
    GROUP BY g.local_date
),
-- inlined where used (two streaming scans) rather than materialising every half-hourly row
obs AS NOT MATERIALIZED (
    SELECT r.household_id, g.local_date, d.day_kind, g.month, g.day_type, g.slot, r.kwh
    FROM {readings} r
    JOIN {grid} g ON g.interval_start_utc = r.interval_start_utc
    JOIN days d ON d.local_date = g.local_date
    WHERE r.quality_code = 'A' AND d.day_kind IS NOT NULL
      AND r.interval_start_utc >= $lo AND r.interval_start_utc < $hi
),
cells AS (
    SELECT household_id, day_kind, month, day_type, slot, 2 * avg(kwh) AS kw, count(*) AS n_readings
    FROM obs
    GROUP BY ALL
),
paired AS (
    SELECT e.household_id, e.month, e.day_type, e.slot, e.n_readings AS w, e.kw AS event_kw, n.kw AS normal_kw
    FROM cells e
    JOIN cells n ON n.household_id = e.household_id AND n.month = e.month AND n.day_type = e.day_type
                AND n.slot = e.slot AND n.day_kind = 'normal'
    WHERE e.day_kind = 'high_event'
),
household_lines AS (
    SELECT household_id, 'all_members_normal_days' AS line, slot,
           sum(kw * n_readings) / sum(n_readings) AS kw
    FROM cells WHERE day_kind = 'normal' GROUP BY ALL
    UNION ALL
    SELECT household_id, 'high_event_days', slot, sum(w * event_kw) / sum(w) FROM paired GROUP BY ALL
    UNION ALL
    SELECT household_id, 'normal_days', slot, sum(w * normal_kw) / sum(w) FROM paired GROUP BY ALL
    UNION ALL
    SELECT household_id, 'difference', slot, sum(w * (event_kw - normal_kw)) / sum(w) FROM paired GROUP BY ALL
),
members AS (
    SELECT a.household_id, a.persona_name, a.segment, coalesce(a.response_measured, false) AS measured,
           coalesce(h.tariff_group = $control, false) AS is_control
    FROM {assignments} a LEFT JOIN {households} h USING (household_id)
),
persona_segments AS (
    SELECT DISTINCT persona_name, segment FROM members WHERE measured
),
control_lines AS (
    SELECT ps.persona_name, 'control_difference' AS line, l.slot, l.household_id, l.kw
    FROM household_lines l
    JOIN members m USING (household_id)
    JOIN persona_segments ps ON ps.segment = m.segment
    WHERE l.line = 'difference' AND m.is_control
),
line_members AS (
    SELECT DISTINCT m.persona_name, l.line, l.household_id
    FROM household_lines l JOIN members m USING (household_id)
    WHERE l.line = 'all_members_normal_days' OR m.measured
),
paired_strata AS (
    SELECT DISTINCT household_id, month, day_type FROM paired
),
line_days AS (
    -- calendar days each line averages: normal days of every member; event / normal days of the
    -- measured members in the month x day-type strata where they have both kinds
    SELECT lm.persona_name, lm.line, count(DISTINCT o.local_date) AS n_days
    FROM line_members lm
    JOIN obs o ON o.household_id = lm.household_id
    LEFT JOIN paired_strata p ON p.household_id = o.household_id AND p.month = o.month AND p.day_type = o.day_type
    WHERE (lm.line = 'all_members_normal_days' AND o.day_kind = 'normal')
       OR (lm.line IN ('normal_days', 'high_event_days') AND p.household_id IS NOT NULL
           AND o.day_kind = CASE lm.line WHEN 'normal_days' THEN 'normal' ELSE 'high_event' END)
    GROUP BY ALL
)
SELECT m.persona_name, l.line, l.slot::SMALLINT AS slot, count(*) AS n_households,
       avg(l.kw) AS mean_kw, stddev_samp(l.kw) AS sd_kw, any_value(ld.n_days) AS n_days
FROM household_lines l
JOIN members m USING (household_id)
LEFT JOIN line_days ld ON ld.persona_name = m.persona_name AND ld.line = l.line
WHERE l.line = 'all_members_normal_days' OR m.measured
GROUP BY ALL
UNION ALL
SELECT persona_name, line, slot::SMALLINT, count(*), avg(kw), stddev_samp(kw), CAST(NULL AS BIGINT)
FROM control_lines
GROUP BY ALL
ORDER BY 1, 2, 3
