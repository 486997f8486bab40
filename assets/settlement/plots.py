"""Settlement figures as PNG bytes (matplotlib Agg canvas, no pyplot; the reports stage's helpers)."""

from __future__ import annotations

import numpy as np
import polars as pl

from assets.reports.plots import _figure, _png


def plot_calibration(calibration: pl.DataFrame) -> bytes:
    """Expected (the list's rule, one half of the evening events) vs delivered (the other half) kW per bin,
    both with intervals, against the diagonal."""
    fig = _figure(5.5, 5.0)
    ax = fig.add_subplot()
    bins = calibration.filter(pl.col("group") == "bin").drop_nulls(["expected_kw", "delivered_kw"])
    if bins.height:
        x, y = bins["expected_kw"].to_numpy(), bins["delivered_kw"].to_numpy()
        xerr = np.abs(
            np.vstack(
                [
                    x - bins["expected_ci_low_kw"].fill_null(np.nan).to_numpy(),
                    bins["expected_ci_high_kw"].fill_null(np.nan).to_numpy() - x,
                ]
            )
        )
        yerr = np.abs(
            np.vstack(
                [
                    y - bins["delivered_ci_low_kw"].fill_null(np.nan).to_numpy(),
                    bins["delivered_ci_high_kw"].fill_null(np.nan).to_numpy() - y,
                ]
            )
        )
        ax.errorbar(x, y, xerr=xerr, yerr=yerr, fmt="o", color="#1f77b4", capsize=3, label="bins of households")
        for b, xi, yi, n in zip(bins["bin"], x, y, bins["n_households"], strict=True):
            ax.annotate(f"bin {b} (n={n})", (xi, yi), textcoords="offset points", xytext=(5, 5), fontsize=8)
        lo = float(np.nanmin([0, *x, *y, *(bins["delivered_ci_low_kw"].drop_nulls().to_list())]))
        hi = float(np.nanmax([0.01, *x, *y, *(bins["delivered_ci_high_kw"].drop_nulls().to_list())]))
        ax.plot([lo, hi], [lo, hi], color="grey", lw=1, ls="--", label="delivered = expected")
        ax.legend(fontsize=8)
    else:
        ax.text(
            0.5,
            0.5,
            "no held-out calibration (no measured household\nwith evening events in both halves)",
            ha="center",
            va="center",
            transform=ax.transAxes,
        )
    ax.axhline(0, color="black", lw=0.5)
    ax.set_xlabel("expected kW reduction (DR list rule, one half of the events)")
    ax.set_ylabel("delivered kW (control-group settlement, other half)")
    ax.set_title("DR target list: calibration on held-out events")
    return _png(fig)


def plot_placebo_bias(accuracy: pl.DataFrame) -> bytes:
    """Placebo bias (% of load) of each method, all households and per persona, with intervals."""
    rows = accuracy.filter((pl.col("population").str.starts_with("placebo")) & (pl.col("season") == "all"))
    groups = rows["persona_name"].unique(maintain_order=True).to_list()
    methods = rows["method"].unique(maintain_order=True).to_list()
    fig = _figure(8.0, 0.5 + 0.35 * len(methods) * max(1, len(groups)) / 2)
    ax = fig.add_subplot()
    width = 0.8 / max(1, len(groups))
    for g, name in enumerate(groups):
        part = rows.filter(pl.col("persona_name") == name)
        idx = [methods.index(m) for m in part["method"]]
        y = np.array(idx) + g * width
        b = part["bias_pct"].fill_null(np.nan).to_numpy()
        lo = part["bias_ci_low_pct"].fill_null(np.nan).to_numpy()
        hi = part["bias_ci_high_pct"].fill_null(np.nan).to_numpy()
        ax.errorbar(b, y, xerr=np.abs(np.vstack([b - lo, hi - b])), fmt="o", capsize=2, label=name, ms=4)
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(np.arange(len(methods)) + 0.4 - width / 2, methods)
    ax.set_xlabel("placebo bias: (baseline - actual) / actual, % (positive = pays for nothing)")
    ax.set_title("Baseline accuracy on placebo events (95% intervals)")
    ax.legend(fontsize=7, loc="best")
    return _png(fig)
