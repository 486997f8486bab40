"""Identity of a fitted model: the data fingerprint and the version string.

* ``fingerprint_frame``: SHA-256 of a canonical serialisation of the training columns, rows sorted
  by household_id (row order and Int32/Int64 or Float32/Float64 choices do not change it; any value
  does). Same data -> same fingerprint on any machine.
* ``model_version_string``: ``<code version>+s<settings hash 8>.d<data fingerprint 12>``.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import polars as pl

from assets.model.settings import SegmentationSettings


def fingerprint_frame(frame: pl.DataFrame, columns: list[str] | tuple[str, ...]) -> str:
    """SHA-256 hex digest of ``columns`` of ``frame`` (rows sorted by household_id)."""
    cols = list(columns)
    if "household_id" not in cols:
        cols = ["household_id", *cols]
    data = frame.select(cols).sort("household_id")
    h = hashlib.sha256()
    h.update(f"rows={data.height};cols={len(cols)};".encode())
    for name in cols:
        s = data[name]
        if s.dtype.is_numeric() or s.dtype == pl.Boolean:
            h.update(f"|{name}:num|".encode())
            arr = s.cast(pl.Float64).fill_null(np.nan).to_numpy().astype("<f8")
            arr = np.where(arr == 0.0, 0.0, arr)  # -0.0 == 0.0
            arr = np.where(np.isnan(arr), np.nan, arr)
            h.update(arr.tobytes())
        else:
            h.update(f"|{name}:str|".encode())
            for v in s.cast(pl.String).to_list():
                h.update(b"\x00" if v is None else b"\x01" + v.encode("utf-8") + b"\x1f")
    return h.hexdigest()


def settings_hash(settings: SegmentationSettings) -> str:
    payload = json.dumps(settings.as_dict(), sort_keys=True, default=str)
    return hashlib.sha256(payload.encode()).hexdigest()


def model_version_string(settings: SegmentationSettings, fingerprint: str) -> str:
    return f"{settings.model_version}+s{settings_hash(settings)[:8]}.d{fingerprint[:12]}"
