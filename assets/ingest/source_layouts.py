"""Recognise the LCL file layouts from their content and parse a file into raw rows.

Layouts (detected from the first lines, never from file names):

* ``lds_6col``  London Datastore "withAcornGps": ``LCLid,stdorToU,DateTime,KWH/hh (per half hour) ,Acorn,Acorn_grouped``
* ``lds_4col``  London Datastore without Acorn: ``LCLid,stdorToU,DateTime,KWH/hh (per half hour)``
* ``lcl_3col``  ``LCLid,DateTime,KWH/hh`` with or without a header
* ``kaggle_3col`` Kaggle "halfhourly_dataset": ``LCLid,tstp,energy(kWh/hh)``
* ``parquet``   any of the above as Parquet columns

Files may be gzip-compressed, have CRLF or LF endings, pad values with spaces, and carry ``Null``.
Every physical line becomes one raw row (with its 1-based line number), so nothing is lost:
malformed lines are kept, with their original text, for the VEE rules to quarantine. Text files
are parsed in SQL (``raw_ingest``: DuckDB's native reader, ``sql/parse_lines.sql``); this module
holds the layouts, layout detection on a file's first lines, decoding, the Parquet path and the
truncated-last-line rule.
"""

from __future__ import annotations

import codecs
import gzip
import zlib
from dataclasses import dataclass
from pathlib import Path

import polars as pl

from assets.common.months import FIRST_MONTH, LAST_TRIAL_MONTH, LIVE_FROM, is_supported_month

