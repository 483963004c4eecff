"""The web pages in a real browser: Playwright drives Debian's Chromium (``apt-get install chromium``; Playwright
cannot download a browser of its own here) against the service on a loopback port.

Every test routes all of the browser's requests through a guard that lets only the service's own origin through
and records anything else, and collects console errors. The fast tests use the fake components (tests/web_fakes.py);
the slow one runs the shipped checkpoints and takes the screenshots that docs/web.md shows (written to docs/web/
only with NLP_WEB_SCREENSHOTS=docs/web).
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from test_server import LiveServer

from nlp_service.serve import JobLimits, ServerConfig, create_app
from tests.web_fakes import evidence_analyzer, loading_analyzer

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
# The screenshots docs/web.md shows are rewritten only when asked (NLP_WEB_SCREENSHOTS=docs/web): a test run
# leaves the checkout as it found it.
SCREENSHOTS_ENV = "NLP_WEB_SCREENSHOTS"
WIDTHS = (1280, 390)
# Extra spaces and an emoji (two UTF-16 units per code point) before the mentions: the page must place the marks
# by the offsets of the text as analysed, counted in code points.
ARTICLE = (
    "📰 Kenya held a general election on Tuesday, and turnout in  Nairobi was high.\n\n"
    "France sent   observers. A football match in Paris was delayed by the vote."
)
GERMAN = (
    "Die Regierung in Berlin hat am Dienstag neue Regeln für die Energieversorgung beschlossen. Die Opposition "
    "kritisierte den Plan scharf und forderte mehr Geld für die Gemeinden."
)


# -- browser and guard ----------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    executable = shutil.which("chromium")
    if executable is None:  # a failure, not a skip: these tests must run wherever make test runs
        pytest.fail("chromium is not installed: make setup-browser (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=executable, args=["--no-sandbox"])
        yield chromium
        chromium.close()


class Guard:
    """A browser context whose requests may go to ``origin`` only (others are aborted and recorded), with the
    console errors and uncaught exceptions of its pages."""

    def __init__(self, browser: Any, origin: str, width: int = 1280, **options: Any):
        self.origin = origin
        self.outside: list[str] = []
        self.errors: list[str] = []
        self.context = browser.new_context(viewport={"width": width, "height": 900}, **options)
        self.context.route("**/*", self._route)

    def _route(self, route: Any) -> None:
        url = route.request.url
        if url == self.origin or url.startswith(self.origin + "/"):
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def page(self) -> Any:
        page = self.context.new_page()
        page.on("console", lambda m: self.errors.append(f"{m.type}: {m.text}") if m.type == "error" else None)
        page.on("pageerror", lambda exc: self.errors.append(f"uncaught: {exc}"))
        return page

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def guard(browser: Any, site: str) -> Iterator[Guard]:
    g = Guard(browser, site)
    yield g
    g.close()
    assert g.outside == [], f"requests left the origin: {g.outside}"


@contextmanager
def live(app: Any, ready: bool = True) -> Iterator[str]:
    """The app on a loopback port; its URL once the models are loaded (``ready``) or at once."""
    with LiveServer(app) as server:
        deadline = time.monotonic() + 180
        while ready and httpx.get(server.url + "/readyz").status_code != 200:
            assert time.monotonic() < deadline, "the models did not load"
            time.sleep(0.02)
        yield server.url


@pytest.fixture(scope="module")
def site() -> Iterator[str]:
    config = ServerConfig(jobs=JobLimits(chunk=2, busy_wait_s=0.02))
    with live(create_app(evidence_analyzer(), config=config)) as url:
        yield url


def analyze(page: Any, text: str) -> None:
    page.get_by_label("Article text").fill(text)
    page.get_by_role("button", name="Analyze").click()


def after(page: Any, handle: Any) -> str:
    return page.evaluate("el => getComputedStyle(el, '::after').content", handle)


def no_overflow(page: Any, width: int) -> None:
    """Readable at ``width``: nothing wider than the viewport (no sideways scrolling of the page)."""
    assert page.evaluate("document.documentElement.scrollWidth") <= width


def labelled_controls(page: Any) -> list[str]:
    """The ids of form controls without an accessible name."""
    return page.evaluate(
        """() => [...document.querySelectorAll('input, textarea, select, button')]
            .filter(c => !c.hidden && !(c.labels && c.labels.length) && !c.getAttribute('aria-label')
                         && !(c.tagName === 'BUTTON' && c.textContent.trim()))
            .map(c => c.id || c.outerHTML)"""
    )


# -- the analyze page -----------------------------------------------------------------------------------------
def test_paste_and_analyze_marks_mentions_themes_and_summary(guard):
    page = guard.page()
    page.goto(guard.origin + "/")
    assert labelled_controls(page) == []
    analyze(page, ARTICLE)
    page.wait_for_selector("#summary .verdict")

    marks = page.locator("#article-view mark.mention")
    got = [(m.inner_text(), m.get_attribute("data-kind"), m.get_attribute("data-country")) for m in marks.all()]
    assert got == [
        ("Kenya", "name", "KE"),
        ("Nairobi", "capital", "KE"),
        ("France", "name", "FR"),
        ("Paris", "capital", "FR"),
    ]
    # The marks sit in the text as analysed (spaces collapsed), after the emoji.
    assert page.inner_text("#article-view").startswith("📰 Kenya held a general election")
    nairobi = marks.nth(1)
    nairobi.hover()
    assert "Kenya (KE)" in after(page, nairobi.element_handle()) and "capital" in after(page, nairobi.element_handle())

    evidence = page.locator("#article-view mark.evidence")
    assert evidence.count() >= 1
    themes = {e.get_attribute("data-themes") for e in evidence.all()}
    assert any("politics" in t for t in themes) and any("sport" in t for t in themes)
    politics = page.locator('#themes li[data-theme="politics"]')
    assert "score 0.90" in politics.inner_text()
    assert "Kenya held a general election" in politics.locator("mark.evidence").inner_text()
    assert page.locator('#countries li[data-code="KE"]').inner_text().count("(capital)") == 1
    assert "Eastern Africa" in page.inner_text("#regions") and "Western Europe" in page.inner_text("#regions")

    summary = page.locator("#summary")
    assert "Kenya held a general election on Tuesday" in summary.locator(".summary-text").inner_text()
    assert summary.locator(".verdict").inner_text() == "Supported by the article"
    assert guard.errors == []


def test_the_page_works_from_the_keyboard(guard):
    page = guard.page()
    page.goto(guard.origin + "/")
    for _ in range(20):  # Tab from the top of the page to the article box
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.id") == "article":
            break
    assert page.evaluate("document.activeElement.id") == "article"
    page.keyboard.insert_text(ARTICLE)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Analyze"
    page.keyboard.press("Enter")
    page.wait_for_selector("#summary .verdict")
    assert page.evaluate("document.activeElement.id") == "results-title"  # focus moves to the results
    for _ in range(10):
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.matches('mark.mention')"):
            break
    focused = page.evaluate_handle("document.activeElement")
    assert page.evaluate("el => el.matches('mark.mention')", focused)
    assert "Kenya (KE)" in after(page, focused)  # the tip shows on focus as on hover
    assert guard.errors == []


def test_the_verify_box_marks_what_the_article_does_not_support(guard):
    page = guard.page()
    page.goto(guard.origin + "/")
    page.get_by_label("Article text").fill(ARTICLE)
    page.get_by_label("Your summary of the article above").fill("Japan held 3 elections on Tuesday.")
    page.get_by_role("button", name="Check summary").click()
    result = page.locator("#verify-result")
    result.locator(".verdict").wait_for()
    assert result.locator(".verdict").inner_text() == "Not supported by the article"
    unsupported = {(m.inner_text(), m.get_attribute("data-kind")) for m in result.locator("mark.unsupported").all()}
    assert unsupported == {("Japan", "name"), ("3", "number")}
    assert "a number the article does not give" in result.inner_text()
    # A summary the article supports.
    page.get_by_label("Your summary of the article above").fill("Kenya held a general election on Tuesday.")
    page.get_by_role("button", name="Check summary").click()
    page.wait_for_function(
        "() => document.querySelector('#verify-result .verdict').textContent.startsWith('Supported')"
    )
    assert result.locator("mark.unsupported").count() == 0
    assert guard.errors == []


def test_errors_and_other_languages_are_explained(guard):
    page = guard.page()
    page.goto(guard.origin + "/")
    page.get_by_role("button", name="Analyze").click()
    assert "Nothing to analyse" in page.locator("#message").inner_text()

    analyze(page, "\u200b\u200b\u200b")  # only invisible characters: the service answers 422
    page.wait_for_selector("#message:not([hidden])")
    message = page.locator("#message").inner_text()
    assert "could not analyse this text (422)" in message and "Empty text after cleaning" in message
    assert page.locator("#results").is_hidden()

    analyze(page, GERMAN)
    page.wait_for_selector("#summary .verdict")
    notice = page.locator("#notice")
    assert notice.is_visible() and "looks like German, not English" in notice.inner_text()
    assert page.locator("#message").is_hidden()


def test_loading_models_are_a_503_with_when_to_retry(browser):
    gate = threading.Event()
    try:
        with live(loading_analyzer_app(gate), ready=False) as origin:
            g = Guard(browser, origin)
            page = g.page()
            page.goto(origin + "/")
            page.wait_for_function("() => document.getElementById('service-status').textContent.includes('loading')")
            analyze(page, ARTICLE)
            page.wait_for_selector("#message:not([hidden])")
            text = page.locator("#message").inner_text()
            assert "The models are still loading (503)" in text and "Try again in 5 seconds" in text
            gate.set()
            page.wait_for_function("() => document.getElementById('service-status').textContent === 'Models ready'")
            g.close()
            assert g.outside == []
    finally:
        gate.set()


def loading_analyzer_app(gate: threading.Event) -> Any:
    return create_app(loading_analyzer(gate))


def test_a_timeout_is_a_504_message(browser):
    config = ServerConfig(request_timeout_s=0.3)
    with live(create_app(evidence_analyzer(delay=1.0), config=config)) as origin:
        g = Guard(browser, origin)
        page = g.page()
        page.goto(origin + "/")
        analyze(page, ARTICLE)
        page.wait_for_selector("#message:not([hidden])")
        assert "No answer in time (504)" in page.locator("#message").inner_text()
        g.close()
        assert g.outside == []


# -- the batch page -------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def slow_site() -> Iterator[str]:
    """Slow fakes, so that a job's progress can be watched (and the page reloaded) while it runs."""
    config = ServerConfig(jobs=JobLimits(chunk=2, busy_wait_s=0.02))
    with live(create_app(evidence_analyzer(delay=0.12), config=config)) as url:
        yield url


