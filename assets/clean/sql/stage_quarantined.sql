-- Rows to quarantine: those failing a row rule, plus every copy of a conflicting duplicate (V09) and
-- every valid part of an incomplete half hour of sub-half-hourly readings (V14), with the raw text and
-- the rule's description (from the catalogue; V13's names the spacing detected in the file). Ingest
-- keeps a stamp's text only where it did not parse; a parsed stamp is shown as the stamp (ISO text).
CREATE OR REPLACE TEMP TABLE _quarantined AS
WITH rejected AS (
    SELECT source_file, source_line, rule_id, interval_seconds FROM _classified WHERE rule_id IS NOT NULL
    UNION ALL
    SELECT c.source_file, c.source_line, 'V09_CONFLICTING_DUPLICATE', c.interval_seconds
    FROM _classified c JOIN _dupkeys d USING (household_id, reading_end_utc)
    WHERE c.rule_id IS NULL AND {V09_CONFLICTING_DUPLICATE}
    UNION ALL
    SELECT source_file, source_line, 'V14_INCOMPLETE_HALF_HOUR', CAST(NULL AS BIGINT)
    FROM _parts WHERE fate = 'incomplete')
SELECT r.source_file, r.source_line, r.household_id,
       coalesce(r.reading_ts_text, CAST(r.reading_end_utc AS VARCHAR)) AS reading_ts_text, r.kwh_text, r.raw_line,
       x.rule_id,
       CASE WHEN x.rule_id <> 'V13_UNSUPPORTED_INTERVAL' THEN $reasons[x.rule_id]
            WHEN x.interval_seconds IS NULL
                THEN $reasons[x.rule_id] || ' (too few stamps to tell the spacing, off the :00/:30 grid)'
            WHEN x.interval_seconds % 60 = 0
                THEN $reasons[x.rule_id] || ' (detected spacing: ' || CAST(CAST(x.interval_seconds / 60 AS BIGINT) AS VARCHAR)
                     || ' minutes)'
            ELSE $reasons[x.rule_id] || ' (detected spacing: ' || CAST(x.interval_seconds AS VARCHAR) || ' seconds)'
       END AS reason,
       r.reading_month
FROM {raw} r JOIN rejected x USING (source_file, source_line)
WHERE r.reading_month >= $start AND r.reading_month < $end
