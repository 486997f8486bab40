-- The raw schema's row rules on the rows a load is about to store ({rows}; both engines, before
-- anything is committed): up to five rows without a file, a line number >= 1 or a month, with a
-- layout that is not one of $layouts, or a negative field count.
SELECT source_file, source_line, reading_month, source_layout, field_count
FROM {rows}
WHERE source_file IS NULL OR source_line IS NULL OR source_line < 1 OR reading_month IS NULL
   OR NOT list_contains($layouts, source_layout) OR field_count < 0
LIMIT 5
