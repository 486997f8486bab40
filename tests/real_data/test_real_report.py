"""The persona report built from the real LCL sample: what a program manager reads first.

The "Data and confidence" block must name the real source (no SYNTHETIC banner), the months, the data
fingerprint, the household funnel, the population effect with its interval and the checks that can fail, and the
segmentation warnings; the kW profiles and the event-day overlay are in the report and in the UI.
"""

import re
from html.parser import HTMLParser

import polars as pl
import pytest

pytestmark = pytest.mark.real_data


class _Text(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.section: str | None = None
        self.by_section: dict[str, list[str]] = {}
        self.images: list[str] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "section":
            self.section = attrs.get("id")
        if tag == "img":
            self.images.append(attrs.get("alt") or "")

    def handle_data(self, data):
        if self.section and data.strip():
            self.by_section.setdefault(self.section, []).append(" ".join(data.split()))


@pytest.fixture(scope="module")
def report(real_warehouse):
    folder = real_warehouse.parent / "reports"
    page = _Text()
    html = (folder / "persona_report.html").read_text(encoding="utf-8")
    page.feed(html)
    return folder, html, page


def test_real_report_has_no_synthetic_banner_and_names_its_source(report, lcl_sample):
    _, html, page = report
    assert "SYNTHETIC" not in html
    data = " ".join(page.by_section["data"])
    assert f"Source: {lcl_sample}." in data
    assert "Months covered: 2011-12 to 2014-02." in data
    assert re.search(r"Data fingerprint \(sha256 of the source files\): [0-9a-f]{16}\.", data)


def test_real_report_funnel_effect_placebo_and_warnings(report, real_con):
    _, _, page = report
    data = " ".join(page.by_section["data"])
    (effect,) = real_con.execute(
        """SELECT effect_pct, ci_low_pct, ci_high_pct FROM features.tariff_response_summary
           WHERE analysis = 'treatment' AND band = 'High' AND method = 'primary' AND window_kind = 'event'
             AND start_bucket = 'all' AND season = 'all'"""
    ).fetchall()
    assert f"{100 * effect[0]:+.1f}% (95% CI {100 * effect[1]:+.1f}% to {100 * effect[2]:+.1f}%; 34 households" in data
    # the checks that can fail, never the leave-one-out identity "covers zero, as it should"
    assert "Placebo that can fail (High-price events): 200 random groups of 34 controls (of 185)" in data
    assert "(-7.5%) lies below all 200 draws" in data and "covers zero" not in data
    assert "n = 3 dynamic-tariff households" in data and "Adjacent-day sensitivity (High-price events" in data
    funnel = re.findall(
        r"(in the files|with enough data|segmented|of them on the dynamic tariff \(ToU\)|"
        r"price response measured \(on the dynamic tariff\)|"
        r"significant responders \(BH-flagged over all High events, segmented\)) (\d+)",
        data,
    )
    counts = dict(funnel)
    assert list(counts) == [
        "in the files",
        "with enough data",
        "segmented",
        "of them on the dynamic tariff (ToU)",
        "price response measured (on the dynamic tariff)",
        "significant responders (BH-flagged over all High events, segmented)",
    ]
    n = [int(v) for v in counts.values()]
    assert n[0] == 219 and n[0] >= n[1] >= n[2] >= n[3] >= n[4] >= n[5] > 0 and n[3] <= 34
    # LCL household profiles form a continuum (silhouette ~0.13): the block must say so
    assert "Warning: The load-shape segmentation is weak" in data
    summary = " ".join(page.by_section["summary"])
    assert f"{n[4]} households on the dynamic tariff had their price response measured; {n[5]} of them" in summary


def test_real_report_shows_kw_profiles_and_event_day_overlay(report, real_con):
    folder, _, page = report
    assert "event-day vs normal-day kW overlay" in page.images
    assert "persona profiles, normalised and in kW" in page.images
    assert (folder / "event_day_overlay.png").is_file() and (folder / "dr_targets.csv").is_file()
    personas = " ".join(page.by_section["personas"])
    measured = real_con.sql(
        "SELECT persona_name, count(*) AS n FROM model.segment_assignments WHERE response_measured GROUP BY 1"
    ).pl()
    for name, n in measured.iter_rows():
        if n >= 5:
            assert f"event-day overlay: {n} measured ToU households" in personas, name
        else:
            assert f"{name}: " in personas and "fewer than 5 measured ToU households, suppressed" in personas
    assert "High-event days against" in personas
    csv = pl.read_csv(folder / "dr_targets.csv")
    assert (csv["expected_kw_ci_low"] <= csv["expected_kw_ci_high"]).all()
