"""Generate a synthetic LCL-shaped source folder with planted ground truth.

Layout written under ``out_dir``::

    readings/block_000.csv ...        London Datastore 6-column layout, no header, CRLF
    readings/kaggle/<LCLid>.csv       ~10 % of households, Kaggle layout, header, LF
    households/informations_households.csv
    tariffs/Tariffs.csv               2013 schedule, day-first local labels of half-hour starts
    ground_truth/households.csv       archetype, tariff group, Acorn, responder, true effects (High, Low,
                                      preload, rebound), latent responsiveness of every household and
                                      its lifestyle + Acorn part (response_signal), ToU selection weight,
                                      common trial-year trend and ToU-only trend (group_trend_pct), true
                                      winter weekday 16:00-20:00 load (true_peak_load_kw) and true
                                      deliverable kW there (true_deliverable_kw = -latent High effect x it)
    ground_truth/weather.csv          local date, temperature, its anomaly, the common load factor
    ground_truth/settings.json        the GeneratorSettings the data were generated with
    ground_truth/faults.csv           one row per planted fault with file and 1-based line

What is planted besides the data-quality faults is set by :class:`~assets.synthetic.settings.GeneratorSettings`
(``settings=``), one knob per threat of issue 21, defaults documented there and used by the built-in
data set:

=============================  =======  ===============================================================
setting                        default  plants
=============================  =======  ===============================================================
response_signal_strength       0.5      share of the latent responsiveness explained by lifestyle
                                        archetype + Acorn group (0 = random, as before issue 21)
selection_on_response          0.3      log-odds of joining ToU per sd of latent High reduction, on top
                                        of the selection on behaviour (0 = none)
group_trend_pct                0.0      ToU-only drift over the trial year (fraction; 0 = none)
weather_event_correlation      0.2      High events on cold days (correlation of event day and cold
                                        anomaly; 0 = weather-blind schedule)
=============================  =======  ===============================================================

Households are generated and written one block (``households_per_block`` households, by id) at a time,
so memory stays bounded whatever the number of households.

CLI::

    python -m assets.synthetic.generate --out DIR --households N --seed S \
        [--start 2012-01-01 --end 2014-01-01 --tou-share 0.2 --no-faults --gzip --households-per-block 50]
        [--response-signal-strength 0.5 --selection-on-response 0.3 --group-trend-pct 0
         --weather-event-correlation 0.2]
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import polars as pl

from assets.synthetic.archetypes import ARCHETYPES
from assets.synthetic.faults import (
    FAULT_COLUMNS,
    FAULT_KINDS,
    FaultRecord,
    PlannedFault,
    apply_faults,
    plan_faults,
)
from assets.synthetic.formatting import (
    KAGGLE_HEADER,
    build_lines,
    kaggle_prefix_suffix,
    lds_prefix_suffix,
    value_text,
)
from assets.synthetic.load import PEAK_REFERENCE_YEAR, TRIAL_TREND_PCT, GridFeatures, block_milli_kwh, true_peak_load_kw
from assets.synthetic.population import LAYOUT_KAGGLE, LAYOUT_LDS, sample_population
from assets.synthetic.settings import DEFAULT_SETTINGS, GeneratorSettings
from assets.synthetic.tariff_calendar import SCHEDULE_YEAR, build_schedule, event_bands_utc, tariffs_csv_frame
from assets.synthetic.timegrid import STAMP_FORMAT_KAGGLE, STAMP_FORMAT_LDS, TimeGrid
from assets.synthetic.weather import DailyWeather
from assets.synthetic.writers import CRLF, LF, write_lines, write_table

DEFAULT_START = date(2012, 1, 1)
DEFAULT_END = date(2014, 1, 1)

READINGS_DIR = "readings"
KAGGLE_DIR = "readings/kaggle"
HOUSEHOLDS_FILE = "households/informations_households.csv"
TARIFFS_FILE = "tariffs/Tariffs.csv"
GROUND_TRUTH_HOUSEHOLDS = "ground_truth/households.csv"
GROUND_TRUTH_FAULTS = "ground_truth/faults.csv"
GROUND_TRUTH_WEATHER = "ground_truth/weather.csv"
GROUND_TRUTH_SETTINGS = "ground_truth/settings.json"


@dataclass
class GenerationSummary:
    out_dir: Path
    households: int
    tou_households: int
    responders: int
    archetypes: dict[str, int]
    rows_written: int
    faults_by_kind: dict[str, int]
    files: tuple[str, ...]
    bytes_written: int
    seconds: float
    readings_files: int = field(default=0)

    @property
    def n_files(self) -> int:
        return len(self.files)

    @property
    def faults_total(self) -> int:
        return sum(self.faults_by_kind.values())

    @property
    def rows_per_second(self) -> float:
        return self.rows_written / self.seconds if self.seconds > 0 else float("nan")

    def __str__(self) -> str:
        lines = [
            f"synthetic LCL source written to {self.out_dir}",
            f"  households       {self.households} ({self.tou_households} ToU, {self.responders} responders)",
            "  archetypes       " + ", ".join(f"{k}={v}" for k, v in self.archetypes.items()),
            f"  rows written     {self.rows_written:,}",
            f"  files            {self.n_files} ({self.readings_files} readings files, "
            f"{self.bytes_written / 1e6:,.1f} MB)",
            f"  faults planted   {self.faults_total}: " + ", ".join(f"{k}={v}" for k, v in self.faults_by_kind.items()),
            f"  elapsed          {self.seconds:.1f} s ({self.rows_per_second:,.0f} rows/s)",
        ]
        return "\n".join(lines)


def _clear_old_readings(out_dir: Path) -> None:
    """Remove readings files of an earlier run so a smaller run leaves no stale blocks behind."""
    for pattern in ("block_*.csv", "block_*.csv.gz"):
        for p in (out_dir / READINGS_DIR).glob(pattern):
            p.unlink()
    for pattern in ("*.csv", "*.csv.gz"):
        for p in (out_dir / KAGGLE_DIR).glob(pattern):
            p.unlink()


def _ground_truth_frame(pop: pl.DataFrame, grid: TimeGrid, gzip: bool, peak_kw: np.ndarray) -> pl.DataFrame:
    ext = ".csv.gz" if gzip else ".csv"
    known = pl.col("acorn_written").is_in(["ACORN-U", "ACORN-"]).not_()
    first = [grid.stamp(int(k)) for k in pop["first_slot"]]
    last = [grid.stamp(int(k) - 1) for k in pop["stop_slot"]]
    return pop.select(
        "household_id",
        "archetype",
        "tariff_group",
        acorn=pl.when(known).then(pl.col("acorn_written")),
        acorn_group=pl.when(known).then(pl.col("acorn_group_written")),
        is_responder=pl.col("is_responder"),
        true_high_effect_pct=pl.col("true_high_effect_pct"),
        true_low_effect_pct=pl.col("true_low_effect_pct"),
        # extra columns (after the contract's), handy for tests of later layers
        layout=pl.col("layout"),
        source_file=pl.when(pl.col("layout") == LAYOUT_KAGGLE)
        .then(pl.concat_str([pl.lit(KAGGLE_DIR + "/"), pl.col("household_id"), pl.lit(ext)]))
        .otherwise(
            pl.concat_str([pl.lit(READINGS_DIR + "/block_"), pl.col("block").cast(pl.String).str.zfill(3), pl.lit(ext)])
        ),
        first_reading_end_utc=pl.Series(first).dt.strftime("%Y-%m-%d %H:%M:%S"),
        last_reading_end_utc=pl.Series(last).dt.strftime("%Y-%m-%d %H:%M:%S"),
        scale_kwh_per_half_hour=pl.col("scale").round(4),
        true_preload_pct=pl.col("true_preload_pct"),
        true_rebound_pct=pl.col("true_rebound_pct"),
        latent_is_responder=pl.col("latent_is_responder"),
        latent_high_effect_pct=pl.col("latent_high_effect_pct"),
        latent_low_effect_pct=pl.col("latent_low_effect_pct"),
        tou_selection_weight=pl.col("tou_selection_weight"),
        trial_trend_pct=pl.lit(TRIAL_TREND_PCT),
        group_trend_pct=pl.col("group_trend_pct"),
        response_signal=pl.col("response_signal"),
        true_peak_load_kw=pl.Series(np.round(peak_kw, 4)),
        true_deliverable_kw=pl.Series(np.round(-pop["latent_high_effect_pct"].to_numpy() * peak_kw, 4) + 0.0),
    )


def generate(
    out_dir: Path,
    households: int = 300,
    seed: int = 7,
    start: date = DEFAULT_START,
    end: date = DEFAULT_END,
    tou_share: float = 0.2,
    faults: bool = True,
    gzip: bool = False,
    households_per_block: int = 50,
    *,
    respond: bool = True,
    kaggle_share: float = 0.1,
    settings: GeneratorSettings = DEFAULT_SETTINGS,
) -> GenerationSummary:
    """Write a synthetic LCL source folder under ``out_dir`` (see module docstring).

    ``respond=False`` writes the same data without the planted price response (everything else,
    noise included, is identical), so the response can be measured against a counterfactual.
    ``settings``: what else is planted (:class:`~assets.synthetic.settings.GeneratorSettings`).
    """
    t0 = time.perf_counter()
    out_dir = Path(out_dir)
    if households_per_block < 1:
        raise ValueError("households_per_block must be >= 1")
    grid = TimeGrid(start, end)
    schedule_weather = DailyWeather.build(seed, date(SCHEDULE_YEAR, 1, 1), 365)
    schedule = build_schedule(seed, cold_z=schedule_weather.cold_z, correlation=settings.weather_event_correlation)
    bands = event_bands_utc(schedule, grid.start_utc, grid.n_slots)
    weather = DailyWeather.build(seed, grid.start, grid.n_local_days)
    features = GridFeatures.build(grid, bands, weather)
    pop = sample_population(
        households,
        seed,
        grid.n_slots,
        tou_share=tou_share,
        kaggle_share=kaggle_share,
        households_per_block=households_per_block,
        settings=settings,
    )
    reference_weather = DailyWeather.build(seed, date(PEAK_REFERENCE_YEAR, 1, 1), 366)
    peak_kw = true_peak_load_kw(pop, seed, reference_weather)
    plan: list[PlannedFault] = plan_faults(pop, bands, seed) if faults else []
    by_household: dict[int, list[PlannedFault]] = {}
    for f in plan:
        by_household.setdefault(f.household_index, []).append(f)

    out_dir.mkdir(parents=True, exist_ok=True)
    _clear_old_readings(out_dir)
    files: list[str] = []
    total_bytes = 0
    ext = ".csv.gz" if gzip else ".csv"

    total_bytes += write_table(out_dir / TARIFFS_FILE, tariffs_csv_frame(schedule))
    files.append(TARIFFS_FILE)
    info = pop.select(
        LCLid="household_id",
        stdorToU="tariff_group",
        Acorn="acorn_written",
        Acorn_grouped="acorn_group_written",
        file=pl.concat_str([pl.lit("block_"), pl.col("block").cast(pl.String)]),
    )
    total_bytes += write_table(out_dir / HOUSEHOLDS_FILE, info)
    files.append(HOUSEHOLDS_FILE)
    total_bytes += write_table(out_dir / GROUND_TRUTH_HOUSEHOLDS, _ground_truth_frame(pop, grid, gzip, peak_kw))
    files.append(GROUND_TRUTH_HOUSEHOLDS)
    total_bytes += write_table(out_dir / GROUND_TRUTH_WEATHER, weather.frame())
    files.append(GROUND_TRUTH_WEATHER)
    settings_text = json.dumps(settings.as_dict(), indent=2, sort_keys=True) + "\n"
    (out_dir / GROUND_TRUTH_SETTINGS).write_text(settings_text)
    total_bytes += len(settings_text)
    files.append(GROUND_TRUTH_SETTINGS)

    stamps = {
        LAYOUT_LDS: grid.stamp_text(STAMP_FORMAT_LDS),
        LAYOUT_KAGGLE: grid.stamp_text(STAMP_FORMAT_KAGGLE),
    }
    records: dict[int, FaultRecord] = {}
    rows_written = 0
    readings_files = 0

    for block in range(int(pop["block"].max()) + 1):
        sub = pop.filter(pl.col("block") == block)
        if sub.height == 0:
            continue
        milli, variant = block_milli_kwh(sub, features, seed, respond=respond)
        block_frames: list[pl.DataFrame] = []
        for i, row in enumerate(sub.iter_rows(named=True)):
            a, z = int(row["first_slot"]), int(row["stop_slot"])
            layout = row["layout"]
            if layout == LAYOUT_LDS:
                prefix, suffix = lds_prefix_suffix(
                    row["household_id"], row["tariff_group"], row["acorn_written"], row["acorn_group_written"]
                )
            else:
                prefix, suffix = kaggle_prefix_suffix(row["household_id"])
            ts = stamps[layout].slice(a, z - a)
            lines = build_lines(prefix, ts, value_text(milli[i, a:z], variant[i, a:z]), suffix)
            hh_faults = by_household.get(int(row["index"]), [])
            if hh_faults:
                frame, recs = apply_faults(
                    lines=lines,
                    ts=ts,
                    milli=milli[i],
                    first_slot=a,
                    faults=hh_faults,
                    household_id=row["household_id"],
                    layout=layout,
                    prefix=prefix,
                    suffix=suffix,
                    grid=grid,
                )
                records.update({r.fault_id: r for r in recs})
            else:
                frame = pl.DataFrame(
                    {"line": lines, "fault_id": pl.repeat(None, lines.len(), dtype=pl.Int32, eager=True)}
                )
            if layout == LAYOUT_KAGGLE:
                rel = f"{KAGGLE_DIR}/{row['household_id']}{ext}"
                header = pl.DataFrame(
                    {"line": [KAGGLE_HEADER], "fault_id": [None]},
                    schema={"line": pl.String, "fault_id": pl.Int32},
                )
                full = pl.concat([header, frame])
                total_bytes += write_lines(out_dir / rel, full, LF, gzip)
                _locate_faults(full, rel, records)
                rows_written += frame.height
                files.append(rel)
                readings_files += 1
            else:
                block_frames.append(frame)
        if block_frames:
            rel = f"{READINGS_DIR}/block_{block:03d}{ext}"
            full = pl.concat(block_frames)
            total_bytes += write_lines(out_dir / rel, full, CRLF, gzip)
            _locate_faults(full, rel, records)
            rows_written += full.height
            files.append(rel)
            readings_files += 1
        del milli, variant, block_frames

    fault_frame = pl.DataFrame(
        [
            {
                "kind": r.kind,
                "household_id": r.household_id,
                "source_file": r.source_file,
                "source_line": r.source_line,
                "reading_ts_text": r.reading_ts_text,
                "detail": r.detail,
            }
            for r in records.values()
        ],
        schema={c: (pl.Int64 if c == "source_line" else pl.String) for c in FAULT_COLUMNS},
    ).sort("source_file", "source_line")
    total_bytes += write_table(out_dir / GROUND_TRUTH_FAULTS, fault_frame)
    files.append(GROUND_TRUTH_FAULTS)

    kinds = Counter(r.kind for r in records.values())
    arche = Counter(pop["archetype"].to_list())
    return GenerationSummary(
        out_dir=out_dir,
        households=pop.height,
        tou_households=int((pop["tariff_group"] == "ToU").sum()),
        responders=int(pop["is_responder"].sum()),
        archetypes={a: arche.get(a, 0) for a in ARCHETYPES},
        rows_written=rows_written,
        faults_by_kind={k: kinds.get(k, 0) for k in FAULT_KINDS},
        files=tuple(sorted(files)),
        bytes_written=total_bytes,
        seconds=time.perf_counter() - t0,
        readings_files=readings_files,
    )


def _locate_faults(frame: pl.DataFrame, rel: str, records: dict[int, FaultRecord]) -> None:
    marked = frame.with_row_index("i").filter(pl.col("fault_id").is_not_null())
    for i, fid in zip(marked["i"].to_list(), marked["fault_id"].to_list(), strict=True):
        records[fid].source_file = rel
        records[fid].source_line = int(i) + 1


def _parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m assets.synthetic.generate", description=__doc__.split("\n")[0])
    p.add_argument("--out", type=Path, required=True, help="output folder")
    p.add_argument("--households", type=int, default=300)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--start", type=date.fromisoformat, default=DEFAULT_START, help="first UTC day (YYYY-MM-DD)")
    p.add_argument("--end", type=date.fromisoformat, default=DEFAULT_END, help="day after the last (exclusive)")
    p.add_argument("--tou-share", type=float, default=0.2)
    p.add_argument("--households-per-block", type=int, default=50)
    p.add_argument("--no-faults", action="store_true", help="do not plant data-quality faults")
    p.add_argument("--no-response", action="store_true", help="do not plant the price response")
    p.add_argument("--gzip", action="store_true", help="write readings as .csv.gz")
    d = DEFAULT_SETTINGS
    p.add_argument("--response-signal-strength", type=float, default=d.response_signal_strength)
    p.add_argument("--selection-on-response", type=float, default=d.selection_on_response)
    p.add_argument("--group-trend-pct", type=float, default=d.group_trend_pct, help="fraction, e.g. -0.05")
    p.add_argument("--weather-event-correlation", type=float, default=d.weather_event_correlation)
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> GenerationSummary:
    args = _parse_args(argv)
    summary = generate(
        args.out,
        households=args.households,
        seed=args.seed,
        start=args.start,
        end=args.end,
        tou_share=args.tou_share,
        faults=not args.no_faults,
        gzip=args.gzip,
        households_per_block=args.households_per_block,
        respond=not args.no_response,
        settings=GeneratorSettings(
            response_signal_strength=args.response_signal_strength,
            selection_on_response=args.selection_on_response,
            group_trend_pct=args.group_trend_pct,
            weather_event_correlation=args.weather_event_correlation,
        ),
    )
    print(summary)
    return summary


if __name__ == "__main__":
    main()


__all__ = ["GenerationSummary", "generate", "main"]
