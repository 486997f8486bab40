-- Actual rows: valid readings, exact duplicates collapsed onto their first source row (D01,
-- counted), each flagged against its household-month distribution (F01). A half hour of
-- sub-half-hourly readings is one row: its end part's kept copy, holding the summed kWh of its parts
-- (_halfhours, _parts; only whole half hours have a 'row'). Only the columns that
-- vary are staged (the month's largest temp table: each column written costs); the stored row
-- (interval start, raw_kwh = kwh, quality code A) is spelled out in clean_readings.OUTPUTS.
CREATE OR REPLACE TEMP TABLE _actual AS
WITH ok AS (
    SELECT c.household_id, c.reading_end_utc, c.value, c.reading_month,
           coalesce(d.n_rows, 1) AS n_rows, c.source_file, c.source_line
    FROM _classified c LEFT JOIN _dupkeys d USING (household_id, reading_end_utc)
    WHERE c.rule_id IS NULL AND c.parts_per_half_hour = 1
      AND (d.household_id IS NULL
           OR ({D01_EXACT_DUPLICATE} AND (c.source_file, c.source_line) = d.first_src))
    UNION ALL
    SELECT p.household_id, p.interval_end_utc, h.kwh, p.reading_month,
           h.duplicate_rows + 1, p.source_file, p.source_line
    FROM _parts p JOIN _halfhours h USING (household_id, interval_end_utc)
    WHERE p.fate = 'row'),
stats AS (
    SELECT household_id, reading_month,
           quantile_cont(value, 0.25) AS q25, quantile_cont(value, 0.75) AS q75
    FROM ok GROUP BY ALL)
SELECT ok.household_id,
       ok.reading_end_utc AS interval_end_utc,
       ok.value AS kwh,
       {F01_SPIKE} AS is_spike,
       CAST(ok.n_rows - 1 AS INTEGER) AS duplicate_rows,
       ok.source_file, ok.source_line,
       ok.reading_month
FROM ok JOIN stats USING (household_id, reading_month)
