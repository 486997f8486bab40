-- Every raw row of the months from_month <= m < to_month with its numeric value, its file's reading
-- interval and the id of the first row rule it fails (in catalogue order, from vee_rules.py), or NULL
-- if valid; the file's truncated last line (if any) and interval come from ingest's source-file index.
-- interval_seconds: the file's detected spacing (0 in the index: too few stamps to tell, off the
-- half-hour grid -> NULL here); a row without an index row, or an index row written before the
-- interval was detected (NULL), is read as half-hourly, as it was before detection existed.
SELECT household_id, reading_end_utc, value, source_file, source_line, reading_month,
    interval_seconds, parts_per_half_hour,
    {first_failing_row_rule} AS rule_id
FROM (
    SELECT *, {parts_per_half_hour} AS parts_per_half_hour
    FROM (
        SELECT r.*, TRY_CAST(r.kwh_text AS DOUBLE) AS value, i.truncated_last_line,
               CASE WHEN i.interval_seconds IS NULL THEN 1800
                    WHEN i.interval_seconds > 0 THEN i.interval_seconds END AS interval_seconds
        FROM {raw} r LEFT JOIN {source_index} i USING (source_file)
        WHERE r.reading_month >= $from_month AND r.reading_month < $to_month
    )
)
