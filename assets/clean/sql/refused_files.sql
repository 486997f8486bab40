-- Files of the window with lines refused for their reading interval (V13), and that interval in
-- minutes (NULL: too few stamps to tell), from the stored quarantine and file balance.
WITH q AS (SELECT DISTINCT source_file FROM {quarantine}
           WHERE reading_month >= $start AND reading_month < $end AND rule_id = 'V13_UNSUPPORTED_INTERVAL'),
b AS (SELECT source_file, max(interval_minutes) AS interval_minutes FROM {balance}
      WHERE reading_month >= $start AND reading_month < $end GROUP BY ALL)
SELECT q.source_file, b.interval_minutes FROM q LEFT JOIN b USING (source_file) ORDER BY q.source_file
