-- Rows to quarantine: those failing a row rule, plus every copy of a conflicting duplicate (V09),
-- with the raw text and the rule's description (from the catalogue). Ingest keeps a stamp's text only
-- where it did not parse; a parsed stamp is shown as the stamp (ISO text).
CREATE OR REPLACE TEMP TABLE _quarantined AS
WITH rejected AS (
    SELECT source_file, source_line, rule_id FROM _classified WHERE rule_id IS NOT NULL
    UNION ALL
    SELECT c.source_file, c.source_line, 'V09_CONFLICTING_DUPLICATE'
    FROM _classified c JOIN _dupkeys d USING (household_id, reading_end_utc)
    WHERE c.rule_id IS NULL AND {V09_CONFLICTING_DUPLICATE})
SELECT r.source_file, r.source_line, r.household_id,
       coalesce(r.reading_ts_text, CAST(r.reading_end_utc AS VARCHAR)) AS reading_ts_text, r.kwh_text, r.raw_line,
       x.rule_id, $reasons[x.rule_id] AS reason, r.reading_month
FROM {raw} r JOIN rejected x USING (source_file, source_line)
WHERE r.reading_month >= $start AND r.reading_month < $end
