"""The chat page in headless Chromium, as a user drives it: ask in Chinese and in English, follow
a citation marker to its highlighted passage, get a refusal, upload an article and ask about it,
and ask from two tabs at once.

Screenshots of each state go to the test's temp folder; ``pytest --screenshots docs`` also keeps
them under ``docs/`` (the README shows one).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from tests.conftest import NEW_ARTICLE

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
ZH_QUESTION = "遂宁市技术合同认定登记额是多少？"
EN_QUESTION = "How many innovation consortia has Inner Mongolia set up?"


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture()
def open_page(browser):
    """``open_page(url, locale)``: a fresh tab (own context, so own browser language) on the app."""
    contexts = []

    def open_(url: str, locale: str = "zh-CN"):
        context = browser.new_context(viewport={"width": 1100, "height": 900}, locale=locale)
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(url)
        return page

    yield open_
    for context in contexts:
        context.close()


@pytest.fixture()
def shoot(request, tmp_path):
    """``shoot(page, name)``: a full-page screenshot, kept under --screenshots DIR when given."""
    keep = request.config.getoption("--screenshots")

    def shoot_(page, name: str) -> Path:
        path = tmp_path / f"{name}.png"
        page.screenshot(path=path, full_page=True)
        assert path.stat().st_size > 10_000  # a rendered page, not a blank one
        if keep:
            Path(keep).mkdir(parents=True, exist_ok=True)
            shutil.copy(path, Path(keep) / path.name)
        return path
    return shoot_


def ask(page, question: str):
    """Type a question, send it, and return the reply once it is complete (not a streaming draft)."""
    replies = page.locator('[data-testid="bot"]')
    before = replies.count()
    box = page.locator("#question textarea")
    box.fill(question)
    box.press("Enter")
    reply = replies.nth(before)
    reply.locator("p").first.wait_for()
    sync_api.expect(reply).not_to_contain_text("▌")
    page.wait_for_function("() => !document.querySelector('.generating')")  # the event has finished
    return reply


def test_chinese_question_cites_a_passage_that_opens_with_the_span_highlighted(app_url, open_page, shoot):
    page = open_page(app_url, "zh-CN")
    sync_api.expect(page.get_by_role("tab", name="对话")).to_be_visible()  # the page follows the browser's language
    reply = ask(page, ZH_QUESTION)
    assert "17.73亿元" in reply.inner_text()
    mark = reply.locator("details mark").first
    sync_api.expect(mark).to_be_hidden()  # collapsed until the user follows the citation

    reply.get_by_role("link", name="[1]").first.click()  # the marker in the answer text
    sync_api.expect(mark).to_be_visible()
    sync_api.expect(mark).to_be_in_viewport()
    assert "17.73亿元" in mark.inner_text()
    shoot(page, "chat")


def test_english_question_in_an_english_browser(app_url, open_page, shoot):
    page = open_page(app_url, "en-US")
    sync_api.expect(page.get_by_role("tab", name="Chat")).to_be_visible()
    sync_api.expect(page.get_by_role("button", name="Ask", exact=True)).to_be_visible()
    reply = ask(page, EN_QUESTION)
    assert "24" in reply.inner_text() and "Sources" in reply.inner_text()
    reply.locator("summary").first.click()
    sync_api.expect(reply.locator("details mark").first).to_contain_text("24")
    shoot(page, "chat-en")


def test_an_off_topic_question_is_refused_and_small_talk_declined(app_url, open_page, shoot):
    page = open_page(app_url, "zh-CN")
    reply = ask(page, "上海迪士尼乐园的门票多少钱？")
    sync_api.expect(reply.locator("blockquote")).to_contain_text("未找到依据")
    assert reply.locator("mark").count() == 0 and reply.get_by_role("link").count() == 0  # nothing is cited
    shoot(page, "refusal")
    # Small talk is no question the collection fails to answer: a plain reply, no refusal heading.
    reply = ask(page, "谢谢，再见！")
    sync_api.expect(reply).to_contain_text("我只回答与现有资料有关的问题")
    assert reply.locator("blockquote").count() == 0 and "未找到依据" not in reply.inner_text()


def test_two_tabs_asking_at_once_get_their_own_answers(app_url, open_page):
    first, second = open_page(app_url, "zh-CN"), open_page(app_url, "en-US")
    for page, question in ((first, ZH_QUESTION), (second, EN_QUESTION)):
        box = page.locator("#question textarea")
        box.fill(question)
        box.press("Enter")
    for page, expected, other in ((first, "17.73亿元", "24个"), (second, "24", "17.73")):
        reply = page.locator('[data-testid="bot"]').first
        reply.locator("details").first.wait_for(state="attached")
        assert expected in reply.inner_text() and other not in reply.inner_text()
        assert page.locator('[data-testid="bot"]').count() == 1  # no answer meant for the other tab


@pytest.fixture()
def fresh_app_url(fresh_settings, tmp_path):
    """The app over a private copy of the tiny collection, for tests that change it."""
    from assistant.pipeline import Assistant
    from assistant.web import build_app, launch_options
    from tests.conftest import free_port

    settings = fresh_settings.model_copy(update={"feedback_file": tmp_path / "feedback.jsonl"})
    app = build_app(Assistant.open(settings))
    _, url, _ = app.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True,
                           **launch_options(settings))
    yield url
    app.close()


def test_an_uploaded_article_is_listed_and_answers_questions(fresh_app_url, fresh_settings, open_page, shoot, tmp_path):
    upload = tmp_path / "lanzhou_fund.txt"
    upload.write_text(NEW_ARTICLE, encoding="utf-8")
    page = open_page(fresh_app_url, "zh-CN")
    page.get_by_role("tab", name="文章库").click()
    page.locator('#upload input[type="file"]').set_input_files(str(upload))
    page.get_by_role("button", name="加入文章库").click()
    sync_api.expect(page.locator("#collection-status")).to_contain_text("已加入 / Added: lanzhou_fund")
    sync_api.expect(page.get_by_role("gridcell", name="兰州新区设立科技成果转化基金")).to_be_visible()
    assert (fresh_settings.corpus_dir / "uploads" / "lanzhou_fund.txt").is_file()
    shoot(page, "collection")
    later = open_page(fresh_app_url, "en-US")  # a page opened after the change lists it too
    later.get_by_role("tab", name="Collection").click()
    sync_api.expect(later.get_by_role("gridcell", name="兰州新区设立科技成果转化基金")).to_be_visible()

    page.get_by_role("tab", name="对话").click()
    reply = ask(page, "兰州新区科技成果转化基金规模多大？")
    assert "10亿元" in reply.inner_text()
    reply.locator("summary").first.click()
    sync_api.expect(reply.locator("summary").first).to_contain_text("兰州新区设立科技成果转化基金")


def test_closing_the_tab_stops_a_streaming_model(tiny_assistant, browser):
    """A generated answer streams into the page; closing the page ends the model's stream at once
    (Gradio closes the reply's generator), instead of the model writing on for nobody."""
    import time

    from assistant.pipeline import Assistant
    from assistant.web import build_app, launch_options
    from tests.conftest import free_port
    from tests.fake_openai import FakeChatServer, Reply

    with FakeChatServer(lifetime=120) as server:
        server.script(Reply("内蒙古共组建并备案各类创新联合体24个[1]。" * 10, pieces=200, chunk_delay=0.1))  # ~20 s
        settings = tiny_assistant.settings.model_copy(update={"llm": "openai:fake-model",
                                                              "llm_base_url": server.base_url, "llm_timeout": 60.0})
        app = build_app(Assistant(settings))
        _, url, _ = app.launch(server_name="127.0.0.1", server_port=free_port(), prevent_thread_lock=True,
                               **launch_options(settings))
        try:
            context = browser.new_context(locale="zh-CN")
            page = context.new_page()
            page.set_default_timeout(TIMEOUT_MS)
            page.goto(url)
            box = page.locator("#question textarea")
            box.fill("内蒙古组建了多少个创新联合体？")
            box.press("Enter")
            sync_api.expect(page.locator('[data-testid="bot"]').last).to_contain_text("▌")  # streaming
            # The marker shows as the reply starts, which can be before the model's request lands
            # (seen on a loaded machine): wait for it, bounded.
            started = time.monotonic()
            while not server.streams and time.monotonic() - started < 15:
                time.sleep(0.1)
            assert server.streams and not server.streams[-1]["hung_up"]
            context.close()
            closed = time.monotonic()
            while not server.streams[-1]["hung_up"] and time.monotonic() - closed < 15:
                time.sleep(0.1)
            assert server.streams[-1]["hung_up"], "the model kept streaming after the tab was closed"
            assert server.streams[-1]["sent"] < 150
        finally:
            app.close()
