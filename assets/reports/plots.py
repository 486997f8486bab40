"""Report figures as PNG bytes (matplotlib, Agg backend, no pyplot global state).

Every function returns the bytes of one PNG. Groups smaller than ``k`` households are never drawn
individually: their member lines, boxes and bars are left out (k-anonymity of the report).

matplotlib is imported only when a figure is drawn (``_figure``), so that loading the code
location does not pay for it. Figures are plain ``matplotlib.figure.Figure`` objects rendered by
the Agg canvas: no pyplot, no global backend switch, safe in headless worker processes.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import polars as pl

from assets.model.settings import SHAPE_COLUMNS

if TYPE_CHECKING:
    from matplotlib.figure import Figure

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
HOURS = np.arange(48) / 2.0
COLOURS = [
    "#1f77b4",
    "#d62728",
    "#2ca02c",
    "#ff7f0e",
    "#9467bd",
    "#8c564b",
    "#e377c2",
    "#17becf",
    "#bcbd22",
    "#7f7f7f",
]


def _figure(width: float, height: float) -> Figure:
    """A new constrained-layout figure on the Agg canvas (matplotlib imported here, lazily)."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    FigureCanvasAgg(fig)
    return fig


def _png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100, bbox_inches="tight")
    return buf.getvalue()


def _hour_axis(ax) -> None:
    ax.set_xlim(0, 23.5)
    ax.set_xticks(range(0, 25, 4))
    ax.set_xlabel("hour of day (UK local, start of half hour)")
    ax.axvspan(16, 20, color="#fde0dd", alpha=0.5, lw=0)


def plot_load_shape_clusters(
    features: pl.DataFrame,
    assignments: pl.DataFrame,
    cluster_column: str = "load_shape_cluster",
    name_column: str = "load_shape_name",
    k: int = 5,
    max_lines: int = 150,
    seed: int = 0,
) -> bytes:
    """One panel per load-shape cluster: members' profiles (thin grey) and the centroid (thick).

    Profiles are the shape-normalised daily profiles (1 = the household's mean half hour).
    Clusters with fewer than ``k`` households show only their centroid.
    """
    frame = features.select("household_id", *SHAPE_COLUMNS).join(
        assignments.select("household_id", cluster_column, name_column), on="household_id", how="inner"
    )
    clusters = sorted(frame[cluster_column].unique().to_list())
    n = len(clusters)
    cols = min(n, 3)
    rows = int(np.ceil(n / cols))
    fig = _figure(4.6 * cols, 3.4 * rows)
    rng = np.random.default_rng(seed)
    ymax = 0.0
    axes = []
    for i, c in enumerate(clusters):
        ax = fig.add_subplot(rows, cols, i + 1)
        axes.append(ax)
        part = frame.filter(pl.col(cluster_column) == c)
        x = part.select(SHAPE_COLUMNS).to_numpy().astype(float)
        x = x / x.mean(axis=1, keepdims=True)
        centroid = x.mean(axis=0)
        if part.height >= k:
            from matplotlib.collections import LineCollection

            idx = rng.choice(part.height, size=min(max_lines, part.height), replace=False)
            members = [np.column_stack([HOURS, row]) for row in x[np.sort(idx)]]
            ax.add_collection(LineCollection(members, colors="0.6", linewidths=0.4, alpha=0.35))  # one artist
            ymax = max(ymax, float(np.quantile(x, 0.99)))
        ax.plot(HOURS, centroid, color=COLOURS[i % len(COLOURS)], lw=2.6, label="centroid")
        ymax = max(ymax, float(centroid.max()))
        size = f"{part.height} households" if part.height >= k else f"< {k} households"
        ax.set_title(f"{c}: {part[name_column][0]}\n({size})", fontsize=9)
        _hour_axis(ax)
        ax.set_ylabel("load / household mean")
    for ax in axes:
        ax.set_ylim(0, ymax * 1.05 if ymax > 0 else 1)
    fig.suptitle("Load-shape clusters: members (grey) and centroid; shaded = 16:00-20:00 peak", fontsize=11)
    return _png(fig)


