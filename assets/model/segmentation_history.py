"""Segmentation as of each month, kept for comparison: persona drift between consecutive fits.

History is keyed by DATA SOURCE, by content: every snapshot records the content keys of the indexed
source files (their sha256, ``assets/ingest/file_ledger.py``; ``path:<file>`` for a file not hashed
yet) in ``model.segment_history_sources``, and drift compares a snapshot only with the latest
earlier one that shares at least one source file's content. A new monthly delivery (the old files
stay), a delivery moved into another sub-folder, or a drop folder reorganised (same bytes, new paths)
keep the history; a different source (e.g. the built-in synthetic data, then the real files: no
file in common) restarts it with a note, so real households are never compared with synthetic ones
that share their ids. ``source_key`` (sha256 over the content keys) identifies the data version of a
snapshot; snapshots written before the content keys existed are matched by it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import polars as pl

from assets.common.markdown import markdown_table
from assets.common.sql import load_sql, qualified_name

HISTORY_TABLE = "model.segment_assignment_history"
HISTORY_DDL = (
    "as_of_month DATE, household_id VARCHAR, load_shape_cluster INTEGER, load_shape_name VARCHAR, "
    "persona_id VARCHAR, persona_name VARCHAR, model_fingerprint VARCHAR, source_key VARCHAR"
)
SOURCE_INDEX = "ingest.source_file_index"
SOURCES_TABLE = "model.segment_history_sources"


@dataclass(frozen=True)
class Drift:
    previous_month: date | None
    households_compared: int
    adjusted_rand_index: float | None
    share_changed: float | None
    transitions: pl.DataFrame  # from_persona, to_persona, households
    note: str | None = None  # e.g. the history restarted because the data source changed


def no_history(note: str | None = None) -> Drift:
    """The drift of a first segmentation: no earlier snapshot to compare with."""
    empty = pl.DataFrame(schema={"from_persona": pl.String, "to_persona": pl.String, "households": pl.Int64})
    return Drift(None, 0, None, None, empty, note)


def source_key(con: duckdb.DuckDBPyConnection) -> str:
    """sha256 over the content keys of the indexed source files ('' without an index)."""
    import hashlib

    from assets.ingest.file_ledger import content_keys

    keys = content_keys(con)
    return hashlib.sha256("\n".join(keys).encode("utf-8")).hexdigest() if keys else ""


def legacy_source_key(con: duckdb.DuckDBPyConnection) -> str:
    """The source key snapshots recorded before content keys: sha256 over the distinct (folder, layout)
    pairs of the indexed files. Only used to keep comparing with such snapshots after an upgrade."""
    import hashlib

    try:
        rows = con.execute(
            f"""SELECT DISTINCT regexp_replace(source_file, '/[^/]*$', ''), coalesce(source_layout, '')
                FROM {qualified_name(SOURCE_INDEX)} ORDER BY 1, 2"""
        ).fetchall()
    except duckdb.CatalogException:
        return ""
    return hashlib.sha256("\n".join(f"{a}\x1f{b}" for a, b in rows).encode("utf-8")).hexdigest()


def _ensure_table(con: duckdb.DuckDBPyConnection) -> str:
    con.execute("CREATE SCHEMA IF NOT EXISTS model")
    table = qualified_name(HISTORY_TABLE)
    con.execute(f"CREATE TABLE IF NOT EXISTS {table} ({HISTORY_DDL})")
    con.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS source_key VARCHAR")
    con.execute(f"CREATE TABLE IF NOT EXISTS {qualified_name(SOURCES_TABLE)} (as_of_month DATE, content_key VARCHAR)")
    return table


def record(con: duckdb.DuckDBPyConnection, as_of: date, assignments: pl.DataFrame, fingerprint: str) -> int:
    """Replace the month's snapshot of assignments (idempotent per month); returns rows written."""
    from assets.ingest.file_ledger import content_keys

    table = _ensure_table(con)
    key = source_key(con)
    sources = qualified_name(SOURCES_TABLE)
    con.execute(f"DELETE FROM {sources} WHERE as_of_month = ?", [as_of])
    keys = content_keys(con)
    if keys:
        con.execute(f"INSERT INTO {sources} SELECT ?, unnest(?::VARCHAR[])", [as_of, keys])
    snapshot = assignments.select(
        pl.lit(as_of).alias("as_of_month"),
        "household_id",
        "load_shape_cluster",
        "load_shape_name",
        "persona_id",
        "persona_name",
        pl.lit(fingerprint).alias("model_fingerprint"),
        pl.lit(key).alias("source_key"),
    )
    con.execute(f"DELETE FROM {table} WHERE as_of_month = ?", [as_of])
    con.register("_snapshot", snapshot.to_arrow())
    try:
        con.execute(
            f"""INSERT INTO {table} (as_of_month, household_id, load_shape_cluster, load_shape_name, persona_id,
                persona_name, model_fingerprint, source_key) SELECT * FROM _snapshot"""
        )
    finally:
        con.unregister("_snapshot")
    return snapshot.height


