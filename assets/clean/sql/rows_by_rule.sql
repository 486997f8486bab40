-- Rows each rule acted on in the window.
SELECT rule_id, count(*) FROM {quarantine}
WHERE reading_month >= $start AND reading_month < $end GROUP BY ALL
UNION ALL
SELECT 'D01_EXACT_DUPLICATE', coalesce(sum(duplicate_rows), 0) FROM {clean}
WHERE reading_month >= $start AND reading_month < $end
UNION ALL
SELECT 'F01_SPIKE', count(*) FROM {clean}
WHERE reading_month >= $start AND reading_month < $end AND is_spike
UNION ALL
SELECT 'E01_SHORT_GAP_INTERPOLATED', count(*) FROM {clean}
WHERE reading_month >= $start AND reading_month < $end AND quality_code = 'E'
