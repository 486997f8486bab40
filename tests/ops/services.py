"""Test helpers: tiny LCL source folders, and a real dagster-webserver + dagster-daemon pair.

The services run from the repository (workspace.yaml) with the repository's dagster.yaml copied
into a temporary DAGSTER_HOME, on 127.0.0.1 and a free port. Each service is started in its own
process group (code servers and run workers are its descendants), so stopping kills everything.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path

import psutil

from assets.common.warehouse import WarehouseSettings, connect
from pipelines.tooling.backfill import Client
from tests.lcl_files import kaggle_line, lds_line, write_lines

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
HOUSEHOLDS = ("MAC000101", "MAC000102")
MONTHS = ("2013-01-01", "2013-02-01", "2013-03-01")
INGEST_CLEAN_ASSETS = ("raw_readings", "clean_readings", "quarantined_readings", "household_month_coverage")
LOCK_ERROR = b"Could not set lock"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stamps(month: str, days: int) -> list[str]:
    """Half-hour END stamps of the first ``days`` days of ``month`` (all inside the month)."""
    start = datetime.fromisoformat(month) + timedelta(minutes=30)
    return [(start + timedelta(minutes=30 * i)).strftime("%Y-%m-%d %H:%M:%S") for i in range(48 * days - 1)]


def write_month_file(folder: Path, month: str, days: int = 2) -> Path:
    """One small readings file for ``month``; the layout differs by month (all LCL layouts)."""
    stamps = _stamps(month, days)
    kwh = [f"{0.1 + (i % 7) / 20:.3f}" for i in range(len(stamps))]
    m = date.fromisoformat(month).month % 3
    if m == 1:  # London Datastore 6 columns, header, CRLF
        lines = ["LCLid,stdorToU,DateTime,KWH/hh (per half hour) ,Acorn,Acorn_grouped"]
        lines += [lds_line(hh, t, k) for hh in HOUSEHOLDS for t, k in zip(stamps, kwh, strict=True)]
        return write_lines(folder / "lds" / f"readings_{month[:7]}.csv", lines, crlf=True)
    if m == 2:  # Kaggle layout, gzip
        lines = ["LCLid,tstp,energy(kWh/hh)"]
        lines += [kaggle_line(hh, t, k) for hh in HOUSEHOLDS for t, k in zip(stamps, kwh, strict=True)]
        return write_lines(folder / "kaggle" / f"readings_{month[:7]}.csv", lines)
    lines = [f"{hh},{t}, {k} " for hh in HOUSEHOLDS for t, k in zip(stamps, kwh, strict=True)]  # 3 col, no header
    return write_lines(folder / "lcl" / f"readings_{month[:7]}.csv.gz", lines, gz=True)


def write_households_and_tariffs(folder: Path) -> None:
    """A household information file and a two-day tariff schedule (High and Low events)."""
    write_lines(
        folder / "households" / "informations_households.csv",
        ["LCLid,stdorToU,Acorn,Acorn_grouped,file"] + [f"{hh},ToU,ACORN-B,Affluent,block_0" for hh in HOUSEHOLDS],
    )
    labels = ["TariffDateTime,Tariff"]
    for day in (1, 2):
        for slot in range(48):
            band = "High" if 34 <= slot < 40 else "Low" if 4 <= slot < 10 else "Normal"
            labels.append(f"2013-01-{day:02d} {slot // 2:02d}:{30 * (slot % 2):02d}:00,{band}")
    write_lines(folder / "tariffs" / "Tariffs.csv", labels)


def write_source(folder: Path, months: tuple[str, ...] = MONTHS, days: int = 2, extras: bool = True) -> dict[str, Path]:
    """A source folder with one readings file per month (plus households and tariffs if
    ``extras``); every file's mtime is set an hour back (settled files)."""
    files = {month: write_month_file(folder, month, days) for month in months}
    if extras:
        write_households_and_tariffs(folder)
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        settle(path)
    return files


def settle(path: Path, seconds_ago: float = 3600) -> None:
    """Set a file's mtime in the past (the sensor leaves files modified in the last 30 s alone)."""
    mtime = time.time_ns() - int(seconds_ago * 10**9)
    os.utime(path, ns=(mtime, mtime))


def rows_by_month(warehouse: Path, table: str) -> dict[str, int]:
    with connect(WarehouseSettings(warehouse, memory_limit="512MB", threads=1)) as con:
        rows = con.execute(f"SELECT reading_month, count(*) FROM {table} GROUP BY 1 ORDER BY 1").fetchall()
    return {str(m): n for m, n in rows}


