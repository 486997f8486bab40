"""What changed since the previous segmentation: population effect, persona sizes, the DR list.

The persona report of month M is compared with the report of the previous segmentation of the same
data source (the month persona drift compares with: ``segmentation_history.drift_against_previous``).
Each report run keeps a snapshot of what it showed, keyed by its as-of month, so the next month has
something to compare with:

* ``reports.population_effect_history``: the population effect of the dynamic tariff on High events
  with its 95 % interval and its household count;
* ``reports.dr_list_history``: the DR list (households selected by the kW ranking, by their report
  reference) with each one's expected kW reduction.

Persona sizes come from ``model.segment_assignment_history`` (written by ``segment_assignments``).

Everything shown is k-suppressed (``assets/reports/privacy.py``): a row describing 1 to k-1 households
(a persona of that size in either month, a handful of households entering or leaving the DR list, an
effect over fewer than k households) keeps its label and loses every number, including the kW.

The pure logic (:func:`compare`) takes frames; :func:`record_snapshot` and :func:`read_previous` are
the warehouse side.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl

from assets.common.sql import qualified_name
from assets.reports.privacy import suppress_small_groups

EFFECT_TABLE = "reports.population_effect_history"
DR_LIST_TABLE = "reports.dr_list_history"
ASSIGNMENT_HISTORY = "model.segment_assignment_history"

EFFECT_SCHEMA = {
    "effect_pct": pl.Float64,
    "ci_low_pct": pl.Float64,
    "ci_high_pct": pl.Float64,
    "n_households": pl.Int64,
}
DR_SCHEMA = {"household_ref": pl.String, "expected_kw": pl.Float64}
PERSONA_SCHEMA = {"persona_name": pl.String, "n_households": pl.Int64}

# One CSV row per comparison; numbers are blank where suppressed.
CSV_SCHEMA = {
    "section": pl.String,  # population_effect | persona_size | dr_list
    "item": pl.String,
    "previous": pl.Float64,
    "current": pl.Float64,
    "change": pl.Float64,
    "previous_ci_low": pl.Float64,
    "previous_ci_high": pl.Float64,
    "current_ci_low": pl.Float64,
    "current_ci_high": pl.Float64,
    "households": pl.Int64,  # households the row describes (the effect: this month's; DR rows: who moved)
    "kw": pl.Float64,  # DR rows: expected kW reduction that moved with them
}


@dataclass(frozen=True)
class Snapshot:
    """What one report showed: the population effect (one row or none), the DR list, persona sizes."""

    effect: pl.DataFrame  # EFFECT_SCHEMA, 0 or 1 row
    dr_list: pl.DataFrame  # DR_SCHEMA
    personas: pl.DataFrame  # PERSONA_SCHEMA


@dataclass(frozen=True)
class MonthOverMonth:
    current_month: date
    previous_month: date | None
    rows: pl.DataFrame  # CSV_SCHEMA plus "suppressed"
    sentence: str
    k: int

    def csv(self) -> pl.DataFrame:
        return self.rows.select(
            pl.lit(self.previous_month, dtype=pl.Date).alias("previous_month"),
            pl.lit(self.current_month, dtype=pl.Date).alias("current_month"),
            pl.all(),
        )


def empty_snapshot() -> Snapshot:
    return Snapshot(
        pl.DataFrame(schema=EFFECT_SCHEMA), pl.DataFrame(schema=DR_SCHEMA), pl.DataFrame(schema=PERSONA_SCHEMA)
    )


def _suppress(records: list[dict], counts: list[list[int]], k: int) -> pl.DataFrame:
    """The rows, with the numbers of every row whose smallest non-zero household count (either month)
    is below k blanked (``suppressed`` set)."""
    smallest = [min((c for c in row if c), default=None) for row in counts]
    schema = {**CSV_SCHEMA, "_n": pl.Int64}
    data = [{**dict.fromkeys(CSV_SCHEMA), **r, "_n": n} for r, n in zip(records, smallest, strict=True)]
    rows = pl.DataFrame(data, schema=schema) if data else pl.DataFrame(schema=schema)
    return suppress_small_groups(rows, "_n", k, keep_columns=("section", "item")).drop("_n")


def compare(current: Snapshot, previous: Snapshot | None, k: int) -> pl.DataFrame:
    """The comparison rows (CSV_SCHEMA + ``suppressed``); ``previous`` None: nothing to compare with
    (the rows then show this month only)."""
    prev = previous or empty_snapshot()
    records: list[dict] = []
    counts: list[list[int]] = []

    # population effect (percent), both intervals
    e_now = current.effect.row(0, named=True) if current.effect.height else None
    e_prev = prev.effect.row(0, named=True) if prev.effect.height else None
    if e_now or e_prev:
        pct = lambda row, col: None if row is None or row[col] is None else 100 * row[col]  # noqa: E731
        now_v, prev_v = pct(e_now, "effect_pct"), pct(e_prev, "effect_pct")
        records.append(
            {
                "section": "population_effect",
                "item": "effect of the dynamic tariff on High-price events (%)",
                "previous": prev_v,
                "current": now_v,
                "change": None if now_v is None or prev_v is None else now_v - prev_v,
                "previous_ci_low": pct(e_prev, "ci_low_pct"),
                "previous_ci_high": pct(e_prev, "ci_high_pct"),
                "current_ci_low": pct(e_now, "ci_low_pct"),
                "current_ci_high": pct(e_now, "ci_high_pct"),
                "households": None if e_now is None else e_now["n_households"],
                "kw": None,
            }
        )
        counts.append([r["n_households"] for r in (e_now, e_prev) if r is not None])

    # persona sizes
    sizes = (
        current.personas.rename({"n_households": "current"})
        .join(prev.personas.rename({"n_households": "previous"}), on="persona_name", how="full", coalesce=True)
        .with_columns(pl.col("current", "previous").fill_null(0))
        .sort("persona_name")
    )
    for row in sizes.iter_rows(named=True):
        records.append(
            {
                "section": "persona_size",
                "item": row["persona_name"],
                "previous": float(row["previous"]) if previous is not None else None,
                "current": float(row["current"]),
                "change": float(row["current"] - row["previous"]) if previous is not None else None,
                "households": row["current"],
            }
        )
        counts.append([row["current"], row["previous"]] if previous is not None else [row["current"]])

    # DR list: who entered, who left (with the kW that moved), who stayed
    if previous is not None:
        now_list = current.dr_list.rename({"expected_kw": "kw_now"})
        prev_list = prev.dr_list.rename({"expected_kw": "kw_prev"})
        both = now_list.join(prev_list, on="household_ref", how="full", coalesce=True)
        entered = both.filter(pl.col("kw_prev").is_null() & pl.col("kw_now").is_not_null())
        left = both.filter(pl.col("kw_now").is_null() & pl.col("kw_prev").is_not_null())
        stayed = both.filter(pl.col("kw_now").is_not_null() & pl.col("kw_prev").is_not_null())
        for item, frame, kw in (
            ("entered the DR list (their expected kW now)", entered, "kw_now"),
            ("left the DR list (their expected kW before)", left, "kw_prev"),
            ("stayed on the DR list (change in their expected kW)", stayed, None),
        ):
            moved = (
                (float(frame[kw].sum()) if kw else float((frame["kw_now"] - frame["kw_prev"]).sum()))
                if frame.height
                else 0.0
            )
            records.append(
                {
                    "section": "dr_list",
                    "item": item,
                    "previous": None,
                    "current": None,
                    "change": None,
                    "households": frame.height,
                    "kw": moved,
                }
            )
            counts.append([frame.height])
        records.append(
            {
                "section": "dr_list",
                "item": "households on the DR list / total expected kW",
                "previous": float(prev_list["kw_prev"].sum()),
                "current": float(now_list["kw_now"].sum()),
                "change": float(now_list["kw_now"].sum() - prev_list["kw_prev"].sum()),
                "households": now_list.height,
                "kw": None,
            }
        )
        counts.append([now_list.height, prev_list.height])
    return _suppress(records, counts, k)


def sentence(previous_month: date | None, current_month: date, note: str | None = None) -> str:
    if previous_month is None:
        return note or (
            "No earlier segmentation of this data source to compare with: the figures below are "
            f"{current_month:%Y-%m}'s."
        )
    return f"Compared with the segmentation as of {previous_month:%Y-%m} (this one: {current_month:%Y-%m})."


# --- the warehouse side -----------------------------------------------------------------------------


def _ensure(con) -> None:
    con.execute("CREATE SCHEMA IF NOT EXISTS reports")
    con.execute(
        f"""CREATE TABLE IF NOT EXISTS {qualified_name(EFFECT_TABLE)} (as_of_month DATE, effect_pct DOUBLE,
              ci_low_pct DOUBLE, ci_high_pct DOUBLE, n_households BIGINT)"""
    )
    con.execute(
        f"CREATE TABLE IF NOT EXISTS {qualified_name(DR_LIST_TABLE)} "
        "(as_of_month DATE, household_ref VARCHAR, expected_kw DOUBLE)"
    )


def snapshot_of(effect, dr_targets: pl.DataFrame, assignments: pl.DataFrame) -> Snapshot:
    """This report's snapshot: ``effect`` a ``data_confidence.Effect`` (or None), the stored DR targets
    (``household_ref``, ``expected_kw_reduction``, ``selected_by_ranking``) and the assignments."""
    eff = (
        pl.DataFrame(
            [[effect.effect_pct, effect.ci_low_pct, effect.ci_high_pct, effect.n_households]],
            schema=EFFECT_SCHEMA,
            orient="row",
        )
        if effect is not None
        else pl.DataFrame(schema=EFFECT_SCHEMA)
    )
    dr = dr_targets.filter(pl.col("selected_by_ranking")).select(
        pl.col("household_ref").cast(pl.String), pl.col("expected_kw_reduction").cast(pl.Float64).alias("expected_kw")
    )
    personas = (
        assignments.group_by("persona_name").len("n_households").with_columns(pl.col("n_households").cast(pl.Int64))
    )
    return Snapshot(eff, dr, personas.select("persona_name", "n_households"))


def record_snapshot(con, as_of: date, snapshot: Snapshot) -> None:
    """Replace ``as_of``'s snapshot (idempotent per month)."""
    _ensure(con)
    for table, frame in ((EFFECT_TABLE, snapshot.effect), (DR_LIST_TABLE, snapshot.dr_list)):
        con.execute(f"DELETE FROM {qualified_name(table)} WHERE as_of_month = ?", [as_of])
        if frame.height:
            con.register("_mom_snapshot", frame.to_arrow())
            try:
                con.execute(f"INSERT INTO {qualified_name(table)} SELECT ?::DATE, * FROM _mom_snapshot", [as_of])
            finally:
                con.unregister("_mom_snapshot")


