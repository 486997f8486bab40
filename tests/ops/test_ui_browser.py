"""The Dagster UI in headless Chromium: lineage graph, rendered metadata, embedded PNG plots.

Like ``make demo`` then ``make ui``: ``python -m pipelines.tooling.demo`` materializes every asset on small
built-in synthetic data (40 households) into a temporary instance, then dagster-webserver serves it
on 127.0.0.1 (no daemon needed). Needs the Debian package ``chromium``
(/usr/bin/chromium; never ``playwright install``): skipped with the reason if it is missing,
except under CI=true where that is a failure. Screenshots go to test-artifacts/ui/.

* every asset key of the code location is drawn in the global lineage graph (groups expanded);
* for every asset whose latest materialization has a Markdown table, the table renders as HTML;
* for every asset whose latest materialization embeds a PNG (``assets.common.metadata.png_markdown``,
  e.g. the report plots), the image renders (decoded, non-zero size);
* a PNG reported with ``png_markdown`` on a probe asset renders, so the mechanism is checked even
  before any asset emits plots.
"""

from __future__ import annotations

import io
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import dagster as dg
import pytest
from playwright.sync_api import sync_playwright

import pipelines.definitions
from assets.common.metadata import png_markdown
from tests.ops.services import REPO, DagsterServices

pytestmark = [pytest.mark.browser, pytest.mark.timeout(300)]

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
ARTIFACTS = REPO / "test-artifacts" / "ui"
PROBE_ASSET = "ui_probe_plot"
DEMO_HOUSEHOLDS = "40"

LATEST_METADATA = """
{ assetNodes { assetKey { path } assetMaterializations(limit: 1) { runId metadataEntries {
    label __typename ... on MarkdownMetadataEntry { mdStr } } } } }"""


def chromium_or_skip() -> str:
    if Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK):
        return CHROMIUM
    reason = f"Chromium not found at {CHROMIUM} (apt-get install chromium; .ci/run does this)"
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"CI=true and {reason}")
    pytest.skip(reason)


@pytest.fixture(scope="module")
def ui(tmp_path_factory: pytest.TempPathFactory) -> Iterator[DagsterServices]:
    chromium_or_skip()  # before the expensive part
    services = DagsterServices(tmp_path_factory.mktemp("dagster-ui"))
    services.prepare({"METER_SYNTHETIC_HOUSEHOLDS": DEMO_HOUSEHOLDS}, synthetic=True)
    # From the temporary folder, so that data/synthetic and models/ are created there.
    env = services.env | {"PYTHONPATH": str(REPO)}
    demo = subprocess.run(
        [sys.executable, "-m", "pipelines.tooling.demo"],
        cwd=services.root,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-5000:]
    try:
        services.start(daemon=False)
        services.client.execute("mutation { setNuxSeen }")  # no "join the community" dialog
        yield services
    finally:
        services.stop()


@pytest.fixture(scope="module")
def page(ui: DagsterServices) -> Iterator:
    executable = chromium_or_skip()
    shutil.rmtree(ARTIFACTS, ignore_errors=True)
    ARTIFACTS.mkdir(parents=True)
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1100})
            page.set_default_timeout(30_000)
            yield page
        finally:
            browser.close()


def open_page(page, url: str, wait_for: str | None = None) -> None:
    page.goto(url)
    if wait_for:
        page.locator(f"{wait_for} >> visible=true").first.wait_for()
    else:
        page.wait_for_load_state("networkidle")
    skip = page.locator("button:has-text('Skip') >> visible=true")
    if skip.count():
        skip.first.click()


def drawn_asset_names(page, expected: set[str]) -> set[str]:
    """Expected names drawn as graph nodes. Full-size nodes carry the name in a tooltip attribute;
    at low zoom, minimal nodes show it middle-truncated ("househol…_coverage")."""
    labels = set(re.findall(r'data-tooltip="([^"]+)"', page.content()))
    labels |= set(page.locator('[class*="AssetNode_assetName"]').all_inner_texts())
    drawn = set()
    for name in expected:
        for label in labels:
            head, ellipsis, tail = label.strip().partition("…")
            if label.strip() == name or (ellipsis and name.startswith(head) and name.endswith(tail)):
                drawn.add(name)
    return drawn


def latest_markdown(ui: DagsterServices) -> dict[str, dict[str, str]]:
    """{asset key: {label: markdown}} of each asset's latest materialization."""
    nodes = ui.client.execute(LATEST_METADATA)["assetNodes"]
    out = {}
    for node in nodes:
        events = node["assetMaterializations"]
        if events:
            entries = events[0]["metadataEntries"]
            out["/".join(node["assetKey"]["path"])] = {
                e["label"]: e["mdStr"] for e in entries if e["__typename"] == "MarkdownMetadataEntry"
            }
    return out


