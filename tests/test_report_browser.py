"""The report as a reader sees it: opened in real headless Chromium (Debian's package).

Skipped only when Chromium is missing outside CI; in CI (`CI` set) a missing browser fails,
since `.ci/run` installs it. A full-page screenshot is kept in tests/artifacts/ (ignored by git).
"""

from __future__ import annotations

import os
from datetime import timedelta
from pathlib import Path

import polars as pl
import pytest

from pipeline.analytics.report import build_report, render
from pipeline.analytics.report_data import ReportScope, collect

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent / "artifacts"
SECTIONS = ("summary", "house", "fx", "clients", "attribution", "reconciliation", "coverage")
CHARTS = ("house-value-ILS", "house-holdings", "fx-rates-ILS", "client-500609",
          "attribution-ILS", "coverage", "fetch-outcomes")  # fmt: skip

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing in CI: .ci/run must install Debian's chromium")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium); CI installs it")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        # playwright drives the system's Chromium: no browser download.
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def opened(browser, demo_db_template: Path, tmp_path_factory: pytest.TempPathFactory):
    """The demo's report loaded in a 1400 x 900 window, with what the page logged and loaded."""
    page_path = build_report(demo_db_template, tmp_path_factory.mktemp("browser"))
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    problems: list[str] = []
    requests: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}")
            if m.type in ("error", "warning") else None)  # fmt: skip
    page.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    page.on("request", lambda r: requests.append(r.url))
    page.goto(page_path.as_uri(), wait_until="load")
    # Every interactive chart has drawn its SVG.
    page.wait_for_function(
        "document.querySelectorAll('figure.chart').length > 0 && "
        "[...document.querySelectorAll('figure.chart')].every(f => f.querySelector('.main-svg'))",
        timeout=30_000,
    )
    yield page, problems, requests
    page.close()


def test_report_renders_in_chromium_without_console_errors(opened) -> None:
    page, problems, requests = opened
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / "report.png"
    page.screenshot(path=str(shot), full_page=True)
    print(f"report screenshot: {shot}")
    assert shot.stat().st_size > 50_000
    assert problems == []
    # Self-contained: the page itself and inline data only, nothing from a network.
    assert [u for u in requests if not u.startswith(("file:", "data:"))] == []


def test_every_section_and_chart_is_on_the_page(opened) -> None:
    page, _, _ = opened
    for section in SECTIONS:
        assert page.is_visible(f'section[data-section="{section}"] h2'), section
    for chart in CHARTS:
        figure = f'figure[data-chart="{chart}"]'
        assert page.is_visible(f"{figure} .main-svg"), chart
        traces = page.eval_on_selector(figure, "f => f.querySelectorAll('.trace').length")
        assert traces > 0, f"{chart} has no data drawn"


def test_charts_show_values_on_hover(opened) -> None:
    page, _, _ = opened
    drag = page.locator('figure[data-chart="house-value-ILS"] .nsewdrag').first
    drag.scroll_into_view_if_needed()
    box = drag.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.5)
    page.wait_for_selector(
        'figure[data-chart="house-value-ILS"] .hoverlayer .legend', timeout=5_000
    )
    hover = 'figure[data-chart="house-value-ILS"] .hoverlayer'
    text = page.eval_on_selector(hover, "e => e.textContent")  # an SVG group: no innerText
    assert "ILS" in text and "," in text  # values with thousands separators


def _label_boxes(page) -> list[list]:
    boxes = page.eval_on_selector_all(
        'figure[data-chart="client-500609"] g.annotation',
        "els => els.map(e => { const r = e.getBoundingClientRect(); "
        "return [r.left, r.top, r.right, r.bottom, e.textContent]; })",
    )
    return [b for b in boxes if "→" in b[4]]


def _assert_apart(labels: list[list]) -> None:
    for i, a in enumerate(labels):
        for b in labels[i + 1 :]:
            apart = a[2] <= b[0] or b[2] <= a[0] or a[3] <= b[1] or b[3] <= a[1]
            assert apart, f"{a[4]!r} at {a[:4]} overlaps {b[4]!r} at {b[:4]}"


def test_status_labels_do_not_overlap(opened) -> None:
    page, _, _ = opened
    labels = _label_boxes(page)
    assert len(labels) >= 2
    _assert_apart(labels)


def test_status_labels_stay_apart_when_changes_come_every_hour(
    browser, demo_db_template: Path, tmp_path: Path
) -> None:
    """Ten status changes in ten hours of a 48-hour chart: the labels must stack, not collide."""
    data = collect(demo_db_template, ReportScope())
    client = data.clients[0]
    first = client.lines["slot_start"].min()
    flips = [(first + timedelta(hours=5 + i), 5 + i % 2, 6 - i % 2) for i in range(10)]
    changes = pl.DataFrame(
        {
            "valid_from": [when for when, _, _ in flips],
            "is_transition": [True] * len(flips),
            "prev_erp_account_status": [prev for _, prev, _ in flips],
            "erp_account_status": [now for _, _, now in flips],
            "prev_web_account_status": [2] * len(flips),
            "web_account_status": [2] * len(flips),
        }
    )
    # The view's columns and types, with these rows.
    client.status = pl.concat([client.status.head(0), changes], how="diagonal_relaxed")
    page_path = tmp_path / "report.html"
    page_path.write_text(render(data), encoding="utf-8")
    page = browser.new_page(viewport={"width": 1400, "height": 900})
    try:
        page.goto(page_path.as_uri(), wait_until="load")
        page.wait_for_selector('figure[data-chart="client-500609"] .main-svg')
        labels = _label_boxes(page)
        assert len(labels) == 10
        _assert_apart(labels)
    finally:
        page.close()


def test_wide_tables_scroll_inside_the_page(opened) -> None:
    page, _, _ = opened
    wrap = 'section[data-section="coverage"] .table-wrap'
    widths = page.eval_on_selector(wrap, "w => [w.scrollWidth, w.clientWidth]")
    assert widths[0] > widths[1]  # the table is wider than its box, which scrolls...
    page_width = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert page_width[0] <= page_width[1]  # ...and the page itself does not


def test_printed_page_uses_the_static_house_chart(opened) -> None:
    page, _, _ = opened
    page.emulate_media(media="print")
    try:
        assert page.is_visible("img.print-only")
        assert not page.is_visible('figure[data-chart="house-value-ILS"]')
        assert not page.is_visible("nav")
    finally:
        page.emulate_media(media="screen")
