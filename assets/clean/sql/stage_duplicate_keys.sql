-- Half hours read more than once (rare), among the valid rows: one value -> D01, several -> V09.
CREATE OR REPLACE TEMP TABLE _dupkeys AS
WITH keys AS (
    SELECT household_id, reading_end_utc FROM _classified WHERE rule_id IS NULL
    GROUP BY household_id, reading_end_utc HAVING count(*) > 1)
SELECT household_id, reading_end_utc, count(*) AS n_rows, count(DISTINCT value) AS n_values,
       min((source_file, source_line)) AS first_src
FROM _classified JOIN keys USING (household_id, reading_end_utc)
WHERE rule_id IS NULL
GROUP BY household_id, reading_end_utc
