-- The household funnel of the report's "Data and confidence" block: one row, one count per stage.
SELECT
    (SELECT count(DISTINCT household_id) FROM ingest.raw_readings) AS in_files,
    (SELECT count(*) FROM features.household_features) AS with_enough_data,
    (SELECT count(*) FROM model.segment_assignments) AS segmented,
    (SELECT count(*) FROM model.segment_assignments a
        JOIN ingest.households h USING (household_id) WHERE h.tariff_group = 'ToU') AS on_tariff,
    (SELECT count(*) FROM model.segment_assignments WHERE response_measured) AS measured,
    (SELECT count(*) FROM features.treatment_features t
        JOIN model.segment_assignments a USING (household_id)
        WHERE t.responder AND t.high_did_pct < 0) AS responders,
    -- the months loaded (partitions of raw_readings), not what the files reach: a file may hold the
    -- current, incomplete month, which is no partition yet
    (SELECT min(reading_month) FROM ingest.raw_readings) AS first_month,
    (SELECT max(reading_month) FROM ingest.raw_readings) AS last_month
