"""``python -m assets.synthetic.generate`` prints the summary (with throughput) and writes the folder."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def test_cli(tmp_path: Path) -> None:
    out = tmp_path / "src"
    result = subprocess.run(
        [
            sys.executable,
            "-W",
            "error",
            "-m",
            "assets.synthetic.generate",
            "--out",
            str(out),
            "--households",
            "5",
            "--seed",
            "3",
            "--start",
            "2013-01-01",
            "--end",
            "2013-01-04",
            "--gzip",
        ],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "rows/s" in result.stdout and "households       5" in result.stdout
    assert (out / "readings" / "block_000.csv.gz").is_file()
    assert (out / "ground_truth" / "faults.csv").is_file()


def test_no_dagster_in_the_generator() -> None:
    for path in (REPO / "assets" / "synthetic").glob("*.py"):
        assert not re.search(r"^\s*(import|from)\s+dagster", path.read_text(), re.MULTILINE), path
    code = "import sys, assets.synthetic.generate; assert not any(m.startswith('dagster') for m in sys.modules)"
    subprocess.run([sys.executable, "-c", code], cwd=REPO, check=True, timeout=120)
