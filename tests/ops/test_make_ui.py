"""`make ui` stops cleanly on Ctrl-C (SIGINT to its process group) and opens without warnings about
`dg dev` or an unused dagster.yaml."""

from __future__ import annotations

import os
import signal
import subprocess
import time
import urllib.request
from pathlib import Path

import psutil
import pytest

from tests.ops.services import REPO, free_port

pytestmark = pytest.mark.webserver


def group_members(pgid: int) -> list[psutil.Process]:
    members = []
    for proc in psutil.process_iter():
        try:
            if os.getpgid(proc.pid) == pgid:
                members.append(proc)
        except (ProcessLookupError, psutil.Error):
            continue
    return members


def test_make_ui_stops_on_ctrl_c_within_seconds(tmp_path: Path):
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("METER_", "DAGSTER_"))}
    env |= {"DAGSTER_HOME": str(tmp_path / "home"), "UI_PORT": str(port), "METER_WAREHOUSE": str(tmp_path / "w.duckdb")}
    log_path = tmp_path / "ui.log"
    with log_path.open("wb") as log:
        make = subprocess.Popen(
            ["make", "-s", "ui"], cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
    try:
        deadline = time.monotonic() + 240
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/server_info", timeout=5):
                    break
            except OSError:
                assert make.poll() is None, log_path.read_text(errors="replace")[-3000:]
                assert time.monotonic() < deadline, "make ui: webserver not up"
                time.sleep(1)
        members = group_members(make.pid)
        assert len(members) >= 4  # make, dg dev, webserver, daemon (and code servers)
        os.killpg(make.pid, signal.SIGINT)  # what Ctrl-C in the terminal does
        started = time.monotonic()
        _, alive = psutil.wait_procs(members, timeout=30)
        took = time.monotonic() - started
        assert alive == [], [p.cmdline() for p in alive]
        print(f"make ui: {len(members)} processes stopped {took:.1f} s after Ctrl-C")
    finally:
        for proc in group_members(make.pid):
            proc.kill()
        make.wait(timeout=30)
    output = log_path.read_text(errors="replace")
    assert "Dagster services shut down" in output
    assert "dg dev" not in output  # the SupersessionWarning of `dagster dev`
    assert "will not be used" not in output  # the dagster.yaml-in-the-working-folder warning
