-- Start (UTC) of every High event of the tariff schedule, to split the events into the features'
-- cross-fitting folds (features/crossfit.event_folds). {schedule}: ingest.tariff_schedule.
SELECT CAST(event_id AS INTEGER) AS event_id, band, min(interval_start_utc) AS event_start_utc
FROM {schedule}
WHERE band = $band AND event_id IS NOT NULL
GROUP BY event_id, band
ORDER BY event_id
