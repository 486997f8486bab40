-- One row per household id in the raw readings {raw} that satisfies the register rule
-- ($pattern: HOUSEHOLD_ID_PATTERN anchored as \A(?:...)\z, a full match in RE2 and java.util.regex
-- alike), with the group the readings layouts that carry stdorToU give it (the most frequent
-- of Std / ToU; NULL if no line of it carries one) and the first file that does. Engine-neutral:
-- DuckDB runs it over the warehouse, Spark (transpiled) over the lake.
SELECT household_id,
       mode(tariff_group) FILTER (WHERE tariff_group IN ('Std', 'ToU')) AS tariff_group,
       'readings:' || min(source_file) FILTER (WHERE tariff_group IN ('Std', 'ToU')) AS source_file
FROM {raw}
WHERE regexp_matches(household_id, $pattern)
GROUP BY household_id
