"""Planted data-quality faults: where they go, what they look like, and how they are recorded.

Kinds (each present at least once when ``faults=True``; count = max(minimum, round(rate * households))):

=====================  ======================================================================  ===========
kind                   what is written                                                         VEE rule
=====================  ======================================================================  ===========
exact_duplicate        a midnight (``00:00:00``) line repeated verbatim on the next line       D01
                       (block files only, like LCL's midnight duplicate)
conflicting_duplicate  an extra line right after a reading: same household and stamp, other   V09
                       value
null_value             value field is the literal ``Null`` (unpadded)                          V05
off_grid_timestamp     an extra line stamped ``HH:MM:00`` off the :00/:30 grid (e.g. 10:17)    V04
                       right after the reading stamped HH:00/HH:30 before it
short_gap              1-6 consecutive half hours missing                                      E01
long_gap               8-49 consecutive half hours missing (> 3 h, up to a day)                (none)
negative_value         value ``-0.05`` .. ``-2``                                               V07
spike                  value 5-9 kWh (plausible, < 24), never in storage-heating homes         F01
implausible_value      value 25-999 kWh (> 24)                                                 V08
non_numeric_value      value `` abc ``                                                         V06
malformed_line         line truncated (too few fields): after the timestamp, or inside it      V01
=====================  ======================================================================  ===========

Replacement kinds (null, negative, spike, implausible, non-numeric, malformed) replace the reading's
line, so that half hour has no valid reading. Faults keep >= 6 lines from a household's first/last
line, >= 8 half hours from each other, and never touch a High/Low half hour of the 2013 schedule
(nor the one before or after), so response ground truth is unaffected.

Each fault is one row of ``ground_truth/faults.csv``: ``kind, household_id, source_file, source_line
(1-based physical line of the decompressed file), reading_ts_text (the stamp text on that line; for
gaps the line right after the gap), detail`` (``key=value;...``: rule, written value, true value,
gap bounds).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import numpy as np
import polars as pl

from assets.synthetic.archetypes import NIGHT_STORAGE_HEATING
from assets.synthetic.formatting import padded, plain_decimal
from assets.synthetic.population import LAYOUT_LDS
from assets.synthetic.tariff_calendar import NORMAL
from assets.synthetic.timegrid import STAMP_FORMAT_KAGGLE, STAMP_FORMAT_LDS, TimeGrid

EXACT_DUPLICATE = "exact_duplicate"
CONFLICTING_DUPLICATE = "conflicting_duplicate"
NULL_VALUE = "null_value"
OFF_GRID_TIMESTAMP = "off_grid_timestamp"
SHORT_GAP = "short_gap"
LONG_GAP = "long_gap"
NEGATIVE_VALUE = "negative_value"
SPIKE = "spike"
IMPLAUSIBLE_VALUE = "implausible_value"
NON_NUMERIC_VALUE = "non_numeric_value"
MALFORMED_LINE = "malformed_line"

# kind -> (rate per household, minimum count, VEE rule id)
FAULT_KINDS: dict[str, tuple[float, int, str]] = {
    EXACT_DUPLICATE: (0.02, 1, "D01_EXACT_DUPLICATE"),
    CONFLICTING_DUPLICATE: (0.01, 1, "V09_CONFLICTING_DUPLICATE"),
    NULL_VALUE: (0.015, 1, "V05_NULL_VALUE"),
    OFF_GRID_TIMESTAMP: (0.01, 1, "V04_OFF_GRID_TIMESTAMP"),
    SHORT_GAP: (0.02, 1, "E01_SHORT_GAP_INTERPOLATED"),
    LONG_GAP: (0.01, 1, "none"),
    NEGATIVE_VALUE: (0.01, 1, "V07_NEGATIVE_VALUE"),
    SPIKE: (0.015, 1, "F01_SPIKE"),
    IMPLAUSIBLE_VALUE: (0.01, 1, "V08_IMPLAUSIBLE_VALUE"),
    NON_NUMERIC_VALUE: (0.01, 1, "V06_NON_NUMERIC_VALUE"),
    MALFORMED_LINE: (0.007, 2, "V01_MALFORMED_LINE"),
}
GAP_KINDS = frozenset({SHORT_GAP, LONG_GAP})
EDGE_MARGIN = 6
SEPARATION = 8
LONG_GAP_LENGTHS = (8, 12, 24, 48, 49)
FAULT_COLUMNS = ("kind", "household_id", "source_file", "source_line", "reading_ts_text", "detail")


@dataclass(frozen=True)
class PlannedFault:
    fault_id: int
    kind: str
    household_index: int
    slot: int  # grid slot of the affected reading; gaps: first missing slot
    length: int = 1  # gaps: missing half hours
    milli: int = 0  # value written (negative/spike/implausible) or added (conflicting duplicate)
    minutes: int = 0  # off-grid: minutes after the previous on-grid stamp
    variant: int = 0  # malformed: 0 cut after the timestamp, 1 cut inside it


def fault_counts(households: int) -> dict[str, int]:
    return {kind: max(minimum, round(rate * households)) for kind, (rate, minimum, _) in FAULT_KINDS.items()}


def plan_faults(population: pl.DataFrame, bands: np.ndarray, seed: int) -> list[PlannedFault]:
    """Choose households and half hours for every fault, deterministically from ``seed``."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 4]))
    n_slots = bands.shape[0]
    busy = np.concatenate([[0], np.cumsum(bands != NORMAL)])  # busy[b] - busy[a] = events in [a, b)
    first = population["first_slot"].to_numpy()
    stop = population["stop_slot"].to_numpy()
    layout = population["layout"].to_numpy()
    archetype = population["archetype"].to_numpy()
    occupied: dict[int, list[tuple[int, int]]] = {}
    planned: list[PlannedFault] = []

    def free(h: int, lo: int, hi: int) -> bool:
        if lo < first[h] + EDGE_MARGIN or hi > stop[h] - EDGE_MARGIN:
            return False
        if busy[min(hi + 1, n_slots)] - busy[max(lo - 1, 0)] > 0:
            return False
        return all(hi + SEPARATION <= a or lo >= b + SEPARATION for a, b in occupied.get(h, []))

    fid = 0
    for kind, count in fault_counts(population.height).items():
        eligible = np.arange(population.height)
        if kind == EXACT_DUPLICATE:
            eligible = eligible[layout == LAYOUT_LDS]
        if kind == SPIKE:
            eligible = eligible[archetype != NIGHT_STORAGE_HEATING]
        for i in range(count):
            if eligible.size == 0:
                break
            length = 1
            if kind == SHORT_GAP:
                length = int(rng.integers(1, 7))
            elif kind == LONG_GAP:
                length = int(rng.choice(LONG_GAP_LENGTHS))
            load = np.array([len(occupied.get(int(h), [])) for h in eligible])
            order = eligible[np.lexsort((rng.random(eligible.size), load))]
            placed = None
            for h in order[:50]:
                h = int(h)
                for _ in range(60):
                    if kind == EXACT_DUPLICATE:
                        day = int(rng.integers(0, n_slots // 48))
                        k = day * 48 + 47  # stamp 00:00:00 of the next day
                    else:
                        k = int(rng.integers(0, n_slots))
                    if free(h, k, k + length):
                        placed = (h, k)
                        break
                if placed:
                    break
            if placed is None:
                continue
            h, k = placed
            occupied.setdefault(h, []).append((k, k + length))
            milli = 0
            if kind == NEGATIVE_VALUE:
                milli = -int(rng.integers(50, 2001))
            elif kind == SPIKE:
                milli = int(rng.integers(5000, 9001))
            elif kind == IMPLAUSIBLE_VALUE:
                milli = int(rng.integers(25_000, 999_001))
            elif kind == CONFLICTING_DUPLICATE:
                milli = int(rng.integers(50, 501))
            minutes = int(rng.choice([n for n in range(1, 30) if n != 15])) if kind == OFF_GRID_TIMESTAMP else 0
            planned.append(PlannedFault(fid, kind, h, k, length=length, milli=milli, minutes=minutes, variant=i % 2))
            fid += 1
    return planned


@dataclass
class FaultRecord:
    fault_id: int
    kind: str
    household_id: str
    reading_ts_text: str
    detail: str
    source_file: str = ""
    source_line: int = 0


def apply_faults(
    *,
    lines: pl.Series,
    ts: pl.Series,
    milli: np.ndarray,
    first_slot: int,
    faults: list[PlannedFault],
    household_id: str,
    layout: str,
    prefix: str,
    suffix: str,
    grid: TimeGrid,
) -> tuple[pl.DataFrame, list[FaultRecord]]:
    """Apply a household's faults to its lines (row j = grid slot first_slot + j).

    Returns the lines (``line``, ``fault_id`` marking the line that shows each fault) in file order and
    one record per fault (file and line filled in by the writer).
    """
    n = lines.len()
    lines = lines.clone()
    fault_col = pl.repeat(None, n, dtype=pl.Int32, eager=True).alias("fault_id")
    keep = np.ones(n, dtype=bool)
    extra_key: list[int] = []
    extra_line: list[str] = []
    extra_fault: list[int] = []
    records: list[FaultRecord] = []
    stamp_format = STAMP_FORMAT_LDS if layout == LAYOUT_LDS else STAMP_FORMAT_KAGGLE
    head = prefix[:-1]  # household id (and tariff group) without the trailing comma

    for f in faults:
        j = f.slot - first_slot
        ts_j = ts[j]
        true_text = plain_decimal(int(milli[f.slot]))
        rule = FAULT_KINDS[f.kind][2]
        ts_text = ts_j
        if f.kind == EXACT_DUPLICATE:
            extra_key.append(4 * j + 1)
            extra_line.append(lines[j])
            extra_fault.append(f.fault_id)
            detail = f"rule={rule};kwh={true_text};repeats=previous line"
        elif f.kind == CONFLICTING_DUPLICATE:
            new = plain_decimal(int(milli[f.slot]) + f.milli)
            extra_key.append(4 * j + 1)
            extra_line.append(f"{prefix}{ts_j},{padded(new)}{suffix}")
            extra_fault.append(f.fault_id)
            detail = f"rule={rule};kwh={new};other_kwh={true_text};other=previous line"
        elif f.kind == OFF_GRID_TIMESTAMP:
            stamp = grid.stamp(f.slot) + timedelta(minutes=f.minutes)
            ts_text = stamp.strftime(stamp_format)
            extra_key.append(4 * j + 1)
            extra_line.append(f"{prefix}{ts_text},{padded(true_text)}{suffix}")
            extra_fault.append(f.fault_id)
            detail = f"rule={rule};kwh={true_text};minutes_after_previous_stamp={f.minutes}"
        elif f.kind in GAP_KINDS:
            keep[j : j + f.length] = False
            nxt = j + f.length
            fault_col = fault_col.scatter(nxt, f.fault_id)
            ts_text = ts[nxt]
            detail = (
                f"rule={rule};missing_half_hours={f.length};first_missing={ts_j};"
                f"last_missing={ts[j + f.length - 1]};line=first line after the gap"
            )
        else:
            if f.kind == MALFORMED_LINE:
                ts_text = ts_j if f.variant == 0 else ts_j[:13]
                new_line = f"{head},{ts_text}"
                fields = new_line.count(",") + 1
                detail = f"rule={rule};fields={fields};true_kwh={true_text};true_ts={ts_j}"
            else:
                if f.kind == NULL_VALUE:
                    field = "Null"
                elif f.kind == NON_NUMERIC_VALUE:
                    field = padded("abc")
                else:  # negative, spike, implausible
                    field = padded(plain_decimal(f.milli))
                new_line = f"{prefix}{ts_j},{field}{suffix}"
                detail = f"rule={rule};written={field.strip()};true_kwh={true_text}"
            lines = lines.scatter(j, new_line)
            fault_col = fault_col.scatter(j, f.fault_id)
        records.append(FaultRecord(f.fault_id, f.kind, household_id, ts_text, detail))

    base = pl.DataFrame({"key": np.arange(n, dtype=np.int64) * 4, "line": lines, "fault_id": fault_col})
    base = base.filter(pl.Series(keep))
    if extra_key:
        extra = pl.DataFrame(
            {
                "key": pl.Series(extra_key, dtype=pl.Int64),
                "line": pl.Series(extra_line, dtype=pl.String),
                "fault_id": pl.Series(extra_fault, dtype=pl.Int32),
            }
        )
        base = pl.concat([base, extra]).sort("key")
    return base.drop("key"), records
