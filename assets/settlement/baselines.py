"""Per (schedule, event, household): what was delivered and the baseline of every method
(``settlement.event_settlement``). The formulas (L = the event's half hours, A = the household's actual kWh
of a window on the event day, C / D = its mean over the CAISO / DFS days with that window complete):

    caiso                 C_event
    caiso_adjusted        C_event x clip(A_caiso_adjust / C_caiso_adjust, 1 - cap, 1 + cap)
    caiso_adjusted_clear  the same with the clear_adjust window (ends preload_hours before the start)
    dfs                   D_event
    dfs_adjusted          D_event + L x (A_preload - D_preload) / L_preload    (additive, per half hour)
    dfs_adjusted_clear    the same with the clear_adjust window
    towt                  towt.py
    control_group         C_event + mean over the control households j (j != i) of (A_event,j - C_event,j)

A method's baseline is empty with fewer than ``min_baseline_days`` complete days (for the adjusted ones
also in the adjustment window: then no adjustment can be computed, and the row says nothing rather than
falling back). The heavy part (means over days, the regression's sums) runs in SQL over
``settlement.event_day_windows``; only per (household, event) rows come back to polars.
"""

from __future__ import annotations

import duckdb
import polars as pl

from assets.common.sql import qualified_name
from assets.features.duck import fetch, scratch, table_exists
from assets.features.settings import FeatureSettings
from assets.settlement.calendar import Calendar
from assets.settlement.day_windows import statement
from assets.settlement.schemas.tables import SETTLEMENT_COLS, WINDOWS_TABLE
from assets.settlement.settings import FEATURE_SETTINGS, METHODS, SettlementSettings
from assets.settlement.towt import towt_predictions

KEYS = ["household_id", "schedule", "event_id"]
EVENT_ROWS_TABLE = "features.treatment_event_responses"
TREATMENT_TABLE = "features.treatment_features"
PRIMARY_METHOD = {"baseline_year_did": "baseline", "within_window_did": "within"}


def read_window_means(con, calendar: Calendar) -> tuple[pl.DataFrame, pl.DataFrame]:
    """(per household x event x use x role: mean kWh and days, the regression's per-weekday sums)."""
    towt_days = (
        calendar.selection.filter(pl.col("use") == "towt")
        .join(calendar.events.select("schedule", "event_id", "target_date"), on=["schedule", "event_id"], how="inner")
        .join(calendar.days.select("local_date", "weekday"), on="local_date", how="inner")
        .select(
            "schedule",
            "event_id",
            "local_date",
            "weekday",
            t_weeks=(pl.col("local_date") - pl.col("target_date")).dt.total_days().cast(pl.Float64) / 7.0,
        )
    )
    with scratch(con) as s:
        sel = s.frame("settle_selection", calendar.selection.filter(pl.col("use") != "towt"))
        tow = s.frame("settle_towt_days", towt_days)
        means = fetch(con, statement("window_means", windows=WINDOWS_TABLE, selection=sel))
        sums = fetch(con, statement("towt_sums", windows=WINDOWS_TABLE, selection=tow))
    return means, sums


def _wide(means: pl.DataFrame) -> pl.DataFrame:
    """One row per (household, schedule, event): kwh and days per use x role (columns '<use>_<role>',
    '<use>_<role>_days')."""
    if means.height == 0:
        return pl.DataFrame(schema={"household_id": pl.String, "schedule": pl.String, "event_id": pl.Int32})
    frame = means.with_columns(name=pl.col("use") + "_" + pl.col("role"))
    kwh = frame.pivot("name", index=KEYS, values="kwh")
    days = frame.with_columns(name=pl.col("name") + "_days").pivot("name", index=KEYS, values="n_days")
    return kwh.join(days, on=KEYS, how="full", coalesce=True)


def _col(frame: pl.DataFrame, name: str, dtype=pl.Float64) -> pl.Expr:
    return pl.col(name) if name in frame.columns else pl.lit(None, dtype=dtype)


