-- Pass 2 of a load: the window's raw rows, written once, straight into {raw} (inside the
-- transaction that deleted the window). {parsed}: parse_lines over the lines with their physical
-- line numbers; {files}: one row per file read (file_index, source_file, has_header,
-- truncated_last_line); {fill}: the month of each line without a month of its own (file_index,
-- source_line, month). A header line is not a reading. A line keeps its text (raw_line) only when
-- its parsed columns do not carry it all: parse-level rejects and a cut last line (V12); likewise
-- the stamp's text only where it did not parse (else reading_end_utc holds it).
INSERT INTO {raw}
SELECT p.household_id, p.tariff_group,
       CASE WHEN p.reading_end_utc IS NULL THEN p.reading_ts_text END, p.kwh_text, p.reading_end_utc,
       f.source_file, CAST(p.source_line AS BIGINT), p.source_layout,
       CASE WHEN p.parse_ok AND p.source_line IS DISTINCT FROM f.truncated_last_line THEN NULL
            ELSE p.line_text END,
       p.field_count, coalesce(p.own_month, x.month)
FROM ({parsed}) p
JOIN {files} f ON p.file_index = f.file_index
LEFT JOIN {fill} x ON p.file_index = x.file_index AND p.source_line = x.source_line
WHERE NOT (f.has_header AND p.source_line = 1)
  AND coalesce(p.own_month, x.month) >= $start AND coalesce(p.own_month, x.month) < $end
