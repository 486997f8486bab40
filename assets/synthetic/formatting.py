"""Text of readings exactly as LCL writes them.

- value field: one space either side, shortest decimal of the 3-decimal value (`` 0.181 ``, `` 0.06 ``,
  `` 0 ``, `` 1.2 ``); a share of values >= 1 kWh carries single-precision artefacts like LCL's
  `` 1.0779999 `` (= 1.078 - 1e-7) and `` 1.2410001 `` (= 1.241 + 1e-7);
- London Datastore 6-column line: ``LCLid,stdorToU,YYYY-MM-DD HH:MM:SS.0000000, v ,Acorn,Acorn_grouped``;
- Kaggle 3-column line: ``LCLid,YYYY-MM-DD HH:MM:SS, v ``.

Values are turned into text by gathering from a precomputed table indexed by
``variant * TABLE_SIZE + milli_kwh`` (no per-row Python work).
"""

from __future__ import annotations

import numpy as np
import polars as pl

TABLE_SIZE = 20_000  # milli-kWh 0 .. 19.999 kWh
KAGGLE_HEADER = "LCLid,tstp,energy(kWh/hh)"


def plain_decimal(milli: int) -> str:
    """Shortest decimal text of ``milli / 1000`` (``181 -> 0.181``, ``60 -> 0.06``, ``0 -> 0``)."""
    sign = "-" if milli < 0 else ""
    milli = abs(milli)
    whole, frac = divmod(milli, 1000)
    text = f"{whole}.{frac:03d}".rstrip("0").rstrip(".")
    return sign + text


def padded(text: str) -> str:
    return f" {text} "


def _variant_text(milli: int, variant: int) -> str:
    if variant == 1 and milli >= 1000:
        whole, frac = divmod(milli - 1, 1000)
        return f"{whole}.{frac:03d}9999"
    if variant == 2 and milli >= 1000:
        whole, frac = divmod(milli, 1000)
        return f"{whole}.{frac:03d}0001"
    return plain_decimal(milli)


_TABLE: pl.Series | None = None


def value_table() -> pl.Series:
    """Padded value text for every ``variant * TABLE_SIZE + milli``, built once (60,000 strings)."""
    global _TABLE
    if _TABLE is None:
        _TABLE = pl.Series(
            "val",
            [padded(_variant_text(m, v)) for v in range(3) for m in range(TABLE_SIZE)],
            dtype=pl.String,
        )
    return _TABLE


def value_text(milli: np.ndarray, variant: np.ndarray) -> pl.Series:
    codes = variant.astype(np.int64) * TABLE_SIZE + milli.astype(np.int64)
    return value_table().gather(codes)


def lds_prefix_suffix(household_id: str, tariff_group: str, acorn: str, acorn_group: str) -> tuple[str, str]:
    return f"{household_id},{tariff_group},", f",{acorn},{acorn_group}"


def kaggle_prefix_suffix(household_id: str) -> tuple[str, str]:
    return f"{household_id},", ""


def build_lines(prefix: str, ts: pl.Series, values: pl.Series, suffix: str) -> pl.Series:
    """``prefix + ts + ',' + value + suffix`` for every row, vectorised."""
    return (
        pl.DataFrame({"ts": ts, "val": values})
        .select(pl.concat_str([pl.lit(prefix), pl.col("ts"), pl.lit(","), pl.col("val"), pl.lit(suffix)]).alias("line"))
        .to_series()
    )
