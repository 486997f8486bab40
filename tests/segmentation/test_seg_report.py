"""Report: PNG figures, self-contained HTML with every section, Markdown summary, suppression."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from datetime import date
from html.parser import HTMLParser

import jinja2
import polars as pl
import pytest

from assets.model.segmentation_history import Drift, drift_between
from assets.reports import dr_targets, html_report, plots
from assets.reports.data_confidence import DataConfidence, Effect, block, segmentation_warnings
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


# --- the rendered HTML is well formed, every table is a real table, every value is escaped ---------------

VOID_ELEMENTS = {"meta", "img", "br", "hr", "link", "input"}
MARKDOWN_TABLE_LINE = re.compile(r"^\s*\|.*\|\s*$", re.MULTILINE)


class _Page(HTMLParser):
    """Checks nesting while collecting section ids, nav links, tables, <pre> text and all text."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []
        self.errors: list[str] = []
        self.sections: list[str] = []
        self.links: list[str] = []
        self.start_tags: list[str] = []
        self.tables: list[dict] = []  # {"section", "headers", "rows"}
        self.pre_text: list[str] = []
        self.text: list[str] = []
        self._row: list[str] | None = None
        self._cell: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.start_tags.append(tag)
        if tag == "section":
            self.sections.append(attrs.get("id"))
        elif tag == "a" and "href" in attrs:
            self.links.append(attrs["href"])
        elif tag == "table":
            self.tables.append({"section": self.sections[-1] if self.sections else None, "headers": [], "rows": []})
        elif tag == "tr":
            self._row = []
        elif tag in ("td", "th"):
            self._cell = []
        if tag not in VOID_ELEMENTS:
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if not self.stack or self.stack[-1] != tag:
            self.errors.append(f"</{tag}> closes {self.stack[-1:] or 'nothing'}")
            return
        self.stack.pop()
        if tag in ("td", "th"):
            self._row.append("".join(self._cell).strip())
            self._cell = None
        elif tag == "tr":
            table = self.tables[-1]
            if "thead" in self.stack:
                table["headers"] = self._row
            else:
                table["rows"].append(self._row)
            self._row = None

    def handle_data(self, data):
        self.text.append(data)
        if "pre" in self.stack:
            self.pre_text.append(data)
        if self._cell is not None:
            self._cell.append(data)


def _parse(page: str) -> _Page:
    parser = _Page()
    parser.feed(page)
    parser.close()
    assert not parser.errors, parser.errors[:5]
    assert not parser.stack, f"unclosed: {parser.stack}"
    return parser


def _transitions(names: list[str]) -> Drift:
    a, b = names[0], names[1]
    pairs = pl.DataFrame({"from_persona": [a] * 6 + [b] * 4 + [a] * 2, "to_persona": [a] * 6 + [b] * 4 + [b] * 2})
    return drift_between(pairs, date(2024, 1, 1))


def test_html_is_well_formed_with_every_section_in_order(report_inputs, images):
    page = _parse(build_report(dataclasses.replace(report_inputs, images=images)).html)
    ids = [sid for sid, _ in SECTIONS]
    assert page.sections == ids
    assert page.links == [f"#{sid}" for sid in ids]
    assert page.start_tags.count("img") == len(images)
    tables_per_section = {t["section"] for t in page.tables}
    assert {"personas", "interventions", "dr-targets", "load-shapes", "model-selection", "statistics"} <= (
        tables_per_section
    )
    for table in page.tables:
        assert table["headers"] and table["rows"], table["section"]
        assert all(len(row) == len(table["headers"]) for row in table["rows"]), table["section"]


def test_no_markdown_anywhere_in_the_html(report_inputs, images):
    inputs = dataclasses.replace(report_inputs, images=images, drift=_transitions(outputs_names(report_inputs)))
    page = _parse(build_report(inputs).html)
    assert "pre" not in page.start_tags
    assert not MARKDOWN_TABLE_LINE.search("".join(page.pre_text))
    text = "".join(page.text)
    assert not MARKDOWN_TABLE_LINE.search(text)
    assert "|---" not in text and "| ---" not in text


def test_drift_is_an_html_table(report_inputs, images):
    names = outputs_names(report_inputs)
    inputs = dataclasses.replace(report_inputs, images=images, drift=_transitions(names))
    report = build_report(inputs)
    page = _parse(report.html)
    (drift,) = [t for t in page.tables if t["section"] == "drift"]
    assert drift["headers"] == ["from \\ to", names[0], names[1]]
    k = inputs.k
    assert k == 5
    # cells of 1..k-1 households are suppressed, zeros and cells of k or more are shown
    assert drift["rows"] == [[names[0], "6", f"< {k}"], [names[1], "0", f"< {k}"]]
    assert "Since 2024-01-01: 12 households compared" in report.html
    assert f"| from \\ to | {names[0]} | {names[1]} |" in report.markdown
    assert f"| {names[0]} | 6 | < {k} |" in report.markdown
    # without history the section says so and has no table
    first = _parse(build_report(dataclasses.replace(report_inputs, images=images)).html)
    assert not [t for t in first.tables if t["section"] == "drift"]
    assert "First segmentation: nothing to compare with yet." in "".join(first.text)