def drawn_on_group_page(page, url: str, expected: set[str], screenshot: Path) -> set[str]:
    """The expected assets drawn on one group's lineage page, zooming out step by step (nodes outside
    the viewport are not rendered) and collecting what each level draws."""
    open_page(page, url)
    page.locator("[data-svg-viewport]").first.wait_for()
    # the layout is computed in a web worker: wait until the first asset is drawn
    page.locator('[class*="AssetNode_assetName"]').first.wait_for(timeout=60_000)
    zoom_out = page.locator('button:has([aria-label="zoom_out"])').first
    drawn: set[str] = set()
    for _ in range(15):
        drawn |= drawn_asset_names(page, expected)
        if drawn == expected:
            break
        zoom_out.click()
        page.wait_for_timeout(500)
    page.screenshot(path=str(screenshot))
    return drawn


def test_every_asset_is_drawn_in_its_groups_lineage_graph(ui: DagsterServices, page):
    """Each group's lineage page draws every asset of the group (one page per group: the global page of
    ~50 assets in 6 groups does not draw every name in a test viewport)."""
    graph = pipelines.definitions.defs().resolve_asset_graph()
    groups: dict[str, set[str]] = {}
    for key in graph.get_all_asset_keys():
        groups.setdefault(graph.get(key).group_name, set()).add(key.to_user_string())
    missing = {}
    for group, expected in sorted(groups.items()):
        url = f"{ui.url}/locations/meter_personas/asset-groups/{group}"
        drawn = drawn_on_group_page(page, url, expected, ARTIFACTS / f"asset_graph_{group}.png")
        if expected - drawn:
            missing[group] = sorted(expected - drawn)
    assert not missing, missing


def rendered_markdown(page, label: str):
    """The rendered Markdown of metadata entry ``label`` on an asset's events page. Long Markdown
    (e.g. a base64 PNG) is behind a "[Show Markdown]" link that opens a dialog."""
    row = page.locator(f"tr:has(span:text-is('{label}'))").first
    row.wait_for()
    show = row.locator("text=[Show Markdown]")
    if show.count():
        show.first.click()
        return page.locator("[role=dialog] .dagster-markdown >> visible=true").first
    return row.locator(".dagster-markdown").first


def close_dialog(page) -> None:
    """Close the Markdown dialog with its "Close" button and wait until it is gone: a dialog still on
    the page takes the next "[Show Markdown]" click (Escape is lost when the dialog lacks focus)."""
    dialog = page.locator("[role=dialog] >> visible=true")
    if not dialog.count():
        return
    dialog.first.locator("button:has-text('Close')").last.click()
    dialog.first.wait_for(state="hidden", timeout=10_000)


def test_markdown_tables_render(ui: DagsterServices, page):
    tables = {
        key: {label: md for label, md in entries.items() if md.lstrip().startswith("|")}
        for key, entries in latest_markdown(ui).items()
    }
    tables = {k: v for k, v in tables.items() if v}
    assert {"clean_readings", "tariff_schedule"} <= set(tables), tables.keys()
    for key, entries in sorted(tables.items()):
        open_page(page, f"{ui.url}/assets/{key}?view=events", wait_for="text=Metadata")
        for label, md in entries.items():
            header = [cell.strip() for cell in md.strip().splitlines()[0].strip("|").split("|")]
            rendered = rendered_markdown(page, label).locator("table th")
            rendered.first.wait_for()
            assert rendered.all_inner_texts() == header, (key, label)
            close_dialog(page)
        page.screenshot(path=str(ARTIFACTS / f"{key.replace('/', '__')}_events.png"))


def assert_png_renders(page, label: str, screenshot: Path) -> None:
    image = rendered_markdown(page, label).locator('img[src^="data:image/png"]').first
    image.wait_for()
    page.wait_for_function("img => img.complete", arg=image.element_handle())
    width, height = image.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    page.screenshot(path=str(screenshot))
    assert width > 0 and height > 0, label


def test_embedded_png_plots_render(ui: DagsterServices, page):
    plots = {
        key: [label for label, md in entries.items() if "data:image/png;base64," in md]
        for key, entries in latest_markdown(ui).items()
    }
    plots = {k: v for k, v in plots.items() if v and k != PROBE_ASSET}
    print(f"assets with PNG plots in their latest materialization: {sorted(plots) or 'none yet'}")
    for key, labels in sorted(plots.items()):
        open_page(page, f"{ui.url}/assets/{key}?view=events", wait_for="text=Metadata")
        for label in labels:
            assert_png_renders(page, label, ARTIFACTS / f"plot_{key.replace('/', '__')}_{label}.png")
            close_dialog(page)


def test_png_markdown_probe_renders(ui: DagsterServices, page):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(3, 2))
    ax.plot([0, 1, 2], [1, 3, 2])
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    plt.close(fig)
    with dg.DagsterInstance.from_config(str(ui.home)) as instance:
        plot = png_markdown(buffer.getvalue(), "probe")
        instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=PROBE_ASSET, metadata={"plot": plot}))
    open_page(page, f"{ui.url}/assets/{PROBE_ASSET}?view=events", wait_for="text=Metadata")
    assert_png_renders(page, "plot", ARTIFACTS / "plot_probe.png")
