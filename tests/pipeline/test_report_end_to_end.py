"""The persona report of the whole graph on generated data: SYNTHETIC banner, Data and confidence
block, kW profiles and the event-day overlay, in the HTML and in the UI metadata."""

import re

import dagster as dg
import pytest

pytestmark = pytest.mark.slow  # the whole graph on 300 generated households


def _report(pipeline) -> tuple[str, dg.AssetMaterialization]:
    mats = {
        e.asset_key.to_user_string(): e.materialization
        for r in pipeline.results
        for e in r.get_asset_materialization_events()
    }
    return (pipeline.reports / "persona_report.html").read_text(encoding="utf-8"), mats["persona_report"]


def test_generated_data_carries_the_synthetic_banner(pipeline):
    html, mat = _report(pipeline)
    assert 'class="banner"' in html and "SYNTHETIC DATA" in html
    assert f"Source: SYNTHETIC data, not real households ({pipeline.folder}" in html
    assert "**SYNTHETIC DATA: not real households.**" in mat.metadata["summary"].value


def test_data_block_states_months_fingerprint_funnel_effect_placebo(pipeline):
    html, _ = _report(pipeline)
    data = html[html.index('<section id="data">') : html.index('<section id="summary">')]
    # the generated files run to the reading stamped 2014-01-01 00:00 (END of the last half hour of 2013)
    assert "Months covered: 2012-01 to 2014-01." in data
    # what changed since the previous segmentation (the first one here: this month's figures only), and its CSV
    changes = html[html.index('<section id="month-over-month">') :]
    assert "No earlier segmentation of this data source to compare with" in changes
    assert (
        (pipeline.reports / "month_over_month.csv").read_text().startswith("previous_month,current_month,section,item")
    )
    assert re.search(r"Data fingerprint \(sha256 of the source files\): [0-9a-f]{16}\.", data)
    for label in (
        "in the files",
        "with enough data",
        "segmented",
        "of them on the dynamic tariff (ToU)",
        "price response measured (on the dynamic tariff)",
        "significant responders (BH-flagged over all High events, segmented)",
    ):
        assert f"<td>{label}</td>" in data, label
    assert re.search(r"High-price events .*: [+-]\d+\.\d% \(95% CI [+-]\d+\.\d% to [+-]\d+\.\d%", data)
    assert "Placebo that can fail (High-price events)" in data and "covers zero, as it should" not in data
    assert "Adjacent-day sensitivity (High-price events" in data and 'alt="null distribution' in data


def test_overlay_is_a_file_and_an_image_in_the_ui(pipeline):
    html, mat = _report(pipeline)
    assert (pipeline.reports / "event_day_overlay.png").is_file()
    assert "data:image/png;base64," in mat.metadata["plot_event_day_overlay"].value
    assert "High-event days against" in html and "measured ToU households" in html