def test_values_are_escaped(report_inputs, images):
    evil = '<script>alert("x")</script>'
    victim = outputs_names(report_inputs)[0]
    rename = pl.col("persona_name").replace(victim, evil + " & co")
    evil_id = report_inputs.assignments["household_id"][0]
    new_id = pl.col("household_id").replace(evil_id, evil)
    personas = dataclasses.replace(
        report_inputs.personas, personas=report_inputs.personas.personas.with_columns(rename)
    )
    inputs = dataclasses.replace(
        report_inputs,
        title=f"Personas {evil}",
        images=images,
        personas=personas,
        interventions=report_inputs.interventions.with_columns(rename),
        assignments=report_inputs.assignments.with_columns(new_id),
        features=report_inputs.features.with_columns(new_id),
        expectations=report_inputs.expectations.with_columns(rename),
        drift=_transitions([evil + " & co", outputs_names(report_inputs)[1]]),
    )
    html = build_report(inputs).html
    page = _parse(html)
    assert "script" not in page.start_tags
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt; &amp; co" in html
    text = "".join(page.text)
    assert f"{evil} & co" in text  # shown as text: title, persona table, explanations list, drift table
    assert text.count(f"{evil} & co") >= 4


def test_section_without_a_template_body_fails_loudly(report_inputs, images, monkeypatch):
    monkeypatch.setattr(html_report, "SECTIONS", (*SECTIONS, ("bogus", "Bogus")))
    with pytest.raises(jinja2.UndefinedError):
        build_report(dataclasses.replace(report_inputs, images=images))


def test_importing_the_report_code_does_not_import_matplotlib():
    code = "import sys, assets.reports.api, assets.reports.assets; print('matplotlib' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def _data(synthetic: bool) -> DataConfidence:
    return DataConfidence(
        source="built-in synthetic data" if synthetic else "/data/lcl",
        synthetic=synthetic,
        first_month="2012-01",
        last_month="2013-12",
        fingerprint="ab" * 32,
        funnel={"in_files": 219, "with_enough_data": 201, "segmented": 201, "measured": 32, "responders": 12},
        effect=Effect(-0.075, -0.133, -0.017, 34, 69),
        placebo=Effect(0.0005, -0.015, 0.017, 185, 69),
        warnings=["weak"],
    )


def test_block_states_source_effect_placebo_and_funnel():
    b = block(_data(False))
    text = " ".join(b["lines"])
    assert "/data/lcl" in text and "2012-01 to 2013-12" in text and "abababab" in text
    assert "-7.5% (95% CI -13.3% to -1.7%" in text and "covers zero" in text
    assert [n for _, n in b["funnel"]] == ["219", "201", "201", "32", "12"]
    assert not b["synthetic"] and block(_data(True))["synthetic"]
    assert "not recorded" in block(None)["lines"][0]


def test_weak_or_outlier_segmentation_is_warned():
    rows = [
        {"segmentation": "load_shape", "chosen": True, "silhouette": 0.62, "eligible": True, "stability_ari": 0.9},
        {"segmentation": "behaviour", "chosen": True, "silhouette": 0.13, "eligible": True, "stability_ari": 0.4},
        {"segmentation": "behaviour", "chosen": False, "silhouette": 0.01, "eligible": False, "stability_ari": 0.1},
    ]
    text = " ".join(segmentation_warnings(rows))
    assert "0.62" in text and "weak (silhouette 0.13" in text and "unstable under resampling (ARI 0.40)" in text
    assert "0.01" not in text  # only chosen models are judged


def test_report_opens_with_data_block_and_banner_and_writes_target_csv(report_inputs, images):
    real = build_report(dataclasses.replace(report_inputs, images=images, data=_data(False)))
    synthetic = build_report(dataclasses.replace(report_inputs, images=images, data=_data(True)))
    assert "SYNTHETIC DATA" in synthetic.html and "SYNTHETIC DATA" not in real.html
    assert real.html.index('id="data"') < real.html.index('id="summary"')
    assert "responded significantly" in real.html  # measured and responders are stated separately
    csv = real.dr_targets_csv
    assert csv.columns == [
        "rank",
        "household",
        "persona",
        "program",
        "measured_or_predicted",
        "prediction_source",
        "response_basis",
        "peak_load_kw",
        "peak_load_basis",
        "expected_kw",
        "expected_kw_ci_low",
        "expected_kw_ci_high",
        "interval_basis",
    ]
    assert csv["rank"].to_list() == sorted(csv["rank"].to_list())
    assert csv["program"].null_count() == 0
    assert (csv["expected_kw_ci_low"] <= csv["expected_kw_ci_high"]).all()
    assert csv["expected_kw_ci_low"].null_count() == 0 and csv["interval_basis"].null_count() == 0
    assert set(csv.filter(pl.col("measured_or_predicted") == "predicted")["interval_basis"]) <= {
        dr_targets.INTERVAL_MODEL,
        dr_targets.INTERVAL_PRIOR,
    }
