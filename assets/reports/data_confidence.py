"""The report's "Data and confidence" block: what the report was built from and how sure it is.

* source: the folder of raw files, or SYNTHETIC data (the built-in data set, or a folder written by the
  generator): then the report carries a banner;
* months covered and a data fingerprint (sha256 over the indexed source files: name, size, rows), so
  two reports can be told apart when their data differ;
* the household funnel: in the files -> with enough data (features) -> segmented -> on the dynamic
  tariff (ToU) -> measured (a price response estimated) -> responders (significant reduction);
* the population High-event effect with its interval;
* the checks that can fail (``check_lines``, from features.response_checks): the pseudo-treatment placebo
  (the null 95 % range of the pooled effect with the treated estimate placed in it, the share of draws
  with any flag, the CI's real coverage), the baseline-year placebo with its n and the paired
  adjacent-day sensitivity, each with its verdict; the null distribution is plotted
  (plots.plot_placebo_null);
* the effect the DR list sizes (estimand.py: evening High events on winter weekdays) beside the all-event and the
  all-season evening effects, each with its interval; when the sized one is not distinguishable from 0 the
  report says so at the top (``top_warnings``);
* the breakdown of features.tariff_response_summary (time of day, season, rebound, pre-loading, the cross-fitted
  responders, the reference-day sensitivity) as a table with intervals;
* how the counts reconcile: the population effect's households, the funnel's measured households and the
  responders (one definition: BH-flagged over all High events with a reduction), with the flags whose own
  interval covers 0;
* what the data could not support (``data_gaps``: no schedule, no dynamic-tariff or control households,
  no pre-period), each with what was done instead;
* warnings when the readings look stamped in UK local time instead of UTC (``assets.ingest.clock_check``)
  and when the segmentation is weak (low silhouette / unstable / outlier groups).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

from assets.common.sql import load_sql
from assets.ingest.clock_check import check_clock, clock_sentence
from assets.ingest.raw_ingest import RAW_TABLE
from assets.reports.data_gaps import data_gaps, read_data_shape, response_gap

# Silhouette below this on the chosen load-shape K: weak structure (household profiles form a
# continuum; ~0.13 is published for LCL at K=3). Above 0.5 on real profiles: suspicious (Domain notes §2).
WEAK_SILHOUETTE = 0.25
SUSPICIOUS_SILHOUETTE = 0.5


@dataclass(frozen=True)
class Effect:
    effect_pct: float
    ci_low_pct: float
    ci_high_pct: float
    n_households: int
    n_events: int

    def sentence(self) -> str:
        return (
            f"{100 * self.effect_pct:+.1f}% (95% CI {100 * self.ci_low_pct:+.1f}% to {100 * self.ci_high_pct:+.1f}%; "
            f"{self.n_households:,} households, {self.n_events:,} High events)"
        )


@dataclass(frozen=True)
class DataConfidence:
    source: str
    synthetic: bool
    first_month: str | None
    last_month: str | None
    fingerprint: str
    funnel: dict[str, int]
    effect: Effect | None
    warnings: list[str] = field(default_factory=list)
    gaps: list[str] = field(default_factory=list)  # what could not be computed, and why
    no_response_reason: str | None = None  # why no population effect exists, when none does
    checks: list[dict] = field(default_factory=list)  # features.response_checks rows (check_lines)
    month_ranges: list[tuple[str, str]] = field(default_factory=list)  # loaded months, contiguous runs (YYYY-MM)
    placebo_null: dict[str, list[float]] = field(default_factory=dict)  # band -> pooled effect of each draw
    estimands: list = field(default_factory=list)  # estimand.EstimandEffect: all events, evening, winter weekday
    breakdown: list[dict] = field(default_factory=list)  # rows of response_breakdown.sql
    counts: dict[str, int] = field(default_factory=dict)  # responder_counts.sql


FUNNEL_LABELS = {
    "in_files": "in the files",
    "with_enough_data": "with enough data",
    "segmented": "segmented",
    "on_tariff": "of them on the dynamic tariff (ToU)",
    "measured": "price response measured (on the dynamic tariff)",
    "responders": "significant responders (BH-flagged over all High events, segmented)",
}


def month_ranges(months: list) -> list[tuple[str, str]]:
    """Loaded months (dates) as contiguous runs of calendar months, ``(first, last)`` as ``YYYY-MM``."""
    from assets.common.months import next_month

    runs: list[list] = []
    for month in sorted(set(months)):
        if runs and next_month(runs[-1][1]) == month:
            runs[-1][1] = month
        else:
            runs.append([month, month])
    return [(f"{a:%Y-%m}", f"{b:%Y-%m}") for a, b in runs]


def months_text(data: DataConfidence) -> str:
    """The loaded months for the report: "2011-12 to 2014-02, 2026-10" (each run of consecutive months)."""
    if data.month_ranges:
        return ", ".join(a if a == b else f"{a} to {b}" for a, b in data.month_ranges)
    return f"{data.first_month} to {data.last_month}" if data.first_month else "unknown"


def source_fingerprint(con) -> str:
    """sha256 over the content of the indexed source files (their sha256, ``assets/ingest/file_ledger.py``;
    name, size and rows for a file not hashed yet), sorted: moving a file to another folder keeps it;
    '' without an index. ``con``: the warehouse, or with METER_ENGINE=spark the lake's connection (the
    index is in the lake; it has no content hashes, so there the names count)."""
    from assets.features.duck import fetch

    index = fetch(con, "SELECT * FROM ingest.source_file_index")
    hashes = index["content_sha256"].to_list() if "content_sha256" in index.columns else [None] * index.height
    keys = sorted(
        sha if sha is not None else "\x1f".join("" if v is None else str(v) for v in (name, size, rows))
        for sha, name, size, rows in zip(
            hashes,
            index["source_file"].to_list(),
            index["size_bytes"].to_list(),
            index["line_rows"].to_list(),
            strict=True,
        )
    )
    digest = hashlib.sha256()
    for key in keys:
        digest.update(key.encode("utf-8") + b"\n")
    return digest.hexdigest() if keys else ""


def segmentation_warnings(metrics_rows: list[dict], synthetic: bool = False) -> list[str]:
    """Plain warnings on the chosen segmentations (rows of model.cluster_metrics as dicts); ``synthetic``:
    the data are generated (distinct planted archetypes make a high silhouette expected there)."""
    out = []
    for row in metrics_rows:
        if not row["chosen"]:
            continue
        what = "load-shape" if row["segmentation"] == "load_shape" else "persona"
        sil = row["silhouette"]
        if sil is not None and sil < WEAK_SILHOUETTE:
            out.append(
                f"The {what} segmentation is weak (silhouette {sil:.2f} < {WEAK_SILHOUETTE}): households form a "
                "continuum, so treat the groups as convenient summaries, not distinct types."
            )
        if sil is not None and sil > SUSPICIOUS_SILHOUETTE and synthetic:
            out.append(
                f"The {what} segmentation has a silhouette of {sil:.2f} (> {SUSPICIOUS_SILHOUETTE}): expected on "
                "synthetic data, whose planted archetypes are distinct; real household profiles form a continuum "
                "(about 0.13 on LCL), so do not expect groups this clear on real data."
            )
        elif sil is not None and sil > SUSPICIOUS_SILHOUETTE:
            out.append(
                f"The {what} segmentation has a silhouette of {sil:.2f} (> {SUSPICIOUS_SILHOUETTE}): on real "
                "household profiles this usually means outliers or a bug; check the cluster sizes."
            )
        if not row["eligible"]:
            out.append(f"No {what} candidate met the eligibility rules (size, stability); the best was used anyway.")
        ari = row["stability_ari"]
        if ari is not None and ari < 0.6:
            out.append(f"The {what} segmentation is unstable under resampling (ARI {ari:.2f}).")
        if row.get("outlier_clusters"):
            out.append(
                f"The {what} segmentation keeps {row['outlier_clusters']} small cluster(s) as an outlier group "
                "(named '(outlier group)'): too small to run a programme for."
            )
    return out


def clock_warnings(readings) -> list[str]:
    """The clock check's sentence when the raw readings look stamped in UK local time, not UTC (else
    nothing); ``readings``: where the raw readings are (the warehouse, or the lake's connection)."""
    from assets.features.duck import fetch

    sentence = clock_sentence(check_clock(lambda sql, params: fetch(readings, sql, params).rows(), RAW_TABLE))
    return [sentence] if sentence else []


def read_data_confidence(con, source: str, synthetic: bool, readings=None) -> DataConfidence:
    """The block from the warehouse (ingest, features and model tables must exist). ``readings``: where
    the funnel counts the raw readings (with METER_ENGINE=spark the lake's connection, ``duck``'s)."""
    from assets.features.duck import fetch

    cols = [*FUNNEL_LABELS, "first_month", "last_month"]
    row = dict(zip(cols, fetch(readings or con, load_sql(__file__, "household_funnel")).row(0), strict=True))
    loaded = fetch(readings or con, "SELECT DISTINCT reading_month FROM ingest.raw_readings ORDER BY 1")
    effects = {
        r[0]: Effect(float(r[1]), float(r[2]), float(r[3]), int(r[4]), int(r[5]))
        for r in con.execute(load_sql(__file__, "population_effects")).fetchall()
        if None not in r
    }
    metrics = con.sql("SELECT * FROM model.cluster_metrics").pl().to_dicts()
    shape = read_data_shape(con)
    estimands, breakdown, counts = [], [], {}
    if response_gap(shape) is None:
        estimands, breakdown, counts = read_estimands(con, effects)
    return DataConfidence(
        source=source,
        synthetic=synthetic,
        first_month=None if row["first_month"] is None else str(row["first_month"])[:7],
        last_month=None if row["last_month"] is None else str(row["last_month"])[:7],
        fingerprint=source_fingerprint(readings or con),
        month_ranges=month_ranges(loaded["reading_month"].to_list()),
        funnel={k: int(row[k] or 0) for k in FUNNEL_LABELS},  # in FUNNEL_LABELS order
        effect=effects.get("treatment"),
        warnings=[*clock_warnings(readings or con), *segmentation_warnings(metrics, synthetic)],
        gaps=data_gaps(shape),
        no_response_reason=response_gap(shape),
        checks=_rows_if_stored(con, "response_checks", "response_checks"),
        placebo_null=_null_draws(_rows_if_stored(con, "placebo_draws", "placebo_null")),
        estimands=estimands,
        breakdown=breakdown,
        counts=counts,
    )


def read_estimands(con, effects: dict[str, Effect]) -> tuple[list, list[dict], dict[str, int]]:
    """(the three effects of the DR list's estimand chain, the summary breakdown rows, the responder counts)."""
    from assets.features.settings import FeatureSettings
    from assets.reports.estimand import (
        ALL_EVENTS,
        EVENING,
        EstimandEffect,
        read_estimand_rows,
        winter_weekday_evening_effect,
    )

    fs = FeatureSettings()
    breakdown = con.sql(load_sql(__file__, "response_breakdown")).pl().to_dicts()

    def from_summary(label: str, bucket: str) -> EstimandEffect | None:
        for r in breakdown:
            if (r["analysis"], r["band"], r["window_kind"], r["start_bucket"], r["season"], r["method"]) == (
                "treatment",
                "High",
                "event",
                bucket,
                "all",
                "primary",
            ):
                return EstimandEffect(
                    label, r["effect_pct"], r["ci_low_pct"], r["ci_high_pct"], r["n_households"], r["n_events"]
                )
        return None

    rows = read_estimand_rows(con, fs.treated_group)
    chain = [from_summary(ALL_EVENTS, "all"), from_summary(EVENING, "evening"), winter_weekday_evening_effect(rows, fs)]
    found = con.sql(load_sql(__file__, "responder_counts"), params={"treated": fs.treated_group}).pl()
    counts = {k: int(v or 0) for k, v in found.row(0, named=True).items()}
    return [e for e in chain if e is not None], breakdown, counts


BREAKDOWN_LABELS = {
    "treatment": "dynamic-tariff households",
    "responders_heldout": "flagged responders, on the events that did NOT flag them (cross-fitted)",
    "responders_in_sample": "flagged responders, on the events that flagged them (in sample, inflated)",
    "sensitivity_adjacent_days": "sensitivity: reference days +-1 day from events excluded",
}
WINDOW_LABELS = {"event": "during the event", "rebound": "3 h after (rebound)", "preload": "3 h before (pre-loading)"}


def breakdown_rows(rows: list[dict]) -> list[list[str]]:
    """The breakdown table's cells: what, band, window, start, season, reference, households, events, effect
    (95% CI), interval covers 0."""
    out = []
    for r in rows:
        if r["effect_pct"] is None:
            effect, covers = "not measured", "-"
        else:
            effect = f"{100 * r['effect_pct']:+.1f}% ({100 * r['ci_low_pct']:+.1f} to {100 * r['ci_high_pct']:+.1f})"
            covers = "yes" if r["ci_low_pct"] <= 0 <= r["ci_high_pct"] else "no"
        out.append(
            [
                BREAKDOWN_LABELS.get(r["analysis"], r["analysis"]),
                r["band"],
                WINDOW_LABELS.get(r["window_kind"], r["window_kind"]),
                r["start_bucket"],
                r["season"],
                "each household's own" if r["method"] == "primary" else "within-window",
                f"{r['n_households']:,}",
                f"{r['n_events']:,}",
                effect,
                covers,
            ]
        )
    return out


BREAKDOWN_COLUMNS = [
    "households",
    "band",
    "window",
    "event start",
    "season",
    "reference method",
    "households (n)",
    "events",
    "effect, % of reference (95% CI)",
    "interval covers 0",
]


def sized_effect_warning(estimands: list) -> str | None:
    """The top-of-report sentence when the effect the DR list sizes is not distinguishable from 0."""
    from assets.reports.estimand import WINTER_WEEKDAY_EVENING

    sized = next((e for e in estimands if e.label == WINTER_WEEKDAY_EVENING), None)
    if sized is None or sized.distinguishable_from_zero:
        return None
    return (
        "The reduction the DR list sizes (evening High events on winter weekdays, the winter weekday 16:00-20:00 "
        f"peak) is NOT distinguishable from 0 on these data: {sized.sentence().split(': ')[-1]}. The measured "
        "households' kW use their all-season evening response, and the list's kW are a plan, not a measured "
        "winter-peak effect."
    )


def reconciliation_sentence(counts: dict[str, int], funnel: dict[str, int]) -> str | None:
    """How the population effect's households, the funnel and the responder counts fit together."""
    if not counts:
        return None
    c = counts
    not_seg = c["with_response"] - c["with_response_segmented"]
    return (
        f"How the counts reconcile: the population effects pool all {c['with_response']:,} dynamic-tariff "
        f"households with a measured price response; {c['with_response_segmented']:,} of them were segmented "
        f"(the funnel's {funnel.get('measured', 0):,} measured), {not_seg:,} were not (too little lifestyle data for "
        f"a persona). One responder definition is used everywhere: flagged by Benjamini-Hochberg over all High "
        f"events with a reduction. {c['flagged']:,} households are flagged, {c['flagged_segmented']:,} of them "
        f"segmented: these are the funnel's significant responders and the {c['in_responsive_persona']:,} members "
        f"of the price-responsive persona(s). {c['flagged_covering_zero']:,} of the {c['flagged_segmented']:,} have "
        "their own 95% event-bootstrap interval covering 0 (the flag is calibrated against the controls, the "
        "interval is the household's own; dr_targets.csv labels them). The DR list sizes every measured "
        "household by its evening events instead, so a flagged household can carry a small or negative kW."
    )


def _rows_if_stored(con, table: str, sql: str) -> list[dict]:
    """Rows of the report query ``sql`` over features.<table>; [] when the table was not built."""
    ((stored,),) = con.execute(
        "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'features' AND table_name = $t",
        {"t": table},
    ).fetchall()
    return con.sql(load_sql(__file__, sql)).pl().to_dicts() if stored else []


def _null_draws(rows: list[dict]) -> dict[str, list[float]]:
    out: dict[str, list[float]] = {}
    for row in rows:
        out.setdefault(row["band"], []).append(float(row["effect_pct"]))
    return out


def _pct(v: float) -> str:
    return f"{100 * v:+.1f}%"


def _placement(row: dict) -> str:
    """Where the treated estimate falls in the draws' null distribution, in words."""
    q, n = row["estimate_percentile"], row["n_draws"]
    if q is None:
        return ""
    if q == 0.0:
        where = f"below all {n:,} draws"
    elif q == 1.0:
        where = f"above all {n:,} draws"
    else:
        where = f"above {100 * q:.1f}% of the draws"
    return (
        f"; the measured effect of the dynamic-tariff households ({_pct(row['estimate_pct'])}) lies {where} "
        f"(two-sided permutation p = {row['permutation_p_value']:.3f})"
    )


def check_lines(checks: list[dict]) -> list[str]:
    """One sentence per check and band (features.response_checks), with its verdict. The old
    leave-one-out control row is gone: it was an identity (its mean is 0 and BH flags none by
    construction), never a check."""
    out = []
    for r in checks:
        band = f"{r['band']}-price events"
        if r["check"] == "pseudo_treatment_placebo":
            if r["verdict"] == "not run":
                out.append(f"Pseudo-treatment placebo ({band}) not run: {r['reason']}.")
                continue
            flags = (
                ""
                if r["share_draws_any_flagged"] is None
                else f" Benjamini-Hochberg flags any pseudo-treated household in "
                f"{100 * r['share_draws_any_flagged']:.1f}% of draws (at most about the FDR level when calibrated)."
            )
            out.append(
                f"Placebo that can fail ({band}): {r['n_draws']:,} random groups of {r['n_households']:,} controls "
                f"(of {r['n_controls']:,}) were scored as if treated against the remaining controls with the same "
                f"estimator. Their pooled effect's 95% range is {_pct(r['low_pct'])} to {_pct(r['high_pct'])}"
                f"{_placement(r)}.{flags} The 95% CI covers the true zero in {100 * r['ci_coverage']:.1f}% of draws "
                f"(its real coverage; nominal 95%). Verdict: {r['verdict']} ({r['reason']})."
            )
        elif r["check"] == "baseline_year_placebo":
            if r["verdict"] == "not run":
                out.append(f"Baseline-year placebo ({band}) not run: {r['reason']}.")
                continue
            out.append(
                f"Baseline-year placebo ({band}; the trial schedule moved onto the baseline year, "
                f"n = {r['n_households']:,} dynamic-tariff households with baseline-year readings): "
                f"{_pct(r['estimate_pct'])} (95% CI {_pct(r['low_pct'])} to {_pct(r['high_pct'])}). "
                f"Verdict: {r['verdict']} ({r['reason']})."
            )
        else:
            if r["verdict"] == "not run":
                out.append(f"Adjacent-day sensitivity ({band}) not run: {r['reason']}.")
                continue
            out.append(
                f"Adjacent-day sensitivity ({band}; reference days next to events left out): main minus "
                f"sensitivity estimate {100 * r['estimate_pct']:+.1f} points (95% paired bootstrap interval "
                f"{100 * r['low_pct']:+.1f} to {100 * r['high_pct']:+.1f}). Verdict: {r['verdict']}."
            )
    return out


def block(data: DataConfidence | None) -> dict:
    """Plain data for the template (and the Markdown summary)."""
    if data is None:
        return {
            "synthetic": False,
            "lines": ["The data source of this report was not recorded."],
            "funnel": [],
            "warnings": [],
            "gaps": [],
            "checks": [],
            "top_warnings": [],
            "breakdown": None,
        }
    months = months_text(data)
    lines = [
        f"Source: SYNTHETIC data, not real households ({data.source})."
        if data.synthetic
        else f"Source: {data.source}.",
        f"Months covered: {months}. Data fingerprint (sha256 of the source files): {data.fingerprint[:16] or 'n/a'}.",
    ]
    if data.effect is not None:
        lines.append(
            "Population effect of the dynamic tariff on High-price events (measured ToU households against "
            f"controls): {data.effect.sentence()}."
        )
    else:
        lines.append(
            "No population effect of the dynamic tariff could be measured"
            + (" (see 'What could not be computed')." if data.no_response_reason else ".")
        )
    from assets.reports.estimand import ALL_EVENTS

    for e in data.estimands:
        if e.label != ALL_EVENTS or data.effect is None:  # the all-event effect is the line above
            lines.append(f"Population effect, {e.sentence()}.")
    reconcile = reconciliation_sentence(data.counts, data.funnel)
    if reconcile:
        lines.append(reconcile)
    top = sized_effect_warning(data.estimands)
    return {
        "synthetic": data.synthetic,
        "lines": lines,
        "funnel": [(FUNNEL_LABELS[k], f"{v:,}") for k, v in data.funnel.items()],
        "warnings": data.warnings,
        "gaps": data.gaps,
        "checks": check_lines(data.checks),
        "top_warnings": [top] if top else [],
        "breakdown": {"columns": BREAKDOWN_COLUMNS, "rows": breakdown_rows(data.breakdown)} if data.breakdown else None,
    }