def test_batch_upload_progress_reload_and_download(browser, slow_site, tmp_path):
    g = Guard(browser, slow_site, accept_downloads=True)
    page = g.page()
    page.goto(slow_site + "/batch")
    assert "Limit: 1,000 articles and 2 MB per file." in page.inner_text("#file-hint")
    assert labelled_controls(page) == []
    rows = [{"id": f"a{i}", "text": f"Kenya story {i}. Parliament met in Nairobi."} for i in range(14)]
    rows[3] = {"id": "a3", "headline": "no text here"}
    body = "".join(json.dumps(r) + "\n" for r in rows).encode()
    page.get_by_label("File to analyse (.jsonl or .csv)").set_input_files(
        {"name": "news.jsonl", "mimeType": "application/x-ndjson", "buffer": body}
    )
    page.get_by_role("button", name="Start").click()
    page.wait_for_function(
        "() => { const p = document.getElementById('progress'); return p.value > 0 && p.value < p.max; }"
    )
    assert "of 14 rows done" in page.inner_text("#progress-text")
    job_id = page.evaluate("location.hash").removeprefix("#job=")

    page.goto(slow_site + "/batch")  # a reload (without the #job address): localStorage finds the job
    page.wait_for_function("() => document.getElementById('progress-text').textContent.includes('Finished')")
    assert page.evaluate("location.hash") == f"#job={job_id}"
    assert page.inner_text("#progress-text").startswith("14 of 14 rows done, 1 with errors.")
    preview = page.locator("#preview-rows tr")
    preview.first.wait_for()
    assert preview.count() == 10 and "Kenya" in preview.first.inner_text()  # the first results, on the page
    error_rows = page.locator("#error-rows tr")
    assert error_rows.count() == 1 and "line 4" in error_rows.inner_text() and "no text" in error_rows.inner_text()

    with page.expect_download() as jsonl_download:
        page.get_by_role("link", name="Download JSONL").click()
    with page.expect_download() as csv_download:
        page.get_by_role("link", name="Download CSV").click()
    assert jsonl_download.value.suggested_filename == "news.analysed.jsonl"
    records = [json.loads(line) for line in Path(jsonl_download.value.path()).read_text().splitlines()]
    assert [r["id"] for r in records] == [r["id"] for r in rows]
    assert records[0]["countries"][0]["code"] == "KE" and records[3]["error"].startswith("line 4:")
    table = list(csv.DictReader(io.StringIO(Path(csv_download.value.path()).read_text("utf-8-sig"))))
    assert len(table) == 14 and table[0]["countries"] == "Kenya (KE) 0.90"
    assert g.errors == []
    g.close()
    assert g.outside == []


