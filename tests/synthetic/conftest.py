"""Small synthetic sources generated once per session, and independent readers of their bytes.

The readers here do not use the generator's code: they parse the written files with polars and the
standard library, so the tests check the files, not the generator against itself.
"""

from __future__ import annotations

import gzip
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from assets.synthetic.generate import GenerationSummary, generate

LONDON = ZoneInfo("Europe/London")
UTC = ZoneInfo("UTC")


@dataclass(frozen=True)
class Source:
    path: Path
    summary: GenerationSummary


def file_bytes(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.name.endswith(".gz") else data


def physical_lines(path: Path) -> list[str]:
    """Lines of a (decompressed) file without their terminators; requires a final terminator."""
    text = file_bytes(path).decode("ascii")
    assert text.endswith("\n"), f"{path} does not end with a line ending"
    return text[:-1].split("\n")


def readings_frame(source: Path) -> pl.DataFrame:
    """All well-formed readings of a source folder: household_id, ts (end, naive UTC), kwh.

    Block files (6 columns, no header) and Kaggle files (3 columns, header) are parsed with polars.
    Lines that are not clean readings (faults) are dropped; use only on ``faults=False`` sources for
    exact counts.
    """
    frames = []
    for p in sorted((source / "readings").glob("block_*.csv*")):
        df = pl.read_csv(
            file_bytes(p),
            has_header=False,
            new_columns=["id", "g", "ts", "kwh", "a", "ag"],
            schema_overrides={"kwh": pl.String, "ts": pl.String},
            truncate_ragged_lines=True,
        )
        frames.append(df.select("id", pl.col("ts").str.slice(0, 19), "kwh"))
    for p in sorted((source / "readings" / "kaggle").glob("*.csv*")):
        df = pl.read_csv(file_bytes(p), schema_overrides={"energy(kWh/hh)": pl.String, "tstp": pl.String})
        frames.append(df.select(id="LCLid", ts="tstp", kwh="energy(kWh/hh)"))
    return (
        pl.concat(frames)
        .with_columns(
            kwh=pl.col("kwh").str.strip_chars().cast(pl.Float64, strict=False),
            ts=pl.col("ts").str.strptime(pl.Datetime("us"), "%Y-%m-%d %H:%M:%S", strict=False),
        )
        .drop_nulls()
        .rename({"id": "household_id"})
    )


def local_slot_of_end_stamp(ts: pl.Expr) -> pl.Expr:
    """Local (Europe/London) half-hour slot 0..47 of the interval START of a reading stamped ``ts``."""
    local = (ts - pl.duration(minutes=30)).dt.replace_time_zone("UTC").dt.convert_time_zone("Europe/London")
    return local.dt.hour().cast(pl.Int32) * 2 + local.dt.minute().cast(pl.Int32) // 30


def tariff_stamps(source: Path) -> pl.DataFrame:
    """High/Low labels of ``Tariffs.csv`` mapped (zoneinfo) to the UTC END stamp of the reading they price."""
    tariffs = pl.read_csv(source / "tariffs" / "Tariffs.csv").filter(pl.col("Tariff") != "Normal")
    out = []
    for label, band in tariffs.iter_rows():
        local = datetime.strptime(label, "%d/%m/%Y %H:%M").replace(tzinfo=LONDON)
        start_utc = local.astimezone(UTC).replace(tzinfo=None)
        out.append((start_utc + timedelta(minutes=30), band, label))
    return pl.DataFrame(out, schema={"ts": pl.Datetime("us"), "band": pl.String, "label": pl.String}, orient="row")


@pytest.fixture(scope="session")
def faulty_source(tmp_path_factory: pytest.TempPathFactory) -> Source:
    """40 households over two weeks around the spring clock change, faults planted, 8 per block."""
    path = tmp_path_factory.mktemp("syn_faulty")
    summary = generate(
        path, households=40, seed=11, start=date(2013, 3, 25), end=date(2013, 4, 8), households_per_block=8
    )
    return Source(path, summary)
