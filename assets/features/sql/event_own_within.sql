-- Own change per (household, event, kind) against the within-window reference.
-- {events}: event_rows.sql; {reference}: ref_within.sql.
SELECT e.household_id, e.event_id, e.kind, 'within' AS method, count(*) AS n,
       avg(e.kwh) AS kwh, avg(x.ref_kwh) AS ref_kwh
FROM {events} e JOIN {reference} x USING (household_id, slot, day_type, week_idx)
GROUP BY ALL
