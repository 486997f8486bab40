-- Every raw row of the months from_month <= m < to_month with its numeric value and the id of the
-- first row rule it fails (in catalogue order, from vee_rules.py), or NULL if valid; the file's
-- truncated last line (if any) comes from ingest's source-file index.
SELECT household_id, reading_end_utc, value, source_file, source_line, reading_month,
    {first_failing_row_rule} AS rule_id
FROM (
    SELECT r.*, TRY_CAST(r.kwh_text AS DOUBLE) AS value, i.truncated_last_line
    FROM {raw} r LEFT JOIN {source_index} i USING (source_file)
    WHERE r.reading_month >= $from_month AND r.reading_month < $to_month
)
