"""make demo requests only months that are partitions (pipelines.tooling.demo.source_month_range)."""

from datetime import UTC, datetime
from pathlib import Path

import pytest

from pipelines.tooling.demo import source_month_range

HEADER = "LCLid,tstp,energy(kWh/hh)\n"


def _kaggle(path: Path, *stamps: str) -> None:
    path.write_text(HEADER + "".join(f"MAC000001,{s}.0000000,0.1 \n" for s in stamps))


def test_range_is_clipped_to_existing_partitions(tmp_path: Path):
    now = datetime.now(UTC).strftime("%Y-%m-%d 00:30:00")
    _kaggle(tmp_path / "a.csv", "2013-01-01 00:30:00", "2013-03-31 23:30:00")
    _kaggle(tmp_path / "b.csv", "2014-02-01 00:30:00", now)  # the current month is not a partition yet
    (tmp_path / "header_only.csv").write_text(HEADER)
    first, last = source_month_range(tmp_path)
    assert first == "2013-01-01"
    assert last != datetime.now(UTC).strftime("%Y-%m-01")
    assert last >= "2014-02-01"


def test_only_header_only_files_is_a_clear_error(tmp_path: Path):
    (tmp_path / "header_only.csv").write_text(HEADER)
    with pytest.raises(SystemExit, match="no readings with a supported month"):
        source_month_range(tmp_path)
