"""Report: PNG figures, self-contained HTML with every section, Markdown summary, suppression."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from datetime import date
from html.parser import HTMLParser

import jinja2
import numpy as np
import polars as pl
import pytest

from assets.model.segmentation_history import Drift, drift_between
from assets.reports import expected_kw, html_report, plots
from assets.reports.data_confidence import DataConfidence, Effect, block, segmentation_warnings
from assets.reports.expected_kw import PROGRAM_EVIDENCE
from assets.reports.html_report import build_report, render_images, write_html_report
from assets.reports.markdown_report import build_markdown_summary
from assets.reports.report_tables import SECTIONS, ReportInputs


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
        warnings=["weak"],
        checks=CHECKS,
        placebo_null={"High": list(np.linspace(-0.025, 0.025, 200)), "Low": list(np.linspace(-0.02, 0.03, 200))},
    )


_CHECK = dict.fromkeys(
    ["n_controls", "estimate_percentile", "permutation_p_value", "share_draws_any_flagged", "ci_coverage"]
)
CHECKS = [
    _CHECK | {"check": "pseudo_treatment_placebo", "band": "High", "n_households": 34, "n_controls": 185,
              "n_events": 69, "n_draws": 200, "estimate_pct": -0.075, "low_pct": -0.023, "high_pct": 0.023,
              "estimate_percentile": 0.0, "permutation_p_value": 1 / 201, "share_draws_any_flagged": 0.005,
              "ci_coverage": 0.945, "verdict": "passes", "reason": "null range covers 0"},
    _CHECK | {"check": "baseline_year_placebo", "band": "High", "n_households": 3, "n_events": 69, "n_draws": 500,
              "estimate_pct": 0.081, "low_pct": -0.035, "high_pct": 0.235, "verdict": "passes",
              "reason": "the CI covers 0 over 3 treated household(s) (little power with so few)"},
    _CHECK | {"check": "sensitivity_adjacent_days", "band": "High", "n_households": 34, "n_events": 69,
              "n_draws": 500, "estimate_pct": -0.005, "low_pct": -0.02, "high_pct": 0.01,
              "verdict": "no difference detected", "reason": "covers 0"},
]  # fmt: skip


def test_block_states_source_effect_placebo_and_funnel():
    b = block(_data(False))
    text = " ".join(b["lines"])
    assert "/data/lcl" in text and "2012-01 to 2013-12" in text and "abababab" in text
    assert "-7.5% (95% CI -13.3% to -1.7%" in text and "covers zero" not in text
    checks = " ".join(b["checks"])
    assert "95% range is -2.3% to +2.3%" in checks and "(-7.5%) lies below all 200 draws" in checks
    assert "in 0.5% of draws" in checks and "covers the true zero in 94.5% of draws" in checks
    assert "n = 3 dynamic-tariff households" in checks and "Verdict: no difference detected" in checks
    assert block(None)["checks"] == []
    assert [n for _, n in b["funnel"]] == ["219", "201", "201", "32", "12"]
    assert not b["synthetic"] and block(_data(True))["synthetic"]
    assert "not recorded" in block(None)["lines"][0]


def test_checks_and_the_placebo_null_plot_reach_the_html_and_markdown(report_inputs, images):
    data = _data(False)
    png = html_report.placebo_null_figure(data)
    assert png.startswith(plots.PNG_SIGNATURE)
    report = build_report(dataclasses.replace(report_inputs, images={**images, "placebo_null": png}, data=data))
    section = report.html[report.html.index('id="data"') : report.html.index('id="summary"')]
    assert "<h3>Checks that can fail</h3>" in section and 'alt="null distribution' in section
    assert "Placebo that can fail (High-price events)" in section and "as it should" not in report.html
    assert "- Check: Placebo that can fail (High-price events)" in report.markdown


def test_weak_or_outlier_segmentation_is_warned():
    rows = [
        {"segmentation": "load_shape", "chosen": True, "silhouette": 0.62, "eligible": True, "stability_ari": 0.9},
        {"segmentation": "behaviour", "chosen": True, "silhouette": 0.13, "eligible": True, "stability_ari": 0.4},
        {"segmentation": "behaviour", "chosen": False, "silhouette": 0.01, "eligible": False, "stability_ari": 0.1},
    ]
    text = " ".join(segmentation_warnings(rows))
    assert "0.62" in text and "weak (silhouette 0.13" in text and "unstable under resampling (ARI 0.40)" in text
    assert "0.01" not in text  # only chosen models are judged
    synthetic = " ".join(segmentation_warnings(rows, synthetic=True))
    assert "expected on synthetic data" in synthetic and "bug" not in synthetic


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
        "expected_kw_basis",
        "interval_basis",
        "responder_label",
        "program_kw_low",
        "program_kw_central",
        "program_kw_high",
        "program_kw_basis",
    ]
    assert csv["rank"].to_list() == sorted(csv["rank"].to_list())
    # expected_kw says what sizes it: a measured High-price event response or the offered program's ITT figure
    assert csv["expected_kw_basis"].str.contains("High-price event").all()
    assert csv["expected_kw_basis"].str.contains("intention-to-treat").all()
    # program kW agree with the listed program: CPP rows = the High-price kW spread by the trials' range,
    # other rows = the program's evidence % x the household's peak_load_kw
    from assets.reports.interventions import program_ranges

    ranges = program_ranges()
    for r in csv.iter_rows(named=True):
        ev = ranges[r["program"]]
        if r["program"] == "critical-peak pricing / dynamic ToU":
            assert r["program_kw_central"] == pytest.approx(r["expected_kw"], abs=1e-4)
            assert r["program_kw_high"] == pytest.approx(r["expected_kw"] * ev.high_pct / ev.central_pct, abs=2e-4)
        else:
            assert r["program_kw_low"] == pytest.approx(r["peak_load_kw"] * ev.low_pct / 100, abs=1e-4)
            assert r["program_kw_high"] == pytest.approx(r["peak_load_kw"] * ev.high_pct / 100, abs=1e-4)
            if ev.central_pct is None:
                assert r["program_kw_central"] is None
            else:
                assert r["program_kw_central"] == pytest.approx(r["peak_load_kw"] * ev.central_pct / 100, abs=1e-4)
    assert csv["program"].null_count() == 0
    assert (csv["expected_kw_ci_low"] <= csv["expected_kw_ci_high"]).all()
    assert csv["expected_kw_ci_low"].null_count() == 0 and csv["interval_basis"].null_count() == 0
    assert set(csv.filter(pl.col("measured_or_predicted") == "predicted")["interval_basis"]) <= {
        expected_kw.INTERVAL_MODEL,
    }
    assert set(csv.filter(pl.col("measured_or_predicted") == "program evidence")["interval_basis"]) <= {
        expected_kw.INTERVAL_EVIDENCE
    }


# --- kW profiles, program options and kW intervals ----------------------------------------------------------


def _profiles_for(inputs, k: int = 5):
    """Per persona x line x slot rows as the SQL returns them (one persona's overlay below k)."""
    from assets.reports.profiles import PersonaProfiles, with_intervals

    names = outputs_names(inputs)
    rows = []
    for i, name in enumerate(names):
        for line in ("all_members_normal_days", "high_event_days", "normal_days", "difference"):
            n = 3 if (i == 0 and line != "all_members_normal_days") else 12
            for slot in range(48):
                kw = -0.1 if line == "difference" and 32 <= slot < 40 else 0.5
                rows.append((name, line, slot, n, kw, 0.1, 70 if line in ("high_event_days", "difference") else 180))
    raw = pl.DataFrame(
        rows,
        schema=["persona_name", "line", "slot", "n_households", "mean_kw", "sd_kw", "n_days"],
        orient="row",
    )
    share = pl.DataFrame({"slot": list(range(48)), "high_share": [0.3] * 48, "n_days": [77] * 48})
    return PersonaProfiles(with_intervals(raw, k), share.cast({"slot": pl.Int16}))


def test_report_shows_kw_profiles_and_event_day_overlay(report_inputs):
    inputs = dataclasses.replace(report_inputs, profiles=_profiles_for(report_inputs))
    report = build_report(inputs)
    assert "event_day_overlay" in report.images and _is_png(report.images["event_day_overlay"])
    page = _parse(report.html)
    text = " ".join(page.text)
    names = outputs_names(report_inputs)
    assert f"{names[1]}: kW profile: 12 households on 180 normal days; event-day overlay: 12 measured ToU " in text
    assert "70 High-event days without Low hours against 180 normal days" in text
    assert f"{names[0]}: kW profile: 12 households on 180 normal days; event-day overlay: fewer than 5" in text
    assert page.start_tags.count("img") == len(report.images)
    # without profiles the report says there is no overlay and draws none
    plain = build_report(dataclasses.replace(report_inputs, images={}))
    assert "event_day_overlay" not in plain.images and "No event-day overlay" in plain.html


def test_every_applicable_program_is_shown_with_range_source_and_reason(report_inputs, images):
    from assets.reports.interventions import NO_CENTRAL, program_ranges

    evidence = program_ranges()
    page = _parse(build_report(dataclasses.replace(report_inputs, images=images)).html)
    options = [t for t in page.tables if t["section"] == "interventions"][1]
    assert options["headers"][:5] == [
        "persona",
        "program",
        "recommended",
        "peak reduction: low / central / high",
        "kW: low / central / high",
    ]
    iv = report_inputs.interventions
    by_persona: dict[str, list[list[str]]] = {}
    for row in options["rows"]:
        by_persona.setdefault(row[0], []).append(row)
    for r in iv.iter_rows(named=True):
        rows = by_persona[r["persona_name"]]
        assert [x[1] for x in rows if x[2] == "yes"] == [r["program"]]  # one recommended, the toolkit's program
        if r["program"] == "critical-peak pricing / dynamic ToU":
            continue
        assert {x[1] for x in rows} == {
            "peak-time rebate",
            "behavioural DR messaging",
            "automation / direct load control",
        }
        for x in rows:
            ev = evidence[x[1]]
            if not ev.sized:
                assert x[3] == "not sized" and "no sourced figure" in x[5]
                continue
            mid = NO_CENTRAL if ev.central_pct is None else f"{ev.central_pct:.1f}"
            assert x[3] == f"{ev.low_pct:.1f} / {mid} / {ev.high_pct:.1f}%"
            lo, hi = (v * r["total_peak_kw"] / 100 for v in (ev.low_pct, ev.high_pct))
            mid_kw = NO_CENTRAL if ev.central_pct is None else f"{ev.central_pct * r['total_peak_kw'] / 100:.2f}"
            assert x[4] == f"{lo:.2f} / {mid_kw} / {hi:.2f} kW"
            assert x[7] == ev.sources and x[6] == ev.trials
        # 0-10 % (rebate) and 0-5 % (messaging) overlap: the evidence cannot rank them, the report says so and
        # recommends a randomised pilot led by the program with a sourced intent-to-treat central
        (chosen,) = [x for x in rows if x[2] == "yes"]
        assert chosen[1] == "peak-time rebate"
        assert "cannot rank" in chosen[5] and "randomised" in chosen[5] and "central estimate" in chosen[5]
        (arm,) = [x for x in rows if x[1] == "behavioural DR messaging"]
        assert arm[5].startswith("Pilot arm")
        assert "highest central" not in chosen[5]


def test_persona_table_shows_the_dr_lists_prior_with_its_basis(report_inputs, images):
    from assets.reports.report_tables import DR_PRIOR_HEADER

    html = build_report(dataclasses.replace(report_inputs, images=images)).html
    page = _parse(html)
    personas = next(t for t in page.tables if t["section"] == "personas")
    col = personas["headers"].index(DR_PRIOR_HEADER)
    assert "intention-to-treat" in DR_PRIOR_HEADER and "never on the tariff" in DR_PRIOR_HEADER
    t = report_inputs.dr.targets
    for row in personas["rows"]:
        name, cell = row[0], row[col]
        if cell == "suppressed":
            continue
        members = t.filter((pl.col("persona_name") == name) & (pl.col("response_source") == PROGRAM_EVIDENCE))
        if members.height == 0:
            assert not cell.startswith(tuple("0123456789")), name
            continue
        # the offered program's ITT figure with the trials' range, not the volunteers' segment prior
        assert cell.startswith(f"{members['expected_reduction_pct'][0]:.1f}%"), name
        assert "trials" in cell
    # the report says the volunteers' response does not transport to invited households
    assert "merely invited" in html


def test_every_kw_figure_in_the_tables_has_an_interval(report_inputs, images):
    page = _parse(build_report(dataclasses.replace(report_inputs, images=images, data=_data(False))).html)
    tables = {t["section"]: t for t in page.tables}
    personas = tables["personas"]
    col = personas["headers"].index("95% CI (kW)")
    mean_col = personas["headers"].index("mean kW 16-20h")
    for row in personas["rows"]:
        if row[mean_col] in ("suppressed", "–"):
            continue
        lo, hi = (float(v) for v in row[col].split("-"))
        assert lo <= float(row[mean_col]) <= hi
    dr = tables["dr-targets"]
    interval = dr["headers"].index("95% interval (kW)")
    assert all(re.fullmatch(r"\d+\.\d-\d+\.\d", row[interval]) for row in dr["rows"])
    captured = dr["headers"].index("expected kW")
    for row in dr["rows"]:  # the interval is the rule's own (its households' bounds summed): it holds the estimate
        lo, hi = (float(v) for v in row[interval].split("-"))
        assert lo - 0.05 <= float(row[captured]) <= hi + 0.05
    per_hh = dr["headers"].index("expected kW per household (95% interval)")
    assert all(re.fullmatch(r"\d\.\d{3} \(\d\.\d{3}-\d\.\d{3}\)", row[per_hh]) for row in dr["rows"])
    iv = next(t for t in page.tables if t["section"] == "interventions")
    per = iv["headers"].index("kW per household: central (low-high)")
    assert all(re.fullmatch(r"\d\.\d{3} \(\d\.\d{3}-\d\.\d{3}\)", row[per]) for row in iv["rows"])
    # the summary's kW figures carry their range too
    summary = " ".join(t for t in page.text)
    assert "comparable trials' range" in summary and "95% interval" in summary


def test_peak_kw_interval_is_the_t_interval_over_members(report_inputs):
    from scipy import stats

    from assets.reports.report_tables import peak_kw_intervals

    intervals = peak_kw_intervals(report_inputs)
    name = outputs_names(report_inputs)[0]
    members = report_inputs.assignments.filter(pl.col("persona_name") == name)["household_id"]
    kw = report_inputs.features.filter(pl.col("household_id").is_in(members.implode()))["peak_kw"].to_numpy()
    lo, hi = stats.t.interval(0.95, len(kw) - 1, loc=kw.mean(), scale=stats.sem(kw))
    assert intervals.filter(pl.col("persona_name") == name)["peak_kw_interval"][0] == f"{lo:.2f}-{hi:.2f}"


def test_one_responder_definition_and_flags_covering_zero_are_labelled():
    """The DR list's responder label is the persona's definition (BH flag with a reduction); a flag whose own
    interval covers 0 says so; unmeasured households are 'not measured'."""
    from assets.reports.expected_kw import (
        FLAG_COVERS_ZERO,
        FLAG_EXCLUDES_ZERO,
        NOT_FLAGGED,
        NOT_MEASURED,
        responder_labels,
    )

    frame = pl.DataFrame(
        {
            "household_id": ["a", "b", "c", "d", "e"],
            "is_treated": [True, True, True, True, False],
            "response_method": ["within_window_did"] * 4 + ["none"],
            "responder": [True, True, False, True, False],
            "high_did_pct": [-0.20, -0.08, -0.05, 0.03, None],
            "high_did_pct_ci_low": [-0.30, -0.18, -0.12, -0.01, None],
            "high_did_pct_ci_high": [-0.10, 0.02, 0.02, 0.07, None],
        }
    )
    labels = dict(responder_labels(frame).iter_rows())
    assert labels == {
        "a": FLAG_EXCLUDES_ZERO,
        "b": FLAG_COVERS_ZERO,
        "c": NOT_FLAGGED,
        "d": NOT_FLAGGED,  # flagged without a reduction is not a responder (persona rule)
        "e": NOT_MEASURED,
    }


def test_data_block_shows_the_sized_estimand_and_warns_at_the_top():
    """All-event, evening and winter-weekday-evening effects with their CIs; a sized effect whose interval
    covers 0 puts a warning at the top; the breakdown reaches the page; the counts reconcile in words."""
    from assets.reports.data_confidence import DataConfidence, Effect, block
    from assets.reports.estimand import ALL_EVENTS, EVENING, WINTER_WEEKDAY_EVENING, EstimandEffect

    chain = [
        EstimandEffect(ALL_EVENTS, -0.075, -0.133, -0.017, 34, 69),
        EstimandEffect(EVENING, -0.065, -0.139, 0.002, 34, 34),
        EstimandEffect(WINTER_WEEKDAY_EVENING, -0.044, -0.146, 0.042, 34, 8),
    ]
    breakdown = [
        {
            "analysis": "treatment",
            "band": "High",
            "window_kind": "rebound",
            "start_bucket": "all",
            "season": "all",
            "method": "primary",
            "n_households": 34,
            "n_events": 69,
            "effect_pct": 0.002,
            "ci_low_pct": -0.01,
            "ci_high_pct": 0.015,
            "n_flagged": None,
        }
    ]
    counts = {
        "with_response": 34,
        "with_response_segmented": 32,
        "flagged": 15,
        "flagged_segmented": 14,
        "flagged_covering_zero": 4,
        "in_responsive_persona": 14,
    }
    funnel = {
        "in_files": 219,
        "with_enough_data": 199,
        "segmented": 199,
        "on_tariff": 32,
        "measured": 32,
        "responders": 14,
    }
    data = DataConfidence(
        "x",
        False,
        "2011-12",
        "2014-02",
        "f" * 64,
        funnel,
        Effect(-0.075, -0.133, -0.017, 34, 69),
        None,
        estimands=chain,
        breakdown=breakdown,
        counts=counts,
    )
    b = block(data)
    text = " ".join(b["lines"])
    assert "-6.5% (95% CI -13.9% to +0.2%" in text and "-4.4% (95% CI -14.6% to +4.2%" in text
    assert b["top_warnings"] and "NOT distinguishable from 0" in b["top_warnings"][0]
    assert "34 dynamic-tariff households" in text and "32 of them were segmented" in text and "4 of the 14" in text
    assert b["breakdown"]["rows"][0][2] == "3 h after (rebound)" and "(-1.0 to +1.5)" in b["breakdown"]["rows"][0][8]
    # a sized effect that excludes 0: no top warning
    ok = [*chain[:2], EstimandEffect(WINTER_WEEKDAY_EVENING, -0.06, -0.10, -0.02, 34, 8)]
    assert block(DataConfidence("x", False, None, None, "", funnel, None, None, estimands=ok))["top_warnings"] == []


def test_statistics_table_counts_tests_per_role_and_shows_the_role():
    from assets.reports.report_tables import ROLE_LABELS, TESTS_COLUMNS
    from assets.reports.report_text import tests_per_role

    tests = pl.DataFrame(
        {"role": ["outside_covariate", "outside_covariate", "descriptive", "descriptive", "response_among_measured"]}
    )
    assert (
        tests_per_role(tests)
        == "2 explanatory, 2 descriptive / circular, 1 response test(s), each role a separate family"
    )
    assert "role" in [c[0] for c in TESTS_COLUMNS]
    assert "circular" in ROLE_LABELS["descriptive"] and "explanatory" in ROLE_LABELS["outside_covariate"]


def test_month_over_month_is_an_html_table_and_small_rows_show_no_numbers(report_inputs, images):
    from datetime import date

    from assets.reports import month_over_month as mom

    def snap(effect, dr, personas):
        return mom.Snapshot(
            pl.DataFrame([list(effect)], schema=mom.EFFECT_SCHEMA, orient="row"),
            pl.DataFrame({"household_ref": list(dr), "expected_kw": list(dr.values())}, schema=mom.DR_SCHEMA),
            pl.DataFrame(
                {"persona_name": list(personas), "n_households": list(personas.values())}, schema=mom.PERSONA_SCHEMA
            ),
        )

    previous = snap((-0.05, -0.09, -0.01, 400), {f"s{i}": 0.1 for i in range(20)}, {"Evening peakers": 30, "Tiny": 3})
    current = snap((-0.04, -0.08, 0.0, 410), {**{f"s{i}": 0.1 for i in range(20)}, "n1": 0.4}, {"Evening peakers": 33})
    changes = mom.MonthOverMonth(
        date(2024, 2, 1), date(2024, 1, 1), mom.compare(current, previous, 5), "Compared with 2024-01.", 5
    )
    report = build_report(dataclasses.replace(report_inputs, images=images, month_over_month=changes))
    page = _parse(report.html)
    (table,) = [t for t in page.tables if t["section"] == "month-over-month"]
    rows = {r[1]: r for r in table["rows"]}
    assert rows["effect of the dynamic tariff on High-price events (%)"][2:5] == [
        "-5.0% (-9.0 to -1.0)",
        "-4.0% (-8.0 to +0.0)",
        "+1.0",
    ]
    assert rows["Evening peakers"][2:5] == ["30", "33", "+3"]
    assert rows["Tiny"][2] == "suppressed (fewer than 5 households)"  # 3 households before
    assert rows["entered the DR list (their expected kW now)"][2] == "suppressed (fewer than 5 households)"  # 1 entered
    assert "Compared with 2024-01." in report.html and "month_over_month.csv" in report.html
    assert "| persona size | Evening peakers | 30 | 33 | +3 |" in report.markdown
    assert report.month_over_month_csv.height == changes.rows.height
