"""The chat page in headless Chromium: ask, get a cited reply, expand the citation."""

from __future__ import annotations

import os
import shutil

import pytest


sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")
CHROMIUM = shutil.which("chromium")
pytestmark = [
    pytest.mark.browser,
    # CI installs Chromium (.ci/run), so there a missing browser fails instead of skipping.
    pytest.mark.skipif(CHROMIUM is None and not os.environ.get("CI"), reason="no chromium on PATH"),
]
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run"]
TIMEOUT_MS = 60_000


@pytest.fixture()
def page():
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1100, "height": 900})
            page.set_default_timeout(TIMEOUT_MS)
            yield page
        finally:
            browser.close()


def test_chinese_question_gets_cited_reply_with_expandable_passage(app_url, page, tmp_path):
    page.goto(app_url)
    box = page.get_by_placeholder("例如", exact=False)
    box.fill("遂宁市技术合同认定登记额是多少？")
    box.press("Enter")

    reply = page.locator('[data-testid="bot"]').last
    details = reply.locator("details").first
    details.wait_for(state="attached")
    assert "[1]" in reply.inner_text()
    assert "17.73亿元" in reply.inner_text()
    mark = details.locator("mark")
    sync_api.expect(mark).to_be_hidden()  # collapsed until the user opens the citation

    details.locator("summary").click()
    sync_api.expect(mark).to_be_visible()
    assert "17.73亿元" in mark.inner_text()

    page.screenshot(path=tmp_path / "chat.png", full_page=True)
    page.screenshot(path="/tmp/chat.png", full_page=True)  # for a human to look at
    assert (tmp_path / "chat.png").stat().st_size > 10_000
