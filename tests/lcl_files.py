"""Write tiny files in the exact LCL layouts (for tests)."""

import gzip
from pathlib import Path


def write_lines(path: Path, lines: list[str], crlf: bool = False, gz: bool = False) -> Path:
    """Write lines exactly (each followed by a line ending), optionally gzip-compressed."""
    path.parent.mkdir(parents=True, exist_ok=True)
    ending = "\r\n" if crlf else "\n"
    data = "".join(line + ending for line in lines).encode()
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


def lds_line(hh: str, ts: str, kwh: str, group: str = "Std") -> str:
    """A London Datastore 6-column line exactly as in the real files."""
    return f"{hh},{group},{ts}.0000000, {kwh} ,ACORN-B,Affluent"


def kaggle_line(hh: str, ts: str, kwh: str) -> str:
    return f"{hh},{ts}, {kwh} "