def read_snapshot(con, as_of: date) -> Snapshot | None:
    """``as_of``'s snapshot, or None if its report never recorded one."""
    _ensure(con)
    effect = con.sql(
        f"""SELECT effect_pct, ci_low_pct, ci_high_pct, n_households FROM {qualified_name(EFFECT_TABLE)}
            WHERE as_of_month = $m""",
        params={"m": as_of},
    ).pl()
    dr = con.sql(
        f"SELECT household_ref, expected_kw FROM {qualified_name(DR_LIST_TABLE)} WHERE as_of_month = $m",
        params={"m": as_of},
    ).pl()
    recorded = con.execute(
        f"""SELECT (SELECT count(*) FROM {qualified_name(EFFECT_TABLE)} WHERE as_of_month = $m)
                 + (SELECT count(*) FROM {qualified_name(DR_LIST_TABLE)} WHERE as_of_month = $m)""",
        {"m": as_of},
    ).fetchall()[0][0]
    personas = con.sql(
        f"""SELECT persona_name, count(*)::BIGINT AS n_households FROM {qualified_name(ASSIGNMENT_HISTORY)}
            WHERE as_of_month = $m GROUP BY 1""",
        params={"m": as_of},
    ).pl()
    if not recorded and not personas.height:
        return None
    return Snapshot(effect.cast(EFFECT_SCHEMA), dr.cast(DR_SCHEMA), personas.cast(PERSONA_SCHEMA))


