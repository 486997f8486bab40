-- The bare floor of `make bench`: one native read_csv pass over the readings files of one layout.
-- Every row is parsed (timestamp cast, value trimmed, 'Null' -> NULL) and aggregated per household,
-- so DuckDB must decompress and tokenise every byte. $files: the files; $header: whether they start
-- with a header line; $compression: gzip or none; $names: the column names in file order, where the household id, timestamp and
-- value columns are named household, ts and kwh (all columns are read as text).
select count(*) as households, sum(rows) as rows, sum(parsed_values) as parsed_values
from (
    select
        trim(household) as household,
        count(*) as rows,
        count(try_cast(nullif(trim(kwh), 'Null') as double)) as parsed_values,
        min(try_cast(trim(ts) as timestamp)) as first_ts,
        max(try_cast(trim(ts) as timestamp)) as last_ts
    from read_csv(
        $files,
        header = $header,
        names = $names,
        all_varchar = true,
        delim = ',',
        quote = '',
        escape = '',
        null_padding = true,
        ignore_errors = true,
        strict_mode = false,
        compression = $compression
    )
    group by trim(household)
)