def plot_k_sweep(sweep: pl.DataFrame, chosen_k: int, textbook_k: int = 3, title: str = "Load-shape K-means") -> bytes:
    """Elbow (inertia), silhouette and, if the sweep has it, gap-statistic curves over K (the gap with its
    +- s(K) bars: the chosen-K rule's own curve), chosen and textbook K marked on every panel."""
    s = sweep.sort("k")
    ks = s["k"].to_numpy()
    has_gap = "gap" in s.columns and s["gap"].null_count() < s.height
    panels = 3 if has_gap else 2
    fig = _figure(5 * panels, 3.6)
    ax1 = fig.add_subplot(1, panels, 1)
    ax1.plot(ks, s["inertia"].to_numpy(), "o-", color=COLOURS[0])
    ax1.set_xlabel("K")
    ax1.set_ylabel("inertia (within-cluster SS)")
    ax1.set_title("Elbow curve")
    ax2 = fig.add_subplot(1, panels, 2)
    ax2.plot(ks, s["silhouette"].fill_null(np.nan).to_numpy(), "o-", color=COLOURS[1])
    ax2.set_xlabel("K")
    ax2.set_ylabel("silhouette")
    ax2.set_title("Silhouette")
    axes = [ax1, ax2]
    if has_gap:
        ax3 = fig.add_subplot(1, panels, 3)
        ax3.errorbar(
            ks,
            s["gap"].fill_null(np.nan).to_numpy(),
            yerr=s["gap_se"].fill_null(np.nan).to_numpy(),
            fmt="o-",
            color=COLOURS[2],
            capsize=3,
        )
        ax3.set_xlabel("K")
        ax3.set_ylabel("Gap(K) +- s(K)")
        ax3.set_title("Gap statistic (chooses K)")
        axes.append(ax3)
    for ax in axes:
        ax.axvline(chosen_k, color="k", ls="--", lw=1, label=f"chosen K={chosen_k}")
        if textbook_k != chosen_k:
            ax.axvline(textbook_k, color="0.5", ls=":", lw=1, label=f"textbook K={textbook_k}")
        ax.set_xticks(ks)
        ax.legend(fontsize=8)
    fig.suptitle(title, fontsize=11)
    return _png(fig)


def plot_persona_pca(assignments: pl.DataFrame, k: int = 5) -> bytes:
    """Households on the first two principal components of the lifestyle features.

    Colour = lifestyle segment, marker = persona within it (circle: base persona, triangle: its
    price-responsive split). Personas with fewer than ``k`` households are drawn in light grey.
    """
    counts = assignments.group_by("persona_name").len()
    big = set(counts.filter(pl.col("len") >= k)["persona_name"].to_list())
    fig = _figure(7.5, 5.5)
    ax = fig.add_subplot(1, 1, 1)
    small = assignments.filter(~pl.col("persona_name").is_in(list(big)))
    if small.height:
        ax.scatter(small["pca_1"], small["pca_2"], s=8, color="0.85", label=f"groups < {k} (suppressed)")
    segments = sorted(assignments["segment"].unique().to_list())
    for seg in segments:
        colour = COLOURS[seg % len(COLOURS)]
        part_seg = assignments.filter((pl.col("segment") == seg) & pl.col("persona_name").is_in(list(big)))
        for responsive, marker in ((False, "o"), (True, "^")):
            part = part_seg.filter(pl.col("is_price_responsive_persona") == responsive)
            if part.height:
                ax.scatter(
                    part["pca_1"],
                    part["pca_2"],
                    s=14 if responsive else 9,
                    alpha=0.75,
                    color=colour,
                    marker=marker,
                    edgecolors="k" if responsive else "none",
                    linewidths=0.4,
                    label=part["persona_name"][0],
                )
    ax.set_xlabel("principal component 1")
    ax.set_ylabel("principal component 2")
    ax.set_title("Personas on the first two principal components of the lifestyle features", fontsize=10)
    ax.legend(fontsize=7, loc="best", markerscale=1.5)
    return _png(fig)