def test_batch_refuses_a_file_without_text_with_a_message(guard):
    page = guard.page()
    page.goto(guard.origin + "/batch")
    page.get_by_label("File to analyse (.jsonl or .csv)").set_input_files(
        {"name": "bad.csv", "mimeType": "text/csv", "buffer": b"id,headline\n1,Kenya\n"}
    )
    page.get_by_role("button", name="Start").click()
    page.wait_for_selector("#message:not([hidden])")
    text = page.inner_text("#message")
    assert "could not read this file (422)" in text and "no 'text', 'title' or 'body' column" in text


# -- every page: same origin only, no console error, readable at 1280 and 390 px -----------------------------
@pytest.mark.parametrize("width", WIDTHS)
def test_every_page_stays_on_its_origin_without_console_errors(browser, site, width):
    g = Guard(browser, site, width=width)
    page = g.page()
    page.goto(site + "/")
    analyze(page, ARTICLE)
    page.wait_for_selector("#summary .verdict")
    no_overflow(page, width)
    page.goto(site + "/batch")
    page.wait_for_selector("#file")
    no_overflow(page, width)
    page.goto(site + "/model")
    page.wait_for_selector("#chart svg")
    assert page.locator("#chart svg rect").count() == 17 * 3  # 17 themes × classifier, baseline, agreement
    assert page.locator("#chart-legend li").all_inner_texts() == [
        "shipped classifier",
        "TF-IDF + logistic regression",
        "two annotators agree",
    ]
    no_overflow(page, width)
    page.goto(site + "/docs")
    page.wait_for_selector(".swagger-ui .opblock")
    assert page.locator(".swagger-ui .opblock-summary-path", has_text="/v1/analyze").count() >= 1
    page.goto(site + "/redoc")
    page.wait_for_selector("h1", timeout=20_000)
    assert "nlp-service" in page.inner_text("h1")
    assert g.errors == []
    g.close()
    assert g.outside == [], f"requests left the origin: {g.outside}"


