-- Which months each version of a readings file covers, so files that cannot touch a window are
-- not parsed again (a file is re-read when its size or mtime changes), its data lines, and the
-- number of its last line if that was cut short (source_layouts.truncated_last_line; VEE V12), and
-- its reading interval in seconds (file_intervals.sql: 1800 half-hourly, 900 15-minute, 3600 hourly;
-- 0 = too few stamps to tell, off the :00/:30 grid; NULL = not detected, an index of an older version).
CREATE TABLE IF NOT EXISTS {index} (
    source_file VARCHAR PRIMARY KEY,
    size_bytes BIGINT,
    mtime_ns BIGINT,
    source_layout VARCHAR,
    first_month DATE,
    last_month DATE,
    line_rows BIGINT,
    truncated_last_line BIGINT,
    interval_seconds BIGINT
)
