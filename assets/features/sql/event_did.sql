-- Control change and DiD inputs per (household, event, kind, method).
-- {own}: event_own_change.sql; {households}: (household_id, is_control); {pairs}: matched controls.
WITH o AS (
    SELECT o.*, o.kwh - o.ref_kwh AS own_change, h.is_control
    FROM {own} o JOIN {households} h USING (household_id)
),
ctrl AS (
    SELECT event_id, kind, method, sum(own_change) AS s, count(*) AS n
    FROM o WHERE is_control GROUP BY ALL
),
knn AS (
    SELECT p.household_id, c.event_id, c.kind, c.method,
           avg(c.own_change) AS change, count(*) AS n
    FROM {pairs} p JOIN o c ON c.household_id = p.control_id AND c.is_control
    GROUP BY ALL
)
SELECT o.household_id, o.event_id, o.kind, o.method, o.n AS n_half_hours, o.kwh, o.ref_kwh,
       o.own_change AS own_change_kwh,
       coalesce(knn.change,
                CASE WHEN o.is_control THEN (ctrl.s - o.own_change) / nullif(ctrl.n - 1, 0)
                     ELSE ctrl.s / nullif(ctrl.n, 0) END) AS control_change_kwh,
       coalesce(knn.n, CASE WHEN o.is_control THEN ctrl.n - 1 ELSE ctrl.n END, 0) AS n_controls
FROM o
LEFT JOIN ctrl USING (event_id, kind, method)
LEFT JOIN knn USING (household_id, event_id, kind, method)
