-- Per (household, High event) DiD rows of the evening start bucket, both reference methods (the
-- caller keeps each household's primary method). {events}: features.treatment_event_responses.
SELECT household_id, event_id, method, block_id, n_half_hours, did_kwh, ref_kwh
FROM {events}
WHERE band = 'High' AND kind = 'event' AND start_bucket = $bucket AND did_kwh IS NOT NULL
ORDER BY household_id, event_id, method
