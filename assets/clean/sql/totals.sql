-- Row counts of the window for the run's metadata.
WITH c AS (
    SELECT count(*) AS clean_rows, count(*) FILTER (WHERE quality_code = 'E') AS estimated_rows,
           count(*) FILTER (WHERE is_spike) AS spike_rows, count(DISTINCT household_id) AS households
    FROM {clean} WHERE reading_month >= $start AND reading_month < $end),
q AS (
    SELECT count(*) AS quarantined_rows
    FROM {quarantine} WHERE reading_month >= $start AND reading_month < $end),
v AS (
    SELECT count(*) AS coverage_rows, avg(coverage) AS mean_coverage
    FROM {coverage} WHERE reading_month >= $start AND reading_month < $end)
SELECT clean_rows, estimated_rows, spike_rows, households, quarantined_rows, coverage_rows, mean_coverage
FROM c, q, v
