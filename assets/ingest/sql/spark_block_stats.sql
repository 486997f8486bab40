-- Pass 1 of the Spark ingest (assets/ingest/spark_ingest.py; runs on Spark only, transpiled like
-- every stage SQL): one row per file block Spark read. The input is parse_lines over the scanned
-- lines in which file_index carries the block key (file index x 2^40 + the block's first byte,
-- `_metadata.file_block_start`) and source_line the row id (`monotonically_increasing_id()`: within
-- a block the ids of its lines are consecutive, in line order). From first_id and n_lines of each
-- block the caller numbers every line of a file exactly (blocks in byte order); the rest is what
-- pass 1 of the DuckDB ingest (file_stats.sql) gives per file: the months its in-range lines cover,
-- how many stamps parse and their range, and the lines without a month of their own (as row ids),
-- plus the lines that are not valid UTF-8 (Spark's text reader keeps the bytes; DuckDB refuses such
-- a file, and so does the Spark ingest).
SELECT file_index AS block_key, min(source_line) AS first_id, count(*) AS n_lines,
       min(own_month) AS first_month, max(own_month) AS last_month,
       count(reading_end_utc) AS stamps, min(reading_end_utc) AS first_stamp, max(reading_end_utc) AS last_stamp,
       list(source_line) FILTER (WHERE own_month IS NULL) AS unmonthed_ids,
       list(source_line) FILTER (WHERE NOT is_valid_utf8(line_text)) AS invalid_ids
FROM {parsed}
GROUP BY file_index
