-- Own change per (household, event, kind) against the baseline-year reference.
-- {events}: event_rows.sql; {reference}: ref_baseline.sql.
SELECT e.household_id, e.event_id, e.kind, 'baseline' AS method, count(*) AS n,
       avg(e.kwh) AS kwh, avg(x.ref_kwh) AS ref_kwh
FROM {events} e JOIN {reference} x USING (household_id, slot, day_type, month)
GROUP BY ALL