def settle(
    means: pl.DataFrame,
    sums: pl.DataFrame,
    calendar: Calendar,
    households: pl.DataFrame,
    settings: SettlementSettings,
    fs: FeatureSettings = FEATURE_SETTINGS,
) -> pl.DataFrame:
    """The event_settlement rows (without personas and the product's DiD) from the SQL results."""
    wide = _wide(means)
    offsets = settings.role_offsets(0)
    pre_len = offsets["preload"][1] - offsets["preload"][0]
    clear_len = offsets["clear_adjust"][1] - offsets["clear_adjust"][0]
    enough = settings.min_baseline_days

    def mean(use: str, role: str) -> pl.Expr:
        days = _col(wide, f"{use}_{role}_days", pl.Int32).fill_null(0)
        return pl.when(days >= enough).then(_col(wide, f"{use}_{role}"))

    actual = {role: _col(wide, f"target_{role}") for role in offsets}
    cap = settings.caiso_adjustment_cap
    length = pl.col("event_half_hours").cast(pl.Float64)

    def ratio(role: str) -> pl.Expr:
        base = mean("caiso", role)
        return pl.when(base > 0).then(actual[role] / base)

    frame = (
        wide.join(calendar.events, on=["schedule", "event_id"], how="inner")
        .with_columns(
            actual_kwh=actual["event"],
            baseline_caiso_kwh=mean("caiso", "event"),
            baseline_caiso_adjusted_kwh=mean("caiso", "event") * ratio("caiso_adjust").clip(1 - cap, 1 + cap),
            baseline_caiso_adjusted_clear_kwh=mean("caiso", "event") * ratio("clear_adjust").clip(1 - cap, 1 + cap),
            baseline_dfs_kwh=mean("dfs", "event"),
            baseline_dfs_adjusted_kwh=mean("dfs", "event")
            + length * (actual["preload"] - mean("dfs", "preload")) / pre_len,
            baseline_dfs_adjusted_clear_kwh=mean("dfs", "event")
            + length * (actual["clear_adjust"] - mean("dfs", "clear_adjust")) / clear_len,
            caiso_days=_col(wide, "caiso_event_days", pl.Int32).fill_null(0),
            dfs_days=_col(wide, "dfs_event_days", pl.Int32).fill_null(0),
            caiso_adjustment_ratio=ratio("caiso_adjust"),
            preload_excess_kwh=actual["preload"] - mean("caiso", "preload"),
            snapback_kwh=actual["snapback"] - mean("caiso", "snapback"),
        )
        .filter(pl.col("actual_kwh").is_not_null())
    )
    frame = frame.join(towt_predictions(sums, calendar.events, settings), on=KEYS, how="left").with_columns(
        baseline_towt_kwh=pl.col("towt_kwh"), towt_days=pl.col("towt_days").fill_null(0)
    )
    groups = households.select("household_id", "tariff_group")
    frame = frame.join(groups, on="household_id", how="inner")
    frame = _control_group(frame, fs)
    hours = length / 2.0
    return frame.with_columns(
        mean_kw=pl.col("actual_kwh") / hours,
        persona_id=pl.lit(None, pl.String),
        persona_name=pl.lit(None, pl.String),
        product_reduction_kwh=pl.lit(None, pl.Float64),
    )


def _control_group(frame: pl.DataFrame, fs: FeatureSettings) -> pl.DataFrame:
    """baseline_control_group_kwh and snapback_control_kwh: the control households' mean change in the same
    event (leave-one-out for a control household), added to the household's own 10-in-10 baseline."""
    is_control = pl.col("tariff_group") == fs.control_group
    change = pl.col("actual_kwh") - pl.col("baseline_caiso_kwh")
    snap = pl.col("snapback_kwh")
    by = ["schedule", "event_id"]
    frame = frame.with_columns(
        _c=pl.when(is_control & change.is_not_null()).then(change),
        _s=pl.when(is_control & snap.is_not_null()).then(snap),
    ).with_columns(
        _cs=pl.col("_c").sum().over(by),
        _cn=pl.col("_c").count().over(by),
        _ss=pl.col("_s").sum().over(by),
        _sn=pl.col("_s").count().over(by),
    )
    own_c = pl.col("_c").is_not_null().cast(pl.Int64)
    own_s = pl.col("_s").is_not_null().cast(pl.Int64)
    ctrl_change = (pl.col("_cs") - pl.col("_c").fill_null(0)) / (pl.col("_cn") - own_c)
    ctrl_snap = (pl.col("_ss") - pl.col("_s").fill_null(0)) / (pl.col("_sn") - own_s)
    return frame.with_columns(
        baseline_control_group_kwh=pl.when((pl.col("_cn") - own_c) > 0).then(
            pl.col("baseline_caiso_kwh") + ctrl_change
        ),
        snapback_control_kwh=pl.when((pl.col("_sn") - own_s) > 0).then(snap - ctrl_snap),
    ).drop("_c", "_s", "_cs", "_cn", "_ss", "_sn")


