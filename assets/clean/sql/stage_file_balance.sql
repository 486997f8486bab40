-- Per source file and month: raw lines, and where they went (actual, quarantined, collapsed, merged
-- parts), and the file's reading interval. A collapsed copy (D01) is counted in the file it came from,
-- not in the file of the kept copy; a merged part (a sub-half-hourly reading summed into the clean row
-- of its half hour, other than the one line the row names) in its own file and month.
CREATE OR REPLACE TEMP TABLE _file_balance AS
WITH raw AS (
    SELECT source_file, reading_month, count(*) AS n, max(interval_seconds) AS interval_seconds
    FROM _classified GROUP BY ALL),
collapsed AS (
    SELECT source_file, reading_month, sum(n) AS n FROM (
        SELECT c.source_file, c.reading_month, count(*) AS n
        FROM _classified c JOIN _dupkeys d USING (household_id, reading_end_utc)
        WHERE c.rule_id IS NULL AND c.parts_per_half_hour = 1 AND {D01_EXACT_DUPLICATE}
          AND (c.source_file, c.source_line) <> d.first_src
        GROUP BY ALL
        UNION ALL
        SELECT source_file, reading_month, count(*) FROM _parts WHERE fate = 'collapsed' GROUP BY ALL)
    GROUP BY ALL),
merged AS (SELECT source_file, reading_month, count(*) AS n FROM _parts WHERE fate = 'merged' GROUP BY ALL),
actual AS (SELECT source_file, reading_month, count(*) AS n FROM _actual GROUP BY ALL),
quarantined AS (SELECT source_file, reading_month, count(*) AS n FROM _quarantined GROUP BY ALL)
SELECT raw.source_file, raw.reading_month, CAST(raw.n AS BIGINT) AS raw_lines,
       CAST(coalesce(actual.n, 0) AS BIGINT) AS clean_actual_rows,
       CAST(coalesce(quarantined.n, 0) AS BIGINT) AS quarantined_rows,
       CAST(coalesce(collapsed.n, 0) AS BIGINT) AS collapsed_duplicates,
       CAST(coalesce(merged.n, 0) AS BIGINT) AS merged_parts,
       CAST(raw.interval_seconds AS DOUBLE) / 60 AS interval_minutes
FROM raw
LEFT JOIN actual USING (source_file, reading_month)
LEFT JOIN quarantined USING (source_file, reading_month)
LEFT JOIN collapsed USING (source_file, reading_month)
LEFT JOIN merged USING (source_file, reading_month)
