-- Per month of the window: raw rows, clean actual rows, quarantined rows, collapsed duplicates and
-- merged sub-interval parts. The last two from the file balance, the one place they are attributed
-- to the month of their own line (a part stamped 23:45 on a month's last day is merged into the
-- next month's first half hour; a collapsed copy of it likewise stays in its own month).
WITH r AS (SELECT reading_month, count(*) AS n FROM {raw}
           WHERE reading_month >= $start AND reading_month < $end GROUP BY ALL),
c AS (SELECT reading_month, count(*) FILTER (WHERE quality_code = 'A') AS a
      FROM {clean} WHERE reading_month >= $start AND reading_month < $end GROUP BY ALL),
q AS (SELECT reading_month, count(*) AS n FROM {quarantine}
      WHERE reading_month >= $start AND reading_month < $end GROUP BY ALL),
b AS (SELECT reading_month, sum(collapsed_duplicates) AS d, sum(merged_parts) AS m FROM {balance}
      WHERE reading_month >= $start AND reading_month < $end GROUP BY ALL)
SELECT r.reading_month, r.n, coalesce(c.a, 0), coalesce(q.n, 0), coalesce(b.d, 0), coalesce(b.m, 0)
FROM r LEFT JOIN c USING (reading_month) LEFT JOIN q USING (reading_month) LEFT JOIN b USING (reading_month)
ORDER BY r.reading_month