def with_personas(frame: pl.DataFrame, personas: pl.DataFrame | None) -> pl.DataFrame:
    """``personas``: (household_id, persona_id, persona_name) of the segmentation (None: not segmented)."""
    if personas is None or personas.height == 0:
        return frame
    return frame.drop("persona_id", "persona_name").join(
        personas.select("household_id", pl.col("persona_id").cast(pl.String), pl.col("persona_name").cast(pl.String)),
        on="household_id",
        how="left",
    )


def with_product_did(frame: pl.DataFrame, rows: pl.DataFrame | None) -> pl.DataFrame:
    """``rows``: (household_id, event_id, did_kwh) of the product's event DiD at the household's primary method."""
    if rows is None or rows.height == 0:
        return frame
    did = rows.select("household_id", pl.col("event_id").cast(pl.Int32), "did_kwh", schedule=pl.lit("tariff"))
    return (
        frame.drop("product_reduction_kwh")
        .join(did, on=["household_id", "schedule", "event_id"], how="left")
        .with_columns(product_reduction_kwh=-pl.col("did_kwh") * pl.col("event_half_hours").cast(pl.Float64))
        .drop("did_kwh")
    )


def read_personas(con) -> pl.DataFrame | None:
    if not table_exists(con, "model.segment_assignments"):
        return None
    return fetch(con, "SELECT household_id, persona_id, persona_name FROM model.segment_assignments")


def read_product_did(con) -> pl.DataFrame | None:
    """The product's event DiD rows (kind 'event') at each household's primary method."""
    if not (table_exists(con, EVENT_ROWS_TABLE) and table_exists(con, TREATMENT_TABLE)):
        return None
    rows = fetch(
        con,
        f"SELECT r.household_id, r.event_id, r.method, r.did_kwh FROM {qualified_name(EVENT_ROWS_TABLE)} r "
        "WHERE r.kind = 'event'",
    )
    primary = fetch(con, f"SELECT household_id, response_method FROM {qualified_name(TREATMENT_TABLE)}").select(
        "household_id", method=pl.col("response_method").replace_strict(PRIMARY_METHOD, default=None)
    )
    return rows.join(primary.drop_nulls(), on=["household_id", "method"], how="inner").drop("method")


def read_households(con, fs: FeatureSettings = FEATURE_SETTINGS) -> pl.DataFrame:
    return fetch(con, f"SELECT household_id, tariff_group FROM {qualified_name(fs.households_table)}")


def compute_event_settlement(
    con: duckdb.DuckDBPyConnection,
    calendar: Calendar,
    settings: SettlementSettings,
    fs: FeatureSettings = FEATURE_SETTINGS,
) -> pl.DataFrame:
    """``settlement.event_settlement`` (conformed to its schema, not validated) from the warehouse."""
    from assets.common.column_spec import conform

    if not table_exists(con, WINDOWS_TABLE) or calendar.events.height == 0:
        return pl.DataFrame(schema={c.name: c.dtype for c in SETTLEMENT_COLS})
    means, sums = read_window_means(con, calendar)
    frame = settle(means, sums, calendar, read_households(con, fs), settings, fs)
    frame = with_product_did(with_personas(frame, read_personas(con)), read_product_did(con))
    return conform(frame, SETTLEMENT_COLS).sort("schedule", "event_id", "household_id")


def long_settlements(frame: pl.DataFrame, methods: tuple[str, ...] = METHODS) -> pl.DataFrame:
    """One row per (schedule, event, household, method) with a baseline: ``baseline_kwh``, ``reduction_kwh``
    (baseline - actual)."""
    keep = [
        "schedule",
        "event_id",
        "household_id",
        "tariff_group",
        "persona_id",
        "persona_name",
        "season",
        "event_start_utc",
        "event_half_hours",
        "actual_kwh",
        "snapback_control_kwh",
    ]
    parts = [frame.select(*keep, method=pl.lit(m), baseline_kwh=pl.col(f"baseline_{m}_kwh")) for m in methods]
    out = pl.concat(parts).drop_nulls("baseline_kwh")
    # rounded to 1e-9 kWh like the windows (sql/day_windows.sql): a baseline that equals the actual use
    # but was summed in another order differs in the last bits, and a reduction of +1e-16 would be paid
    return out.with_columns(reduction_kwh=(pl.col("baseline_kwh") - pl.col("actual_kwh")).round(9))
