-- High-event DiD rows of the dynamic-tariff households under each household's primary method, with the
-- local start month and ISO weekday of the event (ingest.tariff_schedule.event_start_local).
WITH starts AS (
    SELECT DISTINCT CAST(event_id AS INTEGER) AS event_id, event_start_local
    FROM ingest.tariff_schedule
    WHERE band = 'High' AND event_id IS NOT NULL
)
SELECT r.household_id, r.event_id, r.block_id, r.n_half_hours, r.did_kwh, r.ref_kwh, r.start_bucket,
       month(s.event_start_local) AS start_month, isodow(s.event_start_local) AS start_isodow
FROM features.treatment_event_responses r
JOIN features.treatment_features t USING (household_id)
JOIN starts s ON s.event_id = CAST(r.event_id AS INTEGER)
WHERE t.tariff_group = $treated AND r.band = 'High' AND r.kind = 'event' AND r.did_kwh IS NOT NULL
  AND ((t.response_method = 'within_window_did' AND r.method = 'within')
    OR (t.response_method = 'baseline_year_did' AND r.method = 'baseline'))
ORDER BY r.household_id, r.event_id
