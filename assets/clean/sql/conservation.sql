-- Per month of the window: raw rows, clean actual rows, quarantined rows, collapsed duplicates.
WITH r AS (SELECT reading_month, count(*) AS n FROM {raw}
           WHERE reading_month >= $start AND reading_month < $end GROUP BY ALL),
c AS (SELECT reading_month, count(*) FILTER (WHERE quality_code = 'A') AS a,
             coalesce(sum(duplicate_rows), 0) AS d
      FROM {clean} WHERE reading_month >= $start AND reading_month < $end GROUP BY ALL),
q AS (SELECT reading_month, count(*) AS n FROM {quarantine}
      WHERE reading_month >= $start AND reading_month < $end GROUP BY ALL)
SELECT r.reading_month, r.n, coalesce(c.a, 0), coalesce(q.n, 0), coalesce(c.d, 0)
FROM r LEFT JOIN c USING (reading_month) LEFT JOIN q USING (reading_month)
ORDER BY r.reading_month
