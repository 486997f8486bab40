-- The reading interval of each file, engine-neutral (DuckDB: inside pass 1 of a load, file_stats.sql;
-- Spark: over the numbered lines of a load; Parquet files: over their rows). Input {stamps}: file_index,
-- household_id, reading_end_utc (one row per line, NULLs allowed).
--
-- The rule: the interval is the modal positive difference, in seconds, between consecutive distinct
-- stamps of the same household in the same file (a tie goes to the shorter difference), provided it
-- occurs at least twice. A file without such a difference (too few stamps to tell: fewer than three
-- stamps of one household, or no difference repeating) is taken as half-hourly (1800) only if every
-- stamp sits on the :00/:30 grid, else 0 (cannot tell: the clean stage refuses it, V13). The
-- clean stage sums intervals that are whole minutes dividing 30 into half hours and refuses the rest
-- (assets/clean/vee_rules.py).
WITH s AS (
    SELECT DISTINCT file_index, household_id, reading_end_utc FROM {stamps}
    WHERE household_id IS NOT NULL AND reading_end_utc IS NOT NULL),
d AS (
    SELECT file_index,
           date_diff('second',
                     lag(reading_end_utc) OVER (PARTITION BY file_index, household_id ORDER BY reading_end_utc),
                     reading_end_utc) AS spacing
    FROM s),
n AS (
    SELECT file_index, spacing, count(*) AS n FROM d WHERE spacing > 0
    GROUP BY file_index, spacing HAVING count(*) >= 2),
ranked AS (
    SELECT file_index, spacing, row_number() OVER (PARTITION BY file_index ORDER BY n DESC, spacing) AS k FROM n),
grid AS (
    SELECT file_index,
           count(*) FILTER (WHERE minute(reading_end_utc) NOT IN (0, 30)
                               OR date_trunc('minute', reading_end_utc) <> reading_end_utc) AS off_grid
    FROM s GROUP BY file_index)
SELECT grid.file_index,
       CAST(coalesce(ranked.spacing, CASE WHEN grid.off_grid = 0 THEN 1800 ELSE 0 END) AS BIGINT) AS interval_seconds
FROM grid LEFT JOIN ranked ON grid.file_index = ranked.file_index AND ranked.k = 1
