"""Report: PNG figures, self-contained HTML with every section, Markdown summary, suppression."""

from __future__ import annotations

import dataclasses
import re

import polars as pl
import pytest

from assets.reports import plots
from assets.reports.html_report import (
    SECTIONS,
    ReportInputs,
    build_markdown_summary,
    build_report,
    render_images,
    write_html_report,
)


@pytest.fixture(scope="module")
def report_inputs(outputs):
    from assets.model.inputs import prepare_features

    return ReportInputs(
        features=prepare_features(outputs["features"]),
        model=outputs["model"],
        assignments=outputs["assignments"],
        personas=outputs["personas"],
        interventions=outputs["interventions"],
        dr=outputs["dr"],
        expectations=outputs["expectations"],
    )


@pytest.fixture(scope="module")
def images(report_inputs):
    return render_images(report_inputs)


def _is_png(data: bytes) -> bool:
    return data.startswith(plots.PNG_SIGNATURE) and data.endswith(b"IEND\xaeB`\x82") and len(data) > 5000


def test_every_plot_is_png(images):
    assert set(images) == {
        "load_shape_clusters",
        "textbook_clusters",
        "k_sweep",
        "persona_profiles",
        "persona_pca",
        "responsiveness",
        "acorn",
    }
    for name, data in images.items():
        assert _is_png(data), name


def test_plot_functions_directly(outputs):
    sweep = outputs["model"].load_shape_sweep
    assert _is_png(plots.plot_k_sweep(sweep, chosen_k=3, textbook_k=3))
    small = outputs["assignments"].head(12)
    assert _is_png(plots.plot_persona_pca(small, k=5))
    assert _is_png(plots.plot_load_shape_clusters(outputs["features"], small, k=5))


def test_html_report_has_every_section(report_inputs, images, tmp_path):
    inputs = dataclasses.replace(report_inputs, images=images)
    report = build_report(inputs)
    page = report.html
    assert page.startswith("<!DOCTYPE html>") and page.endswith("</html>")
    for sid, title in SECTIONS:
        assert f'<section id="{sid}">' in page, sid
        assert title in page
    assert page.count("data:image/png;base64,") == len(images)
    assert not re.search(r'src="(?!data:)', page), "images must be embedded"
    for name in outputs_names(report_inputs):
        assert name in page
    assert "critical-peak pricing / dynamic ToU" in page
    assert "ranking by expected kW reduction" in page and "textbook: highest-load load-shape cluster" in page
    path = write_html_report(inputs, tmp_path / "report" / "personas.html")
    assert path.read_text(encoding="utf-8") == page
    md = report.markdown
    assert md.startswith("### ") and "| persona | households | program |" in md and "| rule |" in md


def outputs_names(inputs) -> list[str]:
    return inputs.personas.personas["persona_name"].to_list()


def test_small_groups_are_suppressed(report_inputs, images):
    # with k = 10 the price-responsive personas of 8-9 households must not show their numbers
    model = dataclasses.replace(
        report_inputs.model, settings=dataclasses.replace(report_inputs.model.settings, k_anonymity=10)
    )
    inputs = dataclasses.replace(report_inputs, model=model, images=images)
    personas = inputs.personas.personas
    small = personas.filter(pl.col("n_households") < 10)
    assert small.height > 0
    page = build_report(inputs).html
    assert "suppressed" in page
    for expl in small["explanation"].to_list():
        assert expl not in page
    md = build_markdown_summary(inputs)
    for name in small["persona_name"].to_list():
        assert f"| {name} | < 10 | suppressed |" in md
