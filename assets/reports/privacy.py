"""Privacy helpers for everything that leaves the warehouse: pseudonyms and small-group suppression.

* :func:`pseudonymise_ids`: keyed, salted hash (HMAC-SHA256 over ``salt + id``), truncated.
  Same key and salt -> same pseudonym (joins across tables still work); another key -> unrelated
  pseudonyms; without the key the mapping cannot be recomputed from a list of candidate ids.
* :func:`suppress_small_groups`: rows describing fewer than ``k`` households (default 5) keep
  their label columns but every other value is blanked, and ``suppressed`` is set.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable, Sequence

import polars as pl


def pseudonymise_ids(
    ids: Iterable[str] | pl.Series, key: str, salt: str = "", length: int = 16, prefix: str = "HH-"
) -> pl.Series:
    """Keyed pseudonyms ``prefix + hex(HMAC-SHA256(key, salt + id))[:length]``."""
    if not key:
        raise ValueError("a non-empty key is required to pseudonymise ids")
    if not 8 <= length <= 64:
        raise ValueError("length must be within 8..64 hex characters")
    k = key.encode("utf-8")
    values = ids.to_list() if isinstance(ids, pl.Series) else list(ids)
    out = []
    for v in values:
        if v is None:
            out.append(None)
            continue
        digest = hmac.new(k, (salt + str(v)).encode("utf-8"), hashlib.sha256).hexdigest()
        out.append(prefix + digest[:length])
    return pl.Series("household_ref", out, dtype=pl.String)


def suppress_small_groups(
    frame: pl.DataFrame,
    count_column: str,
    k: int = 5,
    keep_columns: Sequence[str] = (),
) -> pl.DataFrame:
    """Blank every value (except ``keep_columns``) of rows whose ``count_column`` is < k.

    Adds a Boolean ``suppressed`` column. The count itself is blanked too (a count of 3 is the
    disclosure). Row order and dtypes are kept.
    """
    if count_column not in frame.columns:
        raise KeyError(f"{count_column!r} not in frame")
    small = pl.col(count_column).is_not_null() & (pl.col(count_column) < k)
    keep = set(keep_columns)
    blanked = [
        pl.when(small).then(pl.lit(None, dtype=frame.schema[c])).otherwise(pl.col(c)).alias(c)
        for c in frame.columns
        if c not in keep
    ]
    return frame.with_columns(small.alias("suppressed")).with_columns(blanked)


def suppress_small_counts(frame: pl.DataFrame, columns: Sequence[str], k: int = 5) -> pl.DataFrame:
    """Counts from 1 to k-1 in ``columns`` (e.g. cells of a cross-tabulation) become the text ``"< k"``.

    Zeros stay (they describe nobody); the count columns become text. Other columns are untouched.
    """
    return frame.with_columns(
        pl.when(pl.col(c).is_between(1, k - 1)).then(pl.lit(f"< {k}")).otherwise(pl.col(c).cast(pl.String)).alias(c)
        for c in columns
    )
