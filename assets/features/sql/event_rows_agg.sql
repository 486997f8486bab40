-- event_rows.sql from the aggregates: the actual readings of the scored households at the selected half
-- hours ({readings}: features.household_event_readings, actual readings only) in event windows, one row
-- per (household, event half hour). {members}: (interval_start_utc, event_id, kind); {grid}: the window's
-- local half hours; {households}: the scored households.
SELECT r.household_id, m.event_id, m.kind, r.kwh, g.slot, g.day_type, g.week_idx, g.month
FROM {readings} r
JOIN {members} m ON r.interval_start_utc = m.interval_start_utc
JOIN {grid} g ON r.interval_start_utc = g.interval_start_utc
WHERE r.interval_start_utc >= $lo AND r.interval_start_utc < $hi
  AND r.household_id IN (SELECT household_id FROM {households})
