-- The window's valid rows of sub-half-hourly files, each with what became of it (fate): 'conflict'
-- (its stamp read with different values: quarantined by V09), 'incomplete' (its half hour is not
-- whole: quarantined by V14, every copy), 'collapsed' (an exact duplicate copy of a part, D01), 'row'
-- (the kept copy of the half hour's end part: the clean row, holding the half hour's summed kWh) or
-- 'merged' (the kept copy of another part: summed into the row, counted as a merged part in its own
-- file and month, also where the row is the next month's).
CREATE OR REPLACE TEMP TABLE _parts AS
SELECT c.household_id, c.interval_end_utc, c.source_file, c.source_line, c.reading_month,
       CASE WHEN coalesce({V09_CONFLICTING_DUPLICATE}, false) THEN 'conflict'
            WHEN h.incomplete THEN 'incomplete'
            WHEN d.household_id IS NOT NULL AND (c.source_file, c.source_line) <> d.first_src THEN 'collapsed'
            WHEN c.reading_end_utc = c.interval_end_utc THEN 'row'
            ELSE 'merged' END AS fate
FROM (
    SELECT household_id, reading_end_utc, {half_hour_end} AS interval_end_utc, source_file, source_line, reading_month
    FROM _classified WHERE rule_id IS NULL AND parts_per_half_hour > 1
) c
JOIN _halfhours h USING (household_id, interval_end_utc)
LEFT JOIN _dupkeys d USING (household_id, reading_end_utc)
