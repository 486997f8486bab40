-- Pass 1 of a load (DuckDB): one row per file read, from {parsed} (parse_lines over the lines in scan
-- order, with rn as source_line). Lines, the first scan position (to number the lines of pass 2),
-- the months its in-range lines cover (the source-file index), how many stamps parse and their
-- range (a file with no usable stamp is refused), `edges`: the few lines that have no month
-- of their own, with the in-range lines right next to them, from which the caller files each such
-- line under the month of the nearest preceding in-range line of its file (else the next one), and
-- the file's reading interval ({intervals}: file_intervals.sql over the same lines; NULL for a file
-- without any parsed stamp).
-- lag/lead over an empty OVER () read the scan order, which {parsed} keeps (projections only).
WITH w AS (
    SELECT file_index, source_line AS rn, own_month, reading_end_utc, household_id,
           own_month IS NOT NULL AS good,
           lag(own_month IS NOT NULL) OVER () AS prev_good, lag(file_index) OVER () AS prev_file,
           lead(own_month IS NOT NULL) OVER () AS next_good, lead(file_index) OVER () AS next_file
    FROM {parsed}
),
i AS ({intervals}),
stats AS (
    SELECT file_index, count(*) AS n_lines, min(rn) AS first_rn,
           min(own_month) AS first_month, max(own_month) AS last_month,
           count(reading_end_utc) AS stamps, min(reading_end_utc) AS first_stamp, max(reading_end_utc) AS last_stamp,
           list(struct_pack(rn := rn, month := own_month) ORDER BY rn) FILTER (
               WHERE NOT good
                  OR (prev_file = file_index AND NOT prev_good)
                  OR (next_file = file_index AND NOT next_good)) AS edges
    FROM w
    GROUP BY file_index
)
SELECT stats.*, i.interval_seconds FROM stats LEFT JOIN i USING (file_index)