def plot_responsiveness(
    response_by_household: pl.DataFrame, persona_order: Sequence[str] | None = None, k: int = 5
) -> bytes:
    """Box plot of measured (shrunk) High-period reductions per persona, persona prior as a marker.

    ``response_by_household``: persona_name, response_measured, high_reduction_shrunk_pct,
    expected_reduction_pct. Personas with fewer than ``k`` measured households show no box.
    """
    names = list(persona_order) if persona_order else sorted(response_by_household["persona_name"].unique().to_list())
    fig = _figure(max(6.0, 1.2 * len(names) + 2), 4.6)
    ax = fig.add_subplot(1, 1, 1)
    data, positions, priors = [], [], []
    for i, name in enumerate(names):
        part = response_by_household.filter(pl.col("persona_name") == name)
        measured = part.filter(pl.col("response_measured"))["high_reduction_shrunk_pct"].drop_nulls().to_numpy()
        if measured.size >= k:
            data.append(measured)
            positions.append(i)
        unmeasured = part.filter(~pl.col("response_measured"))["expected_reduction_pct"].drop_nulls()
        priors.append(float(unmeasured.mean()) if unmeasured.len() >= k else np.nan)
    if data:
        ax.boxplot(data, positions=positions, widths=0.5, showfliers=False)
    ax.scatter(
        range(len(names)),
        priors,
        marker="D",
        color=COLOURS[3],
        zorder=3,
        label="prior used for unmeasured members",
    )
    ax.axhline(0, color="0.5", lw=0.8)
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=25, ha="right", fontsize=8)
    ax.set_xlim(-0.6, len(names) - 0.4)
    ax.set_ylabel("reduction in High-price periods (%)")
    ax.set_title(f"Price responsiveness per persona (boxes: measured households, only where >= {k})", fontsize=10)
    ax.legend(fontsize=8)
    return _png(fig)


ACORN_ORDER = ("Affluent", "Comfortable", "Adversity")


def plot_acorn_composition(
    assignments: pl.DataFrame,
    features: pl.DataFrame,
    column: str = "acorn_group",
    k: int = 5,
    persona_order: Sequence[str] | None = None,
) -> bytes:
    """Stacked bars: share of each Acorn group within each persona.

    Personas with fewer than ``k`` households are omitted; within a persona, levels with fewer than
    ``k`` households are merged into one grey 'fewer than k' block (cell suppression).
    """
    frame = assignments.select("household_id", "persona_name").join(
        features.select("household_id", pl.col(column).cast(pl.String).fill_null("unknown")),
        on="household_id",
    )
    counts = frame.group_by("persona_name", column).len()
    sizes = frame.group_by("persona_name").len().filter(pl.col("len") >= k)
    big = set(sizes["persona_name"].to_list())
    names = [n for n in (persona_order or sorted(big)) if n in big]
    present = set(frame[column].unique().to_list())
    levels = [lv for lv in ACORN_ORDER if lv in present]
    levels += sorted(present - set(ACORN_ORDER) - {"unknown"}) + (["unknown"] if "unknown" in present else [])
    merged = f"fewer than {k} (merged)"
    fig = _figure(max(6.0, 1.1 * len(names) + 3), 4.6)
    ax = fig.add_subplot(1, 1, 1)
    table = np.zeros((len(levels) + 1, len(names)))
    for j, name in enumerate(names):
        part = counts.filter(pl.col("persona_name") == name)
        total = float(part["len"].sum())
        for lv, c in zip(part[column].to_list(), part["len"].to_list(), strict=True):
            row = levels.index(lv) if c >= k else len(levels)
            table[row, j] += c / total
    bottom = np.zeros(len(names))
    for i, label in enumerate([*levels, merged]):
        if not table[i].any():
            continue
        colour = "0.75" if label == merged else COLOURS[i % len(COLOURS)]
        ax.bar(range(len(names)), table[i], bottom=bottom, color=colour, label=label)
        bottom += table[i]
    ax.set_xticks(range(len(names)))
    ax.set_xticklabels(names, rotation=25, ha="right", fontsize=8)
    ax.set_ylim(0, 1)
    ax.set_ylabel("share of persona")
    ax.set_title(f"Acorn composition per persona (groups with < {k} households omitted or merged)", fontsize=10)
    ax.legend(fontsize=8, bbox_to_anchor=(1.01, 1), loc="upper left")
    return _png(fig)