@dataclass
class DagsterServices:
    """dagster-webserver + dagster-daemon on a temporary instance."""

    root: Path
    env: dict[str, str] = field(default_factory=dict)
    port: int = 0
    procs: dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def home(self) -> Path:
        return self.root / "dagster_home"

    @property
    def source(self) -> Path:
        return self.root / "source"

    @property
    def warehouse(self) -> Path:
        return self.root / "warehouse.duckdb"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def client(self) -> Client:
        return Client(self.url, timeout_s=60)

    def prepare(self, extra_env: Mapping[str, str] | None = None, synthetic: bool = False) -> None:
        """Instance folder with the repository's dagster.yaml, and the environment of every process:
        METER_SOURCE_DIR is ``source/`` (or unset: built-in synthetic data), warehouse in the root."""
        self.home.mkdir(parents=True, exist_ok=True)
        shutil.copy(REPO / "dagster.yaml", self.home / "dagster.yaml")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("METER_", "DAGSTER_"))}
        env |= {
            "DAGSTER_HOME": str(self.home),
            "METER_WAREHOUSE": str(self.warehouse),
            "METER_REPORTS_DIR": str(self.root / "reports"),
            "PYTHONUNBUFFERED": "1",
            "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
        }
        if not synthetic:
            self.source.mkdir(parents=True, exist_ok=True)
            env["METER_SOURCE_DIR"] = str(self.source)
        self.env = env | dict(extra_env or {})
        self.init_instance()

    def init_instance(self) -> None:
        """Create the SQLite storages once, before several processes open them: a webserver and a
        daemon initializing a fresh instance at the same moment can both stamp the schema
        ("Version table 'alembic_version' has more than one head present")."""
        import dagster as dg

        with dg.DagsterInstance.from_config(str(self.home)) as instance:
            instance.get_runs(limit=1)
            instance.get_backfills(limit=1)
            instance.all_instigator_state()
            instance.event_log_storage.get_asset_records()

    def _spawn(self, name: str, args: list[str]) -> None:
        log = (self.root / f"{name}.log").open("wb")
        self.procs[name] = subprocess.Popen(
            args, cwd=REPO, env=self.env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        log.close()

    def start(self, daemon: bool = True, timeout_s: float = 120) -> None:
        self.port = free_port()
        self._spawn(
            "webserver",
            [str(BIN / "dagster-webserver"), "-h", "127.0.0.1", "-p", str(self.port), "-w", "workspace.yaml"],
        )
        if daemon:
            self._spawn("daemon", [str(BIN / "dagster-daemon"), "run", "-w", "workspace.yaml"])
        self.wait_ready(daemon, timeout_s)

    def _check_alive(self) -> None:
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                raise RuntimeError(f"{name} exited with {proc.returncode}:\n{self.log(name)[-4000:]}")

    def wait_ready(self, daemon: bool, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        while True:
            self._check_alive()
            try:
                with urllib.request.urlopen(self.url + "/server_info", timeout=5):
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"webserver not up:\n{self.log('webserver')[-4000:]}") from None
                time.sleep(0.5)
        query = """{ workspaceOrError { ... on Workspace { locationEntries { name loadStatus
                      locationOrLoadError { __typename ... on PythonError { message } } } } }
                     instance { daemonHealth { allDaemonStatuses { daemonType required healthy } } } }"""
        while True:
            self._check_alive()
            data = self.client.execute(query)
            entries = data["workspaceOrError"]["locationEntries"]
            loaded = entries and all(e["loadStatus"] == "LOADED" for e in entries)
            if loaded:
                errors = [
                    e["locationOrLoadError"]
                    for e in entries
                    if e["locationOrLoadError"]["__typename"] != "RepositoryLocation"
                ]
                if errors:
                    raise RuntimeError(f"code location failed to load: {errors}")
            statuses = data["instance"]["daemonHealth"]["allDaemonStatuses"]
            healthy = not daemon or all(s["healthy"] for s in statuses if s["required"])
            if loaded and healthy:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"not ready: locations={entries} daemons={statuses}")
            time.sleep(1)

    def log(self, name: str) -> str:
        path = self.root / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self) -> None:
        """SIGTERM each process group, then SIGKILL whatever is left (including stray descendants)."""
        procs = list(self.procs.values())
        family = []
        for proc in procs:
            with suppress(psutil.NoSuchProcess):
                family += psutil.Process(proc.pid).children(recursive=True)
        for proc in procs:
            _signal_group(proc, signal.SIGTERM)
        deadline = time.monotonic() + 15
        for proc in procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                _signal_group(proc, signal.SIGKILL)
                proc.wait(timeout=10)
        _, alive = psutil.wait_procs(family, timeout=max(0.1, deadline - time.monotonic()))
        for child in alive:
            with suppress(psutil.NoSuchProcess):
                child.kill()
        self.procs.clear()

    def files_containing(self, needle: bytes) -> list[str]:
        """Files under the temporary root (logs, instance storage, compute logs; not data or config)
        that contain ``needle``."""
        hits = []
        for path in self.root.rglob("*"):
            if path.is_file() and path.suffix not in (".duckdb", ".wal", ".gz", ".yaml"):
                try:
                    if needle in path.read_bytes():
                        hits.append(str(path.relative_to(self.root)))
                except OSError:
                    continue
        return hits


def _signal_group(proc: subprocess.Popen, sig: int) -> None:
    with suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, sig)


@contextmanager
def running_services(
    root: Path, daemon: bool = True, extra_env: Mapping[str, str] | None = None
) -> Iterator[DagsterServices]:
    services = DagsterServices(root)
    services.prepare(extra_env)
    try:
        services.start(daemon=daemon)
        yield services
    finally:
        services.stop()
