-- The DuckDB line reader (engine-specific): every physical line of the files $files, in file order,
-- as (file_index, rn, line_text). DuckDB's native CSV reader (multi-threaded, gzip-aware) reads
-- each line as one text column: the delimiter ($delimiter) is the ASCII unit separator (never in a readings
-- line; a line holding one has two columns, which strict mode refuses), no quoting, no header,
-- CR LF or LF endings (CR stripped), a blank line as NULL. strict_mode refuses a file whose line
-- endings are not one consistent style (a lone CR would split a line): such a file is read by the
-- Python line path instead, so a line number is never shifted.
--
-- Line numbers: DuckDB documents that a scan of one table function keeps the files' row order
-- when insertion order is preserved and that row_number() OVER () (an empty OVER clause) turns
-- that order into a column ("Order preservation", duckdb.org/docs/2.0/sql/dialect/order_preservation);
-- the reader's file_index says which file a row came from. rn is therefore the row's position in
-- the scan, and rn - (first rn of its file) + 1 its physical line number in the file. The caller
-- sets preserve_insertion_order = true for these statements.
SELECT CAST(file_index AS BIGINT) AS file_index, row_number() OVER () AS rn, line AS line_text
FROM read_csv(
    $files,
    columns = {'line': 'VARCHAR'},
    delim = $delimiter,
    quote = '',
    escape = '',
    header = false,
    auto_detect = false,
    strict_mode = true,
    compression = 'auto',
    buffer_size = $buffer_size
)
