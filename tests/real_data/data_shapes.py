"""Source folders cut from the real LCL sample in the shapes real utility data come in.

Each builder writes a source folder (readings, register, tariff schedule) into ``dest`` from the real
files in ``../shared/data/lcl``, read in place: whole files copied byte for byte, or their lines
rewritten by a stated transformation (hourly sums, 15-minute halves, local-time stamps, a stuck or
all-zero meter). Nothing here is synthetic except what a transformation says it changes.
"""

from __future__ import annotations

import csv
import gzip
import shutil
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

LONDON = ZoneInfo("Europe/London")
KAGGLE_HEADER = "LCLid,tstp,energy(kWh/hh)"


def inventory(sample: Path) -> list[dict[str, str]]:
    with (sample / "inventory.csv").open(newline="") as fh:
        return list(csv.DictReader(fh))


def full_year_kaggle(sample: Path, group: str, n: int) -> list[str]:
    """The first ``n`` Kaggle-layout households of ``group`` (Std / ToU) with at least 17,000 half hours
    of 2013 (the sample README: 176 of 200 have), in id order."""
    rows = [
        r
        for r in inventory(sample)
        if r["layout"] == "kaggle_2013" and r["stdorToU_households_csv"] == group and int(r["rows_2013"]) >= 17000
    ]
    return sorted(r["LCLid"] for r in rows)[:n]


def kaggle_file(sample: Path, household: str) -> Path:
    return sample / "readings" / "kaggle_2013" / f"{household}.csv.gz"


def lds_files(sample: Path) -> list[Path]:
    return sorted((sample / "readings" / "lds_acorn_6col").glob("*.csv.gz"))


def copy_register(sample: Path, dest: Path, drop: Iterable[str] = ()) -> None:
    """The household register, without the households in ``drop``."""
    dropped = set(drop)
    (dest / "households").mkdir(parents=True, exist_ok=True)
    with (sample / "households" / "informations_households.csv").open() as src:
        lines = [line for line in src if line.split(",", 1)[0] not in dropped]
    (dest / "households" / "informations_households.csv").write_text("".join(lines))


def copy_tariffs(sample: Path, dest: Path) -> None:
    (dest / "tariffs").mkdir(parents=True, exist_ok=True)
    shutil.copyfile(sample / "tariffs" / "Tariffs.xlsx", dest / "tariffs" / "Tariffs.xlsx")


def copy_readings(files: Iterable[Path], dest: Path, folder: str = "readings") -> None:
    (dest / folder).mkdir(parents=True, exist_ok=True)
    for path in files:
        shutil.copyfile(path, dest / folder / path.name)


def source_folder(sample: Path, dest: Path, files: Iterable[Path], register: bool = True, tariffs: bool = True) -> Path:
    """A source folder with the given readings files, the register and the tariff schedule."""
    copy_readings(files, dest)
    if register:
        copy_register(sample, dest)
    if tariffs:
        copy_tariffs(sample, dest)
    return dest


def read_kaggle(path: Path) -> list[tuple[str, datetime, str]]:
    """(household, stamp, value text as written) of every reading line of a Kaggle-layout file."""
    with gzip.open(path, "rt", newline="") as fh:
        lines = fh.read().split("\n")
    out = []
    for line in lines[1:]:
        if line:
            household, stamp, value = line.split(",")
            out.append((household, datetime.strptime(stamp, "%Y-%m-%d %H:%M:%S"), value))
    return out


def write_kaggle(path: Path, rows: Iterable[tuple[str, datetime, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    body = "".join(f"{h},{t:%Y-%m-%d %H:%M:%S},{v}\n" for h, t, v in rows)
    with gzip.open(path, "wt", newline="") as fh:
        fh.write(KAGGLE_HEADER + "\n" + body)


def rewrite_kaggle(
    src: Path, dest: Path, transform: Callable[[list[tuple[str, datetime, str]]], list[tuple[str, datetime, str]]]
) -> None:
    write_kaggle(dest, transform(read_kaggle(src)))


def only_month(year: int, month: int):
    return lambda rows: [r for r in rows if r[1] - timedelta(minutes=30) >= datetime(year, month, 1)
                         and (r[1] - timedelta(minutes=30)).month == month and r[1].year == year]  # fmt: skip


def hourly(rows: list[tuple[str, datetime, str]]) -> list[tuple[str, datetime, str]]:
    """Hourly readings: each hour ending on :00 is the sum of its two half hours (hours missing a half
    dropped), stamped at the end of the hour, as an hourly meter export would write it."""
    by_stamp = {t: Decimal(v.strip()) for _, t, v in rows}
    household = rows[0][0]
    out = []
    for t in sorted(by_stamp):
        if t.minute == 0 and (t - timedelta(minutes=30)) in by_stamp:
            out.append((household, t, f" {by_stamp[t] + by_stamp[t - timedelta(minutes=30)]} "))
    return out


def quarter_hourly(rows: list[tuple[str, datetime, str]]) -> list[tuple[str, datetime, str]]:
    """15-minute readings: each half hour split into two quarters whose decimal texts sum exactly to
    the original value (the first gets the half rounded down to the file's precision)."""
    out = []
    for household, t, v in rows:
        value = Decimal(v.strip())
        places = max(0, -value.as_tuple().exponent)
        step = Decimal(1).scaleb(-places)
        first = (value / 2).quantize(step, rounding="ROUND_DOWN")
        out.append((household, t - timedelta(minutes=15), f" {first} "))
        out.append((household, t, f" {value - first} "))
    return out


def constant(value: str):
    """The same stamps, every value replaced by ``value`` (a stuck register, or an all-zero meter)."""
    return lambda rows: [(h, t, f" {value} ") for h, t, _ in rows]


def local_time_stamps(rows: list[tuple[str, datetime, str]]) -> list[tuple[str, datetime, str]]:
    """The same readings stamped in UK local time instead of UTC, as a local-time export writes them:
    +1 h in British Summer Time, so the spring clock change's hour is missing and the autumn's repeated
    hour appears twice (the earlier instant's readings first)."""
    out = []
    for household, t, v in rows:
        local = t.replace(tzinfo=ZoneInfo("UTC")).astimezone(LONDON).replace(tzinfo=None)
        out.append((household, local, v))
    return out
