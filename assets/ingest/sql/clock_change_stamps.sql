-- Readings per household and end stamp around one UK clock change: the stamps $first .. $last
-- (00:30 .. 02:00 of the clock-change date, naive, as the file wrote them) of the month $month,
-- parsed lines only. A UTC source has one reading at each; a source stamped in UK local time has
-- two at 01:00 and 01:30 on the autumn date (the repeated hour) and none on the spring date (the
-- skipped hour). Engine-neutral: DuckDB over the warehouse, Spark (transpiled) over the lake.
SELECT household_id, min(source_file) AS source_file, reading_end_utc, count(*) AS readings
FROM {raw}
WHERE reading_month = $month
  AND reading_end_utc >= $first AND reading_end_utc <= $last
  AND household_id IS NOT NULL
GROUP BY household_id, reading_end_utc
