-- Per source file and month: raw lines, and where they went (actual, quarantined, collapsed). A
-- collapsed copy (D01) is counted in the file it came from, not in the file of the kept copy.
CREATE OR REPLACE TEMP TABLE _file_balance AS
WITH raw AS (SELECT source_file, reading_month, count(*) AS n FROM _classified GROUP BY ALL),
collapsed AS (
    SELECT c.source_file, c.reading_month, count(*) AS n
    FROM _classified c JOIN _dupkeys d USING (household_id, reading_end_utc)
    WHERE c.rule_id IS NULL AND {D01_EXACT_DUPLICATE} AND (c.source_file, c.source_line) <> d.first_src
    GROUP BY ALL),
actual AS (SELECT source_file, reading_month, count(*) AS n FROM _actual GROUP BY ALL),
quarantined AS (SELECT source_file, reading_month, count(*) AS n FROM _quarantined GROUP BY ALL)
SELECT raw.source_file, raw.reading_month, CAST(raw.n AS BIGINT) AS raw_lines,
       CAST(coalesce(actual.n, 0) AS BIGINT) AS clean_actual_rows,
       CAST(coalesce(quarantined.n, 0) AS BIGINT) AS quarantined_rows,
       CAST(coalesce(collapsed.n, 0) AS BIGINT) AS collapsed_duplicates
FROM raw
LEFT JOIN actual USING (source_file, reading_month)
LEFT JOIN quarantined USING (source_file, reading_month)
LEFT JOIN collapsed USING (source_file, reading_month)
