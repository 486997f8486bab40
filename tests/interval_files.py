"""Readings files at other interval lengths, cut from the real LCL sample (for the interval tests).

Each half-hour reading of a real Kaggle-layout file (stamped at the END of its half hour, UTC) is
written as 15- or 5-minute parts whose decimal strings sum exactly to the original string (0.219 ->
0.109 + 0.110), stamped at the end of each part; or pairs of half hours are summed into hourly readings.
"""

from __future__ import annotations

import gzip
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path

from tests.lcl_files import kaggle_line, write_lines

KAGGLE_HEADER = "LCLid,tstp,energy(kWh/hh)"
FORMAT = "%Y-%m-%d %H:%M:%S"


def real_readings(sample: Path, households: list[str], until: str) -> list[tuple[str, datetime, str]]:
    """(household, end stamp, value text as written) of the given Kaggle-layout households before ``until``."""
    rows = []
    stop = datetime.fromisoformat(until)
    for hh in households:
        with gzip.open(sample / "readings" / "kaggle_2013" / f"{hh}.csv.gz", "rt") as fh:
            next(fh)
            for line in fh:
                lclid, ts, kwh = line.rstrip("\n").split(",")
                t = datetime.fromisoformat(ts)
                if t < stop:
                    rows.append((lclid, t, kwh.strip()))
    return rows


def split_value(text: str, parts: int) -> list[str]:
    """``parts`` non-negative decimal strings with the exponent of ``text`` summing exactly to it."""
    v = Decimal(text)
    unit = Decimal(1).scaleb(v.as_tuple().exponent)
    share = (v / parts).quantize(unit, rounding="ROUND_DOWN")
    pieces = [share] * (parts - 1) + [v - share * (parts - 1)]
    assert sum(pieces) == v and min(pieces) >= 0
    return [str(p) for p in pieces]


def sub_interval_lines(rows: list[tuple[str, datetime, str]], minutes: int) -> list[str]:
    """Kaggle-layout lines of the readings split into ``minutes``-minute parts (30 / minutes per half hour)."""
    parts = 30 // minutes
    lines = []
    for hh, end, kwh in rows:
        for k, piece in enumerate(split_value(kwh, parts)):
            stamp = end - timedelta(minutes=minutes * (parts - 1 - k))
            lines.append(kaggle_line(hh, stamp.strftime(FORMAT), piece))
    return lines


def hourly_lines(rows: list[tuple[str, datetime, str]]) -> list[str]:
    """Kaggle-layout lines of the readings summed in pairs into hours (stamped at the hour's end)."""
    by_key = {(hh, t): Decimal(v) for hh, t, v in rows}
    lines = []
    for (hh, t), v in by_key.items():
        before = (hh, t - timedelta(minutes=30))
        if t.minute == 0 and before in by_key:
            lines.append(kaggle_line(hh, t.strftime(FORMAT), str(v + by_key[before])))
    return lines


def half_hourly_lines(rows: list[tuple[str, datetime, str]]) -> list[str]:
    return [kaggle_line(hh, t.strftime(FORMAT), v) for hh, t, v in rows]


def write_kaggle(path: Path, lines: list[str]) -> Path:
    return write_lines(path, [KAGGLE_HEADER, *lines])
