"""Identity of a fitted model: the data fingerprint and the version string.

* ``fingerprint_frame``: SHA-256 of a canonical serialisation of the training columns, rows sorted
  by household_id (row order and Int32/Int64 or Float32/Float64 choices do not change it). Numbers are
  hashed as their value rounded to ``SIGNIFICANT_DIGITS`` significant digits (an integer mantissa and
  a power of ten), not as raw float bytes: an identical re-run whose sums were added in another order
  (DuckDB's parallel aggregation, Spark's partitions) differs by ~1e-13 relative (up to ~1e-12 after
  the ratios and spreads built on them) and must give the same fingerprint; any change of 1e-6
  relative or more in any value gives another one. Same data -> same fingerprint on any machine.
* ``model_version_string``: ``<code version>+s<settings hash 8>.d<data fingerprint 12>``.
"""

from __future__ import annotations

import hashlib
import json

import numpy as np
import polars as pl

from assets.model.settings import SegmentationSettings

# 7 significant digits: one unit in the last kept digit is 1e-7 to 1e-6 of the value, so a change of
# 1e-6 relative (far below any meaningful change of a feature: kWh to the Wh, shares to 1e-6) always
# moves the rounded value, while re-run noise of 1e-13..1e-12 relative is 5 to 6 orders of magnitude
# below the rounding unit. Rounding has boundaries: a value that sits within the noise of a rounding
# boundary can still flip, with a probability of about 2 x noise / unit (<= 2e-5 per value at 1e-12;
# at 1e-13, <= 2e-6) -- the price of any tolerance in a hash, kept small by rounding coarsely. Values
# are features (magnitudes < 1e7), so integers among them are kept exactly.
SIGNIFICANT_DIGITS = 7
_NAN_EXPONENT, _INF_EXPONENT = np.iinfo(np.int64).min, np.iinfo(np.int64).max


def canonical_numbers(values: np.ndarray, digits: int = SIGNIFICANT_DIGITS) -> tuple[np.ndarray, np.ndarray]:
    """``values`` (float64) rounded to ``digits`` significant digits, as (mantissa, exponent) int64
    arrays with ``value ~= mantissa * 10**exponent`` and ``10**(digits-1) <= |mantissa| < 10**digits``
    (0 is (0, 0); NaN and +/-inf get sentinel exponents): one representation per rounded value."""
    values = np.asarray(values, dtype="<f8")
    finite = np.isfinite(values) & (values != 0.0)
    mantissa = np.zeros(values.shape, dtype=np.int64)
    exponent = np.zeros(values.shape, dtype=np.int64)
    x = values[finite]
    exp = np.floor(np.log10(np.abs(x))).astype(np.int64) - (digits - 1)
    m = np.rint(x * np.power(10.0, -exp.astype(np.float64)))
    top = np.abs(m) >= 10.0**digits  # 9.9999999 rounded up to 10.000000: one digit too many
    m, exp = np.where(top, np.rint(m / 10.0), m), np.where(top, exp + 1, exp)
    low = (np.abs(m) < 10.0 ** (digits - 1)) & (m != 0)  # log10 rounded up across a power of ten
    m, exp = np.where(low, np.rint(x * np.power(10.0, -(exp - 1).astype(np.float64))), m), np.where(low, exp - 1, exp)
    mantissa[finite], exponent[finite] = m.astype(np.int64), exp
    exponent[np.isnan(values)] = _NAN_EXPONENT
    inf = np.isinf(values)
    exponent[inf], mantissa[inf] = _INF_EXPONENT, np.sign(values[inf]).astype(np.int64)
    return mantissa, exponent


def fingerprint_frame(frame: pl.DataFrame, columns: list[str] | tuple[str, ...]) -> str:
    """SHA-256 hex digest of ``columns`` of ``frame`` (rows sorted by household_id; numbers rounded to
    ``SIGNIFICANT_DIGITS`` significant digits, see the module docstring)."""
    cols = list(columns)
    if "household_id" not in cols:
        cols = ["household_id", *cols]
    data = frame.select(cols).sort("household_id")
    h = hashlib.sha256()
    h.update(f"rows={data.height};cols={len(cols)};digits={SIGNIFICANT_DIGITS};".encode())
    for name in cols:
        s = data[name]
        if s.dtype.is_numeric() or s.dtype == pl.Boolean:
            h.update(f"|{name}:num|".encode())
            mantissa, exponent = canonical_numbers(s.cast(pl.Float64).fill_null(np.nan).to_numpy())
            h.update(mantissa.astype("<i8").tobytes())
            h.update(exponent.astype("<i8").tobytes())
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
