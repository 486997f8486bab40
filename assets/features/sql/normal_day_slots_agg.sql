-- (household, slot, day type, local month) sums of actual readings on every event-free day of schedule
-- $schedule in the local months [$lo, $hi): the event-free-day profile's slot sums (lifestyle_slot.sql over
-- those days), regrouped from {slots}: features.household_reference_slots.
SELECT a.household_id, a.slot, a.day_type, a.local_month, SUM(a.kwh) AS kwh, CAST(SUM(a.n) AS BIGINT) AS n
FROM {slots} a
WHERE a.schedule = $schedule AND a.local_month >= $lo AND a.local_month < $hi
GROUP BY a.household_id, a.slot, a.day_type, a.local_month
