-- Every raw row of the months from_month <= m < to_month with its numeric value and the id of the
-- first row rule it fails (V01..V08 in catalogue order, from vee_rules.py), or NULL if valid.
SELECT household_id, reading_end_utc, value, source_file, source_line, reading_month,
    {first_failing_row_rule} AS rule_id
FROM (
    SELECT *, TRY_CAST(kwh_text AS DOUBLE) AS value
    FROM {raw}
    WHERE reading_month >= $from_month AND reading_month < $to_month
)
