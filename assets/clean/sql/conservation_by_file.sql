-- Per source file over the window, recounted from the stored tables (the collapsed copies and merged
-- sub-interval parts from the balance table, the only place they are attributed to their file): lines
-- in the file (the ingest index, where the whole file lies in the window; else NULL), raw lines
-- stored, clean actual rows, quarantined rows, collapsed duplicates, merged parts, and the file's
-- reading interval in minutes (NULL: too few stamps to tell).
WITH r AS (SELECT source_file, count(*) AS n FROM {raw}
           WHERE reading_month >= $start AND reading_month < $end GROUP BY ALL),
c AS (SELECT source_file, count(*) AS n FROM {clean}
      WHERE reading_month >= $start AND reading_month < $end AND quality_code = 'A' GROUP BY ALL),
q AS (SELECT source_file, count(*) AS n FROM {quarantine}
      WHERE reading_month >= $start AND reading_month < $end GROUP BY ALL),
d AS (SELECT source_file, sum(collapsed_duplicates) AS n, sum(merged_parts) AS m,
             max(interval_minutes) AS interval_minutes FROM {balance}
      WHERE reading_month >= $start AND reading_month < $end GROUP BY ALL),
i AS (SELECT source_file, line_rows FROM {source_index}
      WHERE first_month >= $start AND last_month < $end)
SELECT r.source_file, i.line_rows, r.n, coalesce(c.n, 0), coalesce(q.n, 0), coalesce(d.n, 0), coalesce(d.m, 0),
       d.interval_minutes
FROM r LEFT JOIN c USING (source_file) LEFT JOIN q USING (source_file) LEFT JOIN d USING (source_file)
LEFT JOIN i USING (source_file)
ORDER BY r.source_file
