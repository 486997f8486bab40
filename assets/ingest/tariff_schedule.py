"""Normalise the dynamic tariff schedule onto the readings' UTC half-hour grid.

The published schedule (``Tariffs.xlsx``; ``Tariffs.csv`` is a day-first export of it) labels
the START of each half hour in UK local clock time, 48 labels per day even on clock-change days.
Readings are UTC and stamped at the END of their half hour. We therefore walk the UTC half-hour
grid, convert each UTC start to Europe/London clock time and look its label up: in spring the two
local labels that never happen (01:00, 01:30) are unused; in autumn the repeated local hour takes
its label twice. A reading stamped ``E`` (UTC) is priced by the slot with ``interval_start_utc =
E - 30 min``. Proof on the real sample: tests/real_data/test_tariff_alignment.py.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from assets.ingest.source_layouts import SourceFileError, read_text

LOCAL_TZ = "Europe/London"
PRICES_P_PER_KWH = {"High": 67.20, "Normal": 11.76, "Low": 3.99}
LABEL_FORMATS = ("%d/%m/%Y %H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%d/%m/%Y %H:%M:%S")


def read_schedule_labels(path: Path, display: str) -> pl.DataFrame:
    """(local_label_start, band, source_line) from Tariffs.xlsx or a CSV export (day-first or ISO).

    ``source_line`` is the physical line of a CSV (the sheet row for xlsx, header = row 1), so every
    label error names the file and the line(s)."""
    if path.name.lower().endswith(".xlsx"):
        try:
            frame = pl.read_excel(path, sheet_name="Sheet1")
        except Exception as exc:  # fastexcel raises its own error types
            raise SourceFileError(display, f"cannot read sheet 'Sheet1' ({exc})") from None
        labels = frame.select(
            pl.col("TariffDateTime").cast(pl.Datetime("us")).alias("local_label_start"),
            pl.col("Tariff").cast(pl.String).str.strip_chars().alias("band"),
        ).with_row_index("source_line", offset=2)
    else:
        lines = read_text(path, display).replace("\r", "").split("\n")
        numbered = [(n, ln) for n, ln in enumerate(lines, 1) if n > 1 and ln.strip()]
        raw = pl.DataFrame(
            {"line": [ln for _, ln in numbered], "source_line": [n for n, _ in numbered]},
            schema={"line": pl.String, "source_line": pl.Int64},
        ).with_columns(pl.col("line").str.split(",").alias("f"))
        text = raw["f"].list.get(0, null_on_oob=True).str.strip_chars()
        parsed = pl.select(
            pl.coalesce([text.str.strptime(pl.Datetime("us"), f, strict=False) for f in LABEL_FORMATS])
        ).to_series()
        labels = pl.DataFrame(
            {
                "local_label_start": parsed,
                "band": raw["f"].list.get(1, null_on_oob=True).str.strip_chars(),
                "source_line": raw["source_line"],
            }
        )
    bad = labels.filter(pl.col("local_label_start").is_null())
    if bad.height:
        raise SourceFileError(display, f"{_lines(bad)}: TariffDateTime not parseable ({bad.height} lines)")
    unknown = labels.filter(~pl.col("band").is_in(list(PRICES_P_PER_KWH)).fill_null(True))
    if unknown.height:
        raise SourceFileError(
            display,
            f"{_lines(unknown)}: unknown tariff band(s) {unknown['band'].unique().to_list()} "
            f"(known: {list(PRICES_P_PER_KWH)})",
        )
    return labels.sort("local_label_start")


def _lines(rows: pl.DataFrame, limit: int = 5) -> str:
    """``line 7`` / ``lines 7, 9, 12, ...``: where the rows are in their file."""
    numbers = rows["source_line"].sort().to_list()
    shown = ", ".join(str(n) for n in numbers[:limit]) + (", ..." if len(numbers) > limit else "")
    return f"line {shown}" if len(numbers) == 1 else f"lines {shown}"


def check_label_grid(labels: pl.DataFrame, display: str) -> None:
    """Every label on :00/:30, unique, 48 per local day (the published schedule's naive grid)."""
    ts = pl.col("local_label_start")
    duplicated = labels.filter(ts.is_duplicated())
    if duplicated.height:
        raise SourceFileError(display, f"{_lines(duplicated)}: duplicate TariffDateTime labels")
    off_grid = labels.filter(~(ts.dt.minute().is_in([0, 30]) & (ts.dt.second() == 0)))
    if off_grid.height:
        raise SourceFileError(display, f"{_lines(off_grid)}: labels off the half-hour grid")
    per_day = labels.group_by(ts.dt.date().alias("day")).agg(pl.len(), pl.col("source_line").min().alias("first"))
    short = per_day.filter(pl.col("len") != 48).sort("day")
    if short.height:
        where = ", ".join(
            f"{r['day']} ({r['len']} labels, from line {r['first']})" for r in short.head(3).iter_rows(named=True)
        )
        raise SourceFileError(display, f"days without 48 labels: {where}")


def normalise_schedule(labels: pl.DataFrame) -> pl.DataFrame:
    """Map labels onto every UTC half hour of the schedule's span (see module docstring)."""
    first_local, last_local = labels["local_label_start"].min(), labels["local_label_start"].max()
    bounds = pl.select(
        pl.lit(first_local)
        .dt.replace_time_zone(LOCAL_TZ, ambiguous="earliest", non_existent="null")
        .dt.convert_time_zone("UTC")
        .alias("a"),
        (
            pl.lit(last_local)
            .dt.replace_time_zone(LOCAL_TZ, ambiguous="latest", non_existent="null")
            .dt.convert_time_zone("UTC")
        ).alias("b"),
    ).row(0)
    grid = pl.DataFrame(
        {"utc": pl.datetime_range(bounds[0], bounds[1], "30m", eager=True, time_zone="UTC")}
    ).with_columns(
        pl.col("utc").dt.convert_time_zone(LOCAL_TZ).dt.replace_time_zone(None).alias("local_label_start"),
    )
    slots = grid.join(labels, on="local_label_start", how="left", validate="m:1")
    missing = slots.filter(pl.col("band").is_null())
    if missing.height:
        raise ValueError(f"UTC half hours without a label: {missing.head(3).rows()}")
    slots = slots.with_columns(
        pl.col("utc").dt.replace_time_zone(None).dt.cast_time_unit("us").alias("interval_start_utc")
    ).sort("interval_start_utc")
    # Events: runs of consecutive identical High/Low bands (a direct High->Low switch starts a new one).
    run = (pl.col("band") != pl.col("band").shift(1)).fill_null(True).cum_sum()
    slots = slots.with_columns(run.alias("_run"))
    is_event = pl.col("band").is_in(["High", "Low"])
    slots = slots.with_columns(
        pl.when(is_event).then(pl.col("_run")).alias("_event_run"),
    ).with_columns(
        pl.when(is_event).then(pl.col("_event_run").rank("dense").cast(pl.Int32)).alias("event_id"),
        pl.when(is_event).then(pl.col("interval_start_utc").min().over("_run")).alias("event_start_utc"),
        pl.when(is_event).then(pl.col("local_label_start").min().over("_run")).alias("event_start_local"),
    )
    return slots.select(
        "interval_start_utc",
        (pl.col("interval_start_utc") + pl.duration(minutes=30)).alias("interval_end_utc"),
        pl.col("local_label_start").dt.cast_time_unit("us"),
        "band",
        pl.col("band").replace_strict(PRICES_P_PER_KWH, return_dtype=pl.Float64).alias("price_p_per_kwh"),
        "event_id",
        pl.col("event_start_utc").dt.cast_time_unit("us"),
        pl.col("event_start_local").dt.cast_time_unit("us"),
    )


NO_SCHEDULE = "none: no tariff schedule (Tariffs.xlsx or Tariffs.csv) in the source folder"


def empty_schedule() -> pl.DataFrame:
    """The normalised schedule's columns with no half hour: a source without any price signal."""
    return pl.DataFrame(
        schema={
            "interval_start_utc": pl.Datetime("us"),
            "interval_end_utc": pl.Datetime("us"),
            "local_label_start": pl.Datetime("us"),
            "band": pl.String,
            "price_p_per_kwh": pl.Float64,
            "event_id": pl.Int32,
            "event_start_utc": pl.Datetime("us"),
            "event_start_local": pl.Datetime("us"),
        }
    )


def load_tariff_schedule(files: list[tuple[Path, str]]) -> tuple[pl.DataFrame, str]:
    """Pick the schedule file (xlsx preferred over CSV exports) and normalise it.

    Without a schedule file the schedule is empty (``NO_SCHEDULE``): the data hold no price events, so
    no price response can be measured, and the report says so; segmentation and the peak-load ranking
    need no schedule."""
    if not files:
        return empty_schedule(), NO_SCHEDULE
    path, display = sorted(files, key=lambda f: (not f[0].name.lower().endswith(".xlsx"), f[1]))[0]
    labels = read_schedule_labels(path, display)
    check_label_grid(labels, display)
    return normalise_schedule(labels), display