def _kw_line_with_band(ax, hours, rows: pl.DataFrame, colour, label: str, alpha: float, style: str = "-") -> None:
    """A mean-kW line (``mean_kw``) with its 95 % band (``ci_low_kw`` .. ``ci_high_kw``; gaps where None)."""
    ax.plot(hours, rows["mean_kw"].to_numpy(), style, lw=2, color=colour, label=label)
    ax.fill_between(
        hours,
        rows["ci_low_kw"].fill_null(np.nan).to_numpy(),
        rows["ci_high_kw"].fill_null(np.nan).to_numpy(),
        color=colour,
        alpha=alpha,
        lw=0,
    )


def plot_persona_profiles(personas: pl.DataFrame, k: int = 5, kw_lines: pl.DataFrame | None = None) -> bytes:
    """Every persona with >= k households: the normalised centroid profile (left) and the measured mean
    kW per local half hour of its members on normal days with its 95 % interval over households (right;
    ``kw_lines``: reports.profiles lines, ``all_members_normal_days``). Suppressed lines are not drawn."""
    cols = [f"centroid_s{i:02d}" for i in range(48)]
    fig = _figure(13, 4.4)
    ax = fig.add_subplot(1, 2, 1)
    ax_kw = fig.add_subplot(1, 2, 2)
    lines = (
        kw_lines.filter((pl.col("line") == "all_members_normal_days") & ~pl.col("suppressed"))
        if kw_lines is not None
        else None
    )
    drawn_kw = False
    for i, row in enumerate(personas.filter(pl.col("n_households") >= k).iter_rows(named=True)):
        style = "--" if row["is_price_responsive"] else "-"
        colour = COLOURS[i % len(COLOURS)]
        ax.plot(HOURS, [row[c] for c in cols], style, lw=2, color=colour, label=row["persona_name"])
        part = lines.filter(pl.col("persona_name") == row["persona_name"]).sort("slot") if lines is not None else None
        if part is None or part.height == 0:
            continue
        hours = part["slot"].to_numpy() / 2.0
        n = int(part["n_households"].max())
        _kw_line_with_band(ax_kw, hours, part, colour, f"{row['persona_name']} ({n})", alpha=0.15, style=style)
        drawn_kw = True
    _hour_axis(ax)
    _hour_axis(ax_kw)
    ax.set_ylabel("load / household mean")
    ax_kw.set_ylabel("kW per household")
    ax.set_title("Typical day of each persona, normalised (dashed: price-responsive)", fontsize=10)
    if drawn_kw:
        ax_kw.set_title("Measured kW on normal days (no High/Low half hour), band: 95% CI", fontsize=10)
        ax_kw.legend(fontsize=7, bbox_to_anchor=(1.01, 1), loc="upper left", title="persona (households)")
    else:
        ax_kw.set_title("kW profiles: not available for this report", fontsize=10)
    return _png(fig)