def record_and_compare(
    con, as_of: date, previous_month: date | None, snapshot: Snapshot, k: int, note: str | None = None
) -> MonthOverMonth:
    """Record this month's snapshot, compare it with ``previous_month``'s (drift's previous month)."""
    record_snapshot(con, as_of, snapshot)
    previous = read_snapshot(con, previous_month) if previous_month is not None else None
    why = note
    if previous_month is not None and previous is None:
        why, previous_month = (
            f"The segmentation as of {previous_month:%Y-%m} recorded no report snapshot to compare with.",
            None,
        )
    return MonthOverMonth(
        as_of, previous_month, compare(snapshot, previous, k), sentence(previous_month, as_of, why), k
    )


# --- presentation -----------------------------------------------------------------------------------


def _num(v, digits: int = 1, sign: bool = False) -> str:
    if v is None:
        return "–"
    return f"{v:+.{digits}f}" if sign else f"{v:.{digits}f}"


def _effect_text(r: dict, which: str) -> str:
    if r[which] is None:
        return "–"
    low, high = (_num(r[f"{which}_ci_{end}"], sign=True) for end in ("low", "high"))
    return f"{_num(r[which], sign=True)}% ({low} to {high})"


def display_table(mom: MonthOverMonth) -> pl.DataFrame:
    """The comparison as text for the report (suppressed rows read "fewer than k households")."""
    hidden = f"suppressed (fewer than {mom.k} households)"
    out = []
    for r in mom.rows.iter_rows(named=True):
        if r["suppressed"]:
            out.append((r["section"].replace("_", " "), r["item"], hidden, "", "", ""))
            continue
        if r["section"] == "population_effect":
            prev, now = _effect_text(r, "previous"), _effect_text(r, "current")
            out.append(
                (
                    "population effect",
                    r["item"],
                    prev,
                    now,
                    _num(r["change"], sign=True),
                    f"{r['households']:,}" if r["households"] is not None else "–",
                )
            )
        elif r["section"] == "persona_size":
            out.append(
                (
                    "persona size",
                    r["item"],
                    _num(r["previous"], 0),
                    _num(r["current"], 0),
                    _num(r["change"], 0, sign=True),
                    "",
                )
            )
        elif r["kw"] is not None:
            out.append(("DR list", r["item"], "", "", f"{_num(r['kw'], 2, sign=True)} kW", f"{r['households']:,}"))
        else:
            out.append(
                (
                    "DR list",
                    r["item"],
                    f"{_num(r['previous'], 2)} kW",
                    f"{_num(r['current'], 2)} kW",
                    f"{_num(r['change'], 2, sign=True)} kW",
                    f"{r['households']:,}",
                )
            )
    return (
        pl.DataFrame(out, schema=["what", "item", "previous", "this month", "change", "households"], orient="row")
        if out
        else pl.DataFrame(
            schema={c: pl.String for c in ["what", "item", "previous", "this month", "change", "households"]}
        )
    )


def markdown(mom: MonthOverMonth | None) -> str:
    from assets.common.markdown import markdown_table

    if mom is None:
        return "_No month-over-month comparison for this report._"
    table = display_table(mom)
    return mom.sentence + ("\n\n" + markdown_table(table) if table.height else "")