TIMESTAMP_FORMATS = ("%Y-%m-%d %H:%M:%S%.f", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M:%S")
# The same spellings for the SQL parse (``sql/parse_lines.sql``): only text of one of these shapes is
# cast to a timestamp (a bare cast would also take a date alone, or an offset). Like the formats,
# one or two digits per field; fractions beyond microseconds are truncated by both.
TIMESTAMP_PATTERN = (
    r"^[0-9]{4}-[0-9]{1,2}-[0-9]{1,2}"
    r"( [0-9]{1,2}:[0-9]{1,2}(:[0-9]{1,2}([.][0-9]+)?)?|T[0-9]{1,2}:[0-9]{1,2}:[0-9]{1,2})$"
)


@dataclass(frozen=True)
class Layout:
    name: str
    field_count: int
    id_field: int
    timestamp_field: int
    kwh_field: int
    tariff_field: int | None = None
    acorn_field: int | None = None  # Acorn and Acorn_grouped (0-based), read for register gaps only
    acorn_group_field: int | None = None


LAYOUTS = {
    "lds_6col": Layout("lds_6col", 6, 0, 2, 3, 1, 4, 5),
    "lds_4col": Layout("lds_4col", 4, 0, 2, 3, 1),
    "lcl_3col": Layout("lcl_3col", 3, 0, 1, 2),
    "kaggle_3col": Layout("kaggle_3col", 3, 0, 1, 2),
}
TIMESTAMP_HEADERS = {"datetime", "tstp"}
KWH_HEADERS = {"kwh/hh (per half hour)", "kwh/hh", "energy(kwh/hh)", "kwh"}


class SourceFileError(ValueError):
    """A source file cannot be read at all (binary, wrong encoding, corrupt gzip, no layout)."""

    def __init__(self, path: str, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


UTF16_BOMS = {b"\xff\xfe": "utf-16-le", b"\xfe\xff": "utf-16-be"}


def text_encoding(data: bytes) -> str | None:
    """The encoding of the start of a (decompressed) file: ``utf-8`` or UTF-16 (by its byte-order
    mark, or without one by the NUL in every other byte that ASCII text in UTF-16 has); None for
    binary content (other NUL bytes). Spreadsheet exports on Windows ("Unicode text") are UTF-16."""
    for bom, encoding in UTF16_BOMS.items():
        if data.startswith(bom):
            return encoding
    sample = data[:4096]
    if b"\x00" not in sample:
        return "utf-8"
    even, odd = sample[0::2], sample[1::2]
    if len(sample) >= 4 and odd.count(0) == len(odd) and b"\x00" not in even:
        return "utf-16-le"
    if len(sample) >= 4 and even.count(0) == len(even) and b"\x00" not in odd:
        return "utf-16-be"
    # A stray NUL inside a line of a UTF-8 text file damages that line only (the VEE rules
    # quarantine it); binary content has many NULs or is not UTF-8 at all.
    if sample.count(0) * 100 <= len(sample) and _utf8_prefix(sample):
        return "utf-8"
    return None


def _utf8_prefix(sample: bytes) -> bool:
    """Whether ``sample`` is the start of valid UTF-8 (a character cut at its end is allowed)."""
    try:
        codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return False
    return True


def decode_text(data: bytes, name: str, errors: str = "strict") -> str:
    """Decode a file's bytes as UTF-8 or UTF-16 (see :func:`text_encoding`), or raise
    SourceFileError naming the file; ``errors="replace"`` for a mere look at the content."""
    encoding = text_encoding(data)
    if encoding is None:
        raise SourceFileError(name, "binary content (NUL bytes): not a text file")
    if encoding != "utf-8" and data[:2] in UTF16_BOMS:
        data = data[2:]
    try:
        text = data.decode(encoding, errors=errors)
    except UnicodeDecodeError as exc:
        label = "UTF-8" if encoding == "utf-8" else "UTF-16"
        raise SourceFileError(
            name, f"not valid {label} text (byte {exc.start}: {data[exc.start : exc.start + 8]!r})"
        ) from None
    return text.removeprefix("\ufeff")


def read_text(path: Path, display_name: str | None = None) -> str:
    """Decompress (if gzip) and decode a file as strict UTF-8 or UTF-16, or raise SourceFileError naming it."""
    name = display_name or str(path)
    data = path.read_bytes()
    if data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError, zlib.error) as exc:
            raise SourceFileError(name, f"corrupt gzip stream ({exc})") from None
    return decode_text(data, name)


def _normalise_header(fields: list[str]) -> list[str]:
    return [f.strip().lower() for f in fields]


def detect_layout(first_lines: list[str]) -> tuple[Layout, bool] | None:
    """Return (layout, has_header) from the first non-empty lines, or None if not readings."""
    lines = [ln.rstrip("\r") for ln in first_lines if ln.strip()]
    if not lines:
        return None
    head = _normalise_header(lines[0].split(","))
    if head and head[0] == "lclid":
        if len(head) == 3 and head[1] == "tstp" and head[2] in KWH_HEADERS:
            return LAYOUTS["kaggle_3col"], True
        if len(head) == 3 and head[1] in TIMESTAMP_HEADERS and head[2] in KWH_HEADERS:
            return LAYOUTS["lcl_3col"], True
        if len(head) in (4, 6) and head[1] == "stdortou" and head[2] in TIMESTAMP_HEADERS:
            return LAYOUTS["lds_6col" if len(head) == 6 else "lds_4col"], True
        return None
    # No header: look at the shape of the data lines (majority vote over the sample).
    votes: dict[str, int] = {}
    for line in lines[:20]:
        fields = [f.strip() for f in line.split(",")]
        if len(fields) in (4, 6) and fields[1] in ("Std", "ToU") and _looks_like_timestamp(fields[2]):
            key = "lds_6col" if len(fields) == 6 else "lds_4col"
        elif len(fields) == 3 and _looks_like_timestamp(fields[1]):
            key = "lcl_3col"
        else:
            continue
        votes[key] = votes.get(key, 0) + 1
    if not votes:
        return None
    best = max(votes, key=lambda k: votes[k])
    return LAYOUTS[best], False


def _looks_like_timestamp(text: str) -> bool:
    return len(text) >= 16 and text[4] == "-" and text[7] == "-" and text[:4].isdigit()


def parse_timestamps(col: pl.Expr) -> pl.Expr:
    """Parse timestamp text (any LCL spelling) into naive datetime; None where unparseable."""
    stripped = col.str.strip_chars()
    return pl.coalesce([stripped.str.strptime(pl.Datetime("us"), fmt, strict=False) for fmt in TIMESTAMP_FORMATS])


def parquet_to_raw_rows(path: Path, source_file: str) -> pl.DataFrame:
    """Parquet with the columns of any text layout; row number stands in for the line number."""
    try:
        frame = pl.read_parquet(path)
    except Exception as exc:  # polars raises several error types for corrupt files
        raise SourceFileError(source_file, f"cannot be read as Parquet ({type(exc).__name__}: {exc})") from None
    cols = {c.strip().lower(): c for c in frame.columns}
    ts_col = next((cols[c] for c in ("tstp", "datetime") if c in cols), None)
    kwh_col = next((cols[c] for c in KWH_HEADERS if c in cols), None)
    if "lclid" not in cols or ts_col is None or kwh_col is None:
        raise SourceFileError(source_file, f"Parquet columns {frame.columns} match no readings layout")
    tariff = pl.col(cols["stdortou"]).cast(pl.String) if "stdortou" in cols else pl.lit(None, pl.String)
    frame = frame.select(
        pl.col(cols["lclid"]).cast(pl.String).str.strip_chars().alias("household_id"),
        tariff.alias("tariff_group"),
        pl.col(ts_col).cast(pl.String).alias("reading_ts_text"),
        pl.col(kwh_col).cast(pl.String).str.strip_chars().alias("kwh_text"),
    ).with_row_index("source_line", offset=1)
    frame = frame.with_columns(
        pl.concat_str(
            [pl.col(c).fill_null("") for c in ("household_id", "reading_ts_text", "kwh_text")], separator=","
        ).alias("raw_line"),
        pl.lit(3, dtype=pl.Int32).alias("field_count"),
    )
    return _finish(frame, "parquet", source_file)


def _finish(frame: pl.DataFrame, layout_name: str, source_file: str) -> pl.DataFrame:
    frame = frame.with_columns(
        parse_timestamps(pl.col("reading_ts_text")).alias("reading_end_utc"),
        pl.lit(source_file).alias("source_file"),
        pl.col("source_line").cast(pl.Int64),
        pl.lit(layout_name).alias("source_layout"),
    )
    # Partition month: the month of the end stamp when readings can be in that month
    # (``is_supported_month``: a trial month or a live month up to the current one).
    # Every other line (stamp unparseable, or parseable but outside the supported months, e.g.
    # 2030-01-15 or 2010-06-01) takes the month of the nearest preceding *in-range* line of the same
    # file (files are in time order), else the next one: so the line stays in the raw table of a
    # month that exists, where the clean stage quarantines it with its file and line (V03 or V11),
    # and one bad stamp never drags its neighbours to a month of its own.
    # The row's text is kept only where its parsed columns do not carry it (as for text lines).
    parse_ok = (
        pl.col("household_id").is_not_null()
        & pl.col("reading_end_utc").is_not_null()
        & pl.col("kwh_text").cast(pl.Float64, strict=False).is_not_null()
    )
    frame = frame.with_columns(
        pl.when(parse_ok).then(None).otherwise(pl.col("raw_line")).alias("raw_line"),
        pl.when(pl.col("reading_end_utc").is_null()).then(pl.col("reading_ts_text")).alias("reading_ts_text"),
    )
    own_month = frame["reading_end_utc"].dt.truncate("1mo").dt.date()
    supported = {m: is_supported_month(m) for m in own_month.drop_nulls().unique()}
    in_range = own_month.replace_strict(supported, default=False, return_dtype=pl.Boolean).fill_null(False)
    frame = frame.with_columns(own_month.set(~in_range, None).forward_fill().backward_fill().alias("reading_month"))
    if frame.height and frame["reading_month"].null_count() == frame.height:
        if frame["reading_end_utc"].null_count() == frame.height:
            raise SourceFileError(source_file, "no line has a parseable timestamp: not a readings file")
        stamps = frame["reading_end_utc"].drop_nulls()
        raise SourceFileError(
            source_file,
            f"no line has a timestamp in the supported months (stamps {stamps.min()} .. {stamps.max()}; "
            f"readings can be from {FIRST_MONTH[:7]} .. {LAST_TRIAL_MONTH[:7]} and from {LIVE_FROM[:7]} "
            "up to the current month): refused, nothing stored",
        )
    return frame.select(
        "household_id",
        "tariff_group",
        "reading_ts_text",
        "kwh_text",
        "reading_end_utc",
        "source_file",
        "source_line",
        "source_layout",
        "raw_line",
        "field_count",
        "reading_month",
    )


# Share of a file's other lines that must end with the same character for a last line without
# that ending to count as truncated (a few damaged lines elsewhere must not disable the rule).
ENDING_AGREEMENT = 0.99


def truncated_last_line(lines: list[str], has_header: bool, final_newline: bool) -> int | None:
    """The line number of a last line cut short by a truncated file, or None.

    Only a file *without* a final newline can end in a cut line, but many valid files simply lack
    one, and a cut value is usually still a number ("0.247" cut to "0.2"), while LCL values vary in
    precision (trailing zeros are dropped: 0.13, 0.2 and 0 are valid), so the value alone proves
    nothing. What a cut does change is how the line *ends*: the exports pad the value (Kaggle,
    ``, 0.247 ``) or end with the household's Acorn group (London Datastore), so every line of a
    file ends with the same character. The last line is truncated when the file has no final
    newline, at least 99 % of its other data lines end with one character, and it does not. A file
    whose lines end in varying characters (unpadded values) never triggers the rule: a cut there
    cannot be told from a valid value, and a valid line is never quarantined on a guess.

    Ingest passes the lines of the file's last 64 KiB (about a thousand lines; the whole file when it
    is that small): how an export ends its lines shows there, and Python never holds a whole file.
    """
    body = [ln.rstrip("\r") for ln in (lines[1:] if has_header else lines)]
    if final_newline or len(body) < 3:
        return None
    *others, last = body
    endings = [ln[-1] for ln in others if ln.strip()]
    if not endings:
        return None
    common = max(set(endings), key=endings.count)
    if endings.count(common) < ENDING_AGREEMENT * len(endings) or last.endswith(common):
        return None
    return len(lines)
