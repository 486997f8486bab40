-- Where to read the Acorn of a household that only its readings files describe: per household id
-- (satisfying the register rule, $pattern as in readings_households.sql) and file, the first line
-- of that household in a file of a layout that carries Acorn ($layouts), among the lines that
-- parsed whole (raw_line IS NULL). Engine-neutral: DuckDB over the warehouse, Spark over the lake.
SELECT household_id, source_file, min(source_line) AS source_line
FROM {raw}
WHERE list_contains($layouts, source_layout)
  AND raw_line IS NULL
  AND regexp_matches(household_id, $pattern)
GROUP BY household_id, source_file