# -- the shipped models, timings and the screenshots of docs/web.md -------------------------------------------
def six_hundred_words() -> str:
    texts = [json.loads(line)["text"] for line in (ROOT / "examples" / "articles.jsonl").read_text().splitlines()[:6]]
    words = " ".join(texts).split()
    return " ".join(words[:600])


@pytest.mark.slow
def test_shipped_models_in_the_browser_with_timings_and_screenshots(browser, real_analyzer, tmp_path):
    shots = ROOT / os.environ[SCREENSHOTS_ENV] if os.environ.get(SCREENSHOTS_ENV) else tmp_path
    examples = [json.loads(line) for line in (ROOT / "examples" / "articles.jsonl").read_text().splitlines()]
    with live(create_app(real_analyzer)) as origin:
        g = Guard(browser, origin, accept_downloads=True)
        page = g.page()
        started = time.perf_counter()
        page.goto(origin + "/")
        page_load = time.perf_counter() - started
        # Warm: one analysis first, as a served instance would have had.
        analyze(page, examples[0]["text"])
        page.wait_for_selector("#summary .verdict")
        started = time.perf_counter()
        analyze(page, six_hundred_words())
        page.wait_for_function("() => document.getElementById('analyze-busy').textContent === 'Done.'", polling=20)
        seconds = time.perf_counter() - started
        # Timings are reported, not asserted (targets 2 s and 0.5 s on a quiet machine: docs/web.md).
        print(f"\npage load {page_load:.2f} s; 600-word article: results and verdict in {seconds:.2f} s")

        # The article of the screenshots: the country highlighted, its themes and the summary.
        shots.mkdir(parents=True, exist_ok=True)
        article = next(e for e in examples if e["id"] == "ex-02")["text"]
        for width in WIDTHS:
            page.set_viewport_size({"width": width, "height": 900})
            page.goto(origin + "/")
            analyze(page, article)
            page.wait_for_function("() => document.getElementById('analyze-busy').textContent === 'Done.'")
            assert page.locator("#article-view mark.mention[data-country='CD']").count() >= 1
            assert page.locator("#themes li").count() >= 1 and page.locator("#summary .verdict").count() == 1
            no_overflow(page, width)
            page.screenshot(path=shots / f"analyze-{width}.png", full_page=True)

            page.goto(origin + "/batch")
            # With one row the batch script would refuse too, to show how an error row is listed.
            body = (ROOT / "examples" / "articles.jsonl").read_bytes() + b'{"id": "ex-13", "headline": "no text"}\n'
            page.get_by_label("File to analyse (.jsonl or .csv)").set_input_files(
                {"name": "articles.jsonl", "mimeType": "application/x-ndjson", "buffer": body}
            )
            page.get_by_role("button", name="Start").click()
            page.wait_for_function("() => document.getElementById('progress-text').textContent.includes('Finished')")
            page.locator("#preview-rows tr").first.wait_for()
            assert page.locator("#error-rows tr").count() == 1
            no_overflow(page, width)
            page.screenshot(path=shots / f"batch-{width}.png", full_page=True)
            page.evaluate("localStorage.clear()")

            page.goto(origin + "/model")
            page.wait_for_selector("#chart svg")
            no_overflow(page, width)
            page.screenshot(path=shots / f"model-{width}.png", full_page=True)
        assert g.errors == []
        g.close()
        assert g.outside == []