def plot_event_day_overlay(kw_lines: pl.DataFrame, high_share: pl.DataFrame, k: int = 5) -> bytes:
    """Per persona with >= k measured ToU households: mean kW on High-event days (a High half hour, no Low
    half hour) vs normal days of the same months and day types (top, 95 % bands over households; grey bars:
    share of the event days priced High at that half hour), and the paired difference with its 95 % band
    beside the same difference of the control households of the persona's lifestyle segment (bottom).

    Personas whose overlay lines describe fewer than ``k`` households are left out (listed in the title).
    """
    overlay = kw_lines.filter(
        pl.col("line").is_in(["high_event_days", "normal_days", "difference", "control_difference"])
    )
    names = overlay["persona_name"].unique(maintain_order=True).to_list()
    measured = overlay.filter((pl.col("line") != "control_difference") & ~pl.col("suppressed"))
    shown = [n for n in names if measured.filter(pl.col("persona_name") == n).height]  # the controls alone: no overlay
    hidden = [n for n in names if n not in shown]
    cols = max(1, min(len(shown), 3))
    rows = max(1, -(-len(shown) // cols))
    fig = _figure(max(5.2 * cols, 6.0), 6.0 * rows)
    grid = fig.add_gridspec(2 * rows, cols, height_ratios=(2.2, 1.0) * rows)
    if not shown:
        ax = fig.add_subplot(grid[:, 0])
        ax.axis("off")
        ax.text(
            0.5,
            0.5,
            f"No persona has {k} or more measured ToU households\nwith High-event and normal days.",
            ha="center",
            va="center",
            fontsize=10,
        )
    share = high_share.sort("slot")
    for i, name in enumerate(shown):
        part = overlay.filter(pl.col("persona_name") == name)
        row, j = divmod(i, cols)
        ax = fig.add_subplot(grid[2 * row, j])
        ax_diff = fig.add_subplot(grid[2 * row + 1, j], sharex=ax)
        if share.height:
            bars = ax.twinx()
            bars.bar(
                share["slot"].to_numpy() / 2.0 + 0.25, share["high_share"].to_numpy(), width=0.5, color="0.85", zorder=0
            )
            bars.set_ylim(0, 4)  # bars stay in the lower quarter
            bars.set_yticks([0, 0.5, 1])
            bars.set_ylabel("share of event days High", fontsize=7, color="0.45")
            bars.tick_params(labelsize=6, colors="0.45")
            ax.set_zorder(bars.get_zorder() + 1)
            ax.patch.set_visible(False)
        for line, colour, label in (
            ("normal_days", COLOURS[0], "normal days"),
            ("high_event_days", COLOURS[1], "High-event days"),
        ):
            rows = part.filter((pl.col("line") == line) & ~pl.col("suppressed")).sort("slot")
            if rows.height == 0:
                continue
            hours = rows["slot"].to_numpy() / 2.0
            n_days = int(rows["n_days"].max() or 0)
            _kw_line_with_band(ax, hours, rows, colour, f"{label} ({n_days} days)", alpha=0.18)
        for line, colour, label in (
            ("difference", "k", "ToU households"),
            ("control_difference", COLOURS[2], "controls of the segment, same schedule"),
        ):
            diff = part.filter((pl.col("line") == line) & ~pl.col("suppressed")).sort("slot")
            if diff.height == 0:
                continue
            hours = diff["slot"].to_numpy() / 2.0
            n = int(diff["n_households"].max() or 0)
            ax_diff.plot(hours, diff["mean_kw"].to_numpy(), color=colour, lw=1.6, label=f"{label} ({n})")
            ax_diff.fill_between(
                hours,
                diff["ci_low_kw"].fill_null(np.nan).to_numpy(),
                diff["ci_high_kw"].fill_null(np.nan).to_numpy(),
                color=colour,
                alpha=0.15,
                lw=0,
            )
        ax_diff.axhline(0, color="0.5", lw=0.8)
        if ax_diff.get_legend_handles_labels()[0]:
            ax_diff.legend(fontsize=6, loc="lower left")
        n = int(part["n_households"].max() or 0)
        ax.set_title(f"{name}\n({n} measured ToU households)", fontsize=9)
        ax.set_ylabel("kW per household")
        ax.legend(fontsize=7, loc="upper left")
        ax.tick_params(labelbottom=False)
        _hour_axis(ax_diff)
        ax_diff.set_ylabel("event - normal (kW)", fontsize=8)
        ax.set_xlim(0, 23.5)
        ax.axvspan(16, 20, color="#fde0dd", alpha=0.5, lw=0)
    title = (
        "High-event days (no Low half hour) vs normal days, measured ToU households, with the controls' "
        "difference (bands: 95% CI over households)"
    )
    if hidden:
        title += f"\nnot shown (fewer than {k} measured ToU households): " + ", ".join(hidden)
    fig.suptitle(title, fontsize=10)
    return _png(fig)


def plot_capture_curve(curve: pl.DataFrame, title: str = "Capture curve, out of sample") -> bytes:
    """Cumulative realised kW against the number of households targeted, one line per rule, with its 95 %
    band where the curve has one (cumulative_kw_ci_low / _high); the x label says what it was measured on
    (``measured_on``). The caller draws no chart for an empty curve (this one would have empty axes)."""
    if curve.height == 0:
        raise ValueError("empty capture curve: report the missing comparison in words instead")
    fig = _figure(6.4, 4.0)
    ax = fig.add_subplot(1, 1, 1)
    for i, (rule, part) in enumerate(sorted(curve.partition_by("rule", as_dict=True).items())):
        part = part.sort("n_targeted")
        x = part["n_targeted"].to_numpy()
        ax.plot(x, part["cumulative_kw"].to_numpy(), "o-", ms=3, color=COLOURS[i], label=rule[0])
        if "cumulative_kw_ci_low" in part.columns and part["cumulative_kw_ci_low"].null_count() < part.height:
            ax.fill_between(
                x,
                part["cumulative_kw_ci_low"].fill_null(np.nan).to_numpy(),
                part["cumulative_kw_ci_high"].fill_null(np.nan).to_numpy(),
                color=COLOURS[i],
                alpha=0.15,
                lw=0,
            )
    ax.axhline(0, color="0.5", lw=0.8)
    measured_on = str(curve["measured_on"][0]) if "measured_on" in curve.columns else "held-out, measured"
    ax.set_xlabel("households targeted\n(" + textwrap.fill(measured_on, 90) + ")", fontsize=8)
    ax.set_ylabel("cumulative realised kW at 16:00-20:00")
    ax.set_title(title, fontsize=10)
    ax.legend(fontsize=8)
    return _png(fig)


def plot_placebo_null(
    null: dict[str, Sequence[float]], estimates: dict[str, float | None], level: float = 0.95
) -> bytes:
    """One panel per band: histogram of the pseudo-treatment placebo's pooled effects (random control
    groups scored as if treated), its central ``level`` range shaded, 0 dotted and the measured
    dynamic-tariff estimate marked (red line; an arrow at the edge when it lies off the axis)."""
    bands = [b for b in ("High", "Low") if null.get(b)]
    fig = _figure(5.2 * max(1, len(bands)), 3.4)
    axes = fig.subplots(1, max(1, len(bands)), squeeze=False)[0]
    for ax, band in zip(axes, bands, strict=False):
        x = 100 * np.asarray(null[band], dtype=float)
        lo, hi = np.quantile(x, [(1 - level) / 2, 1 - (1 - level) / 2])
        ax.hist(x, bins=30, color="#9ecae1", edgecolor="white")
        ax.axvspan(lo, hi, color="#c6dbef", alpha=0.4, lw=0, label=f"null {100 * level:.0f}% range")
        ax.axvline(0, color="#555", ls=":", lw=1)
        est = estimates.get(band)
        if est is not None:
            e = 100 * est
            ax.axvline(e, color="#d62728", lw=2, label=f"measured ToU effect {e:+.1f}%")
            left, right = min(x.min(), e), max(x.max(), e)
            pad = 0.08 * (right - left or 1.0)
            ax.set_xlim(left - pad, right + pad)
        ax.set_title(f"{band}-price events: {x.size} pseudo-treated control groups", fontsize=10)
        ax.set_xlabel("pooled effect of the group (% of its reference load)")
        ax.set_ylabel("draws")
        ax.legend(fontsize=8, loc="upper right")
    if not bands:
        axes[0].text(0.5, 0.5, "no placebo draws", ha="center", va="center")
        axes[0].set_axis_off()
    return _png(fig)
