"""Sensors: reload the months touched by new, changed or deleted files in ``METER_SOURCE_DIR``.

Every minute the sensor walks the source folder and compares each file's (size, mtime) with the
cursor. For a new or changed readings file the ingest stage's sniffer
(``assets.ingest.source_months.file_month_range``) reads only its ends to find the first and last
month it covers. The months of every new, changed or deleted file, clipped to the existing partitions, are
grouped into contiguous ranges and each range is requested as ONE run of the ``ingest_and_clean``
job (single-run backfill policy: one pass over the files, one replace per table). The run key is
derived from the file fingerprints, so the same change is never requested twice.

* Cursor: JSON ``{relative path: [size, mtime_ns, first_month, last_month, refused]}``; the months
  (``YYYY-MM-01`` or null for files that are not readings) let a deleted or shrunk file reload the
  months it used to cover; ``refused`` is why a file cannot be read (null if it can).
* Switched on with an empty cursor (the first time), every file is new: the first tick requests every
  month of every readings file, grouped into contiguous ranges (one run per range), i.e. the whole
  history is re-ingested once. Idempotent, but at full scale that is the whole ingest.
* A file modified less than ``SETTLE_SECONDS`` ago is left for a later tick (still being copied).
* The current, incomplete month is not a partition yet: the monthly schedule loads it later.
* Household and tariff files do not trigger runs (they feed unpartitioned assets).
* A readings file that cannot be read is an ALERT, not a skipped tick: every tick that has no run to
  request FAILS, naming each such file and the reason, until the file is replaced (a new size or
  mtime: read again) or removed. A tick that does request runs (other files changed) requests them
  and logs the refusal as an error; the next tick fails again. Ingest refuses the same file
  (``ingest.refused_source_files``, the failing ``source_files_readable`` check of ``raw_readings``),
  so the other months keep loading. If the file used to be readable, its old months are requested so
  their run fails loudly, naming the file (its stored rows are not dropped silently).
* A file moved to another folder is a deletion plus a new file: its months are reloaded (one run;
  the rows then name the new path). Its content hash is unchanged, so drift and the report's data
  fingerprint do not change (``assets/ingest/file_ledger.py``).
* Skipped when ``METER_SOURCE_DIR`` is unset (the built-in synthetic data does not change).
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path

import dagster as dg

from assets.common.months import months_between, next_month
from assets.common.partitions import monthly_partitions
from assets.common.resources import MeterSource
from pipelines.jobs import ingest_and_clean_job
from pipelines.schedules import automation_running

SETTLE_SECONDS = 30.0
# How often the daemon evaluates the sensor (METER_SENSOR_INTERVAL_SECONDS when the code location loads;
# at least 5 s): the delay from a settled file to its run is at most this.
INTERVAL_ENV = "METER_SENSOR_INTERVAL_SECONDS"
TICK_BUDGET_SECONDS = 40.0  # below Dagster's 60 s sensor evaluation timeout; the rest waits a tick
RANGE_START_TAG = "dagster/asset_partition_range_start"
RANGE_END_TAG = "dagster/asset_partition_range_end"

CursorEntry = list  # [size, mtime_ns, first_month | None, last_month | None, refused reason | None]
ENTRY_FIELDS = 5


class SourceFilesRefused(Exception):
    """Raised by a tick with no run to request while readings files cannot be read: the tick fails."""


def sensor_interval_seconds() -> int:
    import os

    value = os.environ.get(INTERVAL_ENV, "").strip()
    return max(5, int(value)) if value else 60


@dataclass(frozen=True)
class FileStat:
    size: int
    mtime_ns: int

    @property
    def fingerprint(self) -> str:
        return f"{self.size}:{self.mtime_ns}"


def walk(folder: Path) -> dict[str, FileStat]:
    """Every file below ``folder`` (relative POSIX path -> size, mtime); hidden paths skipped, linked
    folders followed (the same walk as ingest's discovery)."""
    from assets.ingest.source_files import walk_files  # lazy: ingest's modules import polars

    found = {}
    for path, relative in walk_files(folder):
        try:
            stat = path.stat()
        except OSError:  # vanished between listing and stat
            continue
        found[relative] = FileStat(stat.st_size, stat.st_mtime_ns)
    return found


def contiguous_ranges(months: Iterable[date]) -> list[tuple[date, date]]:
    """Sorted months grouped into [(first, last)] runs of consecutive months."""
    ranges: list[tuple[date, date]] = []
    for month in sorted(set(months)):
        if ranges and next_month(ranges[-1][1]) == month:
            ranges[-1] = (ranges[-1][0], month)
        else:
            ranges.append((month, month))
    return ranges


def parse_cursor(text: str | None) -> dict[str, CursorEntry]:
    if not text:
        return {}
    data = json.loads(text)
    return {k: list(v) + [None] * (ENTRY_FIELDS - len(v)) for k, v in data.items()}


def _entry_months(entry: CursorEntry | None) -> list[date]:
    if not entry or entry[2] is None or entry[3] is None:
        return []
    return months_between(date.fromisoformat(entry[2]), date.fromisoformat(entry[3]))


@dataclass
class Plan:
    """What one tick decided: runs to request (by month range), the new cursor, and notes."""

    cursor: dict[str, CursorEntry]
    fingerprints_by_month: dict[date, list[str]]
    notes: list[str]
    pending: int = 0

    @property
    def refused(self) -> dict[str, str]:
        """Readings files that cannot be read (path -> reason), new or carried over from earlier ticks."""
        return {k: v[4] for k, v in sorted(self.cursor.items()) if len(v) >= ENTRY_FIELDS and v[4]}

    def run_requests(self, existing_months: set[date]) -> list[dg.RunRequest]:
        months = [m for m in self.fingerprints_by_month if m in existing_months]
        requests = []
        for first, last in contiguous_ranges(months):
            prints = sorted({p for m in months_between(first, last) for p in self.fingerprints_by_month[m]})
            digest = hashlib.sha256("\n".join(prints).encode()).hexdigest()[:16]
            run_key = f"source-files:{first}..{last}:{digest}"
            tags = {"meter/trigger": "source_files_sensor", "meter/changed_files": str(len(prints))}
            if first == last:
                requests.append(dg.RunRequest(run_key=run_key, partition_key=first.isoformat(), tags=tags))
            else:
                tags |= {RANGE_START_TAG: first.isoformat(), RANGE_END_TAG: last.isoformat()}
                requests.append(dg.RunRequest(run_key=run_key, tags=tags))
        return requests


def plan_tick(
    folder: Path,
    previous: Mapping[str, CursorEntry],
    now: float | None = None,
    settle_seconds: float = SETTLE_SECONDS,
    budget_seconds: float = TICK_BUDGET_SECONDS,
) -> Plan:
    """Compare the folder with the cursor; find the months touched by every change."""
    from assets.ingest.source_files import classify
    from assets.ingest.source_layouts import SourceFileError
    from assets.ingest.source_months import file_month_range

    now = time.time() if now is None else now
    started = time.monotonic()
    current = walk(folder)
    cursor: dict[str, CursorEntry] = {}
    by_month: dict[date, list[str]] = {}
    notes: list[str] = []
    pending = 0

    def touch(months: Iterable[date], fingerprint: str) -> None:
        for month in months:
            by_month.setdefault(month, []).append(fingerprint)

    for relative in sorted(current):
        stat, old = current[relative], previous.get(relative)
        if old is not None and (old[0], old[1]) == (stat.size, stat.mtime_ns):
            cursor[relative] = old
            continue
        too_fresh = now - stat.mtime_ns / 1e9 < settle_seconds
        if too_fresh or time.monotonic() - started > budget_seconds:
            pending += 1  # decided on a later tick; keep what we knew
            if old is not None:
                cursor[relative] = old
            continue
        fingerprint = f"{relative}:{stat.fingerprint}"
        path = folder / relative
        try:
            kind = classify(path, relative)
            months = file_month_range(path, relative) if kind == "readings" else None
        except (SourceFileError, OSError) as exc:
            reason = exc.problem if isinstance(exc, SourceFileError) else str(exc)
            notes.append(f"cannot read {relative}: {reason}")
            cursor[relative] = [stat.size, stat.mtime_ns, None, None, reason]
            touch(_entry_months(old), fingerprint)  # it used to hold these months: fail loudly
            continue
        if months is None:
            cursor[relative] = [stat.size, stat.mtime_ns, None, None, None]
            if kind in ("households", "tariffs"):
                notes.append(f"{kind} file {relative} changed (re-materialize the '{kind}' asset)")
            touch(_entry_months(old), fingerprint)
            continue
        first, last = months
        cursor[relative] = [stat.size, stat.mtime_ns, first.isoformat(), last.isoformat(), None]
        touch(set(months_between(first, last)) | set(_entry_months(old)), fingerprint)

    for relative in sorted(set(previous) - set(current)):
        old = previous[relative]
        touch(_entry_months(old), f"{relative}:deleted:{old[0]}:{old[1]}")
        notes.append(f"{relative} was deleted")
    return Plan(cursor=cursor, fingerprints_by_month=by_month, notes=notes, pending=pending)


def existing_months(now: datetime | None = None) -> set[date]:
    """Months that are partitions now (complete months since the first)."""
    current_time = now or datetime.now(UTC)
    keys = monthly_partitions.get_partition_keys(current_time=current_time)
    return {date.fromisoformat(k) for k in keys}


@dg.sensor(
    name="source_files_sensor",
    job=ingest_and_clean_job,
    minimum_interval_seconds=sensor_interval_seconds(),
    default_status=dg.DefaultSensorStatus.RUNNING if automation_running() else dg.DefaultSensorStatus.STOPPED,
    description="Reload the months touched by new, changed or deleted files in METER_SOURCE_DIR.",
)
def source_files_sensor(context: dg.SensorEvaluationContext, source: MeterSource):
    if source.is_synthetic:
        return dg.SkipReason("METER_SOURCE_DIR is not set: the built-in synthetic data does not change.")
    folder = Path(source.source_dir)
    if not folder.is_dir():
        return dg.SkipReason(f"METER_SOURCE_DIR={folder} is not a folder.")
    plan = plan_tick(folder, parse_cursor(context.cursor))
    for note in plan.notes:
        if note.startswith("cannot read"):
            context.log.warning(note)
        else:
            context.log.info(note)
    existing = existing_months()
    outside = sorted(m for m in plan.fingerprints_by_month if m not in existing)
    if outside:
        context.log.info(f"not partitions (yet): {', '.join(str(m) for m in outside)}")
    requests = plan.run_requests(existing)
    cursor = json.dumps(plan.cursor, sort_keys=True, separators=(",", ":"))
    refused = "; ".join(f"{path}: {reason}" for path, reason in plan.refused.items())
    if requests:
        if refused:
            context.log.error(f"readings file(s) refused (not loaded; the next tick fails until fixed): {refused}")
        return dg.SensorResult(run_requests=requests, cursor=cursor)
    if refused:
        raise SourceFilesRefused(
            f"{len(plan.refused)} readings file(s) in METER_SOURCE_DIR cannot be read and are refused (not loaded; "
            f"other files and months load as usual): {refused}. Replace the file with a readable version or remove it; "
            "until then every tick without a run to launch fails."
        )
    reason = "no new, changed or deleted readings files"
    if plan.pending:
        reason += f" ({plan.pending} file(s) still being written or left for the next tick)"
    return dg.SensorResult(skip_reason=dg.SkipReason(reason), cursor=cursor)


SENSORS = [source_files_sensor]
