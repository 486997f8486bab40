-- The one parse definition: physical lines -> raw rows, engine-neutral. Input {lines}:
-- (file_index, source_line, line_text, source_layout), one row per physical line (line_text NULL
-- or '' for a blank line). Whatever read the lines (DuckDB's CSV reader, the Python decode path for
-- UTF-16, Spark's text reader) hands them over in this shape.
--
-- Kept to SQL that SQLGlot transpiles to Spark SQL: split_part, trim, nullif, length/replace,
-- regexp_matches (Spark RLIKE), TRY_CAST, date_trunc, CASE. The layout's field positions and field
-- counts come in as CASE expressions built from source_layouts.LAYOUTS ({id_field}, {tariff_field},
-- {ts_field}, {kwh_field}, {expected_fields}: trusted code constants, like the VEE predicates).
--
-- Output: the parsed fields, the end stamp, own_month (the stamp's month when it is a supported
-- month, else NULL: the caller files such a line under a neighbour's month) and parse_ok: whether
-- the parsed columns carry the whole content of the line (right field count, id, stamp and a
-- numeric value present). Only lines that are not parse_ok keep their text in raw_line.
WITH fields AS (
    SELECT file_index, source_line, source_layout, coalesce(line_text, '') AS line_text,
           length(coalesce(line_text, '')) - length(replace(coalesce(line_text, ''), ',', '')) + 1 AS field_count,
           nullif(trim(split_part(coalesce(line_text, ''), ',', {id_field})), '') AS household_id,
           nullif(trim(split_part(coalesce(line_text, ''), ',', {tariff_field})), '') AS tariff_group,
           nullif(trim(split_part(coalesce(line_text, ''), ',', {ts_field})), '') AS reading_ts_text,
           nullif(trim(split_part(coalesce(line_text, ''), ',', {kwh_field})), '') AS kwh_text,
           {expected_fields} AS expected_fields
    FROM {lines}
),
stamped AS (
    SELECT *,
           -- the spellings source_layouts.TIMESTAMP_FORMATS accepts, and only those
           CASE WHEN regexp_matches(reading_ts_text, $timestamp_pattern)
                THEN TRY_CAST(reading_ts_text AS TIMESTAMP) END AS reading_end_utc
    FROM fields
),
monthly AS (
    SELECT *, CAST(date_trunc('month', reading_end_utc) AS DATE) AS stamp_month FROM stamped
)
SELECT file_index, source_line, source_layout, line_text, household_id, tariff_group, reading_ts_text,
       kwh_text, reading_end_utc, CAST(field_count AS INTEGER) AS field_count,
       CASE WHEN stamp_month BETWEEN $first_month AND $last_trial_month
                 OR stamp_month BETWEEN $live_from AND $current_month
            THEN stamp_month END AS own_month,
       (field_count = expected_fields AND household_id IS NOT NULL AND reading_end_utc IS NOT NULL
        AND TRY_CAST(kwh_text AS DOUBLE) IS NOT NULL) AS parse_ok
FROM monthly
