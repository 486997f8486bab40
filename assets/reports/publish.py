"""Writing a report's files into a folder: each file replaced atomically, stale figures removed.

A report folder (``METER_REPORTS_DIR`` and its ``history/<month>/`` copies) outlives runs. Each file is
written beside its final name and renamed over it (``os.replace``), so a reader or a crashed run never
sees half a file; figures an earlier run drew and this one did not (a chart that no longer applies)
are removed, so the folder never shows a PNG the HTML beside it does not describe.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

FIGURE_SUFFIX = ".png"


def publish_report_files(folder: Path, files: Mapping[str, bytes]) -> list[Path]:
    """Write ``files`` (file name -> content) into ``folder``; remove the folder's other figures.

    Returns the paths written. Only ``*.png`` files not in ``files`` are removed: the report's own
    figures; any other file in the folder is left alone.
    """
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, content in files.items():
        if Path(name).name != name:
            raise ValueError(f"report file name {name!r} must be a plain file name, not a path")
        target = folder / name
        partial = folder / f".{name}.partial"
        try:
            partial.write_bytes(content)
            os.replace(partial, target)
        finally:
            partial.unlink(missing_ok=True)
        written.append(target)
    for stale in folder.glob(f"*{FIGURE_SUFFIX}"):
        if stale.name not in files:
            stale.unlink()
    return written