def drift_against_previous(con: duckdb.DuckDBPyConnection, as_of: date) -> Drift:
    """Transition matrix and ARI of personas between the previous snapshot and ``as_of``'s."""
    table = qualified_name(HISTORY_TABLE)
    previous = _previous_same_source(con, as_of)
    if previous is None:
        other = con.execute(f"SELECT count(*) FROM {table} WHERE as_of_month < ?", [as_of]).fetchall()[0][0]
        if other:
            return no_history(
                "The data source changed since the earlier segmentations, so the drift history restarts here "
                "(households of different sources are never compared)."
            )
        return no_history()
    sql = load_sql(__file__, "drift_pairs").format(history=qualified_name(HISTORY_TABLE))
    pairs = con.sql(sql, params={"previous": previous, "current": as_of}).pl()
    return drift_between(pairs, previous)


def _previous_same_source(con: duckdb.DuckDBPyConnection, as_of: date) -> date | None:
    """The latest snapshot before ``as_of`` that shares a source file's content with ``as_of``'s (or,
    for snapshots recorded before content keys, the same source key: today's, or the folder key those
    snapshots used, :func:`legacy_source_key`)."""
    table, sources = qualified_name(HISTORY_TABLE), qualified_name(SOURCES_TABLE)
    legacy = legacy_source_key(con)
    schema, name = SOURCES_TABLE.split(".")
    has_sources = con.execute(
        "SELECT count(*) FROM duckdb_tables() WHERE schema_name = ? AND table_name = ?", [schema, name]
    ).fetchall()[0][0]
    if not has_sources:  # only snapshots recorded before content keys (read-only here: no table is created)
        sources = "(SELECT NULL::DATE AS as_of_month, NULL::VARCHAR AS content_key WHERE false)"
    return con.execute(
        f"""SELECT max(h.as_of_month) FROM (SELECT DISTINCT as_of_month, source_key FROM {table}) h
            WHERE h.as_of_month < $as_of AND (
                EXISTS (SELECT 1 FROM {sources} p JOIN {sources} c USING (content_key)
                        WHERE p.as_of_month = h.as_of_month AND c.as_of_month = $as_of)
                OR (NOT EXISTS (SELECT 1 FROM {sources} p WHERE p.as_of_month = h.as_of_month)
                    AND (h.source_key = $legacy OR h.source_key IS NOT DISTINCT FROM
                        (SELECT any_value(source_key) FROM {table} WHERE as_of_month = $as_of))))""",
        {"as_of": as_of, "legacy": legacy},
    ).fetchall()[0][0]


def drift_between(pairs: pl.DataFrame, previous: date | None) -> Drift:
    if pairs.height == 0:
        return Drift(previous, 0, None, None, pairs.group_by("from_persona", "to_persona").len("households"))
    transitions = (
        pairs.group_by("from_persona", "to_persona")
        .len("households")
        .with_columns(pl.col("households").cast(pl.Int64))
        .sort("from_persona", "to_persona")
    )
    from sklearn.metrics import adjusted_rand_score  # lazy: scikit-learn is slow to import

    ari = float(adjusted_rand_score(pairs["from_persona"].to_list(), pairs["to_persona"].to_list()))
    changed = float((pairs["from_persona"] != pairs["to_persona"]).mean())
    return Drift(previous, pairs.height, ari, changed, transitions)


def drift_sentence(drift: Drift) -> str:
    """One plain sentence on persona drift (the report and the asset metadata share it)."""
    if drift.previous_month is None:
        return drift.note or "First segmentation: nothing to compare with yet."
    if drift.transitions.height == 0:
        return f"No household in common with the segmentation of {drift.previous_month}."
    return (
        f"Since {drift.previous_month}: {drift.households_compared} households compared, "
        f"adjusted Rand index {drift.adjusted_rand_index:.3f}, {drift.share_changed:.1%} changed persona."
    )


def transition_matrix(drift: Drift) -> pl.DataFrame:
    """Households per (previous persona, current persona): one row per previous persona, one column
    per current persona, the first column ``from \\ to`` naming the previous persona."""
    wide = drift.transitions.pivot(on="to_persona", index="from_persona", values="households").fill_null(0)
    return wide.rename({"from_persona": "from \\ to"})


def suppressed_transition_matrix(drift: Drift, k: int) -> pl.DataFrame:
    """The transition matrix as text, cells of 1 to k-1 households reading "< k" (small-cell rule)."""
    wide = transition_matrix(drift)
    return wide.with_columns(
        pl.when((pl.col(c) > 0) & (pl.col(c) < k)).then(pl.lit(f"< {k}")).otherwise(pl.col(c).cast(pl.String)).alias(c)
        for c in wide.columns[1:]
    )


def transition_matrix_markdown(drift: Drift, k: int = 5) -> str:
    if drift.previous_month is None or drift.transitions.height == 0:
        return f"_{drift_sentence(drift)}_"
    return drift_sentence(drift) + "\n\n" + markdown_table(suppressed_transition_matrix(drift, k))
