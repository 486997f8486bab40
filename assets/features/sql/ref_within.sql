-- Within-window reference: each (household, slot, day type, week) sum of {base} spread to the weeks
-- within +-N ({offsets}: d = -N..N), keeping only the calendar cells in {need} (cells some event half
-- hour needs). A 2N+1-row offset join: cheaper in DuckDB than a RANGE window over a dense week axis.
SELECT b.household_id, b.slot, b.day_type, CAST(b.week_idx + o.d AS INTEGER) AS week_idx,
       sum(b.s) / sum(b.n) AS ref_kwh, sum(b.n) AS ref_n
FROM {base} b
CROSS JOIN {offsets} o
SEMI JOIN {need} c
  ON c.slot = b.slot AND c.day_type = b.day_type AND c.week_idx = b.week_idx + o.d
GROUP BY ALL
HAVING sum(b.n) > 0
