-- Which months each version of a readings file covers, so files that cannot touch a window are
-- not parsed again (a file is re-read when its size or mtime changes), its data lines, and the
-- number of its last line if that was cut short (source_layouts.truncated_last_line; VEE V12).
CREATE TABLE IF NOT EXISTS {index} (
    source_file VARCHAR PRIMARY KEY,
    size_bytes BIGINT,
    mtime_ns BIGINT,
    source_layout VARCHAR,
    first_month DATE,
    last_month DATE,
    line_rows BIGINT,
    truncated_last_line BIGINT
)
